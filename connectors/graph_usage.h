#pragma once
// Usage evidence through Microsoft Graph, app-only: the Entra sign-in logs (Basic SMTP sign-ins,
// clientAppUsed 'Authenticated SMTP') and the email apps usage report (the SMTP App column).
// A source that cannot be read, wholly or in part, comes back as not read with what failed and
// what fixes it, never as "no use" and never as an exception.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "connectors/http.h"
#include "connectors/token_client.h"
#include "policies/conditional_access.h"
#include "policies/jitter.h"
#include "policies/time.h"
#include "policies/usage.h"

namespace simdjson::dom {
class element;
}

namespace authgate {

// What one source gave: its observations, and whether it could be read and over which window.
// When report.read is false the observations are still sightings that happened (a read that
// failed part way keeps what it saw before), but their absence proves nothing and last_seen may
// be older than the truth.
struct UsageRead {
    std::vector<UsageObservation> observations;
    SourceReport report;
};

struct GraphUsageLimits {
    std::chrono::hours window{24};                // the longest span of time one sign-in query asks for
    int page_size = 1000;                         // $top: Graph's maximum for sign-ins
    int max_retries = 3;                          // of one request throttled (429) or unavailable (503, 504)
    std::chrono::milliseconds first_delay{2000};  // backoff when Graph gives no Retry-After
    std::chrono::milliseconds max_delay{60000};
    int max_pages = 10000;  // of one window: 10 million sign-ins; a server that never ends is refused
};

// Graph's error envelope: {"error":{"code":…,"message":…}}; the message shown inert, or the
// body itself when it is not that envelope.
struct GraphError {
    std::string code;
    std::string message;
};
GraphError graph_error(const HttpResponse& response);

class GraphUsageReader {
public:
    using Sleep = std::function<void(std::chrono::milliseconds)>;

    // `tokens` asks for Graph (TokenSettings::resource = `graph_endpoint`); the bearer is sent to
    // `graph_endpoint`'s origin (https://graph.microsoft.com) and nowhere else.
    GraphUsageReader(HttpTransport& http, TokenClient& tokens, std::string graph_endpoint,
                     std::function<Instant()> clock = now_utc, Sleep sleep = {}, unsigned random_seed = 0,
                     GraphUsageLimits limits = {});

    // Basic SMTP sign-ins created from `from` to `to` (both included), asked for in windows of at
    // most a day, de-duplicated on the sign-in's id and folded into one observation per user
    // (source signin_logs, protocol basic, messages = successful sign-ins, failures = the others).
    // Needs Entra ID P1 or P2 and the application permissions AuditLog.Read.All and
    // Directory.Read.All.
    UsageRead sign_ins(Instant from, Instant to);

    // Who submitted over SMTP in the email apps usage report of the smallest period (7, 30, 90 or
    // 180 days) that covers `days`: one observation per user whose SMTP App cell is neither empty
    // nor "No" (source email_app_report, protocol unknown). Not read when the tenant conceals user
    // names in reports. Needs Reports.Read.All and ReportSettings.Read.All.
    UsageRead email_app_usage(int days);

    // Entra's policies that decide SMTP AUTH beside Exchange (policies/conditional_access.h): the
    // security defaults policy and every Conditional Access policy (following @odata.nextLink on
    // the Graph origin only). Needs Policy.Read.All; Conditional Access needs Entra ID P1 too. A
    // part that cannot be read, wholly or in part, comes back nullopt with what failed and the fix.
    EntraPolicies entra_policies();

    // The groups `user_id` (a directory object id) belongs to, directly or through other groups,
    // and the template ids of its directory roles (transitiveMemberOf, every page). Needs
    // GroupMember.Read.All (or Directory.Read.All). Not read: both nullopt, and why_not says why.
    DirectoryMembership membership(const std::string& user_id);

    int requests_made() const { return requests_; }

private:
    struct Answer {
        HttpResponse response;
        std::string request_id;
        int status = 0;
        std::string code;     // Graph's error.code
        std::string failure;  // empty when the answer can be used
        bool stale_link = false;

        bool ok() const { return failure.empty(); }
    };
    struct Fold;  // sign-in rows, de-duplicated and folded per user as they are parsed
    // GETs `url` on Graph with the bearer: retried after 429, 503 and 504 (honouring Retry-After),
    // after a first 403 for want of a premium licence, and once with a fresh token after a 401.
    // A redirect is an answer (`redirect_ok`) or a failure, never followed here. A failure comes
    // back in the Answer, never thrown.
    Answer get(const std::string& url, const std::string& what, bool redirect_ok = false);
    // Reads one window of sign-ins into `fold`; empty when it was read to its end, else why not.
    std::string read_window(Instant from, Instant to, Fold& fold, SourceReport& report);
    std::chrono::milliseconds backoff(int attempt, const std::string& retry_after);
    // Reads a list from `url` to its end, calling `each` with every element of every page; empty
    // when it was read whole, else why not (the failed answer is in `failed`, when there was one).
    std::string read_list(const std::string& url, const std::string& what,
                          const std::function<void(const simdjson::dom::element&)>& each, Answer* failed = nullptr);

    HttpTransport& http_;
    TokenClient& tokens_;
    std::string graph_;   // the endpoint, without trailing slashes
    std::string origin_;  // its origin: where the bearer may go
    std::function<Instant()> clock_;
    Sleep sleep_;
    Jitter jitter_;
    GraphUsageLimits limits_;
    int requests_ = 0;
};

// The $filter of the sign-in query for one window, as Graph reads it (before percent-encoding).
std::string sign_in_filter(Instant from, Instant to);

// The email apps report's period ("D7", "D30", "D90", "D180") that covers `days`; D180 at most.
std::string email_app_period(int days);

}  // namespace authgate
