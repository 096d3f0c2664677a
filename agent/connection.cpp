#include "agent/connection.h"

#include "agent/timing.h"

#include <cstdio>
#include <cstdlib>

#include "connectors/credentials.h"
#include "connectors/exchange_client.h"
#include "connectors/exchange_online.h"
#include "connectors/http.h"
#include "connectors/managed_identity.h"
#include "connectors/token_client.h"
#include "connectors/trace.h"
#include "connectors/workload_identity.h"
#include "policies/printable.h"

namespace authgate {
namespace {

struct CloudEndpoints {
    const char* login;
    const char* exchange;
    const char* graph;
};

CloudEndpoints endpoints_of(Cloud cloud) {
    switch (cloud) {
        case Cloud::gcc_high:
            return {"https://login.microsoftonline.us", "https://outlook.office365.us", "https://graph.microsoft.us"};
        case Cloud::dod:
            return {"https://login.microsoftonline.us", "https://outlook-dod.office365.us",
                    "https://dod-graph.microsoft.us"};
        // 21Vianet: Exchange Online is at partner.outlook.cn (Connect-ExchangeOnline's O365China).
        case Cloud::china:
            return {"https://login.chinacloudapi.cn", "https://partner.outlook.cn",
                    "https://microsoftgraph.chinacloudapi.cn"};
        case Cloud::global: break;
    }
    return {"https://login.microsoftonline.com", "https://outlook.office365.com", "https://graph.microsoft.com"};
}

class ExchangeOnlineSession : public TenantSession {
public:
    ExchangeOnlineSession(const ConnectionSettings& settings, const Environment& environment, const Clock& clock)
        : settings_(settings),
          clock_(clock),
          http_(make_transport(settings)),
          source_(make_token_source(settings, *http_, environment, clock)),
          tokens_(*source_, token_settings_of(settings), [&clock] { return clock.now(); }),
          exchange_(*http_, tokens_, exchange_settings_of(settings)),
          connector_(exchange_) {}

    TenantConnector& connector() override { return connector_; }
    void on_progress(std::function<void(const std::string&)> progress) override {
        connector_.on_progress(std::move(progress));
    }
    TenantTraffic traffic() const override {
        const ExchangeCounters counters = exchange_.counters();
        return {counters.requests,
                counters.retries,
                counters.pages,
                counters.bytes_received,
                tokens_.requests_made() + (graph_tokens_ ? graph_tokens_->requests_made() : 0) +
                    (smtp_tokens_ ? smtp_tokens_->requests_made() : 0),
                tokens_.time_spent() + (graph_tokens_ ? graph_tokens_->time_spent() : std::chrono::nanoseconds{}) +
                    (smtp_tokens_ ? smtp_tokens_->time_spent() : std::chrono::nanoseconds{})};
    }
    std::string tenant_id() override { return exchange_.tenant(); }
    std::optional<Instant> certificate_expiry() const override {
        if (const auto* certificate = dynamic_cast<const CertificateAssertion*>(source_.get()))
            return certificate->credential().not_after();
        return std::nullopt;
    }

    GraphUsageReader& graph_usage() override {
        if (!graph_) {
            GraphUsageLimits limits;
            limits.first_delay = exchange_settings_of(settings_).retry.first_delay;  // AUTHGATE_RETRY_DELAY_MS too
            graph_ = std::make_unique<GraphUsageReader>(
                *http_, graph_tokens(), settings_.graph_endpoint, [this] { return clock_.now(); },
                GraphUsageReader::Sleep{}, 0, limits);
        }
        return *graph_;
    }

    MailTransport& mail(const EmailNotifications& email) override {
        if (!mail_) {
            if (email.transport == MailTransportKind::graph) {
                mail_ = make_graph_mail(*http_, graph_tokens(), settings_.graph_endpoint, retry_sleep());
            } else {
                TokenSettings smtp = token_settings_of(settings_);
                const std::string audience = smtp_token_audience(email.smtp_host, token_audience(smtp));
                TokenClient* tokens = &tokens_;  // smtp.office365.com takes Exchange's own token
                if (audience != token_audience(smtp)) {
                    smtp.resource = audience;
                    smtp_tokens_ = std::make_unique<TokenClient>(*source_, smtp, [this] { return clock_.now(); });
                    tokens = smtp_tokens_.get();
                }
                mail_ = make_smtp_mail({email.smtp_host, email.smtp_port, settings_.ca_bundle,
                                        settings_.http_timeout.value_or(std::chrono::seconds(120))},
                                       *tokens);
            }
        }
        return *mail_;
    }

private:
    TokenClient& graph_tokens() {
        if (!graph_tokens_)
            graph_tokens_ = std::make_unique<TokenClient>(*source_, graph_token_settings(settings_),
                                                          [this] { return clock_.now(); });
        return *graph_tokens_;
    }
    // Waits between retries, shortened in proportion with Exchange's by AUTHGATE_RETRY_DELAY_MS
    // for the fault tests.
    RetrySleep retry_sleep() const {
        const std::chrono::milliseconds first = exchange_settings_of(settings_).retry.first_delay;
        return [first](std::chrono::milliseconds wait) {
            sleep_for(wait * first.count() / RetryPolicy{}.first_delay.count());
        };
    }

    ConnectionSettings settings_;
    const Clock& clock_;
    std::unique_ptr<HttpTransport> http_;
    std::unique_ptr<TokenSource> source_;  // the one credential, for Exchange and Graph alike
    TokenClient tokens_;
    ExchangeClient exchange_;
    ExchangeOnlineConnector connector_;
    std::unique_ptr<TokenClient> graph_tokens_;  // asks for Graph, from the same source
    std::unique_ptr<GraphUsageReader> graph_;
    std::unique_ptr<TokenClient> smtp_tokens_;  // High Volume Email's audience, from the same source
    std::unique_ptr<MailTransport> mail_;
};

}  // namespace

std::unique_ptr<HttpTransport> make_transport(const ConnectionSettings& settings) {
    auto https = make_https_transport({settings.ca_bundle, settings.http_timeout.value_or(HttpSettings{}.timeout)});
    if (!settings.trace_dir) return https;
    return make_tracing_transport(std::move(https), *settings.trace_dir);
}

GraphUsageReader& TenantSession::graph_usage() { throw ConnectorError("this connection cannot read Microsoft Graph"); }

MailTransport& TenantSession::mail(const EmailNotifications&) {
    throw ConnectorError("this connection cannot send mail");
}

TokenSettings token_settings_of(const ConnectionSettings& settings) {
    return {settings.login_endpoint, settings.exchange_endpoint, settings.tenant, settings.app_id};
}

std::unique_ptr<TokenSource> make_token_source(const ConnectionSettings& settings, HttpTransport& http,
                                               const Environment& environment, const Clock& clock) {
    // The documented waits between retries, shortened in proportion when AUTHGATE_RETRY_DELAY_MS
    // shortens Exchange's first backoff for the fault tests.
    const std::chrono::milliseconds first = exchange_settings_of(settings).retry.first_delay;
    const RetrySleep sleep = [first](std::chrono::milliseconds wait) {
        sleep_for(wait * first.count() / RetryPolicy{}.first_delay.count());
    };
    switch (settings.credential) {
        case CredentialKind::workload_identity:
            return std::make_unique<FederatedAssertion>(http, find_platform_token(http, environment, sleep), sleep);
        case CredentialKind::managed_identity:
            return std::make_unique<ManagedIdentity>(http, environment, settings.managed_identity, sleep);
        case CredentialKind::certificate: break;
    }
    return std::make_unique<CertificateAssertion>(
        http, Credential::load(settings.certificate, environment(settings.certificate_password_env), clock.now()));
}

TokenSettings graph_token_settings(const ConnectionSettings& settings) {
    return {settings.login_endpoint, settings.exchange_endpoint, settings.tenant, settings.app_id,
            settings.graph_endpoint};
}

ExchangeSettings exchange_settings_of(const ConnectionSettings& connection) {
    ExchangeSettings settings;
    settings.exchange_endpoint = connection.exchange_endpoint;
    settings.tenant = connection.tenant;
    if (connection.http_timeout) settings.cmdlet_timeouts.clear();  // the user's timeout holds for every request
    // AUTHGATE_RETRY_DELAY_MS shortens the first backoff for the fault tests, which would
    // otherwise sleep through a minute of retries; it is not meant for production.
    if (const char* text = std::getenv("AUTHGATE_RETRY_DELAY_MS"); text && *text) {
        char* end = nullptr;
        const long milliseconds = std::strtol(text, &end, 10);
        if (*end == '\0' && milliseconds > 0 && milliseconds <= 60000)
            settings.retry.first_delay = std::chrono::milliseconds{milliseconds};
    }
    return settings;
}

Environment process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value || !*value) return std::nullopt;
        return std::string(value);
    };
}

void add_connection_options(po::options_description& options) {
    options.add_options()("tenant", po::value<std::string>(),
                          "tenant GUID or *.onmicrosoft.com domain (AUTHGATE_TENANT)")(
        "app-id", po::value<std::string>(), "application (client) id (AUTHGATE_APP_ID)")(
        "credential", po::value<std::string>(),
        "how to sign in: certificate (default), workload-identity or managed-identity (AUTHGATE_CREDENTIAL)")(
        "certificate", po::value<std::string>(), "PEM with certificate and key, or PFX (AUTHGATE_CERTIFICATE)")(
        "managed-identity-client-id", po::value<std::string>(),
        "a user-assigned managed identity, by client id (AUTHGATE_MANAGED_IDENTITY_CLIENT_ID)")(
        "managed-identity-object-id", po::value<std::string>(),
        "a user-assigned managed identity, by object (principal) id (AUTHGATE_MANAGED_IDENTITY_OBJECT_ID)")(
        "managed-identity-resource-id", po::value<std::string>(),
        "a user-assigned managed identity, by Azure resource id (AUTHGATE_MANAGED_IDENTITY_RESOURCE_ID)")(
        "login-endpoint", po::value<std::string>(), "token endpoint base (AUTHGATE_LOGIN_ENDPOINT)")(
        "exchange-endpoint", po::value<std::string>(), "Exchange endpoint base (AUTHGATE_EXCHANGE_ENDPOINT)")(
        "graph-endpoint", po::value<std::string>(),
        "Microsoft Graph endpoint base, for usage evidence (AUTHGATE_GRAPH_ENDPOINT)")(
        "ca-bundle", po::value<std::string>(), "extra trust anchors, PEM (AUTHGATE_CA_BUNDLE)")(
        "http-timeout", po::value<std::string>(),
        "give up on one HTTPS request after this long; default 960s, 1800s for Set-OrganizationConfig "
        "(AUTHGATE_HTTP_TIMEOUT)")("trace", po::value<std::string>(),
                                   "write every request to the tenant and its answer to files in DIR, without secrets");
    add_log_options(options);
}

namespace {

// The user-assigned managed identity the flags name, else the environment: at most one id.
std::optional<UserAssignedIdentity> user_assigned_identity(const po::variables_map& values,
                                                           const ConnectionSettings& base,
                                                           const Environment& environment) {
    struct Way {
        UserAssignedIdentity::By by;
        const char* flag;
        const char* variable;
    };
    static const Way ways[] = {
        {UserAssignedIdentity::By::client_id, "managed-identity-client-id", "AUTHGATE_MANAGED_IDENTITY_CLIENT_ID"},
        {UserAssignedIdentity::By::object_id, "managed-identity-object-id", "AUTHGATE_MANAGED_IDENTITY_OBJECT_ID"},
        {UserAssignedIdentity::By::resource_id, "managed-identity-resource-id",
         "AUTHGATE_MANAGED_IDENTITY_RESOURCE_ID"}};
    std::vector<std::pair<std::string, UserAssignedIdentity>> flags, variables;
    for (const Way& way : ways) {
        if (values.count(way.flag))
            flags.push_back({std::string("--") + way.flag, {way.by, values[way.flag].as<std::string>()}});
        if (auto value = environment(way.variable)) variables.push_back({way.variable, {way.by, *value}});
    }
    const auto& given = flags.empty() ? variables : flags;
    if (given.size() > 1)
        throw UsageError("a managed identity is named by one id, not by " + given[0].first + " and " + given[1].first);
    if (!flags.empty() && base.credential != CredentialKind::managed_identity)
        throw UsageError(flags[0].first + " names a managed identity: it needs --credential managed-identity");
    if (given.empty() || base.credential != CredentialKind::managed_identity) return std::nullopt;
    if (given[0].second.id.empty()) throw UsageError(given[0].first + " is empty");
    return given[0].second;
}

// Flags over environment over `base` (the desired state's settings, or a saved plan's).
ConnectionSettings override_connection(const po::variables_map& values, ConnectionSettings base,
                                       const Environment& environment) {
    const auto pick = [&](const char* flag, const char* variable, std::string& into) {
        if (values.count(flag)) into = values[flag].as<std::string>();
        else if (auto value = environment(variable)) into = *value;
    };
    pick("tenant", "AUTHGATE_TENANT", base.tenant);
    pick("app-id", "AUTHGATE_APP_ID", base.app_id);
    std::string kind(to_string(base.credential));
    pick("credential", "AUTHGATE_CREDENTIAL", kind);
    if (const auto parsed = parse_name<CredentialKind>(kind)) base.credential = *parsed;
    else
        throw UsageError("--credential (AUTHGATE_CREDENTIAL) must be " + name_list<CredentialKind>() + ", not '" +
                         printable(kind) + "'");
    base.managed_identity = user_assigned_identity(values, base, environment);
    pick("certificate", "AUTHGATE_CERTIFICATE", base.certificate);
    pick("login-endpoint", "AUTHGATE_LOGIN_ENDPOINT", base.login_endpoint);
    pick("exchange-endpoint", "AUTHGATE_EXCHANGE_ENDPOINT", base.exchange_endpoint);
    pick("graph-endpoint", "AUTHGATE_GRAPH_ENDPOINT", base.graph_endpoint);
    std::string bundle = base.ca_bundle.value_or("");
    pick("ca-bundle", "AUTHGATE_CA_BUNDLE", bundle);
    base.ca_bundle = bundle.empty() ? std::nullopt : std::optional<std::string>(bundle);
    if (values.count("trace")) base.trace_dir = values["trace"].as<std::string>();
    std::string timeout;
    pick("http-timeout", "AUTHGATE_HTTP_TIMEOUT", timeout);
    if (!timeout.empty()) {
        const auto parsed = parse_duration(timeout);
        if (!parsed || parsed->count() <= 0)
            throw UsageError("--http-timeout (AUTHGATE_HTTP_TIMEOUT) must be a duration such as 30s or 2m, not '" +
                             timeout + "'");
        base.http_timeout = *parsed;
    }
    return base;
}

void require_complete(const ConnectionSettings& settings) {
    std::string missing;
    const bool federated = settings.credential == CredentialKind::workload_identity;
    if (settings.tenant.empty())
        missing += std::string("\n  tenant: --tenant, AUTHGATE_TENANT or [tenant] id") +
                   (federated ? " (or AZURE_TENANT_ID)" : "");
    // A managed identity is its own application: no app id, no certificate.
    if (settings.app_id.empty() && settings.credential != CredentialKind::managed_identity)
        missing += std::string("\n  application id: --app-id, AUTHGATE_APP_ID or [connection] app_id") +
                   (federated ? " (or AZURE_CLIENT_ID); the app registration whose federated credential trusts "
                                "the platform's token"
                              : "");
    if (settings.certificate.empty() && settings.credential == CredentialKind::certificate)
        missing += "\n  certificate: --certificate, AUTHGATE_CERTIFICATE or [connection] certificate";
    if (!missing.empty())
        throw UsageError("reading the tenant needs these settings (plan can read a --snapshot FILE instead):" +
                         missing);
    for (const auto* endpoint : {&settings.login_endpoint, &settings.exchange_endpoint, &settings.graph_endpoint})
        if (origin_of(*endpoint).empty())
            throw UsageError("endpoints must be https:// URLs without a user name or password (TLS is always "
                             "verified), not '" +
                             host_part(*endpoint) + "'");
}

}  // namespace

ConnectionSettings gather_connection(const po::variables_map& values, const DesiredState& desired,
                                     const Environment& environment) {
    const Connection& file = desired.connection;
    const CloudEndpoints defaults = endpoints_of(desired.tenant ? desired.tenant->cloud : Cloud::global);
    ConnectionSettings base;
    base.tenant = desired.tenant ? desired.tenant->id : "";
    base.app_id = file.app_id.value_or("");
    base.certificate = file.certificate.value_or("");
    if (file.certificate_password_env) base.certificate_password_env = *file.certificate_password_env;
    base.login_endpoint = file.login_endpoint.value_or(defaults.login);
    base.exchange_endpoint = file.exchange_endpoint.value_or(defaults.exchange);
    base.graph_endpoint = defaults.graph;
    base.ca_bundle = file.ca_bundle;
    if (file.credential) {
        // The loader accepts only the names of the table.
        if (const auto kind = parse_name<CredentialKind>(*file.credential)) base.credential = *kind;
        else
            throw UsageError("[connection] credential must be " + name_list<CredentialKind>() + ", not '" +
                             printable(*file.credential) + "'");
    }
    ConnectionSettings settings = override_connection(values, base, environment);
    // Azure Workload Identity's webhook names the app and tenant in the pod's environment: below
    // everything authgate's own settings say.
    if (settings.credential == CredentialKind::workload_identity) {
        if (settings.app_id.empty()) settings.app_id = environment("AZURE_CLIENT_ID").value_or("");
        if (settings.tenant.empty()) settings.tenant = environment("AZURE_TENANT_ID").value_or("");
    }
    return settings;
}

ConnectionSettings resolve_connection(const po::variables_map& values, const DesiredState& desired,
                                      const Environment& environment) {
    ConnectionSettings settings = gather_connection(values, desired, environment);
    require_complete(settings);
    return settings;
}

ConnectionSettings resolve_saved_connection(const po::variables_map& values, const DesiredState& desired,
                                            const ConnectionSettings& recorded, const Environment& environment) {
    ConnectionSettings settings = gather_connection(values, desired, environment);
    // Who signs in may come from the plan when nothing else says; where the token goes never does.
    if (settings.app_id.empty()) settings.app_id = recorded.app_id;
    if (settings.certificate.empty() && settings.credential == CredentialKind::certificate) {
        settings.certificate = recorded.certificate;
        settings.certificate_password_env = recorded.certificate_password_env;
    }
    if (settings.tenant.empty()) settings.tenant = recorded.tenant;
    if (!equals_ignoring_case(settings.tenant, recorded.tenant))
        throw UsageError("the plan was made for tenant " + printable(recorded.tenant) + ", not " +
                         printable(settings.tenant) + "; a saved plan is applied only to its own tenant");
    require_complete(settings);
    return settings;
}

std::string seconds_text(std::chrono::duration<double> duration) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", duration.count());
    return text;
}

LogFields traffic_fields(const TenantTraffic& traffic, std::chrono::steady_clock::time_point started) {
    return {{"seconds", seconds_text(std::chrono::steady_clock::now() - started)},
            {"requests", std::to_string(traffic.requests)},
            {"retries", std::to_string(traffic.retries)},
            {"pages", std::to_string(traffic.pages)},
            {"bytes_received", std::to_string(traffic.bytes_received)},
            {"token_requests", std::to_string(traffic.token_requests)}};
}

void report_unreadable(std::ostream& err, const std::exception& error, std::string_view consequence) {
    err << "error: " << error.what() << "\nThe live state could not be read; " << consequence << ".\n";
}

LiveState read_tenant(TenantSession& session, Logger& logger, RunTimer* timer) {
    const auto started = std::chrono::steady_clock::now();
    const auto signing_in = session.traffic().token_time;
    LiveState live = session.connector().read_live_state();
    const TenantTraffic traffic = session.traffic();
    if (timer) timer->split({{"sign_in", traffic.token_time - signing_in}}, "read");
    LogFields fields = traffic_fields(traffic, started);
    fields.insert(fields.begin(), {"mailboxes", std::to_string(live.mailboxes ? live.mailboxes->size() : 0)});
    logger.log(LogLevel::debug, "read", "read the tenant", fields);
    return live;
}

std::unique_ptr<TenantSession> open_tenant(const ConnectionSettings& settings, const Environment& environment,
                                           const Clock& clock) {
    return std::make_unique<ExchangeOnlineSession>(settings, environment, clock);
}

}  // namespace authgate
