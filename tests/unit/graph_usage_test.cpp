#include <catch2/catch.hpp>

#include <map>

#include "agent/connection.h"
#include "connection_inputs.h"
#include "connectors/graph_usage.h"
#include "fake_http.h"
#include "policies/loader.h"

using namespace authgate;
using namespace authgate::testing;
using Catch::Contains;
using Catch::EndsWith;
using Catch::StartsWith;

namespace {

const std::string graph = "https://graph.microsoft.com";
const std::string signins = graph + "/v1.0/auditLogs/signIns?$filter=";

Instant at(const char* text) { return *parse_instant(text); }

struct Row {
    std::string id;
    std::string created;
    std::string upn;
    std::string user_id;
    int code = 0;
    std::string reason = {};
};

std::string json_of(const Row& row) {
    return R"({"id":")" + row.id + R"(","createdDateTime":")" + row.created + R"(","userDisplayName":"x",)" +
           R"("userPrincipalName":")" + row.upn + R"(","userId":")" + row.user_id +
           R"(","clientAppUsed":"Authenticated SMTP","isInteractive":true,"status":{"errorCode":)" +
           std::to_string(row.code) + R"(,"failureReason":)" +
           (row.reason.empty() ? "null" : "\"" + row.reason + "\"") +
           R"(,"additionalDetails":null},"location":{"city":"Berlin"}})";
}

HttpResponse page(const std::vector<Row>& rows, const std::string& next = "") {
    std::string body = R"({"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[)";
    for (std::size_t i = 0; i < rows.size(); ++i) body += (i ? "," : "") + json_of(rows[i]);
    body += "]";
    if (!next.empty()) body += R"(,"@odata.nextLink":")" + next + "\"";
    return {200, {{"content-type", "application/json"}}, body + "}"};
}

HttpResponse graph_error(int status, const std::string& code, const std::string& message,
                         std::map<std::string, std::string> headers = {}) {
    return {status, std::move(headers),
            R"({"error":{"code":")" + code + R"(","message":")" + message +
                R"(","innerError":{"date":"2026-09-02T14:32:39","request-id":"r","client-request-id":"c"}}})"};
}

const std::string uid_a = "11111111-1111-4111-8111-111111111111";
const std::string uid_b = "22222222-2222-4222-8222-222222222222";

std::string guid(int n) {
    char text[40];
    std::snprintf(text, sizeof text, "aaaaaaaa-0000-4000-8000-%012d", n);
    return text;
}

struct Fixture : FakeSignIn {
    ScriptedTransport http;
    std::vector<long long> sleeps;
    Instant now = at("2026-09-10T12:00:00Z");
    GraphUsageReader reader{http,
                            tokens,
                            graph + "/",
                            [this] { return now; },
                            [this](std::chrono::milliseconds d) { sleeps.push_back(d.count()); },
                            42};
};

const std::string premium_body = "Neither tenant is B2C or tenant doesn't have premium license";

}  // namespace

TEST_CASE("graph: the sign-in query asks for one window of Authenticated SMTP, percent-encoded, with the bearer",
          "[graph]") {
    Fixture f;
    f.http.answer(page({}));
    const UsageRead read = f.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-01T06:00:00Z"));
    CHECK(read.report.read);
    CHECK(read.report.why_not.empty());
    CHECK(read.report.source == UsageSource::signin_logs);
    CHECK(read.report.from == at("2026-09-01T00:00:00Z"));
    CHECK(read.report.to == at("2026-09-01T06:00:00Z"));
    CHECK(read.observations.empty());
    REQUIRE(f.http.requests.size() == 1);
    const HttpRequest& request = f.http.requests[0];
    CHECK(request.method == "GET");
    CHECK(request.url == signins + "createdDateTime%20ge%202026-09-01T00%3A00%3A00Z%20and%20createdDateTime%20le%20"
                                   "2026-09-01T06%3A00%3A00Z%20and%20clientAppUsed%20eq%20%27Authenticated%20SMTP%27"
                                   "&$top=1000");
    CHECK(request.headers.at("Authorization") == "Bearer token-1");
    CHECK(request.headers.at("Accept") == "application/json");
    CHECK(request.headers.at("client-request-id").size() == 36);
    CHECK(sign_in_filter(at("2026-09-01T00:00:00Z"), at("2026-09-01T06:00:00Z")) ==
          "createdDateTime ge 2026-09-01T00:00:00Z and createdDateTime le 2026-09-01T06:00:00Z and clientAppUsed eq "
          "'Authenticated SMTP'");
}

TEST_CASE("graph: pages are followed by their nextLink verbatim and sign-ins counted once by id", "[graph]") {
    Fixture f;
    const std::string next = graph + "/v1.0/auditLogs/signins?$filter=x&$top=1000&$skiptoken=70f6";
    f.http.answer(page({{guid(1), "2026-09-01T05:00:00.1234567Z", "scanner@contoso.com", uid_a},
                        {guid(2), "2026-09-01T04:00:00Z", "scanner@contoso.com", uid_a}},
                       next));
    // The service repeats a row across pages when sign-ins arrive between them.
    f.http.answer(page({{guid(2), "2026-09-01T04:00:00Z", "scanner@contoso.com", uid_a},
                        {guid(3), "2026-09-01T03:00:00Z", "scanner@contoso.com", uid_a}}));
    const UsageRead read = f.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-01T06:00:00Z"));
    REQUIRE(read.report.read);
    CHECK(read.report.rows == 3);
    REQUIRE(f.http.requests.size() == 2);
    CHECK(f.http.requests[1].url == next);
    CHECK(f.http.requests[1].headers.at("Authorization") == "Bearer token-1");
    REQUIRE(read.observations.size() == 1);
    CHECK(read.observations[0].messages == 3);
    CHECK(f.reader.requests_made() == 2);
}

TEST_CASE("graph: a long span is asked for in windows of at most a day, overlapping rows counted once", "[graph]") {
    Fixture f;
    const Row boundary{guid(7), "2026-09-02T00:00:00Z", "app@contoso.com", uid_a};
    f.http.answer(page({boundary}));
    f.http.answer(page({boundary, {guid(8), "2026-09-02T10:00:00Z", "app@contoso.com", uid_a}}));
    f.http.answer(page({}));
    const UsageRead read = f.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-03T12:00:00Z"));
    REQUIRE(read.report.read);
    REQUIRE(f.http.requests.size() == 3);
    const auto window = [](const char* from, const char* to) {
        std::string filter = sign_in_filter(at(from), at(to));
        std::string encoded;
        for (char c : filter) encoded += c == ' ' ? "%20" : c == ':' ? "%3A" : c == '\'' ? "%27" : std::string(1, c);
        return signins + encoded + "&$top=1000";
    };
    CHECK(f.http.requests[0].url == window("2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z"));
    CHECK(f.http.requests[1].url == window("2026-09-02T00:00:00Z", "2026-09-03T00:00:00Z"));
    CHECK(f.http.requests[2].url == window("2026-09-03T00:00:00Z", "2026-09-03T12:00:00Z"));
    CHECK(read.report.rows == 2);
    REQUIRE(read.observations.size() == 1);
    CHECK(read.observations[0].messages == 2);

    SECTION("an empty span is one window") {
        Fixture g;
        g.http.answer(page({}));
        CHECK(g.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-01T00:00:00Z")).report.read);
        CHECK(g.http.requests.size() == 1);
    }
    SECTION("a span that ends before it starts is not read") {
        Fixture g;
        const UsageRead backwards = g.reader.sign_ins(at("2026-09-02T00:00:00Z"), at("2026-09-01T00:00:00Z"));
        CHECK_FALSE(backwards.report.read);
        CHECK(backwards.report.why_not ==
              "the window to read ends (2026-09-01T00:00:00Z) before it starts (2026-09-02T00:00:00Z)");
        CHECK(g.http.requests.empty());
    }
}

TEST_CASE("graph: sign-ins fold into one observation per user: successes, failures and the newest error", "[graph]") {
    Fixture f;
    // Newest first, as Graph answers.
    f.http.answer(page({
        {guid(1), "2026-09-01T09:00:00Z", "Scanner-3F@Contoso.com", uid_a, 53003, "Blocked by Conditional Access"},
        {guid(2), "2026-09-01T08:00:00Z", "printer@contoso.com", uid_b, 0},
        {guid(3), "2026-09-01T07:00:00Z", "scanner-3f@contoso.com", uid_a, 0},
        {guid(4), "2026-09-01T06:00:00Z", "scanner-3f@contoso.com", uid_a, 50126, "Invalid username or password"},
        {guid(5), "2026-09-01T05:00:00Z", "scanner-3f@contoso.com", uid_a, 0},
        {guid(6), "2026-09-01T04:00:00Z", "printer@contoso.com", uid_b, 50057},
    }));
    const UsageRead read = f.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-01T12:00:00Z"));
    REQUIRE(read.report.read);
    CHECK(read.report.rows == 6);
    REQUIRE(read.observations.size() == 2);
    const UsageObservation& printer = read.observations[0];
    CHECK(printer.address == "printer@contoso.com");
    CHECK(printer.user_id == uid_b);
    CHECK(printer.messages == 1);
    CHECK(printer.failures == 1);
    CHECK(printer.last_error == "50057");
    CHECK(printer.first_seen == at("2026-09-01T04:00:00Z"));
    CHECK(printer.last_seen == at("2026-09-01T08:00:00Z"));
    const UsageObservation& scanner = read.observations[1];
    CHECK(scanner.address == "scanner-3f@contoso.com");
    CHECK(scanner.user_id == uid_a);
    CHECK(scanner.source == UsageSource::signin_logs);
    CHECK(scanner.protocol == SmtpProtocol::basic);
    CHECK(scanner.messages == 2);
    CHECK(scanner.failures == 2);
    CHECK(scanner.last_error == "53003 Blocked by Conditional Access");
    CHECK(scanner.first_seen == at("2026-09-01T05:00:00Z"));
    CHECK(scanner.last_seen == at("2026-09-01T09:00:00Z"));
}

TEST_CASE("graph: rows that cannot be read are not counted, and said so", "[graph]") {
    Fixture f;
    f.http.answer({200,
                   {},
                   R"({"value":[{"id":"x1","createdDateTime":"yesterday","userId":"u","status":{"errorCode":0}},)"
                   R"({"id":"x2","createdDateTime":"2026-09-01T01:00:00Z","userPrincipalName":"A@B.C",)"
                   R"("clientAppUsed":"Authenticated SMTP","status":{"errorCode":0}},)"
                   R"({"id":"x3","createdDateTime":"2026-09-01T01:00:00Z","userId":"u","clientAppUsed":"IMAP4",)"
                   R"("status":{"errorCode":0}}]})"});
    const UsageRead read = f.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-01T12:00:00Z"));
    REQUIRE(read.report.read);
    CHECK(read.report.rows == 1);
    REQUIRE(read.observations.size() == 1);
    CHECK(read.observations[0].address == "a@b.c");
    CHECK(read.observations[0].user_id.empty());
    CHECK(read.report.notes ==
          std::vector<std::string>{
              "1 sign-ins lacked an id, a createdDateTime, a user or a status.errorCode and were not counted",
              "1 sign-ins of other clients than Authenticated SMTP were ignored"});
}

TEST_CASE("graph: each failure of the sign-in logs says what fixes it, and nothing is thrown", "[graph]") {
    Fixture f;
    const Instant from = at("2026-09-01T00:00:00Z"), to = at("2026-09-01T06:00:00Z");
    const std::string what = "reading the sign-in logs from 2026-09-01T00:00:00Z to 2026-09-01T06:00:00Z failed: ";

    SECTION("no premium licence: asked once more, then the licence is named") {
        const auto premium = graph_error(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", premium_body);
        f.http.answer(premium);
        f.http.answer(premium);
        const UsageRead read = f.reader.sign_ins(from, to);
        CHECK_FALSE(read.report.read);
        CHECK_THAT(read.report.why_not,
                   StartsWith(what + "HTTP 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant: " + premium_body +
                              " (client-request-id "));
        CHECK_THAT(read.report.why_not,
                   EndsWith("); the tenant needs Entra ID P1 or P2 to read sign-in logs through Graph"));
        CHECK(f.http.requests.size() == 2);
        CHECK(f.sleeps.size() == 1);
    }
    SECTION("the licence refusal that licensed tenants see now and then passes on the second ask") {
        f.http.answer(graph_error(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", premium_body));
        f.http.answer(page({}));
        CHECK(f.reader.sign_ins(from, to).report.read);
    }
    SECTION("a missing permission names both permissions") {
        f.http.answer(graph_error(403, "Authentication_MSGraphPermissionMissing",
                                  "Calling principal does not have required MSGraph permissions AuditLog.Read.All"));
        const UsageRead read = f.reader.sign_ins(from, to);
        CHECK_FALSE(read.report.read);
        CHECK_THAT(read.report.why_not,
                   StartsWith(what +
                              "HTTP 403 Authentication_MSGraphPermissionMissing: Calling principal does not have "
                              "required MSGraph permissions AuditLog.Read.All (client-request-id "));
        CHECK_THAT(read.report.why_not, EndsWith("); grant the app the Graph application permissions "
                                                 "AuditLog.Read.All and Directory.Read.All, with admin consent"));
        CHECK(f.http.requests.size() == 1);
    }
    SECTION("the older permission codes too") {
        f.http.answer(graph_error(403, "Authentication_ApplicationHasNoDirectoryReadAccess",
                                  "Failed to do premium license check from ADGraph"));
        CHECK_THAT(f.reader.sign_ins(from, to).report.why_not,
                   EndsWith("AuditLog.Read.All and Directory.Read.All, with admin consent"));
    }
    SECTION("throttled: Retry-After is honoured") {
        f.http.answer(graph_error(429, "TooManyRequests", "Too many requests", {{"retry-after", "10"}}));
        f.http.answer(page({}));
        CHECK(f.reader.sign_ins(from, to).report.read);
        CHECK(f.sleeps == std::vector<long long>{10000});
    }
    SECTION("throttled without end: three retries, then not read") {
        for (int i = 0; i < 4; ++i)
            f.http.answer(graph_error(429, "TooManyRequests", "Too many requests", {{"retry-after", "2"}}));
        const UsageRead read = f.reader.sign_ins(from, to);
        CHECK_FALSE(read.report.read);
        CHECK_THAT(read.report.why_not, StartsWith(what + "HTTP 429 TooManyRequests: Too many requests"));
        CHECK_THAT(read.report.why_not, EndsWith("; gave up after 3 retries: retry later"));
        CHECK(f.sleeps == std::vector<long long>{2000, 2000, 2000});
    }
    SECTION("throttled without Retry-After: backoff with jitter") {
        f.http.answer(graph_error(503, "ServiceUnavailable", "busy"));
        f.http.answer(page({}));
        CHECK(f.reader.sign_ins(from, to).report.read);
        REQUIRE(f.sleeps.size() == 1);
        CHECK(f.sleeps[0] >= 1000);
        CHECK(f.sleeps[0] < 2000);
    }
    SECTION("any other answer: its status and Graph's message") {
        f.http.answer(graph_error(400, "BadRequest", "Invalid filter clause"));
        const UsageRead read = f.reader.sign_ins(from, to);
        CHECK_FALSE(read.report.read);
        CHECK_THAT(read.report.why_not,
                   StartsWith(what + "HTTP 400 BadRequest: Invalid filter clause (client-request-id "));
        CHECK_THAT(read.report.why_not, EndsWith(")"));
    }
    SECTION("a refused token is asked for anew once, then named") {
        f.http.answer(graph_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."));
        f.http.answer(graph_error(401, "InvalidAuthenticationToken", "Access token validation failure."));
        const UsageRead read = f.reader.sign_ins(from, to);
        CHECK_FALSE(read.report.read);
        CHECK(f.http.requests[0].headers.at("Authorization") == "Bearer token-1");
        CHECK(f.http.requests[1].headers.at("Authorization") == "Bearer token-2");
        CHECK_THAT(read.report.why_not,
                   Contains("HTTP 401 InvalidAuthenticationToken: Access token validation failure."));
        CHECK_THAT(read.report.why_not,
                   EndsWith("; Graph refused a fresh token: check the Graph endpoint and [tenant] cloud, and that the "
                            "app's Graph application permissions have admin consent"));
    }
    SECTION("a transport error, TLS included") {
        f.http.fail("cannot reach https://graph.microsoft.com: Error in SSL handshake (the server's certificate is not "
                    "for graph.microsoft.com)",
                    true);
        const UsageRead read = f.reader.sign_ins(from, to);
        CHECK_FALSE(read.report.read);
        CHECK(read.report.why_not == what + "cannot reach https://graph.microsoft.com: Error in SSL handshake (the "
                                            "server's certificate is not for graph.microsoft.com)");
    }
    SECTION("a redirect is not followed with the token") {
        f.http.answer({302, {{"location", "https://login.proxy.example/signin?x=1"}}, ""});
        const UsageRead read = f.reader.sign_ins(from, to);
        CHECK_FALSE(read.report.read);
        CHECK_THAT(read.report.why_not,
                   StartsWith(what + "HTTP 302: a redirect to https://login.proxy.example, which authgate never "
                                     "follows with its token"));
        CHECK(f.http.requests.size() == 1);
    }
    SECTION("a page that is not JSON") {
        f.http.answer({200, {}, "<html>sign in to the proxy</html>"});
        CHECK_THAT(f.reader.sign_ins(from, to).report.why_not, StartsWith(what + "the answer is not JSON"));
    }
}

TEST_CASE("graph: no token for Graph is a source not read", "[graph]") {
    FakeSignIn sign_in;
    ScriptedTransport login;
    login.answer({400,
                  {},
                  R"({"error":"invalid_scope","error_description":"AADSTS70011: The provided value for scope is not )"
                  R"(valid.\r\nTrace ID: 1","error_codes":[70011]})"});
    TokenClient tokens(login, sign_in.credential,
                       {"https://login.microsoftonline.com", "https://outlook.office365.com", "contoso.onmicrosoft.com",
                        "6f1c0e2a-0000-4000-8000-000000000001", graph});
    ScriptedTransport http;
    GraphUsageReader reader(http, tokens, graph);
    const UsageRead read = reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-01T06:00:00Z"));
    CHECK_FALSE(read.report.read);
    CHECK_THAT(read.report.why_not, Contains("failed: no token for Graph: token request to "));
    CHECK_THAT(read.report.why_not, Contains("the scope https://graph.microsoft.com/.default was refused: check the "
                                             "Graph endpoint and [tenant] cloud"));
    CHECK(http.requests.empty());
}

TEST_CASE("graph: a token for Graph asks for the Graph scope, and without a resource Exchange's as before",
          "[graph][token]") {
    FakeSignIn sign_in;
    const std::string token = R"({"token_type":"Bearer","expires_in":3599,"access_token":"t"})";
    ScriptedTransport login;
    login.answer({200, {}, token});
    login.answer({200, {}, token});
    TokenClient for_graph(login, sign_in.credential,
                          {"https://login.microsoftonline.com", "https://outlook.office365.com",
                           "contoso.onmicrosoft.com", "app", "https://graph.microsoft.us/"});
    TokenClient for_exchange(login, sign_in.credential,
                             {"https://login.microsoftonline.com", "https://outlook.office365.com/",
                              "contoso.onmicrosoft.com", "app"});
    CHECK(for_graph.bearer() == "t");
    CHECK(for_exchange.bearer() == "t");
    CHECK_THAT(login.requests[0].body, Contains("&scope=https%3A%2F%2Fgraph.microsoft.us%2F.default&"));
    CHECK_THAT(login.requests[1].body, Contains("&scope=https%3A%2F%2Foutlook.office365.com%2F.default&"));
}

TEST_CASE("graph: an expired page link starts the window over once, and the second time the source is not read",
          "[graph]") {
    Fixture f;
    const Instant from = at("2026-09-01T00:00:00Z"), to = at("2026-09-01T06:00:00Z");
    const std::string next = graph + "/v1.0/auditLogs/signins?$skiptoken=old";
    const auto stale = graph_error(400, "", "Token not found: token is either invalid or expired");
    const std::vector<Row> first{{guid(1), "2026-09-01T05:00:00Z", "app@contoso.com", uid_a}};
    const std::vector<Row> second{{guid(2), "2026-09-01T04:00:00Z", "app@contoso.com", uid_a}};

    SECTION("started over, rows counted once") {
        f.http.answer(page(first, next));
        f.http.answer(stale);
        f.http.answer(page(first, next));
        f.http.answer(page(second));
        const UsageRead read = f.reader.sign_ins(from, to);
        REQUIRE(read.report.read);
        CHECK(read.report.rows == 2);
        REQUIRE(read.observations.size() == 1);
        CHECK(read.observations[0].messages == 2);
        CHECK(f.http.requests.size() == 4);
        CHECK(f.http.requests[2].url == f.http.requests[0].url);
        CHECK(read.report.notes == std::vector<std::string>{"the window from 2026-09-01T00:00:00Z to "
                                                            "2026-09-01T06:00:00Z was started over after a page "
                                                            "link expired"});
    }
    SECTION("expired again: not read") {
        f.http.answer(page(first, next));
        f.http.answer(stale);
        f.http.answer(page(first, next));
        f.http.answer(
            {500, {}, R"({"error":{"code":"","message":"Token not found: token is either invalid or expired"}})"});
        const UsageRead read = f.reader.sign_ins(from, to);
        CHECK_FALSE(read.report.read);
        CHECK_THAT(read.report.why_not,
                   StartsWith("reading the sign-in logs from 2026-09-01T00:00:00Z to 2026-09-01T06:00:00Z failed: "
                              "HTTP 500: Token not found: token is either invalid or expired (client-request-id "));
        CHECK_THAT(read.report.why_not,
                   EndsWith("; a page link expired again after the window was started over: retry later"));
        CHECK(f.http.requests.size() == 4);
        CHECK(f.sleeps.empty());
        // What it saw is kept; that it saw nothing more proves nothing.
        CHECK(read.observations.size() == 1);
        CHECK(read.report.notes.back() ==
              "only part was read: 1 sign-ins of the window that failed; from 2026-09-01T00:00:00Z to "
              "2026-09-01T06:00:00Z the logs were not read to their end: use there is unknown, not absent");
    }
}

TEST_CASE("graph: a nextLink to another origin is refused and the token never sent there", "[graph][safety]") {
    Fixture f;
    f.http.answer(page({{guid(1), "2026-09-01T05:00:00Z", "app@contoso.com", uid_a}},
                       "https://graph.evil.example/v1.0/auditLogs/signins?$skiptoken=2"));
    const UsageRead read = f.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-01T06:00:00Z"));
    CHECK_FALSE(read.report.read);
    CHECK_THAT(read.report.why_not,
               StartsWith("reading the sign-in logs from 2026-09-01T00:00:00Z to 2026-09-01T06:00:00Z failed: "
                          "refusing to follow @odata.nextLink to another origin (https://graph.evil.example); the "
                          "token is only sent to https://graph.microsoft.com (client-request-id "));
    CHECK(f.http.requests.size() == 1);

    SECTION("plain http on the same host is another origin too") {
        Fixture g;
        g.http.answer(page({}, "http://graph.microsoft.com/v1.0/auditLogs/signins?$skiptoken=2"));
        CHECK_THAT(g.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-01T06:00:00Z")).report.why_not,
                   Contains("refusing to follow @odata.nextLink to another origin (http://graph.microsoft.com)"));
        CHECK(g.http.requests.size() == 1);
    }
}

TEST_CASE("graph: a window that fails after others were read leaves the source not read, saying what was", "[graph]") {
    Fixture f;
    f.http.answer(page({{guid(1), "2026-09-01T05:00:00Z", "app@contoso.com", uid_a}}));
    f.http.answer(graph_error(400, "BadRequest", "Something broke"));
    const UsageRead read = f.reader.sign_ins(at("2026-09-01T00:00:00Z"), at("2026-09-02T12:00:00Z"));
    CHECK_FALSE(read.report.read);
    CHECK_THAT(read.report.why_not,
               StartsWith("reading the sign-in logs from 2026-09-02T00:00:00Z to 2026-09-02T12:00:00Z failed: HTTP "
                          "400 BadRequest: Something broke"));
    CHECK(read.report.rows == 1);
    CHECK(read.observations.size() == 1);
    CHECK(read.report.notes ==
          std::vector<std::string>{"only part was read: from 2026-09-01T00:00:00Z to 2026-09-02T00:00:00Z whole (1 "
                                   "sign-ins); from 2026-09-02T00:00:00Z to 2026-09-02T12:00:00Z the logs were not "
                                   "read to their end: use there is unknown, not absent"});
}

namespace {

const std::string report_url = graph + "/v1.0/reports/getEmailAppUsageUserDetail(period='D30')";
const std::string download = "https://reports.office.com/data/download/JDFKdf2_eJXKS034dbc7e0t__XDe?sig=s3cret";

HttpResponse report_settings(bool concealed) {
    return {200,
            {},
            R"({"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#admin/reportSettings/$entity",)"
            R"("displayConcealedNames":)" +
                std::string(concealed ? "true" : "false") + "}"};
}

const std::string documented_csv =
    "\xEF\xBB\xBFReport Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Last Activity Date,"
    "Mail For Mac,Outlook For Mac,Outlook For Windows,Outlook For Mobile,Other For Mobile,Outlook For Web,POP3 App,"
    "IMAP4 App,SMTP App,Report Period\r\n"
    "2026-09-08,Scanner-3F@contoso.com,\"Scanner, 3rd floor\",False,,2026-09-07,,,,,,,,,Yes,30\r\n"
    "2026-09-08,alice@contoso.com,Alice,False,,2026-09-08,,,Yes,,,Yes,,,No,30\r\n"
    "2026-09-08,printer@contoso.com,\"The \"\"big\"\" printer\",False,,,,,,,,,,,Yes,30\r\n"
    "2026-09-08,bob@contoso.com,Bob,False,,,,,,,,,,,,30\r\n";

}  // namespace

TEST_CASE("graph: the email apps report is downloaded from its redirect without the token", "[graph][safety]") {
    Fixture f;
    f.http.answer(report_settings(false));
    f.http.answer({302, {{"location", download}}, ""});
    f.http.answer({200, {{"content-type", "application/octet-stream"}}, documented_csv});
    const UsageRead read = f.reader.email_app_usage(30);
    INFO(read.report.why_not);
    REQUIRE(read.report.read);
    REQUIRE(f.http.requests.size() == 3);
    CHECK(f.http.requests[0].url == graph + "/v1.0/admin/reportSettings");
    CHECK(f.http.requests[0].headers.at("Authorization") == "Bearer token-1");
    CHECK(f.http.requests[1].url == report_url);
    CHECK(f.http.requests[1].headers.at("Authorization") == "Bearer token-1");
    CHECK(f.http.requests[2].url == download);
    CHECK(f.http.requests[2].method == "GET");
    CHECK(f.http.requests[2].headers.count("Authorization") == 0);
    for (const auto& [name, value] : f.http.requests[2].headers) CHECK_THAT(value, !Contains("token-"));

    CHECK(read.report.source == UsageSource::email_app_report);
    CHECK(read.report.rows == 4);
    CHECK(read.report.to == at("2026-09-08T00:00:00Z"));
    CHECK(read.report.from == at("2026-08-09T00:00:00Z"));
    CHECK(read.report.notes.empty());
    REQUIRE(read.observations.size() == 2);
    CHECK(read.observations[0].address == "printer@contoso.com");
    CHECK(read.observations[0].last_seen == at("2026-09-08T00:00:00Z"));  // no activity date: the report's
    CHECK(read.observations[1].address == "scanner-3f@contoso.com");
    CHECK(read.observations[1].last_seen == at("2026-09-07T00:00:00Z"));
    for (const UsageObservation& observation : read.observations) {
        CHECK(observation.source == UsageSource::email_app_report);
        CHECK(observation.protocol == SmtpProtocol::unknown);
        CHECK(observation.messages == 0);
        CHECK(observation.user_id.empty());
    }
}

TEST_CASE("graph: the report's columns are found by name in any order", "[graph]") {
    Fixture f;
    f.http.answer(report_settings(false));
    f.http.answer({302, {{"location", download}}, ""});
    f.http.answer({200,
                   {},
                   "smtp app,Last Activity Date,Teams For Fax,user principal name,Report Refresh Date\n"
                   "Yes,2026-09-01,x,fax@contoso.com,2026-09-08\n"
                   "\"No\",2026-09-02,x,\"bob@contoso.com\",2026-09-08\n"});
    const UsageRead read = f.reader.email_app_usage(5);
    REQUIRE(read.report.read);
    CHECK(f.http.requests[1].url == graph + "/v1.0/reports/getEmailAppUsageUserDetail(period='D7')");
    REQUIRE(read.observations.size() == 1);
    CHECK(read.observations[0].address == "fax@contoso.com");
    CHECK(read.observations[0].last_seen == at("2026-09-01T00:00:00Z"));
    CHECK(read.report.notes == std::vector<std::string>{"columns not read: Teams For Fax"});
    CHECK(read.report.from == at("2026-09-01T00:00:00Z"));

    SECTION("a report without the SMTP App column is not read") {
        Fixture g;
        g.http.answer(report_settings(false));
        g.http.answer({200, {}, "User Principal Name,Report Refresh Date\na@contoso.com,2026-09-08\n"});
        const UsageRead without = g.reader.email_app_usage(7);
        CHECK_FALSE(without.report.read);
        CHECK(without.report.why_not ==
              "reading the email apps usage report failed: the report has no column SMTP App (its header: User "
              "Principal Name,Report Refresh Date)");
    }
}

TEST_CASE("graph: concealed user names leave the email apps report not read, with how to show them", "[graph]") {
    Fixture f;
    const std::string fix =
        "authgate never matches concealed names to mailboxes and never changes the setting: to show names, an admin "
        "turns off \"Display concealed user, group, and site names in all reports\" in the Microsoft 365 admin "
        "center (Settings → Org settings → Reports), or sends PATCH /admin/reportSettings "
        "{\"displayConcealedNames\":false} with the permission ReportSettings.ReadWrite.All";
    SECTION("the tenant's setting says so: the report is not asked for") {
        f.http.answer(report_settings(true));
        const UsageRead read = f.reader.email_app_usage(30);
        CHECK_FALSE(read.report.read);
        CHECK(read.report.why_not ==
              "the tenant conceals user names in usage reports (displayConcealedNames is true), so the email apps "
              "usage report cannot say who used SMTP; " +
                  fix);
        CHECK(f.http.requests.size() == 1);
    }
    SECTION("the report's names say so") {
        f.http.answer(report_settings(false));
        f.http.answer({302, {{"location", download}}, ""});
        f.http.answer({200,
                       {},
                       "Report Refresh Date,User Principal Name,SMTP App\n"
                       "2026-09-08,printer@contoso.com,Yes\n"
                       "2026-09-08,5E3A1F0C9B2D4E6F8A7B,Yes\n"});
        const UsageRead read = f.reader.email_app_usage(30);
        CHECK_FALSE(read.report.read);
        CHECK(read.report.why_not ==
              "the email apps usage report conceals user names (1 user principal names without '@'), so it cannot "
              "say who used SMTP; " +
                  fix);
        CHECK(read.observations.empty());
    }
}

TEST_CASE("graph: failures of the email apps report", "[graph]") {
    Fixture f;
    SECTION("report settings refused: the permission to read them") {
        f.http.answer(graph_error(403, "UnknownError", "Forbidden"));
        const UsageRead read = f.reader.email_app_usage(30);
        CHECK_FALSE(read.report.read);
        CHECK_THAT(read.report.why_not, StartsWith("reading the report settings failed: HTTP 403 UnknownError: "
                                                   "Forbidden (client-request-id "));
        CHECK_THAT(read.report.why_not,
                   EndsWith("; grant the app the Graph application permission ReportSettings.Read.All, with admin "
                            "consent (authgate reads it to know whether user names are concealed)"));
    }
    SECTION("the report refused: Reports.Read.All") {
        f.http.answer(report_settings(false));
        f.http.answer(graph_error(403, "S2SUnauthorized", "Invalid permission."));
        const UsageRead read = f.reader.email_app_usage(30);
        CHECK_THAT(read.report.why_not,
                   StartsWith("reading the email apps usage report failed: HTTP 403 S2SUnauthorized: Invalid "
                              "permission. (client-request-id "));
        CHECK_THAT(read.report.why_not,
                   EndsWith("; grant the app the Graph application permission Reports.Read.All, with admin consent"));
    }
    SECTION("a download link that is not https is not followed") {
        f.http.answer(report_settings(false));
        f.http.answer({302, {{"location", "http://reports.office.com/data/download/x?sig=s3cret"}}, ""});
        const UsageRead read = f.reader.email_app_usage(30);
        CHECK_FALSE(read.report.read);
        CHECK_THAT(read.report.why_not,
                   StartsWith("reading the email apps usage report failed: HTTP 302: the download link "
                              "(http://reports.office.com) is not an https:// URL; authgate downloads only over "
                              "verified TLS"));
        CHECK_THAT(read.report.why_not, !Contains("s3cret"));
        CHECK(f.http.requests.size() == 2);
    }
    SECTION("the download fails") {
        f.http.answer(report_settings(false));
        f.http.answer({302, {{"location", download}}, ""});
        f.http.answer({403, {}, "<Error><Code>AuthenticationFailed</Code></Error>"});
        const UsageRead read = f.reader.email_app_usage(30);
        CHECK(read.report.why_not ==
              "downloading the email apps usage report from https://reports.office.com failed: HTTP 403: "
              "<Error><Code>AuthenticationFailed</Code></Error>; the link lives minutes: retry");
    }
    SECTION("a quote that is never closed") {
        f.http.answer(report_settings(false));
        f.http.answer({200, {}, "Report Refresh Date,User Principal Name,SMTP App\n2026-09-08,\"a@contoso.com,Yes\n"});
        CHECK(f.reader.email_app_usage(30).report.why_not ==
              "reading the email apps usage report failed: the report is not CSV (a quoted field is not closed)");
    }
}

TEST_CASE("graph: the report's period is the smallest that covers the days asked for", "[graph]") {
    CHECK(email_app_period(0) == "D7");
    CHECK(email_app_period(7) == "D7");
    CHECK(email_app_period(8) == "D30");
    CHECK(email_app_period(30) == "D30");
    CHECK(email_app_period(31) == "D90");
    CHECK(email_app_period(90) == "D90");
    CHECK(email_app_period(91) == "D180");
    CHECK(email_app_period(400) == "D180");
}

namespace {

DesiredState tenant_in(const std::string& cloud) {
    LoadResult loaded = load_desired_state_text(
        "d.toml", "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\ncloud = \"" + cloud +
                      "\"\n[connection]\napp_id = \"6f1c0e2a-0000-4000-8000-000000000001\"\ncertificate = \"a.pem\"\n");
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    return loaded.state;
}

}  // namespace

TEST_CASE("graph: the Graph endpoint: flag over environment over the cloud's default, https only",
          "[graph][connection]") {
    for (const auto& [cloud, endpoint] :
         std::vector<std::pair<std::string, std::string>>{{"global", "https://graph.microsoft.com"},
                                                          {"gcc-high", "https://graph.microsoft.us"},
                                                          {"dod", "https://dod-graph.microsoft.us"},
                                                          {"china", "https://microsoftgraph.chinacloudapi.cn"}})
        CHECK(resolve_connection(connection_flags({}), tenant_in(cloud), environment_of({})).graph_endpoint ==
              endpoint);
    const DesiredState state = tenant_in("global");
    CHECK(resolve_connection(connection_flags({}), state,
                             environment_of({{"AUTHGATE_GRAPH_ENDPOINT", "https://graph.env.example"}}))
              .graph_endpoint == "https://graph.env.example");
    const ConnectionSettings flagged =
        resolve_connection(connection_flags({"--graph-endpoint", "https://graph.flag.example"}), state,
                           environment_of({{"AUTHGATE_GRAPH_ENDPOINT", "https://graph.env.example"}}));
    CHECK(flagged.graph_endpoint == "https://graph.flag.example");
    CHECK_THROWS_WITH(resolve_connection(connection_flags({"--graph-endpoint", "http://graph.example"}), state,
                                         environment_of({})),
                      "endpoints must be https:// URLs without a user name or password (TLS is always verified), "
                      "not 'http://graph.example'");

    // The reader's token is the session's sign-in, for Graph.
    const TokenSettings tokens = graph_token_settings(flagged);
    CHECK(tokens.resource == "https://graph.flag.example");
    CHECK(tokens.login_endpoint == flagged.login_endpoint);
    CHECK(tokens.tenant == "contoso.onmicrosoft.com");
    CHECK(tokens.app_id == "6f1c0e2a-0000-4000-8000-000000000001");
    CHECK(token_audience(tokens) == "https://graph.flag.example");
}
