#pragma once
// Connection settings (README.md, "Pointing authgate at it"), in this order of precedence: CLI
// flag > environment > [connection] in the desired state > the cloud's default. Nothing here is
// secret but the certificate password, which is read from the environment only and never shown.
// How authgate signs in is the credential kind, chosen by the user and never guessed: a
// certificate, workload identity federation (the platform's OIDC token) or the host's managed
// identity; the last two need no certificate.
#include <chrono>
#include <exception>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/log.h"
#include "agent/options.h"
#include "connectors/connector.h"
#include "connectors/exchange_client.h"
#include "connectors/graph_usage.h"
#include "connectors/http.h"
#include "connectors/mail.h"
#include "connectors/managed_identity.h"
#include "connectors/token_client.h"

namespace authgate {

struct ConnectionSettings {
    std::string tenant;
    std::string app_id;
    // --credential, AUTHGATE_CREDENTIAL, [connection] credential.
    CredentialKind credential = CredentialKind::certificate;
    // A managed identity that is user-assigned (--managed-identity-client-id, -object-id or
    // -resource-id); none: the system-assigned one.
    std::optional<UserAssignedIdentity> managed_identity = {};
    std::string certificate;
    std::string certificate_password_env = "AUTHGATE_CERT_PASSWORD";
    std::string login_endpoint;
    std::string exchange_endpoint;
    // Microsoft Graph, for usage evidence (--graph-endpoint, AUTHGATE_GRAPH_ENDPOINT; by cloud).
    std::string graph_endpoint = {};
    std::optional<std::string> ca_bundle;
    // One HTTPS request, from connecting to the last byte, when set (--http-timeout); unset, as
    // the Exchange Online module allows: 960 s, and 1,800 s for Set-OrganizationConfig.
    std::optional<std::chrono::seconds> http_timeout;
    // --trace DIR: every request and answer written there, without secrets (never saved in a plan).
    std::optional<std::string> trace_dir;
};

Environment process_environment();

// The connection settings, and --log-format/--log-level (every command that reads the tenant logs).
void add_connection_options(po::options_description& options);

// Every setting that is given, by precedence; empty where none is (endpoints default by cloud).
ConnectionSettings gather_connection(const po::variables_map& values, const DesiredState& desired,
                                     const Environment& environment);
// The same, and throws UsageError naming every setting that is missing and where it could come from.
ConnectionSettings resolve_connection(const po::variables_map& values, const DesiredState& desired,
                                      const Environment& environment);
// For applying a saved plan: the settings as resolve_connection finds them, where nothing gives the
// tenant, application id or certificate the recorded ones; a different tenant is refused.
ConnectionSettings resolve_saved_connection(const po::variables_map& values, const DesiredState& desired,
                                            const ConnectionSettings& recorded, const Environment& environment);

// What a session has sent and received so far (no content, only counts).
struct TenantTraffic {
    int requests = 0;  // to the Exchange endpoint, retries included
    int retries = 0;
    int pages = 0;
    long long bytes_received = 0;
    int token_requests = 0;                 // to the token endpoint
    std::chrono::nanoseconds token_time{};  // getting those tokens
};

// A connection to the tenant: credential, HTTPS, token and cmdlet clients, and the connector.
class TenantSession {
public:
    virtual ~TenantSession() = default;
    virtual TenantConnector& connector() = 0;
    // A progress line for long reads; optional.
    virtual void on_progress(std::function<void(const std::string&)> progress) = 0;
    virtual TenantTraffic traffic() const = 0;
    // The tenant's GUID from the sign-in (the token's tid), signing in if need be; the tenant as
    // given where the token names none. Throws ConnectorError when the sign-in fails.
    virtual std::string tenant_id() = 0;
    // The usage sources of Microsoft Graph, read with the same application and credential (a
    // token of its own, for the Graph endpoint), over the same TLS settings. Made on first use and
    // owned by the session. Throws ConnectorError where the session has no Graph.
    virtual GraphUsageReader& graph_usage();
    // The transport of owner notices ([notifications.email]) as the same application, over the
    // same TLS settings: Graph's sendMail with a Graph token, or SMTP with a token for the SMTP
    // host's audience. Made on first use (from the first settings given) and owned by the
    // session. Throws ConnectorError where the session cannot send mail.
    virtual MailTransport& mail(const EmailNotifications& email);
    // When the certificate authgate signs with stops being valid; nullopt for the other kinds.
    virtual std::optional<Instant> certificate_expiry() const { return std::nullopt; }
};

// Reads the live state through `session`, and logs at debug level how long that took and the
// traffic it made.
class RunTimer;
// Reads the tenant and logs what it took (debug "read"); `timer`, when given, is told how much of
// the time since its last mark went to signing in and how much to reading.
LiveState read_tenant(TenantSession& session, Logger& logger, RunTimer* timer = nullptr);
// What a command says when the tenant cannot be read: the error, then what that means for this
// command (`consequence`, e.g. "nothing was changed").
void report_unreadable(std::ostream& err, const std::exception& error, std::string_view consequence);

// "1.234": a duration in seconds, for logs.
std::string seconds_text(std::chrono::duration<double> duration);

// The traffic as log fields, with the seconds since `started`.
LogFields traffic_fields(const TenantTraffic& traffic, std::chrono::steady_clock::time_point started);

// `clock` is the real world's (context.clock, never --at): the certificate's validity and the
// sign-in's timestamps are judged by Entra's clock.
// The HTTPS transport of `settings`: TLS verified, traced when --trace asks for it.
std::unique_ptr<HttpTransport> make_transport(const ConnectionSettings& settings);
// What the Exchange client is given of `settings`.
ExchangeSettings exchange_settings_of(const ConnectionSettings& settings);
// The token settings of the sign-in to Exchange.
TokenSettings token_settings_of(const ConnectionSettings& settings);
// How `settings` signs in, over `http`: the certificate loaded (its password from the variable
// certificate_password_env), the platform token source found in `environment`, or the managed
// identity endpoint found there. Throws ConnectorError when that cannot be had, naming what was
// tried; never falls back to another kind.
std::unique_ptr<TokenSource> make_token_source(const ConnectionSettings& settings, HttpTransport& http,
                                               const Environment& environment, const Clock& clock);
// The token settings of the Graph usage reader: the session's sign-in, with the Graph endpoint as
// the resource (scope {graph}/.default).
TokenSettings graph_token_settings(const ConnectionSettings& settings);

std::unique_ptr<TenantSession> open_tenant(const ConnectionSettings& settings, const Environment& environment,
                                           const Clock& clock);

}  // namespace authgate
