// Fault injection: the failures a client must survive (throttling, server errors, transient
// Exchange exceptions, dropped connections, failing or expired pages, missing roles, odd 403s,
// token errors), set by POST /_sandbox/faults or --faults. Each counted fault fires `count` times.
#pragma once

#include <cpprest/json.h>

#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mail_faults.h"

namespace sandbox {

struct ThrottleFault {
    int count = 0;
    std::optional<std::string> retry_after = "1";  // Retry-After header; nullopt omits it
    std::optional<std::string> cmdlet;
};

struct ServerErrorFault {
    int count = 0;
    int status = 503;  // 500, 503 or 504
    std::optional<std::string> cmdlet;
};

struct TransientExceptionFault {
    int count = 0;
    std::string name = "DCOverloadedException";
    std::optional<std::string> cmdlet;
};

// before_processing: the cmdlet does not run; before_response: it runs and the answer is lost.
enum class DropMoment { before_processing, before_response };

// How much of the answer goes out before the connection ends.
enum class DropAnswer {
    headers,       // the status line and headers announce a body that never comes
    partial_body,  // the real headers and the first half of the real body
    nothing,       // not a byte: the connection is closed (TCP FIN) where the answer would start
};

struct DropConnectionFault {
    int count = 0;
    DropMoment when = DropMoment::before_response;
    std::optional<std::string> cmdlet;
    DropAnswer answer = DropAnswer::headers;
};

// The request is handled as usual and its answer held back this long: a client whose timeout is
// shorter gives up on it (for a write: after the write was made).
struct SlowAnswerFault {
    int count = 0;
    int delay_ms = 5000;
    std::optional<std::string> cmdlet;
};

struct FailPageFault {
    int count = 1;
    int page = 2;
    int status = 500;
    std::string cmdlet = "Get-CASMailbox";
};

struct Nul403Fault {
    int count = 0;
};

// The tokens issued so far expire at once, as when Entra revokes them or a clock jumps: the
// client's next admin API call is answered 401 "The token has expired."
struct ExpireTokensFault {
    int count = 0;
};

struct TokenErrorFault {
    int count = 0;
    int code = 700027;
};

// What a proxy, a captive portal or a broken front end answers in place of a token.
enum class TokenGarbage {
    not_json,         // 200 text/plain that is not JSON
    html,             // 200 text/html, a sign-in page
    no_access_token,  // 200 JSON without access_token
};

struct TokenGarbageFault {
    int count = 0;
    TokenGarbage kind = TokenGarbage::html;
    int after = 0;  // token requests answered normally before it fires
};

// Microsoft Graph (the usage sources): 429 for the first `count` Graph requests, optionally of one
// endpoint only ("signIns", "getEmailAppUsageUserDetail", "reportSettings").
struct GraphThrottleFault {
    int count = 0;
    std::optional<std::string> retry_after = "10";
    std::optional<std::string> endpoint;
};

// A Graph 403 on auditLogs/signIns: graph_no_premium, graph_permission_missing.
struct GraphForbiddenFault {
    int count = 0;
};

// The sign-in page `page` (2 = the first nextLink) answers the stale skip-token error, and its
// skip token is forgotten: the client must start its window again.
struct GraphStaleSkiptokenFault {
    int count = 0;
    int page = 2;
};

// Sign-ins without a stored secret. A platform is one whose endpoint hands out identity tokens.
enum class Platform { github, azure_devops };
// The managed identity endpoints: IMDS, App Service's IDENTITY_ENDPOINT, Azure Arc's.
enum class IdentityEndpoint { imds, app_service, arc };

// A federated assertion that matches a federated identity credential is answered AADSTS70021,
// as while a credential just created is still spreading.
struct FederationPropagatingFault {
    int count = 0;
};

// The platform endpoint answers `status` in place of a token.
struct PlatformErrorFault {
    int count = 0;
    std::optional<Platform> platform;  // nullopt: either
    int status = 500;
};

// The platform endpoint hands out a token that has already expired (AADSTS700024 at the exchange).
struct PlatformTokenExpiredFault {
    int count = 0;
    std::optional<Platform> platform;
};

// The platform endpoint hands out a token for another audience (AADSTS700212 at the exchange).
struct PlatformWrongAudienceFault {
    int count = 0;
    std::optional<Platform> platform;
    std::optional<std::string> audience;  // nullopt: the platform's own other audience
};

// GitHub hands out the token of a pull_request job (no environment) whatever the job says.
struct GithubPullRequestSubjectFault {
    int count = 0;
};

// A managed identity endpoint answers `status` (404, 410, 429, 5xx runs) in place of a token.
struct ManagedIdentityErrorFault {
    int count = 0;
    int status = 500;
    std::optional<IdentityEndpoint> endpoint;  // nullopt: any
    std::optional<std::string> retry_after;    // Retry-After header; nullopt sends none
};

// The Graph application roles the app holds unless graph_missing_roles takes some away.
inline const std::vector<std::string>& graph_application_roles() {
    static const std::vector<std::string> roles = {"AuditLog.Read.All",       "Directory.Read.All", "Reports.Read.All",
                                                   "ReportSettings.Read.All", "Mail.Send",          "Policy.Read.All",
                                                   "GroupMember.Read.All"};
    return roles;
}

// What an admin API request is, for latency: a read (an InvokeCommand of a Get- cmdlet or following
// a read's nextLink, the module file), a write ($batch, any other InvokeCommand), or another path.
enum class AdminRequestKind { read, write, other };

struct FaultSettings {
    int latency_ms = 0;  // every admin API request, unless the kind's own latency is set
    std::optional<int> read_latency_ms;
    std::optional<int> write_latency_ms;
    // false: a front end that does not resume TLS sessions (every ticket is refused, every
    // handshake is full).
    bool tls_resumption = true;
    std::optional<ThrottleFault> throttle;
    std::optional<ServerErrorFault> server_error;
    std::optional<TransientExceptionFault> transient_exception;
    std::optional<DropConnectionFault> drop_connection;
    std::optional<SlowAnswerFault> slow_answer;
    std::optional<FailPageFault> fail_page;
    bool expire_links = false;
    std::optional<std::string> foreign_next_link;  // the origin nextLinks are put on
    std::vector<std::string> forbidden_cmdlets;
    std::optional<Nul403Fault> nul_403;
    std::optional<ExpireTokensFault> expire_tokens;
    std::optional<TokenErrorFault> token_error;
    std::optional<TokenGarbageFault> token_garbage;
    std::optional<GraphThrottleFault> graph_throttle;
    std::optional<GraphForbiddenFault> graph_no_premium;
    std::optional<GraphForbiddenFault> graph_permission_missing;
    std::optional<GraphStaleSkiptokenFault> graph_stale_skiptoken;
    std::vector<std::string> graph_missing_roles;  // canonical names, from graph_application_roles()
    std::optional<FederationPropagatingFault> federation_propagating;
    std::optional<PlatformErrorFault> platform_error;
    std::optional<PlatformTokenExpiredFault> platform_token_expired;
    std::optional<PlatformWrongAudienceFault> platform_wrong_audience;
    std::optional<GithubPullRequestSubjectFault> github_pull_request_subject;
    std::optional<ManagedIdentityErrorFault> managed_identity_error;
    // Exchange answers every request bearing a managed identity's token as one without the
    // Exchange.ManageAsApp role.
    bool managed_identity_no_role = false;
    MailFaults mail;  // send_mail, smtp, smtp_send_as_app, smtp_hve (mail_faults.h)

    // Throws std::invalid_argument naming the member that is wrong; unknown members are refused
    // so that a misspelt fault does not silently do nothing.
    static FaultSettings parse(const web::json::value& document);
    web::json::value to_json() const;  // with the counts that remain
    int latency_ms_for(AdminRequestKind kind) const;
};

// Where a fault is being considered. A fault with a `cmdlet` filter is matched against each
// call inside a $batch (answering that item); one without a filter answers the whole HTTP
// request. A plain InvokeCommand is both at once.
struct FaultSite {
    std::string_view cmdlet;  // empty for a whole $batch request
    bool batch_item = false;
};

class Faults {
public:
    void replace(FaultSettings settings) { settings_ = std::move(settings); }
    const FaultSettings& settings() const { return settings_; }

    // Each take_* returns the fault when it fires here, after decrementing its count and counting
    // it as fired.
    std::optional<ThrottleFault> take_throttle(FaultSite site);
    std::optional<ServerErrorFault> take_server_error(FaultSite site);
    std::optional<TransientExceptionFault> take_transient_exception(std::string_view cmdlet);
    std::optional<DropConnectionFault> take_drop_connection(std::span<const std::string> cmdlets);
    std::optional<SlowAnswerFault> take_slow_answer(std::span<const std::string> cmdlets);
    std::optional<FailPageFault> take_fail_page(std::string_view cmdlet, int page_number);
    bool take_nul_403();
    bool take_expire_tokens();
    std::optional<TokenErrorFault> take_token_error();
    std::optional<TokenGarbageFault> take_token_garbage();
    bool forbids(std::string_view cmdlet);
    bool forbidden(std::string_view cmdlet) const;  // the same, without counting a firing
    bool expires_links();
    std::optional<std::string> foreign_next_link();  // the origin, when the fault is on
    std::optional<GraphThrottleFault> take_graph_throttle(std::string_view endpoint);
    bool take_graph_no_premium();
    bool take_graph_permission_missing();
    bool take_graph_stale_skiptoken(int page_number);
    bool take_federation_propagating();
    std::optional<PlatformErrorFault> take_platform_error(Platform platform);
    bool take_platform_token_expired(Platform platform);
    std::optional<PlatformWrongAudienceFault> take_platform_wrong_audience(Platform platform);
    bool take_github_pull_request_subject();
    std::optional<ManagedIdentityErrorFault> take_managed_identity_error(IdentityEndpoint endpoint);
    bool refuses_managed_identity_role();  // managed_identity_no_role, counted as fired
    // The Graph application roles a token issued now carries: all of them but graph_missing_roles.
    std::vector<std::string> graph_roles() const;
    // The mail faults (mail_faults.cpp).
    std::optional<SendMailFault> take_send_mail();
    std::optional<SmtpFault> take_smtp(SmtpStage stage);
    bool smtp_send_as_app() const { return settings_.mail.smtp_send_as_app; }
    bool smtp_hve() const { return settings_.mail.smtp_hve; }

    web::json::value report() const;  // {"active": …, "fired": {"throttle": 2, …}}

private:
    // The fault when it is on, `applies(fault)` says it fires here and it has a firing left; its
    // count then goes down by one and it is counted as fired.
    template <typename Fault, typename Applies>
    std::optional<Fault> take(std::optional<Fault>& fault, const char* name, Applies applies) {
        if (!fault || !applies(*fault) || fault->count <= 0) return std::nullopt;
        --fault->count;
        fired(name);
        return fault;
    }
    void fired(const char* name) { ++fired_[name]; }

    FaultSettings settings_;
    std::map<std::string, int> fired_;
};

}  // namespace sandbox
