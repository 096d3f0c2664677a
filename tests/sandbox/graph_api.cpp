#include "graph_api.h"

#include <cpprest/base_uri.h>

#include <algorithm>
#include <optional>
#include <variant>

#include "crypto.h"
#include "entra_policies.h"
#include "sandbox_state.h"
#include "signin_filter.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr const char* kGraphAppId = "00000003-0000-0000-c000-000000000000";
constexpr const char* kGraphSuccessType =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
constexpr const char* kStaleSkiptoken = "Token not found: token is either invalid or expired";
constexpr const char* kInsufficientPrivileges = "Insufficient privileges to complete the operation.";
constexpr size_t kSignInPageMax = 1000;

// The endpoints, as a graph_throttle fault and the request counters name them.
constexpr const char* kSignInsEndpoint = "signIns";
constexpr const char* kEmailAppUsageEndpoint = "getEmailAppUsageUserDetail";
constexpr const char* kReportSettingsEndpoint = "reportSettings";

std::string graph_client_request_id(const HttpRequest& request, const std::string& request_id) {
    return request.headers.get("client-request-id").value_or(request_id);
}

void add_graph_headers(HttpResponse& response, const SandboxState& state, const HttpRequest& request,
                       const std::string& request_id) {
    response.headers.set("request-id", request_id);
    response.headers.set("client-request-id", graph_client_request_id(request, request_id));
    response.headers.set("Date", http_date(state.clock()));
}

}  // namespace

// Graph's error body: {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}.
HttpResponse graph_error(const SandboxState& state, const HttpRequest& request, int status, const std::string& code,
                         const std::string& message) {
    const std::string request_id = random_guid();
    value inner = value::object(true);
    inner["date"] = value::string(rfc3339(state.clock()).substr(0, 19));
    inner["request-id"] = value::string(request_id);
    inner["client-request-id"] = value::string(graph_client_request_id(request, request_id));
    value error = value::object(true);
    error["code"] = value::string(code);
    error["message"] = value::string(message);
    error["innerError"] = inner;
    value body = value::object(true);
    body["error"] = error;
    HttpResponse response = HttpResponse::json(status, body);
    response.headers.set("Content-Type", "application/json");
    add_graph_headers(response, state, request, request_id);
    return response;
}

HttpResponse graph_success(const SandboxState& state, const HttpRequest& request, const value& body) {
    HttpResponse response = HttpResponse::json(200, body);
    response.headers.set("Content-Type", kGraphSuccessType);
    response.headers.set("OData-Version", "4.0");
    add_graph_headers(response, state, request, random_guid());
    return response;
}

namespace {

HttpResponse graph_unauthorized(const SandboxState& state, const HttpRequest& request, const std::string& message) {
    HttpResponse response = graph_error(state, request, 401, "InvalidAuthenticationToken", message);
    response.headers.set("WWW-Authenticate",
                         "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/"
                         "authorize\", client_id=\"" +
                             std::string(kGraphAppId) + "\"");
    return response;
}

HttpResponse no_premium_licence(const SandboxState& state, const HttpRequest& request) {
    return graph_error(state, request, 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                       "Neither tenant is B2C or tenant doesn't have premium license");
}

HttpResponse audit_permission_missing(const SandboxState& state, const HttpRequest& request) {
    return graph_error(state, request, 403, "Authentication_MSGraphPermissionMissing",
                       "Calling principal does not have required MSGraph permissions AuditLog.Read.All");
}

HttpResponse stale_skiptoken(const SandboxState& state, const HttpRequest& request) {
    return graph_error(state, request, 400, "", kStaleSkiptoken);
}

// The bearer a Graph request carries: issued here, not expired, for Graph (Graph's resource, or
// the sandbox's own origin, which serves Graph too). Its grant, or the 401 to answer.
std::variant<const TokenGrant*, HttpResponse> graph_bearer(SandboxState& state, const HttpRequest& request) {
    const auto authorization = request.headers.get("Authorization");
    if (!authorization || !istarts_with(*authorization, "Bearer ") || trim(authorization->substr(7)).empty())
        return graph_unauthorized(state, request, "Access token is empty.");
    const std::string_view token = trim(std::string_view(*authorization).substr(7));
    switch (state.tokens.check(token, state.clock())) {
        case AccessTokens::Check::valid: break;
        case AccessTokens::Check::expired:
            return graph_unauthorized(state, request, "Lifetime validation failed, the token is expired.");
        case AccessTokens::Check::unknown:
            return graph_unauthorized(state, request, "Access token validation failure.");
    }
    const TokenGrant* grant = state.tokens.grant(token);
    const auto origins = state.origins();
    if (grant == nullptr || (grant->audience != kGraphResource &&
                             std::find(origins.begin(), origins.end(), grant->audience) == origins.end()))
        return graph_unauthorized(state, request, "Access token validation failure. Invalid audience.");
    return grant;
}

bool has_role(const TokenGrant& grant, std::string_view role) {
    return std::find(grant.roles.begin(), grant.roles.end(), role) != grant.roles.end();
}

std::string signins_link(const std::string& origin, const std::string& link_query, const std::string& token) {
    // Graph's links name the collection in lower case; a client follows them as given.
    return origin + "/v1.0/auditLogs/signins?" + link_query + "$skiptoken=" + token;
}

HttpResponse signin_page(SandboxState& state, const HttpRequest& request, std::shared_ptr<const SignInCursor> cursor,
                         size_t offset, int page_number) {
    const std::string origin = state.origin_for(request.headers.get("Host"));
    const size_t end = std::min(cursor->rows.size(), offset + cursor->page_size);
    value page = value::object(true);
    page["@odata.context"] = value::string(origin + "/v1.0/$metadata#auditLogs/signIns");
    if (end < cursor->rows.size()) {
        const Instant now = state.clock();
        std::erase_if(state.graph.signin_pages,
                      [&](const auto& entry) { return entry.second.issued + kSignInLinkLifetime <= now; });
        const std::string token = base64url_encode(random_bytes(24));
        state.graph.signin_pages[token] = SignInPage{cursor, end, page_number + 1, now};
        const std::string link_origin = state.faults.foreign_next_link().value_or(origin);
        page["@odata.nextLink"] = value::string(signins_link(link_origin, cursor->link_query, token));
    }
    std::vector<value> rows;
    rows.reserve(end - offset);
    for (size_t i = offset; i < end; ++i)
        rows.push_back(cursor->data->signin_json(cursor->data->signins[cursor->rows[i]]));
    page["value"] = value::array(std::move(rows));
    return graph_success(state, request, page);
}

// The first page of a query: its options checked, the rows it matches kept for its later pages.
HttpResponse first_signin_page(SandboxState& state, const HttpRequest& request) {
    size_t page_size = kSignInPageMax;
    std::string link_query;
    const auto top = query_value(request.query, "$top");
    if (top) {
        const std::string digits(trim(*top));
        if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(digits) < 1 || std::stoul(digits) > kSignInPageMax)
            return graph_error(state, request, 400, "BadRequest",
                               "Invalid page size specified: '" + *top + "'. Must be between 1 and 1000 inclusive.");
        page_size = std::stoul(digits);
    }
    bool oldest_first = false;
    const auto order = query_value(request.query, "$orderby");
    if (order) {
        const auto words = split(trim(*order), ' ');
        const bool by_date = !words.empty() && iequals(words[0], "createdDateTime");
        if (!by_date || words.size() > 2 ||
            (words.size() == 2 && !iequals(words[1], "asc") && !iequals(words[1], "desc")))
            return graph_error(state, request, 400, "BadRequest",
                               "Invalid $orderby: sign-ins are ordered by createdDateTime only ('" + *order + "').");
        oldest_first = words.size() == 1 || iequals(words[1], "asc");
    }
    const std::string filter_text = query_value(request.query, "$filter").value_or("");
    SignInFilter filter;
    try {
        filter = SignInFilter::parse(filter_text);
    } catch (const SignInFilterError& error) {
        return graph_error(state, request, 400, "BadRequest", error.what());
    }
    if (!trim(filter_text).empty()) link_query += "$filter=" + web::uri::encode_data_string(filter_text) + "&";
    if (top) link_query += "$top=" + std::to_string(page_size) + "&";
    if (order) link_query += "$orderby=" + web::uri::encode_data_string(*order) + "&";

    auto cursor = std::make_shared<SignInCursor>();
    cursor->data = state.graph.usage;
    cursor->page_size = page_size;
    cursor->link_query = link_query;
    const UsageData& data = *cursor->data;
    for (size_t i = 0; i < data.signins.size(); ++i) {
        if (filter.matches(data.signins[i], data.sources[data.signins[i].source]))
            cursor->rows.push_back(static_cast<std::uint32_t>(i));
    }
    if (oldest_first) std::reverse(cursor->rows.begin(), cursor->rows.end());
    return signin_page(state, request, std::move(cursor), 0, 1);
}

HttpResponse handle_signins(SandboxState& state, const HttpRequest& request, const TokenGrant& grant) {
    if (request.method != "GET")
        return graph_error(state, request, 405, "Request_BadRequest",
                           "Specified HTTP method is not allowed for the request target.");
    if (state.faults.take_graph_permission_missing()) return audit_permission_missing(state, request);
    if (state.faults.take_graph_no_premium()) return no_premium_licence(state, request);
    if (!has_role(grant, "AuditLog.Read.All")) return audit_permission_missing(state, request);
    // Without Directory.Read.All the licence check fails (a known issue of the service).
    if (!has_role(grant, "Directory.Read.All")) return no_premium_licence(state, request);
    for (const auto& [name, ignored] : request.query) {
        if (name.starts_with("$") && name != "$filter" && name != "$top" && name != "$skiptoken" && name != "$select" &&
            name != "$orderby")
            return graph_error(state, request, 400, "BadRequest", "Query option '" + name + "' is not allowed.");
    }
    const auto skiptoken = query_value(request.query, "$skiptoken");
    if (!skiptoken) return first_signin_page(state, request);

    const Instant now = state.clock();
    const auto found = state.graph.signin_pages.find(*skiptoken);
    if (found == state.graph.signin_pages.end() || found->second.issued + kSignInLinkLifetime <= now)
        return stale_skiptoken(state, request);
    if (state.faults.take_graph_stale_skiptoken(found->second.page_number)) {
        state.graph.signin_pages.erase(found);
        return stale_skiptoken(state, request);
    }
    const SignInPage page = found->second;
    return signin_page(state, request, page.cursor, page.offset, page.page_number);
}

// The argument of getEmailAppUsageUserDetail(…): the period's days, or the message of a 400.
std::variant<int, std::string> report_days(std::string_view argument, Instant now) {
    const size_t equals = argument.find('=');
    const std::string name(trim(argument.substr(0, equals)));
    std::string given(equals == std::string_view::npos ? "" : trim(argument.substr(equals + 1)));
    if (iequals(name, "period")) {
        if (given.size() >= 2 && given.front() == '\'' && given.back() == '\'')
            given = given.substr(1, given.size() - 2);
        for (const int days : {7, 30, 90, 180}) {
            if (given == "D" + std::to_string(days)) return days;
        }
        return "Invalid value for the period parameter: '" + given + "'. Use D7, D30, D90 or D180.";
    }
    if (iequals(name, "date")) {
        const auto day = given.size() == 10 ? parse_datetime(given) : std::nullopt;
        if (!day || *day > now || *day < now - std::chrono::days(31))
            return "Invalid value for the date parameter: '" + given + "'. Use a date within the last 30 days.";
        return 1;
    }
    return "Resource not found for the segment 'getEmailAppUsageUserDetail(" + std::string(argument) + ")'.";
}

HttpResponse handle_email_app_usage(SandboxState& state, const HttpRequest& request, const TokenGrant& grant) {
    if (request.method != "GET")
        return graph_error(state, request, 405, "Request_BadRequest",
                           "Specified HTTP method is not allowed for the request target.");
    if (!has_role(grant, "Reports.Read.All"))
        return graph_error(state, request, 403, "Authorization_RequestDenied", kInsufficientPrivileges);
    const size_t open = request.path.find('(');
    const std::string argument = request.path.substr(open + 1, request.path.size() - open - 2);
    const auto days = report_days(argument, state.clock());
    if (const auto* message = std::get_if<std::string>(&days))
        return graph_error(state, request, 400, "BadRequest", *message);

    const Instant now = state.clock();
    std::erase_if(state.graph.report_links, [&](const auto& entry) { return entry.second.expires <= now; });
    ReportDownload download;
    download.csv = email_app_usage_csv(*state.graph.usage, now, std::get<int>(days));
    download.etag = "\"" + hex_upper(sha256(download.csv)).substr(0, 32) + "\"";
    download.expires = now + kReportLinkLifetime;
    const std::string token = base64url_encode(random_bytes(24));
    state.graph.report_links[token] = std::move(download);

    HttpResponse response;
    response.status = 302;
    response.headers.set("Location", state.origin_for(request.headers.get("Host")) + "/_reports/download/" + token);
    add_graph_headers(response, state, request, random_guid());
    return response;
}

HttpResponse handle_report_settings(SandboxState& state, const HttpRequest& request, const TokenGrant& grant) {
    if (request.method == "PATCH") {
        // Changing the setting takes ReportSettings.ReadWrite.All, which the app is never given.
        ++state.graph.requests["reportSettings_changes"];
        return graph_error(state, request, 403, "Authorization_RequestDenied", kInsufficientPrivileges);
    }
    if (request.method != "GET")
        return graph_error(state, request, 405, "Request_BadRequest",
                           "Specified HTTP method is not allowed for the request target.");
    if (!has_role(grant, "ReportSettings.Read.All"))
        return graph_error(state, request, 403, "Authorization_RequestDenied", kInsufficientPrivileges);
    value body = value::object(true);
    body["@odata.context"] =
        value::string(state.origin_for(request.headers.get("Host")) + "/v1.0/$metadata#admin/reportSettings/$entity");
    body["displayConcealedNames"] = value::boolean(state.graph.usage->concealed);
    return graph_success(state, request, body);
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

// An opaque name for a concealed report: upper-case hex, no '@'.
std::string concealed_name(std::string_view kind, std::string_view name) {
    return hex_upper(sha256(std::string(kind) + ":" + to_lower(name))).substr(0, 32);
}

}  // namespace

bool is_graph_path(std::string_view path) { return istarts_with(path, "/v1.0/"); }

bool is_report_download_path(std::string_view path) { return path.starts_with("/_reports/download/"); }

HttpResponse handle_graph(SandboxState& state, const HttpRequest& request) {
    const std::string path = to_lower(request.path);
    std::string endpoint;
    if (path == "/v1.0/auditlogs/signins") {
        endpoint = kSignInsEndpoint;
    } else if (path.starts_with("/v1.0/reports/getemailappusageuserdetail(") && path.ends_with(")")) {
        endpoint = kEmailAppUsageEndpoint;
    } else if (path == "/v1.0/admin/reportsettings") {
        endpoint = kReportSettingsEndpoint;
    } else if (is_entra_policy_path(path)) {
        endpoint = entra_endpoint(path);
    }
    ++state.graph.requests[endpoint.empty() ? "other" : endpoint];
    if (endpoint.empty()) {
        const std::string segment = request.path.substr(request.path.rfind('/') + 1);
        return graph_error(state, request, 400, "BadRequest", "Resource not found for the segment '" + segment + "'.");
    }
    auto bearer = graph_bearer(state, request);
    if (auto* refused = std::get_if<HttpResponse>(&bearer)) return std::move(*refused);
    const TokenGrant& grant = *std::get<const TokenGrant*>(bearer);
    if (const auto throttle = state.faults.take_graph_throttle(endpoint)) {
        HttpResponse response = graph_error(state, request, 429, "TooManyRequests", "Too many requests.");
        if (throttle->retry_after) response.headers.set("Retry-After", *throttle->retry_after);
        return response;
    }
    if (endpoint == kSignInsEndpoint) return handle_signins(state, request, grant);
    if (endpoint == kEmailAppUsageEndpoint) return handle_email_app_usage(state, request, grant);
    if (is_entra_policy_path(path)) return handle_entra_policy(state, request, grant.roles);
    return handle_report_settings(state, request, grant);
}

HttpResponse handle_report_download(SandboxState& state, const HttpRequest& request) {
    const Instant now = state.clock();
    value record = value::object(true);
    record["authorization"] = value::boolean(request.headers.get("Authorization").has_value());
    record["if_none_match"] = value::boolean(request.headers.get("If-None-Match").has_value());
    const auto answer = [&](HttpResponse response) {
        record["status"] = value::number(response.status);
        state.graph.report_downloads.push_back(record);
        return response;
    };
    if (request.method != "GET") {
        HttpResponse refused = HttpResponse::json(405, value::parse(R"({"error":{"code":"MethodNotAllowed"}})"));
        refused.headers.set("Allow", "GET");
        return answer(refused);
    }
    std::erase_if(state.graph.report_links, [&](const auto& entry) { return entry.second.expires <= now; });
    const auto found = state.graph.report_links.find(request.path.substr(request.path.rfind('/') + 1));
    if (found == state.graph.report_links.end()) {
        return answer(HttpResponse::json(
            404, value::parse(R"({"error":{"code":"NotFound","message":"The report link is unknown, expired or )"
                              R"(already used: ask for the report again."}})")));
    }
    // One download per link.
    const ReportDownload download = std::move(found->second);
    state.graph.report_links.erase(found);
    HttpResponse response;
    response.headers.set("ETag", download.etag);
    response.headers.set("Date", http_date(now));
    const auto if_none_match = request.headers.get("If-None-Match");
    bool unchanged = false;
    if (if_none_match) {
        for (const auto& tag : split(*if_none_match, ','))
            unchanged = unchanged || trim(tag) == download.etag || trim(tag) == "W/" + download.etag ||
                        trim(tag) == "*";
    }
    if (unchanged) {
        response.status = 304;
        return answer(response);
    }
    response.status = 200;
    response.headers.set("Content-Type", "application/octet-stream");
    response.body = download.csv;
    return answer(response);
}

std::string email_app_usage_csv(const UsageData& usage, Instant now, int days) {
    std::string csv =
        "\xEF\xBB\xBF"
        "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Last Activity Date,Mail For "
        "Mac,Outlook For Mac,Outlook For Windows,Outlook For Mobile,Other For Mobile,Outlook For Web,POP3 App,IMAP4 "
        "App,SMTP App,Report Period\r\n";
    const std::string refreshed = rfc3339(now - std::chrono::days(1)).substr(0, 10);
    for (const EmailAppRow& row : usage.email_app_usage) {
        csv += refreshed + ",";
        csv += csv_field(usage.concealed ? concealed_name("upn", row.user_principal_name) : row.user_principal_name);
        csv += ",";
        csv += csv_field(usage.concealed ? concealed_name("name", row.user_principal_name) : row.display_name);
        csv += std::string(",") + (row.is_deleted ? "True" : "False") + ",";
        csv += csv_field(row.deleted_date) + "," + csv_field(row.last_activity);
        for (const auto& app : row.apps) csv += "," + csv_field(app);
        csv += "," + std::to_string(days) + "\r\n";
    }
    return csv;
}

value usage_summary(const GraphState& graph) {
    value summary = value::object(true);
    summary["signin_rows"] = value::number(static_cast<int64_t>(graph.usage->signins.size()));
    summary["email_app_usage_rows"] = value::number(static_cast<int64_t>(graph.usage->email_app_usage.size()));
    summary["concealed"] = value::boolean(graph.usage->concealed);
    summary["document"] = graph.usage->document;
    return summary;
}

std::variant<const TokenGrant*, HttpResponse> check_graph_bearer(SandboxState& state, const HttpRequest& request) {
    return graph_bearer(state, request);
}

HttpResponse graph_error_answer(const SandboxState& state, const HttpRequest& request, int status,
                                const std::string& code, const std::string& message) {
    return graph_error(state, request, status, code, message);
}

}  // namespace sandbox
