#pragma once
// The desired state as the user declared it (README.md, "The desired state"), with the source of
// every element so that validation and plans can point back at the TOML.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "name.h"
#include "names.h"
#include "source.h"
#include "time.h"

namespace authgate {

enum class Cloud { global, gcc_high, dod, china };
enum class UnlistedOverrides { revert, report, ignore };
enum class Replacement { oauth, hve, acs, relay, direct_send, retire };

template <>
struct EnumNames<Cloud> {
    static constexpr std::array<std::pair<Cloud, std::string_view>, 4> table{
        {{Cloud::global, "global"}, {Cloud::gcc_high, "gcc-high"}, {Cloud::dod, "dod"}, {Cloud::china, "china"}}};
};
template <>
struct EnumNames<UnlistedOverrides> {
    static constexpr std::array<std::pair<UnlistedOverrides, std::string_view>, 3> table{
        {{UnlistedOverrides::revert, "revert"},
         {UnlistedOverrides::report, "report"},
         {UnlistedOverrides::ignore, "ignore"}}};
};
template <>
struct EnumNames<Replacement> {
    static constexpr std::array<std::pair<Replacement, std::string_view>, 6> table{{
        {Replacement::oauth, "oauth"},
        {Replacement::hve, "hve"},
        {Replacement::acs, "acs"},
        {Replacement::relay, "relay"},
        {Replacement::direct_send, "direct-send"},
        {Replacement::retire, "retire"},
    }};
};

// The twelve AllowBasicAuth* flags of an authentication policy.
inline constexpr std::size_t basic_auth_flag_count = 12;
struct BasicAuthFlag {
    std::string_view toml_key;       // allow_basic_auth_smtp
    std::string_view exchange_name;  // AllowBasicAuthSmtp
};
extern const std::array<BasicAuthFlag, basic_auth_flag_count> basic_auth_flags;
inline constexpr std::size_t smtp_flag = 10;  // index of AllowBasicAuthSmtp
using BasicAuthFlags = std::array<bool, basic_auth_flag_count>;

template <class T>
struct Located {
    T value;
    SourceLocation source;
};

struct Tenant {
    std::string id;
    Cloud cloud = Cloud::global;
    SourceLocation source;
};

// Non-secret connection settings; the lowest of three precedence levels (CLI > env > file).
struct Connection {
    std::optional<std::string> app_id;
    std::optional<std::string> certificate;  // resolved against the naming file's folder
    std::optional<std::string> certificate_password_env;
    std::optional<std::string> login_endpoint;
    std::optional<std::string> exchange_endpoint;
    std::optional<std::string> ca_bundle;  // resolved against the naming file's folder
    // How authgate signs in: "certificate" (the default), "workload-identity" (the CI platform's
    // OIDC token, federated in Entra) or "managed-identity" (the Azure host's identity).
    std::optional<std::string> credential;
};

// The owner import writes for an override it found: valid, but warned about until replaced.
inline constexpr std::string_view unknown_owner = "unknown";

struct Exception {
    Name mailbox;
    std::string owner;
    std::string reason;
    Instant expires{};         // the first instant at which it no longer holds
    std::string expires_text;  // as written: "2027-03-31" or "2027-03-31T18:00:00+02:00"
    std::optional<std::string> ticket;
    std::optional<Replacement> replacement;
    bool basic_auth = false;
    std::vector<std::string> notify;  // more recipients of this exception's notices (after the owner)
    SourceLocation source;            // the [[smtp_auth.exception]] header
    SourceLocation expires_source;
};

// A mailbox whose cut-off is accepted although it was seen sending: the recent-use guardrail
// lets a plan take SMTP AUTH from it.
struct AcceptedCutoff {
    Name mailbox;
    std::string reason;
    SourceLocation source;
};

struct SmtpAuth {
    std::optional<Located<bool>> org_disabled;  // absent: the org switch is not managed
    UnlistedOverrides unlisted_overrides = UnlistedOverrides::report;
    SourceLocation unlisted_overrides_source;  // unknown when the default holds
    std::vector<Located<std::string>> deny;
    std::vector<Exception> exceptions;
    std::vector<AcceptedCutoff> accept_cutoff;
};

struct ExceptionSettings {
    int max_days = 180;
    std::vector<int> warn_days{14, 7, 1};
    std::optional<Located<std::string>> basic_auth_policy;
    std::optional<Located<int>> unused_days;  // warn about an exception with no SMTP AUTH use in this many days
    SourceLocation source;

    int max_warn_days() const;
};

struct AuthenticationPolicy {
    Name name;
    BasicAuthFlags flags{};  // unlisted flags are false
    SourceLocation source;
};

struct Organization {
    // nullopt: not managed. Empty string in the TOML clears it and is stored as "".
    std::optional<Located<std::string>> default_authentication_policy;
};

// An exception or deny entry that names no live mailbox: a warning (naming the nearest live
// addresses), unless a live mailbox with a similar address would be changed by the same plan;
// "error" makes it always an error.
enum class MissingMailbox { warn, error };
template <>
struct EnumNames<MissingMailbox> {
    static constexpr std::array<std::pair<MissingMailbox, std::string_view>, 2> table{
        {{MissingMailbox::warn, "warn"}, {MissingMailbox::error, "error"}}};
};

struct Guardrails {
    int max_changes = 100;
    std::vector<Located<std::string>> protected_mailboxes;
    MissingMailbox missing_mailbox = MissingMailbox::warn;
    // plan, reconcile and doctor warn when the certificate authgate signs with expires within
    // this many days.
    int certificate_warn_days = 30;
    // A plan may not cut off a mailbox seen sending with SMTP AUTH in this many days, unless it
    // is in [smtp_auth] accept_cutoff or the command is given --accept-impact; without evidence
    // (a source that could not be read) it refuses rather than assume no use.
    std::optional<Located<int>> recent_use_days;
};

// How owner notices are mailed: Microsoft Graph's sendMail (application permission Mail.Send,
// scoped to the sender), or SMTP with OAuth (SASL XOAUTH2) to High Volume Email or
// smtp.office365.com. Both sign in as the app itself; there is no password.
enum class MailTransportKind { graph, smtp };
template <>
struct EnumNames<MailTransportKind> {
    static constexpr std::array<std::pair<MailTransportKind, std::string_view>, 2> table{
        {{MailTransportKind::graph, "graph"}, {MailTransportKind::smtp, "smtp"}}};
};

// [notifications.email]: one message per owner per run about their exceptions.
struct EmailNotifications {
    MailTransportKind transport = MailTransportKind::graph;
    std::string sender;                               // the mailbox notices are sent as
    std::string smtp_host = "smtp.hve.mx.microsoft";  // for transport = "smtp"
    int smtp_port = 587;
    std::vector<std::string> cc;  // copied on every notice
    SourceLocation source;
};

// What the webhook is sent: JSON with a `text` (Slack, and any JSON consumer), or an Adaptive Card
// (Teams workflows); "auto" tells a Teams workflow by its URL's host.
enum class WebhookFormat { automatic, json, teams };
template <>
struct EnumNames<WebhookFormat> {
    static constexpr std::array<std::pair<WebhookFormat, std::string_view>, 3> table{
        {{WebhookFormat::automatic, "auto"}, {WebhookFormat::json, "json"}, {WebhookFormat::teams, "teams"}}};
};

// Where drift, expiry reverts, warnings and failures are announced.
struct Notifications {
    std::optional<std::string> webhook_url;      // https only; treat as a secret (it authorises posting)
    std::optional<std::string> webhook_url_env;  // the variable that holds it instead
    WebhookFormat webhook_format = WebhookFormat::automatic;
    std::optional<EmailNotifications> email;  // absent: owners are not mailed
};

struct DesiredState {
    std::optional<Tenant> tenant;
    Connection connection;
    std::optional<SmtpAuth> smtp_auth;  // absent: org switch and overrides left alone
    ExceptionSettings exception_settings;
    std::vector<AuthenticationPolicy> policies;  // empty: policies are not managed
    std::optional<Organization> organization;    // absent: default policy left alone
    Guardrails guardrails;
    Notifications notifications;

    std::vector<std::string> files;  // the files read, in merge order
    std::string digest;              // "sha256:…" over the files' relative paths and contents

    const AuthenticationPolicy* find_policy(std::string_view name) const;
    const Exception* find_exception(std::string_view mailbox) const;
    bool is_protected(std::string_view address) const;
};

}  // namespace authgate
