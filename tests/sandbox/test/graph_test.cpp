// Microsoft Graph's usage sources: the Graph token, sign-in pages and filters, Graph's errors and
// faults, the email apps report's redirect and download, and the concealed-names setting.
#include <cpprest/base_uri.h>

#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "crypto.h"
#include "http_message.h"
#include "sandbox_fixture.h"
#include "text.h"

namespace sandbox::test {
namespace {

using web::json::value;

const std::string kGraphScope = "https://graph.microsoft.com/.default";
const std::string kSignIns = "/v1.0/auditLogs/signIns";
const std::string kEmailAppReport = "/v1.0/reports/getEmailAppUsageUserDetail(period='D7')";

// Eight sign-ins, newest first: 11-29 08:00 scanner (failed), 11-26 08:00 scanner, 11-26 00:00
// ghost, 11-25 12:00 printer ("SMTP"), 11-23 08:00 scanner, 11-22 alice and 11-21 alice (ActiveSync),
// 11-20 08:00 scanner.
const char* const kUsageDocument = R"({"signins":[
  {"user":"scanner-3f@contoso.com","count":3,"failures":1,"errorCode":50126,
   "first":"2026-11-20T08:00:00Z","last":"2026-11-29T08:00:00Z"},
  {"user":"printer@contoso.com","count":1,"last":"2026-11-25T12:00:00Z","clientAppUsed":"SMTP"},
  {"user":"alice@contoso.com","count":2,"first":"2026-11-21T00:00:00Z","last":"2026-11-22T00:00:00Z",
   "clientAppUsed":"Exchange ActiveSync"},
  {"user":"ghost@fabrikam.com","last":"2026-11-26T00:00:00Z"}],
 "email_app_usage":[
  {"user":"scanner-3f@contoso.com","smtp":"Yes","lastActivity":"2026-11-28"},
  {"user":"alice@contoso.com","displayName":"Alice, A.","outlookForWeb":"Yes","lastActivity":"2026-11-20"}]})";

void load_usage(SandboxFixture& fixture, const std::string& document = kUsageDocument) {
    const HttpResponse response = fixture.control("POST", "/_sandbox/usage", document);
    INFO(response.body);
    REQUIRE(response.status == 200);
}

std::string graph_token_for(SandboxFixture& fixture, const std::string& scope = kGraphScope) {
    return fixture.token_for(scope);
}

value claims_of(const std::string& token) {
    const auto parts = split(token, '.');
    REQUIRE(parts.size() == 3);
    const auto payload = base64url_decode(parts[1]);
    REQUIRE(payload.has_value());
    return value::parse(*payload);
}

std::vector<std::string> role_names(const value& claims) {
    std::vector<std::string> roles;
    for (const value& role : claims.at("roles").as_array()) roles.push_back(role.as_string());
    return roles;
}

HttpResponse graph_get(SandboxFixture& fixture, const std::string& path, const QueryParameters& query,
                       const std::optional<std::string>& token,
                       const std::map<std::string, std::string>& headers = {}) {
    HttpRequest request;
    request.method = "GET";
    request.path = path;
    request.query = query;
    request.headers.set("Host", "127.0.0.1:" + std::to_string(kPort));
    if (token) request.headers.set("Authorization", "Bearer " + *token);
    for (const auto& [name, content] : headers) request.headers.set(name, content);
    return fixture.sandbox().handle(request);
}

// An absolute link of the sandbox, requested as a client follows it verbatim.
HttpResponse graph_follow(SandboxFixture& fixture, const std::string& link, const std::optional<std::string>& token,
                          const std::map<std::string, std::string>& headers = {}) {
    REQUIRE(link.starts_with(kOrigin + "/"));
    const web::uri uri(link);
    return graph_get(fixture, web::uri::decode(uri.path()), parse_form(uri.query()), token, headers);
}

std::string next_link_of(const HttpResponse& response) {
    const value body = body_of(response);
    return body.has_field("@odata.nextLink") ? body.at("@odata.nextLink").as_string() : "";
}

// Every row of a query, page after page.
std::vector<value> all_signins(SandboxFixture& fixture, const QueryParameters& query, const std::string& token) {
    std::vector<value> rows;
    HttpResponse response = graph_get(fixture, kSignIns, query, token);
    for (int page = 0; page < 100; ++page) {
        INFO(response.body);
        REQUIRE(response.status == 200);
        const value body = body_of(response);
        for (const value& row : body.at("value").as_array()) rows.push_back(row);
        const std::string link = next_link_of(response);
        if (link.empty()) break;
        response = graph_follow(fixture, link, token);
    }
    return rows;
}

std::vector<value> signins_where(SandboxFixture& fixture, const std::string& filter, const std::string& token) {
    return all_signins(fixture, {{"$filter", filter}, {"$top", "1000"}}, token);
}

value graph_error_of(const HttpResponse& response) {
    const value body = body_of(response);
    INFO(response.body);
    REQUIRE(body.has_field("error"));
    return body.at("error");
}

// The lines of a CSV answer, without the byte order mark and the CRLF ends.
std::vector<std::string> csv_lines(const std::string& csv) {
    std::string text = csv;
    if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
    std::vector<std::string> lines;
    for (auto& line : split(text, '\n')) {
        if (line.ends_with('\r')) line.pop_back();
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

}  // namespace

TEST_CASE("Graph's scope earns a token for Graph with the app's Graph roles, the sandbox's origin one for both APIs") {
    SandboxFixture fixture;
    const value graph = claims_of(graph_token_for(fixture));
    CHECK(graph.at("aud").as_string() == "https://graph.microsoft.com");
    CHECK(role_names(graph) == std::vector<std::string>{"AuditLog.Read.All", "Directory.Read.All", "Reports.Read.All",
                                                        "ReportSettings.Read.All", "Mail.Send", "Policy.Read.All",
                                                        "GroupMember.Read.All"});
    CHECK(claims_of(graph_token_for(fixture, "00000003-0000-0000-c000-000000000000/.default")).at("aud").as_string() ==
          "https://graph.microsoft.com");
    const value own = claims_of(graph_token_for(fixture, kOrigin + "/.default"));
    CHECK(own.at("aud").as_string() == kOrigin);
    CHECK(role_names(own).front() == "Exchange.ManageAsApp");
    CHECK(role_names(own).at(1) == "SMTP.SendAsApp");
    CHECK(role_names(own).size() == 9);

    fixture.set_faults(R"({"graph_missing_roles": ["auditlog.read.all", "Reports.Read.All"]})");
    CHECK(role_names(claims_of(graph_token_for(fixture))) ==
          std::vector<std::string>{"Directory.Read.All", "ReportSettings.Read.All", "Mail.Send", "Policy.Read.All",
                                   "GroupMember.Read.All"});
    CHECK(body_of(fixture.control("GET", "/_sandbox/faults")).at("active").at("graph_missing_roles").size() == 2);
}

TEST_CASE("Exchange refuses a Graph token, and Graph refuses a request without a valid bearer") {
    SandboxFixture fixture;
    const std::string graph = graph_token_for(fixture);
    const HttpResponse exchange = fixture.invoke("Get-TransportConfig", value::object(),
                                                 {{"Authorization", "Bearer " + graph}});
    CHECK(exchange.status == 401);
    CHECK_THAT(exchange.headers.get("x-ms-diagnostics").value_or(""),
               Catch::Contains("The audience claim value is invalid 'https://graph.microsoft.com'."));

    const HttpResponse missing = graph_get(fixture, kSignIns, {}, std::nullopt);
    CHECK(missing.status == 401);
    CHECK(graph_error_of(missing).at("code").as_string() == "InvalidAuthenticationToken");
    CHECK(graph_error_of(missing).at("message").as_string() == "Access token is empty.");
    CHECK_THAT(missing.headers.get("WWW-Authenticate").value_or(""),
               Catch::Contains("client_id=\"00000003-0000-0000-c000-000000000000\""));
    CHECK(graph_get(fixture, kSignIns, {}, std::string("eyJ0.eyJ0.c2ln")).status == 401);

    CHECK(graph_get(fixture, kSignIns, {}, graph).status == 200);
    CHECK(graph_get(fixture, kSignIns, {}, fixture.token()).status == 200);  // the sandbox's own origin serves Graph
    fixture.advance(std::chrono::seconds(3600));
    CHECK(graph_error_of(graph_get(fixture, kSignIns, {}, graph)).at("message").as_string() ==
          "Lifetime validation failed, the token is expired.");
}

TEST_CASE("without usage data sign-ins are empty, the report has its header only and names are not concealed") {
    SandboxFixture fixture;
    const std::string token = graph_token_for(fixture);
    const HttpResponse empty = graph_get(fixture, kSignIns, {}, token);
    CHECK(empty.status == 200);
    CHECK(body_of(empty).at("value").size() == 0);
    CHECK(body_of(empty).at("@odata.context").as_string() == kOrigin + "/v1.0/$metadata#auditLogs/signIns");
    CHECK(body_of(graph_get(fixture, "/v1.0/admin/reportSettings", {}, token)).at("displayConcealedNames").as_bool() ==
          false);
    const HttpResponse moved = graph_get(fixture, kEmailAppReport, {}, token);
    REQUIRE(moved.status == 302);
    CHECK(csv_lines(graph_follow(fixture, *moved.headers.get("Location"), std::nullopt).body).size() == 1);
    CHECK_FALSE(fixture.state().has_field("usage"));
}

TEST_CASE("sign-ins come newest first in pages of $top linked by a lower-case signins nextLink") {
    SandboxFixture fixture;
    load_usage(fixture);
    const std::string token = graph_token_for(fixture);
    const HttpResponse first = graph_get(fixture, kSignIns, {{"$top", "3"}}, token);
    REQUIRE(first.status == 200);
    CHECK_THAT(first.headers.get("Content-Type").value_or(""),
               Catch::StartsWith("application/json;odata.metadata=minimal"));
    const std::string link = next_link_of(first);
    CHECK_THAT(link, Catch::StartsWith(kOrigin + "/v1.0/auditLogs/signins?") && Catch::Contains("$top=3") &&
                         Catch::Contains("$skiptoken="));
    CHECK(body_of(first).at("value").size() == 3);

    const std::vector<value> rows = all_signins(fixture, {{"$top", "3"}}, token);
    REQUIRE(rows.size() == 8);
    std::set<std::string> ids;
    const std::regex precise(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z)");
    for (size_t i = 0; i < rows.size(); ++i) {
        ids.insert(rows[i].at("id").as_string());
        CHECK(std::regex_match(rows[i].at("createdDateTime").as_string(), precise));
        if (i > 0) CHECK(rows[i - 1].at("createdDateTime").as_string() >= rows[i].at("createdDateTime").as_string());
    }
    CHECK(ids.size() == 8);
    CHECK(rows.front().at("createdDateTime").as_string() == "2026-11-29T08:00:00.0000000Z");
    CHECK(rows.back().at("createdDateTime").as_string() == "2026-11-20T08:00:00.0000000Z");

    // The row as Graph v1.0 gives it; the user id is the mailbox's ExternalDirectoryObjectId.
    const value& failed = rows.front();
    CHECK(failed.at("userPrincipalName").as_string() == "scanner-3f@contoso.com");
    CHECK(failed.at("userId").as_string() == "aaaa0001-0000-4000-8000-000000000001");
    CHECK(failed.at("clientAppUsed").as_string() == "Authenticated SMTP");
    CHECK(failed.at("isInteractive").as_bool());
    CHECK(failed.at("status").at("errorCode").as_integer() == 50126);
    CHECK(failed.at("status").at("failureReason").as_string() ==
          "Error validating credentials due to invalid username or password.");
    CHECK(failed.at("location").at("countryOrRegion").as_string() == "DE");
    CHECK(failed.has_field("ipAddress"));
    CHECK(rows.at(1).at("status").at("failureReason").is_null());

    // Loading the same data again gives the same ids.
    load_usage(fixture);
    CHECK(all_signins(fixture, {}, token).front().at("id") == failed.at("id"));
    CHECK(fixture.state().at("usage").at("signins").size() == 4);
    CHECK(fixture.state().at("graph_requests").at("signIns").as_integer() >= 5);
}

TEST_CASE("the sign-in filter: windows, the SMTP client names, success only, one user") {
    SandboxFixture fixture;
    load_usage(fixture);
    const std::string token = graph_token_for(fixture);
    const std::string window = "createdDateTime ge 2026-11-23T08:00:00Z and createdDateTime le 2026-11-26T08:00:00Z";
    CHECK(signins_where(fixture, window, token).size() == 4);  // both ends included
    CHECK(signins_where(fixture, "createdDateTime ge 2026-11-23T08:00:00Z and createdDateTime lt 2026-11-26T08:00:00Z",
                        token)
              .size() == 3);
    CHECK(signins_where(fixture, window + " and clientAppUsed eq 'Authenticated SMTP'", token).size() == 3);
    CHECK(signins_where(fixture, window + " and (clientAppUsed eq 'Authenticated SMTP' or clientAppUsed eq 'SMTP')",
                        token)
              .size() == 4);
    const auto successes = signins_where(fixture, "clientAppUsed eq 'Authenticated SMTP' and status/errorCode eq 0",
                                         token);
    CHECK(successes.size() == 4);
    for (const value& row : successes) CHECK(row.at("status").at("errorCode").as_integer() == 0);
    const auto scanner = signins_where(fixture, "userId eq 'aaaa0001-0000-4000-8000-000000000001'", token);
    CHECK(scanner.size() == 4);
    // A user without a mailbox gets a stable generated id.
    const auto ghost = signins_where(fixture, "userPrincipalName eq 'ghost@fabrikam.com'", token);
    REQUIRE(ghost.size() == 1);
    CHECK(signins_where(fixture, "userId eq '" + ghost.front().at("userId").as_string() + "'", token).size() == 1);
    CHECK(signins_where(fixture, "userPrincipalName eq 'GHOST@fabrikam.com'", token).empty());  // case-sensitive
    CHECK(signins_where(fixture, "startswith(userPrincipalName,'scanner')", token).size() == 4);
    // The filter and $top ride along in the nextLink.
    const HttpResponse paged = graph_get(fixture, kSignIns, {{"$filter", window}, {"$top", "2"}}, token);
    CHECK_THAT(next_link_of(paged), Catch::Contains("$filter=createdDateTime%20ge%202026-11-23T08%3A00%3A00Z"));
    CHECK(all_signins(fixture, {{"$filter", window}, {"$top", "2"}}, token).size() == 4);
}

TEST_CASE("an unsupported filter or query option is a Graph 400") {
    SandboxFixture fixture;
    load_usage(fixture);
    const std::string token = graph_token_for(fixture);
    const std::vector<std::pair<QueryParameters, std::string>> cases = {
        {{{"$filter", "createdDateTime ge '2026-11-20T00:00:00Z'"}}, "incompatible types"},
        {{{"$filter", "createdDateTime ge 2026-13-40T00:00:00Z"}}, "DateTimeOffset text"},
        {{{"$filter", "clientAppUsed ne 'SMTP'"}}, "operator 'NotEqual' is not supported on 'clientAppUsed'"},
        {{{"$filter", "favouriteColour eq 'blue'"}}, "Could not find a property named 'favouriteColour'"},
        {{{"$filter", "appId eq 'x'"}}, "does not filter sign-ins on 'appId'"},
        {{{"$filter", "(clientAppUsed eq 'SMTP'"}}, "')' expected"},
        {{{"$filter", "clientAppUsed eq 'SMTP"}}, "unterminated"},
        {{{"$filter", "status/errorCode eq 'zero'"}}, "incompatible types"},
        {{{"$filter", "not clientAppUsed eq 'SMTP'"}}, "'not' is not supported"},
        {{{"$top", "5000"}}, "Must be between 1 and 1000 inclusive"},
        {{{"$top", "0"}}, "Must be between 1 and 1000 inclusive"},
        {{{"$expand", "x"}}, "Query option '$expand' is not allowed."},
    };
    for (const auto& [query, message] : cases) {
        const HttpResponse response = graph_get(fixture, kSignIns, query, token);
        INFO(query.front().second);
        CHECK(response.status == 400);
        CHECK(graph_error_of(response).at("code").as_string() == "BadRequest");
        CHECK_THAT(graph_error_of(response).at("message").as_string(), Catch::Contains(message));
    }
    CHECK(graph_get(fixture, "/v1.0/auditLogs/directoryAudits", {}, token).status == 400);
}

TEST_CASE("Graph's 403s: no premium licence and a missing permission, by fault or by the token's roles") {
    SandboxFixture fixture;
    load_usage(fixture);
    const std::string token = graph_token_for(fixture);
    fixture.set_faults(R"({"graph_no_premium": {"count": 1}})");
    const HttpResponse unlicensed = graph_get(fixture, kSignIns, {}, token,
                                              {{"client-request-id", "c0ffee00-0000-4000-8000-000000000001"}});
    CHECK(unlicensed.status == 403);
    const value error = graph_error_of(unlicensed);
    CHECK(error.at("code").as_string() == "Authentication_RequestFromNonPremiumTenantOrB2CTenant");
    CHECK(error.at("message").as_string() == "Neither tenant is B2C or tenant doesn't have premium license");
    CHECK(error.at("innerError").at("client-request-id").as_string() == "c0ffee00-0000-4000-8000-000000000001");
    CHECK(error.at("innerError").at("date").as_string().size() == 19);
    CHECK(error.at("innerError").at("request-id").as_string() == unlicensed.headers.get("request-id"));
    CHECK(body_of(unlicensed).size() == 1);
    CHECK(graph_get(fixture, kSignIns, {}, token).status == 200);  // spent

    fixture.set_faults(R"({"graph_permission_missing": {"count": 1}})");
    const value missing = graph_error_of(graph_get(fixture, kSignIns, {}, token));
    CHECK(missing.at("code").as_string() == "Authentication_MSGraphPermissionMissing");
    CHECK(missing.at("message").as_string() ==
          "Calling principal does not have required MSGraph permissions AuditLog.Read.All");
    CHECK(fixture.state().at("faults").at("fired").at("graph_permission_missing").as_integer() == 1);

    // Roles are read from the token: one issued without AuditLog.Read.All is refused every time.
    fixture.set_faults(R"({"graph_missing_roles": ["AuditLog.Read.All"]})");
    const std::string without_audit = graph_token_for(fixture);
    CHECK(graph_error_of(graph_get(fixture, kSignIns, {}, without_audit)).at("code").as_string() ==
          "Authentication_MSGraphPermissionMissing");
    CHECK(graph_get(fixture, kSignIns, {}, token).status == 200);  // issued before: it keeps its roles
    CHECK(graph_get(fixture, "/v1.0/admin/reportSettings", {}, without_audit).status == 200);
    fixture.set_faults(R"({"graph_missing_roles": ["Directory.Read.All"]})");
    CHECK(graph_error_of(graph_get(fixture, kSignIns, {}, graph_token_for(fixture))).at("code").as_string() ==
          "Authentication_RequestFromNonPremiumTenantOrB2CTenant");
    fixture.set_faults(R"({"graph_missing_roles": ["Reports.Read.All", "ReportSettings.Read.All"]})");
    const std::string without_reports = graph_token_for(fixture);
    CHECK(graph_get(fixture, kEmailAppReport, {}, without_reports).status == 403);
    CHECK(
        graph_error_of(graph_get(fixture, "/v1.0/admin/reportSettings", {}, without_reports)).at("code").as_string() ==
        "Authorization_RequestDenied");
}

TEST_CASE("graph_throttle answers 429 with Retry-After for the first requests") {
    SandboxFixture fixture;
    const std::string token = graph_token_for(fixture);
    fixture.set_faults(R"({"graph_throttle": {"count": 2, "retry_after": "1", "endpoint": "signins"}})");
    CHECK(graph_get(fixture, "/v1.0/admin/reportSettings", {}, token).status == 200);  // another endpoint
    for (int i = 0; i < 2; ++i) {
        const HttpResponse throttled = graph_get(fixture, kSignIns, {}, token);
        CHECK(throttled.status == 429);
        CHECK(throttled.headers.get("Retry-After") == "1");
        CHECK(graph_error_of(throttled).at("code").as_string() == "TooManyRequests");
    }
    CHECK(graph_get(fixture, kSignIns, {}, token).status == 200);
    fixture.set_faults(R"({"graph_throttle": {}})");
    CHECK(graph_get(fixture, kEmailAppReport, {}, token).headers.get("Retry-After") == "10");
    CHECK(fixture.state().at("faults").at("fired").at("graph_throttle").as_integer() == 3);
}

TEST_CASE("a stale skip token: the fault on page K, an unknown token, a token past its lifetime") {
    SandboxFixture fixture;
    load_usage(fixture);
    const std::string token = graph_token_for(fixture);
    fixture.set_faults(R"({"graph_stale_skiptoken": {"count": 1, "page": 3}})");
    const HttpResponse first = graph_get(fixture, kSignIns, {{"$top", "3"}}, token);
    const HttpResponse second = graph_follow(fixture, next_link_of(first), token);
    CHECK(second.status == 200);
    const std::string third_link = next_link_of(second);
    const HttpResponse stale = graph_follow(fixture, third_link, token);
    CHECK(stale.status == 400);
    CHECK(graph_error_of(stale).at("code").as_string().empty());
    CHECK(graph_error_of(stale).at("message").as_string() == "Token not found: token is either invalid or expired");
    CHECK(graph_follow(fixture, third_link, token).status == 400);  // the token is gone: start the window again
    CHECK(all_signins(fixture, {{"$top", "3"}}, token).size() == 8);

    CHECK(graph_get(fixture, kSignIns, {{"$skiptoken", "no-such-token"}}, token).status == 400);
    const std::string link = next_link_of(graph_get(fixture, kSignIns, {{"$top", "3"}}, token));
    fixture.advance(std::chrono::seconds(601));
    const std::string fresh = graph_token_for(fixture);
    CHECK(graph_error_of(graph_follow(fixture, link, fresh)).at("message").as_string() ==
          "Token not found: token is either invalid or expired");
}

TEST_CASE("the email apps report: a 302 to a one-time download that needs no token, its ETag and 304") {
    SandboxFixture fixture;
    load_usage(fixture);
    const std::string token = graph_token_for(fixture);
    const HttpResponse moved = graph_get(fixture, kEmailAppReport, {}, token);
    REQUIRE(moved.status == 302);
    CHECK(moved.body.empty());
    const std::string location = moved.headers.get("Location").value_or("");
    CHECK_THAT(location, Catch::StartsWith(kOrigin + "/_reports/download/"));

    const HttpResponse download = graph_follow(fixture, location, std::nullopt);
    REQUIRE(download.status == 200);
    CHECK(download.headers.get("Content-Type") == "application/octet-stream");
    const std::string etag = download.headers.get("ETag").value_or("");
    CHECK_THAT(etag, Catch::StartsWith("\""));
    const auto lines = csv_lines(download.body);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] ==
          "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Last Activity Date,Mail For "
          "Mac,Outlook For Mac,Outlook For Windows,Outlook For Mobile,Other For Mobile,Outlook For Web,POP3 App,IMAP4 "
          "App,SMTP App,Report Period");
    CHECK_THAT(lines[1], Catch::EndsWith(",scanner-3f@contoso.com,scanner3f,False,,2026-11-28,,,,,,,,,Yes,7"));
    CHECK_THAT(lines[2], Catch::Contains(",alice@contoso.com,\"Alice, A.\",False,,2026-11-20,,,,,,Yes,,,,7"));

    CHECK(graph_follow(fixture, location, std::nullopt).status == 404);  // one download per link
    const std::string again = graph_get(fixture, kEmailAppReport, {}, token).headers.get("Location").value_or("");
    const HttpResponse unchanged = graph_follow(fixture, again, std::nullopt, {{"If-None-Match", etag}});
    CHECK(unchanged.status == 304);
    CHECK(unchanged.body.empty());
    CHECK(unchanged.headers.get("ETag") == etag);

    // A client that sends its bearer token to the download link is seen doing it.
    const std::string third = graph_get(fixture, kEmailAppReport, {}, token).headers.get("Location").value_or("");
    CHECK(graph_follow(fixture, third, token).status == 200);
    const value downloads = fixture.state().at("report_downloads");
    REQUIRE(downloads.size() == 4);
    CHECK(downloads.at(0).at("authorization").as_bool() == false);
    CHECK(downloads.at(0).at("status").as_integer() == 200);
    CHECK(downloads.at(1).at("status").as_integer() == 404);
    CHECK(downloads.at(2).at("if_none_match").as_bool());
    CHECK(downloads.at(2).at("status").as_integer() == 304);
    CHECK(downloads.at(3).at("authorization").as_bool() == true);

    // The other periods; a link is good for five minutes.
    const std::string d30 = graph_get(fixture, "/v1.0/reports/getEmailAppUsageUserDetail(period='D30')", {}, token)
                                .headers.get("Location")
                                .value_or("");
    CHECK_THAT(csv_lines(graph_follow(fixture, d30, std::nullopt).body).at(1), Catch::EndsWith(",30"));
    CHECK(graph_get(fixture, "/v1.0/reports/getEmailAppUsageUserDetail(period='D8')", {}, token).status == 400);
    const std::string late = graph_get(fixture, kEmailAppReport, {}, token).headers.get("Location").value_or("");
    fixture.advance(std::chrono::seconds(301));
    CHECK(graph_follow(fixture, late, std::nullopt).status == 404);
}

TEST_CASE("concealed names: reportSettings says so and the report's names are opaque hashes") {
    SandboxFixture fixture;
    load_usage(fixture,
               R"({"concealed": true, "email_app_usage": [{"user": "scanner-3f@contoso.com", "smtp": "Yes"}]})");
    const std::string token = graph_token_for(fixture);
    const HttpResponse settings = graph_get(fixture, "/v1.0/admin/reportSettings", {}, token);
    CHECK(body_of(settings).at("displayConcealedNames").as_bool() == true);
    CHECK(body_of(settings).at("@odata.context").as_string() ==
          kOrigin + "/v1.0/$metadata#admin/reportSettings/$entity");
    const std::string location = graph_get(fixture, kEmailAppReport, {}, token).headers.get("Location").value_or("");
    const auto cells = split(csv_lines(graph_follow(fixture, location, std::nullopt).body).at(1), ',');
    const std::regex opaque("[0-9A-F]{32}");
    CHECK(std::regex_match(cells.at(1), opaque));
    CHECK(std::regex_match(cells.at(2), opaque));
    CHECK(cells.at(1) != cells.at(2));
    CHECK(graph_get(fixture, "/v1.0/admin/reportSettings", {}, token, {}).status == 200);
    HttpRequest change;
    change.method = "PATCH";
    change.path = "/v1.0/admin/reportSettings";
    change.headers.set("Authorization", "Bearer " + token);
    change.body = R"({"displayConcealedNames":false})";
    CHECK(fixture.sandbox().handle(change).status == 403);
    CHECK(fixture.state().at("graph_requests").at("reportSettings_changes").as_integer() == 1);
}

TEST_CASE("the generator makes many sign-ins among the tenant's mailboxes and invented senders") {
    SandboxFixture fixture;
    const HttpResponse loaded = fixture.control(
        "POST", "/_sandbox/usage",
        R"({"generate_signins": 100000, "users": 50, "from": "2026-11-01T00:00:00Z", "to": "2026-11-30T00:00:00Z"})");
    REQUIRE(loaded.status == 200);
    CHECK(body_of(loaded).at("signin_rows").as_integer() == 100000);
    CHECK(body_of(loaded).at("email_app_usage_rows").as_integer() > 40);
    const std::string token = graph_token_for(fixture);
    const HttpResponse first = graph_get(fixture, kSignIns, {}, token);
    CHECK(body_of(first).at("value").size() == 1000);
    CHECK_FALSE(next_link_of(first).empty());
    const value newest = body_of(first).at("value").at(0);
    CHECK(newest.at("createdDateTime").as_string() < "2026-11-30T00:00:00.0000001Z");
    // The first users are the tenant's mailboxes, with their directory ids.
    const HttpResponse scanner = graph_get(
        fixture, kSignIns, {{"$filter", "userId eq 'aaaa0001-0000-4000-8000-000000000001'"}, {"$top", "5"}}, token);
    CHECK(body_of(scanner).at("value").size() == 5);
    const auto invented = signins_where(fixture, "userPrincipalName eq 'sender-00050@contoso.com'", token);
    CHECK_FALSE(invented.empty());
}

TEST_CASE("a usage document or a Graph fault with a mistake is refused, naming it") {
    SandboxFixture fixture;
    const std::vector<std::pair<std::string, std::string>> usage = {
        {R"({"signin": []})", "usage: has no member 'signin'"},
        {R"({"signins": [{"count": 3}]})", "usage.signins[0].user"},
        {R"({"signins": [{"user": "a@b.c", "count": -1}]})", "usage.signins[0].count"},
        {R"({"signins": [{"user": "a@b.c", "first": "2026-11-30T00:00:00Z", "last": "2026-11-01T00:00:00Z"}]})",
         "usage.signins[0].first"},
        {R"({"signins": [{"user": "a@b.c", "last": "yesterday"}]})", "usage.signins[0].last"},
        {R"({"email_app_usage": [{"user": "a@b.c", "smtp": 1}]})", "usage.email_app_usage[0].smtp"},
        {R"({"email_app_usage": [{"user": "a@b.c", "lastActivity": "2026-11"}]})", "lastActivity"},
        {R"({"concealed": "yes"})", "usage.concealed"},
        {R"({"users": 5})", "usage.users"},
        {"[", "not JSON"},
    };
    for (const auto& [document, message] : usage) {
        const HttpResponse response = fixture.control("POST", "/_sandbox/usage", document);
        CHECK(response.status == 400);
        CHECK_THAT(body_of(response).at("error").as_string(), Catch::Contains(message));
    }
    const std::vector<std::pair<std::string, std::string>> faults = {
        {R"({"graph_throttle": {"endpoint": "users"}})", "graph_throttle.endpoint"},
        {R"({"graph_missing_roles": ["Mail.ReadWrite"]})", "graph_missing_roles"},
        {R"({"graph_stale_skiptoken": {"page": 1}})", "graph_stale_skiptoken.page"},
        {R"({"graph_no_premium": {"times": 1}})", "no member 'times'"},
    };
    for (const auto& [document, message] : faults) {
        const HttpResponse response = fixture.control("POST", "/_sandbox/faults", document);
        CHECK(response.status == 400);
        CHECK_THAT(body_of(response).at("error").as_string(), Catch::Contains(message));
    }
    CHECK(fixture.control("DELETE", "/_sandbox/usage").status == 200);
    CHECK(body_of(fixture.control("GET", "/_sandbox/usage")).at("signin_rows").as_integer() == 0);
}

}  // namespace sandbox::test

namespace sandbox::test {

TEST_CASE("Entra's policies: security defaults, Conditional Access paged, nested groups and roles, 403s") {
    SandboxFixture fixture;
    const std::string token = graph_token_for(fixture);
    const std::string defaults = "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy";
    const std::string policies = "/v1.0/identity/conditionalAccess/policies";
    CHECK(body_of(graph_get(fixture, defaults, {}, token)).at("isEnabled").as_bool() == false);
    CHECK(body_of(graph_get(fixture, policies, {}, token)).at("value").size() == 0);

    const HttpResponse loaded = fixture.control("POST", "/_sandbox/entra", R"({"security_defaults":true,"page_size":1,
      "groups":[{"id":"g-outer","members":["g-inner"]},{"id":"g-inner","members":["scanner-3f@contoso.com"]}],
      "roles":[{"template_id":"r-1","members":["g-outer"]}],
      "policies":[{"displayName":"A","state":"enabled","conditions":{"users":{"includeUsers":["All"],
        "excludeUsers":["scanner-3f@contoso.com"]}}},{"displayName":"B","state":"disabled"}]})");
    INFO(loaded.body);
    REQUIRE(loaded.status == 200);
    CHECK(body_of(graph_get(fixture, defaults, {}, token)).at("isEnabled").as_bool() == true);
    HttpResponse first = graph_get(fixture, policies, {}, token);
    const value page = body_of(first);
    CHECK(page.at("value").size() == 1);
    CHECK(page.at("value").at(0).at("conditions").at("users").at("excludeUsers").at(0).as_string() ==
          "aaaa0001-0000-4000-8000-000000000001");
    const HttpResponse second = graph_follow(fixture, next_link_of(first), token);
    CHECK(body_of(second).at("value").at(0).at("displayName").as_string() == "B");
    CHECK(next_link_of(second).empty());

    std::set<std::string> seen;
    HttpResponse member = graph_get(fixture, "/v1.0/users/aaaa0001-0000-4000-8000-000000000001/transitiveMemberOf", {},
                                    token);
    for (int pages = 0; pages < 5; ++pages) {
        REQUIRE(member.status == 200);
        const value body = body_of(member);
        for (const value& row : body.at("value").as_array())
            seen.insert(row.has_field("roleTemplateId") ? "role:" + row.at("roleTemplateId").as_string()
                                                        : row.at("id").as_string());
        if (next_link_of(member).empty()) break;
        member = graph_follow(fixture, next_link_of(member), token);
    }
    CHECK(seen == std::set<std::string>{"g-inner", "g-outer", "role:r-1"});
    CHECK(graph_get(fixture, "/v1.0/users/00000000-0000-0000-0000-00000000dead/transitiveMemberOf", {}, token).status ==
          404);

    fixture.control("POST", "/_sandbox/entra", R"({"premium":false})");
    const HttpResponse unlicensed = graph_get(fixture, policies, {}, token);
    CHECK(unlicensed.status == 403);
    CHECK(graph_error_of(unlicensed).at("code").as_string() == "Authentication_RequestFromNonPremiumTenantOrB2CTenant");
    fixture.set_faults(R"({"graph_missing_roles": ["Policy.Read.All", "GroupMember.Read.All", "Directory.Read.All"]})");
    const std::string without = graph_token_for(fixture);
    CHECK(graph_get(fixture, defaults, {}, without).status == 403);
    CHECK(
        graph_get(fixture, "/v1.0/users/aaaa0001-0000-4000-8000-000000000001/transitiveMemberOf", {}, without).status ==
        403);
    CHECK(fixture
              .control("POST", "/_sandbox/entra", R"({"policies":[{"conditions":{"users":{"includeUsers":
      ["nobody@contoso.com"]}}}]})")
              .status == 400);
}

}  // namespace sandbox::test
