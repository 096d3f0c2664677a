#include "connectors/graph_usage.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <cpprest/json.h>
#include <simdjson.h>

#include "connectors/credentials.h"
#include "connectors/json_pages.h"
#include "policies/name.h"
#include "policies/printable.h"

namespace authgate {
namespace {

constexpr std::string_view premium_code = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";
// Graph's answer when a page's skip token has expired (it lives minutes), with an empty code.
constexpr std::string_view stale_link_message = "Token not found: token is either invalid or expired";
constexpr std::string_view smtp_client = "Authenticated SMTP";

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return std::string(text);
}

}  // namespace

GraphError graph_error(const HttpResponse& response) {
    GraphError error;
    try {
        const web::json::value body = web::json::value::parse(response.body);
        if (body.has_object_field("error")) {
            const web::json::value& inner = body.at("error");
            if (inner.has_string_field("code")) error.code = printable(inner.at("code").as_string());
            if (inner.has_string_field("message")) error.message = printable(inner.at("message").as_string());
        }
    } catch (const web::json::json_exception&) {
        // Not JSON: the body itself, below.
    }
    if (error.message.empty()) {
        const bool readable = !response.body.empty() && std::none_of(response.body.begin(), response.body.end(),
                                                                     [](char c) { return c == '\0'; });
        error.message = readable ? printable(response.body.substr(0, 300)) : "no error text in the answer";
    }
    return error;
}

namespace {

// Sign-in ids seen, to count each sign-in once: a GUID as its 128 bits (most are), anything else
// as text.
class IdSet {
public:
    // True when `id` was not seen before.
    bool insert(std::string_view id) {
        if (const auto bits = guid_bits(id)) return guids_.insert(*bits).second;
        return others_.emplace(id).second;
    }

private:
    struct Bits {
        std::uint64_t high, low;
        bool operator==(const Bits&) const = default;
    };
    struct Hash {
        std::size_t operator()(const Bits& bits) const {
            return std::hash<std::uint64_t>{}(bits.high ^ (bits.low * 0x9e3779b97f4a7c15ULL));
        }
    };

    static std::optional<Bits> guid_bits(std::string_view id) {
        if (id.size() != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-') return std::nullopt;
        Bits bits{0, 0};
        int nibbles = 0;
        for (const char c : id) {
            if (c == '-') continue;
            int value;
            if (c >= '0' && c <= '9') value = c - '0';
            else if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
            else return std::nullopt;
            std::uint64_t& half = nibbles < 16 ? bits.high : bits.low;
            half = (half << 4) | static_cast<std::uint64_t>(value);
            ++nibbles;
        }
        return bits;
    }

    std::unordered_set<Bits, Hash> guids_;
    std::unordered_set<std::string> others_;
};

std::string_view string_at(const simdjson::dom::element& object, std::string_view key) {
    std::string_view text;
    if (object[key].get_string().get(text) != simdjson::SUCCESS) return {};
    return text;
}

// The CSV of a Graph report (RFC 4180): quoted fields, doubled quotes, CRLF or LF, line breaks
// inside quotes, a leading byte order mark.
class CsvReader {
public:
    explicit CsvReader(std::string_view text) : text_(text) {
        if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
    }

    // The next record into `fields`; false at the end. `problem` is set when a quote is not closed.
    bool next(std::vector<std::string>& fields) {
        fields.clear();
        while (at_ < text_.size() && (text_[at_] == '\r' || text_[at_] == '\n')) ++at_;  // blank lines
        if (at_ >= text_.size()) return false;
        std::string field;
        bool quoted = false;
        while (at_ < text_.size()) {
            const char c = text_[at_++];
            if (quoted) {
                if (c != '"') field += c;
                else if (at_ < text_.size() && text_[at_] == '"') field += text_[at_++];
                else quoted = false;
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                fields.push_back(std::move(field));
                field.clear();
            } else if (c == '\r' || c == '\n') {
                if (c == '\r' && at_ < text_.size() && text_[at_] == '\n') ++at_;
                break;
            } else {
                field += c;
            }
        }
        if (quoted) problem = "a quoted field is not closed";
        fields.push_back(std::move(field));
        return true;
    }

    std::string problem;

private:
    std::string_view text_;
    std::size_t at_ = 0;
};

// The report's documented columns (lower case); any other is named in a note.
constexpr std::string_view report_columns[] = {
    "report refresh date", "user principal name", "display name",    "is deleted",          "deleted date",
    "last activity date",  "mail for mac",        "outlook for mac", "outlook for windows", "outlook for mobile",
    "other for mobile",    "outlook for web",     "pop3 app",        "imap4 app",           "smtp app",
    "report period"};

const std::string concealed_fix =
    "authgate never matches concealed names to mailboxes and never changes the setting: to show names, an admin "
    "turns off \"Display concealed user, group, and site names in all reports\" in the Microsoft 365 admin center "
    "(Settings → Org settings → Reports), or sends PATCH /admin/reportSettings {\"displayConcealedNames\":false} "
    "with the permission ReportSettings.ReadWrite.All";

}  // namespace

struct GraphUsageReader::Fold {
    explicit Fold(std::vector<UsageObservation>& observations) : out(observations) {}

    void add(const simdjson::dom::element& row) {
        const std::string_view id = string_at(row, "id");
        const std::string_view created_text = string_at(row, "createdDateTime");
        const std::string_view upn = string_at(row, "userPrincipalName");
        const std::string_view user_id = string_at(row, "userId");
        const std::string_view app = string_at(row, "clientAppUsed");
        std::int64_t code = 0;
        const bool has_code = row["status"]["errorCode"].get_int64().get(code) == simdjson::SUCCESS;
        const auto created = parse_instant(created_text);
        if (!app.empty() && app != smtp_client) {
            ++other_clients;
            return;
        }
        if (id.empty() || !created || (upn.empty() && user_id.empty()) || !has_code) {
            ++unreadable;
            return;
        }
        if (!seen.insert(id)) return;
        ++rows;

        const std::string key = user_id.empty() ? "upn:" + fold_case(upn) : std::string(user_id);
        auto [it, added] = users.try_emplace(key, out.size());
        if (added) {
            UsageObservation observation;
            observation.address = fold_case(upn);
            observation.user_id = std::string(user_id);
            observation.source = UsageSource::signin_logs;
            observation.protocol = SmtpProtocol::basic;
            observation.first_seen = observation.last_seen = *created;
            out.push_back(std::move(observation));
            newest_failure.emplace_back();
        }
        UsageObservation& observation = out[it->second];
        if (*created < observation.first_seen) observation.first_seen = *created;
        if (*created >= observation.last_seen) {
            observation.last_seen = *created;
            if (!upn.empty()) observation.address = fold_case(upn);  // the newest name, should it have changed
        }
        if (code == 0) {
            ++observation.messages;
            return;
        }
        ++observation.failures;
        std::optional<Instant>& newest = newest_failure[it->second];
        if (!newest || *created >= *newest) {
            newest = *created;
            simdjson::dom::element status;
            const std::string reason =
                row["status"].get(status) == simdjson::SUCCESS ? printable(string_at(status, "failureReason")) : "";
            observation.last_error = std::to_string(code) + (reason.empty() ? "" : " " + reason);
        }
    }

    std::vector<UsageObservation>& out;
    std::unordered_map<std::string, std::size_t> users;  // userId (else "upn:" and the UPN) -> its observation
    std::vector<std::optional<Instant>> newest_failure;  // of each observation
    IdSet seen;
    long long rows = 0;
    long long unreadable = 0;
    long long other_clients = 0;
};

std::string sign_in_filter(Instant from, Instant to) {
    return "createdDateTime ge " + format_instant(from) + " and createdDateTime le " + format_instant(to) +
           " and clientAppUsed eq '" + std::string(smtp_client) + "'";
}

std::string email_app_period(int days) {
    for (const int period : {7, 30, 90})
        if (days <= period) return "D" + std::to_string(period);
    return "D180";
}

GraphUsageReader::GraphUsageReader(HttpTransport& http, TokenClient& tokens, std::string graph_endpoint,
                                   std::function<Instant()> clock, Sleep sleep, unsigned random_seed,
                                   GraphUsageLimits limits)
    : http_(http),
      tokens_(tokens),
      graph_(trim_slash(std::move(graph_endpoint))),
      origin_(origin_of(graph_)),
      clock_(std::move(clock)),
      sleep_(sleep ? std::move(sleep)
                   : Sleep([](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); })),
      jitter_(random_seed),
      limits_(limits) {
    limits_.page_size = std::clamp(limits_.page_size, 1, 1000);
    if (limits_.window.count() < 1) limits_.window = std::chrono::hours{1};
}

std::chrono::milliseconds GraphUsageReader::backoff(int attempt, const std::string& retry_after) {
    try {
        if (!retry_after.empty()) {
            const double seconds = std::stod(retry_after);
            if (seconds >= 0 && seconds < 3600)
                return std::chrono::milliseconds{static_cast<long long>(std::ceil(seconds * 1000))};
        }
    } catch (const std::exception&) {
        // An unreadable Retry-After (or an HTTP date) falls back to our own backoff.
    }
    const double grown = static_cast<double>(limits_.first_delay.count()) * std::pow(2.0, attempt);
    const auto capped = static_cast<long long>(std::min(grown, static_cast<double>(limits_.max_delay.count())));
    // Jitter in [capped/2, capped) keeps many clients from retrying in step.
    return jitter_.spread(std::chrono::milliseconds{capped}, 0.5, 1.0);
}

GraphUsageReader::Answer GraphUsageReader::get(const std::string& url, const std::string& what, bool redirect_ok) {
    bool refreshed_token = false;
    bool premium_retried = false;
    int retries = 0;
    while (true) {
        Answer answer;
        if (origin_.empty() || origin_of(url) != origin_) {
            answer.failure = what +
                             " failed: the Graph endpoint must be an https:// URL without a user name or "
                             "password, not '" +
                             host_part(graph_) + "'";
            return answer;
        }
        answer.request_id = new_guid();
        HttpRequest request{url, {{"Accept", "application/json"}, {"client-request-id", answer.request_id}}, ""};
        request.method = "GET";
        try {
            request.headers["Authorization"] = "Bearer " + tokens_.bearer();
        } catch (const ConnectorError& error) {
            answer.failure = what + " failed: no token for Graph: " + error.what();
            return answer;
        }
        ++requests_;
        try {
            answer.response = http_.post(request);
        } catch (const TransportError& error) {
            answer.failure = what + " failed: " + error.what();
            return answer;
        }
        const HttpResponse& response = answer.response;
        answer.status = response.status;
        if (response.status >= 200 && response.status < 300) return answer;
        if (const std::string redirect = response.redirect(); !redirect.empty()) {
            if (redirect_ok) return answer;
            // The Location is not shown whole: it may carry a pre-authenticated link.
            const std::string location = response.header("location");
            answer.failure = what + " failed: HTTP " + std::to_string(response.status) + ": a redirect to " +
                             (location.empty() ? "no Location" : host_part(location)) +
                             ", which authgate never follows with its token (client-request-id " + answer.request_id +
                             "); check the Graph endpoint, or a proxy between this machine and " + origin_;
            return answer;
        }
        const GraphError error = graph_error(response);
        answer.code = error.code;
        const std::string text = "HTTP " + std::to_string(response.status) +
                                 (error.code.empty() ? "" : " " + error.code) + ": " + error.message +
                                 " (client-request-id " + answer.request_id + ")";
        if (contains(response.body, stale_link_message)) {
            answer.stale_link = true;
            answer.failure = what + " failed: " + text;
            return answer;
        }
        if (response.status == 401 && !refreshed_token) {
            // The token may have expired in flight or been revoked: ask for a new one, once.
            tokens_.invalidate();
            refreshed_token = true;
            continue;
        }
        if (response.status == 403 && error.code == premium_code && !premium_retried) {
            // Licensed tenants see this one now and then too: once more before believing it.
            premium_retried = true;
            sleep_(backoff(0, ""));
            continue;
        }
        const bool busy = response.status == 429 || response.status == 503 || response.status == 504;
        if (busy && retries < limits_.max_retries) {
            sleep_(backoff(retries, response.header("retry-after")));
            ++retries;
            continue;
        }
        answer.failure = what + " failed: " + text;
        if (busy) answer.failure += "; gave up after " + std::to_string(retries) + " retries: retry later";
        else if (response.status == 401)
            answer.failure += "; Graph refused a fresh token: check the Graph endpoint and [tenant] cloud, and that "
                              "the app's Graph application permissions have admin consent";
        return answer;
    }
}

std::string GraphUsageReader::read_window(Instant from, Instant to, Fold& fold, SourceReport& report) {
    const std::string what = "reading the sign-in logs from " + format_instant(from) + " to " + format_instant(to);
    const std::string first_url = graph_ +
                                  "/v1.0/auditLogs/signIns?$filter=" + percent_encode(sign_in_filter(from, to)) +
                                  "&$top=" + std::to_string(limits_.page_size);
    PageParser pages;
    for (int restarts = 0;; ++restarts) {
        std::string url = first_url;
        int page_count = 0;
        std::optional<Answer> stale;
        while (!url.empty()) {
            Answer answer = get(url, what);
            if (answer.stale_link) {
                stale = std::move(answer);
                break;
            }
            if (!answer.ok()) {
                if (answer.status == 403 && answer.code == premium_code)
                    return answer.failure + "; the tenant needs Entra ID P1 or P2 to read sign-in logs through Graph";
                if (answer.status == 403 &&
                    (answer.code.rfind("Authentication_", 0) == 0 || answer.code == "Authorization_RequestDenied"))
                    return answer.failure + "; grant the app the Graph application permissions AuditLog.Read.All and "
                                            "Directory.Read.All, with admin consent";
                return answer.failure;
            }
            ++page_count;
            const PageParser::Page page = pages.read(answer.response.body,
                                                     [&fold](const simdjson::dom::element& row) { fold.add(row); });
            if (!page.problem.empty())
                return what + " failed: " + page.problem + " (client-request-id " + answer.request_id + ")";
            url.clear();
            if (!page.next_link) break;
            const std::string& next = *page.next_link;
            // The bearer token goes to the Graph endpoint and nowhere else.
            if (origin_of(next) != origin_)
                return what + " failed: refusing to follow @odata.nextLink to another origin (" +
                       (origin_of(next).empty() ? host_part(next) : origin_of(next)) + "); the token is only sent to " +
                       origin_ + " (client-request-id " + answer.request_id + ")";
            if (page_count >= limits_.max_pages)
                return what + " failed: more than " + std::to_string(limits_.max_pages) +
                       " pages; the window is not read to its end (client-request-id " + answer.request_id + ")";
            url = next;  // verbatim: Graph's links change the path's case
        }
        if (!stale) return "";
        // Skip tokens live minutes: start the window over (the rows already counted are known by
        // their ids), once.
        if (restarts >= 1)
            return stale->failure + "; a page link expired again after the window was started over: retry later";
        report.notes.push_back("the window from " + format_instant(from) + " to " + format_instant(to) +
                               " was started over after a page link expired");
    }
}

UsageRead GraphUsageReader::sign_ins(Instant from, Instant to) {
    UsageRead result;
    SourceReport& report = result.report;
    report.source = UsageSource::signin_logs;
    report.from = from;
    report.to = to;
    if (to < from) {
        report.why_not = "the window to read ends (" + format_instant(to) + ") before it starts (" +
                         format_instant(from) + ")";
        return result;
    }
    Fold fold(result.observations);
    Instant start = from;
    Instant whole_to = from;  // the windows up to here were read to their end
    long long whole_rows = 0;
    std::string failure;
    do {
        const Instant end = std::min<Instant>(to, start + limits_.window);
        failure = read_window(start, end, fold, report);
        if (!failure.empty()) break;
        whole_to = end;
        whole_rows = fold.rows;
        start = end;
    } while (start < to);

    report.rows = fold.rows;
    if (fold.unreadable > 0)
        report.notes.push_back(std::to_string(fold.unreadable) +
                               " sign-ins lacked an id, a createdDateTime, a user or a status.errorCode and were not "
                               "counted");
    if (fold.other_clients > 0)
        report.notes.push_back(std::to_string(fold.other_clients) +
                               " sign-ins of other clients than Authenticated SMTP were ignored");
    std::sort(result.observations.begin(), result.observations.end(),
              [](const UsageObservation& a, const UsageObservation& b) {
                  return std::tie(a.address, a.user_id) < std::tie(b.address, b.user_id);
              });
    if (failure.empty()) {
        report.read = true;
        return result;
    }
    report.why_not = failure;
    const long long partial_rows = fold.rows - whole_rows;
    if (whole_to > from || partial_rows > 0) {
        std::string note = "only part was read: ";
        if (whole_to > from)
            note += "from " + format_instant(from) + " to " + format_instant(whole_to) + " whole (" +
                    std::to_string(whole_rows) + " sign-ins)";
        if (partial_rows > 0)
            note += std::string(whole_to > from ? ", and " : "") + std::to_string(partial_rows) +
                    " sign-ins of the window that failed";
        note += "; from " + format_instant(whole_to) + " to " + format_instant(to) +
                " the logs were not read to their end: use there is unknown, not absent";
        report.notes.push_back(note);
    }
    return result;
}

UsageRead GraphUsageReader::email_app_usage(int days) {
    UsageRead result;
    SourceReport& report = result.report;
    report.source = UsageSource::email_app_report;
    const std::string period = email_app_period(days);
    const std::chrono::hours period_span{24 * std::stoi(period.substr(1))};
    report.to = clock_();
    report.from = report.to - period_span;
    if (days > 180)
        report.notes.push_back("the report covers at most 180 days; " + std::to_string(days) + " were asked for");

    // 1. Whether the tenant conceals user names in usage reports.
    const Answer settings = get(graph_ + "/v1.0/admin/reportSettings", "reading the report settings");
    if (!settings.ok()) {
        report.why_not = settings.failure;
        if (settings.status == 403)
            report.why_not += "; grant the app the Graph application permission ReportSettings.Read.All, with admin "
                              "consent (authgate reads it to know whether user names are concealed)";
        return result;
    }
    std::optional<bool> concealed;
    try {
        const web::json::value body = web::json::value::parse(settings.response.body);
        if (body.has_boolean_field("displayConcealedNames")) concealed = body.at("displayConcealedNames").as_bool();
    } catch (const web::json::json_exception&) {
        // Not JSON: said below.
    }
    if (!concealed) {
        report.why_not =
            "reading the report settings failed: the answer has no displayConcealedNames (client-request-id " +
            settings.request_id + ")";
        return result;
    }
    if (*concealed) {
        report.why_not = "the tenant conceals user names in usage reports (displayConcealedNames is true), so the "
                         "email apps usage report cannot say who used SMTP; " +
                         concealed_fix;
        return result;
    }

    // 2. The report: Graph answers with a redirect to a download that needs no token.
    const std::string what = "reading the email apps usage report";
    const Answer answer = get(graph_ + "/v1.0/reports/getEmailAppUsageUserDetail(period='" + period + "')", what,
                              /*redirect_ok=*/true);
    if (!answer.ok()) {
        report.why_not = answer.failure;
        if (answer.status == 403)
            report.why_not += "; grant the app the Graph application permission Reports.Read.All, with admin consent";
        return result;
    }
    std::string csv;
    if (answer.status >= 300) {
        const std::string location = answer.response.header("location");
        const std::string fail = what + " failed: HTTP " + std::to_string(answer.status) + ": ";
        if (location.empty()) {
            report.why_not = fail + "a redirect without a Location (client-request-id " + answer.request_id + ")";
            return result;
        }
        // The download is pre-authenticated: the bearer is never sent there, and the link (a
        // secret while it lives) is named by its host only.
        if (origin_of(location).empty()) {
            report.why_not = fail + "the download link (" + host_part(location) +
                             ") is not an https:// URL; authgate downloads only over verified TLS (client-request-id " +
                             answer.request_id + ")";
            return result;
        }
        HttpRequest download{location, {{"Accept", "text/csv, application/octet-stream"}}, ""};
        download.method = "GET";
        const std::string from_host = "downloading the email apps usage report from " + host_part(location);
        HttpResponse file;
        try {
            ++requests_;
            file = http_.post(download);
        } catch (const TransportError& error) {
            report.why_not = from_host + " failed: " + error.what();
            return result;
        }
        if (const std::string redirect = file.redirect(); !redirect.empty()) {
            report.why_not = from_host + " failed: HTTP " + std::to_string(file.status) +
                             ": another redirect, which authgate does not follow";
            return result;
        }
        if (file.status != 200) {
            const GraphError error = graph_error(file);
            report.why_not = from_host + " failed: HTTP " + std::to_string(file.status) + ": " + error.message +
                             "; the link lives minutes: retry";
            return result;
        }
        csv = std::move(file.body);
    } else {
        csv = answer.response.body;
    }

    // 3. The rows: one observation per user who submitted over SMTP in the period.
    CsvReader reader(csv);
    std::vector<std::string> fields;
    if (!reader.next(fields)) {
        report.why_not = what + " failed: the report is empty, without even its header";
        return result;
    }
    std::optional<std::size_t> upn_at, smtp_at, refresh_at, activity_at;
    std::vector<std::string> unknown;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::string name = fold_case(trim(fields[i]));
        if (name == "user principal name") upn_at = i;
        else if (name == "smtp app") smtp_at = i;
        else if (name == "report refresh date") refresh_at = i;
        else if (name == "last activity date") activity_at = i;
        if (std::find(std::begin(report_columns), std::end(report_columns), name) == std::end(report_columns))
            unknown.push_back(printable(trim(fields[i])));
    }
    std::string missing;
    for (const auto& [at, name] : {std::pair{upn_at, "User Principal Name"}, std::pair{smtp_at, "SMTP App"},
                                   std::pair{refresh_at, "Report Refresh Date"}})
        if (!at) missing += std::string(missing.empty() ? "" : ", ") + name;
    if (!missing.empty()) {
        report.why_not = what + " failed: the report has no column " + missing + " (its header: " +
                         printable(csv.substr(0, std::min<std::size_t>(csv.find_first_of("\r\n"), 300))) + ")";
        return result;
    }
    if (!unknown.empty()) {
        std::string note = "columns not read:";
        for (const std::string& name : unknown) note += " " + name + (&name == &unknown.back() ? "" : ",");
        report.notes.push_back(note);
    }

    const auto cell = [&fields](std::optional<std::size_t> at) {
        return at && *at < fields.size() ? trim(fields[*at]) : std::string();
    };
    std::optional<Instant> refreshed;
    long long hashed = 0, without_name = 0, unreadable_dates = 0;
    while (reader.next(fields)) {
        ++report.rows;
        const std::string upn = cell(upn_at);
        const std::optional<Instant> refresh = parse_instant(cell(refresh_at));
        if (refresh && (!refreshed || *refresh > *refreshed)) refreshed = refresh;
        if (upn.empty()) {
            ++without_name;
            continue;
        }
        if (upn.find('@') == std::string::npos) {
            ++hashed;  // a concealed name: never matched to a mailbox
            continue;
        }
        const std::string smtp = cell(smtp_at);
        if (smtp.empty() || equals_ignoring_case(smtp, "No")) continue;
        const std::string activity = cell(activity_at);
        std::optional<Instant> seen = activity.empty() ? refresh : parse_instant(activity);
        if (!seen) {
            ++unreadable_dates;
            seen = refresh;
        }
        UsageObservation observation;
        observation.address = fold_case(upn);
        observation.source = UsageSource::email_app_report;
        observation.protocol = SmtpProtocol::unknown;
        observation.first_seen = observation.last_seen = seen.value_or(report.to);
        result.observations.push_back(std::move(observation));
    }
    if (!reader.problem.empty()) {
        report.why_not = what + " failed: the report is not CSV (" + reader.problem + ")";
        return result;
    }
    if (hashed > 0) {
        report.why_not = "the email apps usage report conceals user names (" + std::to_string(hashed) +
                         " user principal names without '@'), so it cannot say who used SMTP; " + concealed_fix;
        result.observations.clear();
        return result;
    }
    if (refreshed) {
        report.to = *refreshed;
        report.from = *refreshed - period_span;
    }
    if (without_name > 0)
        report.notes.push_back(std::to_string(without_name) + " rows without a user principal name were not read");
    if (unreadable_dates > 0)
        report.notes.push_back(std::to_string(unreadable_dates) +
                               " rows had a Last Activity Date that is not a date; the report's date was taken");
    std::sort(result.observations.begin(), result.observations.end(),
              [](const UsageObservation& a, const UsageObservation& b) { return a.address < b.address; });
    report.read = true;
    return result;
}

}  // namespace authgate
