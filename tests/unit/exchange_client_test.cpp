#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <cpprest/json.h>
#include <simdjson.h>

#include "connectors/exchange_client.h"
#include "fake_http.h"
#include "test_certificates.h"

using namespace authgate;
using namespace authgate::testing;
using web::json::value;

namespace {

const std::string base = "https://outlook.office365.com/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand";

HttpResponse page(const std::string& values, const std::string& next = "") {
    std::string body =
        R"json({"@odata.context":"x","adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":[],"value":[)json" +
        values + "]";
    if (!next.empty()) body += R"(,"@odata.nextLink":")" + next + "\"";
    return {200, {}, body + "}"};
}

HttpResponse error_answer(int status, const std::string& detail, std::map<std::string, std::string> headers = {}) {
    value details = value::array(1);
    details[0] = value::object();
    details[0]["code"] = value::string("Client");
    details[0]["message"] = value::string(detail);
    value error = value::object();
    error["code"] = value::string("BadRequest");
    error["message"] = value::string("Error executing cmdlet");
    error["details"] = details;
    value body = value::object();
    body["error"] = error;
    return {status, std::move(headers), body.serialize()};
}

struct Fixture : FakeSignIn {
    ScriptedTransport exchange;
    std::vector<long> sleeps;
    ExchangeClient client{exchange,
                          tokens,
                          {"https://outlook.office365.com", "contoso.onmicrosoft.com", 1000, 3, {}},
                          [this](std::chrono::milliseconds d) { sleeps.push_back(d.count()); },
                          42};

    std::vector<std::string> read_all(const std::string& cmdlet, int* begins = nullptr) {
        std::vector<std::string> names;
        client.read(
            {cmdlet, {}}, {"Name"},
            [&] {
                names.clear();
                if (begins) ++*begins;
            },
            [&](const simdjson::dom::element& object) { names.emplace_back(object["Name"].get_string().value()); });
        return names;
    }
};

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const ExchangeError& error) {
        return error.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a cmdlet is sent with the headers and body Exchange expects", "[exchange]") {
    Fixture f;
    f.exchange.answer(page(R"({"Name":"a"})"));
    const Cmdlet cmdlet{"Get-CASMailbox", {{"ResultSize", std::string("Unlimited")}}};
    f.client.read(
        cmdlet, {"Guid", "PrimarySmtpAddress"}, [] {}, [](const simdjson::dom::element&) {});
    REQUIRE(f.exchange.requests.size() == 1);
    const HttpRequest& request = f.exchange.requests[0];
    CHECK(request.url == base + "?$select=Guid,PrimarySmtpAddress");
    CHECK(request.body == R"({"CmdletInput":{"CmdletName":"Get-CASMailbox","Parameters":{"ResultSize":"Unlimited"}}})");
    CHECK(request.headers.at("Authorization") == "Bearer token-1");
    CHECK(request.headers.at("Content-Type") == "application/json");
    CHECK(request.headers.at("X-AnchorMailbox") ==
          "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com");
    CHECK(request.headers.at("X-CmdletName") == "Get-CASMailbox");
    CHECK(request.headers.at("X-ResponseFormat") == "json");
    CHECK(request.headers.at("Prefer") == "odata.maxpagesize=1000");
    CHECK(request.headers.at("client-request-id").size() == 36);
}

TEST_CASE("pages are followed by POSTing the same body to the nextLink", "[exchange]") {
    Fixture f;
    f.exchange.answer(page(R"({"Name":"a"},{"Name":"b"})", base + "?$skiptoken=2"));
    f.exchange.answer(page(R"({"Name":"c"})"));
    CHECK(f.read_all("Get-User") == std::vector<std::string>{"a", "b", "c"});
    REQUIRE(f.exchange.requests.size() == 2);
    CHECK(f.exchange.requests[1].url == base + "?$skiptoken=2");
    CHECK(f.exchange.requests[1].body == f.exchange.requests[0].body);
    CHECK(f.exchange.requests[1].headers.at("X-CmdletName") == "Get-User");
    CHECK(f.client.counters().pages == 2);
}

TEST_CASE("a nextLink to another origin is refused and never called", "[exchange]") {
    Fixture f;
    f.exchange.answer(page(R"({"Name":"a"})", "https://evil.example.com/adminapi/beta/x/InvokeCommand?$skiptoken=2"));
    CHECK_THAT(error_of([&] { f.read_all("Get-User"); }),
               Catch::StartsWith(
                   "Get-User failed: refusing to follow @odata.nextLink to another origin "
                   "(https://evil.example.com); the token is only sent to https://outlook.office365.com"));
    CHECK(f.exchange.requests.size() == 1);
}

TEST_CASE("a read whose link expired starts over rather than return half a list", "[exchange]") {
    Fixture f;
    f.exchange.answer(page(R"({"Name":"a"})", base + "?$skiptoken=2"));
    f.exchange.answer(error_answer(400, "Expired or Invalid pagination request. Default Expiry time is 00:30:00"));
    f.exchange.answer(page(R"({"Name":"a"})", base + "?$skiptoken=3"));
    f.exchange.answer(page(R"({"Name":"b"})"));
    int begins = 0;
    CHECK(f.read_all("Get-CASMailbox", &begins) == std::vector<std::string>{"a", "b"});
    CHECK(begins == 2);
}

TEST_CASE("a page that fails fails the whole read", "[exchange][safety]") {
    Fixture f;
    f.exchange.answer(page(R"({"Name":"a"})", base + "?$skiptoken=2"));
    f.exchange.answer(error_answer(400, "Ex1|System.InvalidOperationException|Something broke."));
    CHECK_THAT(
        error_of([&] { f.read_all("Get-CASMailbox"); }),
        Catch::StartsWith(
            "Get-CASMailbox failed: HTTP 400: Something broke. (InvalidOperationException) (client-request-id "));
}

TEST_CASE("a 500 on a read is retried like a 503, and a read that keeps failing gives up", "[exchange]") {
    Fixture f;
    SECTION("once") {
        f.exchange.answer(page(R"({"Name":"a"})", base + "?$skiptoken=2"));
        f.exchange.answer(error_answer(500, "Ex1|System.InvalidOperationException|Something broke."));
        f.exchange.answer(page(R"({"Name":"b"})"));
        CHECK(f.read_all("Get-CASMailbox") == std::vector<std::string>{"a", "b"});
        CHECK(f.sleeps.size() == 1);
    }
    SECTION("beyond the budget") {
        for (int i = 0; i < 6; ++i) f.exchange.answer(error_answer(500, "Ex1|System.InvalidOperationException|Broke."));
        CHECK_THAT(error_of([&] { f.read_all("Get-CASMailbox"); }),
                   Catch::StartsWith(
                       "Get-CASMailbox failed: HTTP 500: Broke. (InvalidOperationException); gave up after 5 retries"));
    }
}

TEST_CASE("an empty list is no rows whether value is absent, null or []", "[exchange]") {
    Fixture f;
    const auto body =
        GENERATE(as<std::string>{}, R"({"@odata.context":"x","@adminapi.warnings":[]})",
                 R"({"@odata.context":"x","@adminapi.warnings":[],"value":null})",
                 R"({"@odata.context":"x","@adminapi.warnings":[],"value":[]})",
                 R"j({"@odata.context":"x","value@odata.type":"#Collection(Exchange.GenericHashTable)"})j");
    INFO(body);
    f.exchange.answer({200, {}, body});
    CHECK(f.read_all("Get-User").empty());
}

TEST_CASE("a truncated last answer is never the whole list", "[exchange][safety]") {
    Fixture f;
    const std::string more =
        "There are more results available than are currently displayed. To view them, increase the "
        "value for the ResultSize parameter.";
    SECTION("with a nextLink the warning is an ordinary page") {
        f.exchange.answer({200,
                           {},
                           R"({"@adminapi.warnings":[")" + more + R"("],"value":[{"Name":"a"}],"@odata.nextLink":")" +
                               base + R"(?$skiptoken=2"})"});
        f.exchange.answer(page(R"({"Name":"b"})"));
        CHECK(f.read_all("Get-User") == std::vector<std::string>{"a", "b"});
    }
    SECTION("without one it fails the read") {
        f.exchange.answer({200, {}, R"({"@adminapi.warnings":[")" + more + R"("],"value":[{"Name":"a"}]})"});
        CHECK_THAT(error_of([&] { f.read_all("Get-User"); }),
                   Catch::StartsWith("Get-User failed: the last answer says more rows exist than it holds (\"There are "
                                     "more results available") &&
                       Catch::Contains("the list is not complete"));
    }
}

TEST_CASE("continuations that are refused: the list is asked for whole, or the read fails naming the cause",
          "[exchange][safety]") {
    Fixture f;
    const auto refused = [] {
        return error_answer(400, "Ex1B5C2D|Microsoft.Exchange.Admin.OData.Core.InvalidPaginationRequestException|"
                                 "Expired or Invalid pagination request. Default Expiry time is 00:30:00");
    };
    f.exchange.answer(page(R"({"Name":"a"})", base + "?$skiptoken=2"));
    f.exchange.answer(refused());
    SECTION("the unpaged answer is whole") {
        f.exchange.answer(page(R"({"Name":"a"},{"Name":"b"})"));
        CHECK(f.read_all("Get-User") == std::vector<std::string>{"a", "b"});
        REQUIRE(f.exchange.requests.size() == 3);
        CHECK(f.exchange.requests[0].headers.count("Prefer") == 1);
        CHECK(f.exchange.requests[2].url == base + "?$select=Name");
        CHECK(f.exchange.requests[2].headers.count("Prefer") == 0);  // the server's own answer size
    }
    SECTION("the server pages anyway, and refuses every continuation") {
        for (int attempt = 0; attempt < 3; ++attempt) {
            f.exchange.answer(page(R"({"Name":"a"})", base + "?$skiptoken=2"));
            f.exchange.answer(refused());
        }
        const std::string error = error_of([&] { f.read_all("Get-User"); });
        CHECK_THAT(error, Catch::StartsWith("Get-User failed: HTTP 400: Expired or Invalid pagination request.") &&
                              Catch::EndsWith("Exchange refused to continue the list 4 times, and an answer without "
                                              "paging was not whole either: the read is not complete, so nothing is "
                                              "planned from it"));
    }
}

TEST_CASE("throttling and busy servers are retried with backoff", "[exchange]") {
    Fixture f;
    SECTION("429 honours a fractional Retry-After") {
        f.exchange.answer({429, {{"retry-after", "0.5"}}, ""});
        f.exchange.answer({429, {{"retry-after", "2"}}, ""});
        f.exchange.answer(page(R"({"Name":"a"})"));
        CHECK(f.read_all("Get-User") == std::vector<std::string>{"a"});
        CHECK(f.sleeps == std::vector<long>{500, 2000});
    }
    SECTION("503, 504 and transient exceptions back off exponentially with jitter") {
        f.exchange.answer({503, {}, ""});
        f.exchange.answer({504, {}, ""});
        f.exchange.answer(error_answer(400, "Ex2|Microsoft.Exchange.Data.Directory.DCOverloadedException|Busy."));
        f.exchange.answer(page(R"({"Name":"a"})"));
        CHECK(f.read_all("Get-User") == std::vector<std::string>{"a"});
        REQUIRE(f.sleeps.size() == 3);
        CHECK((f.sleeps[0] >= 1000 && f.sleeps[0] <= 2000));
        CHECK((f.sleeps[1] >= 2000 && f.sleeps[1] <= 4000));
        CHECK((f.sleeps[2] >= 4000 && f.sleeps[2] <= 8000));
        CHECK(f.client.counters().retries == 3);
    }
    SECTION("a storm longer than five retries gives up") {
        for (int i = 0; i < 6; ++i) f.exchange.answer({503, {}, ""});
        CHECK_THAT(error_of([&] { f.read_all("Get-User"); }), Catch::Contains("; gave up after 5 retries"));
        CHECK(f.exchange.requests.size() == 6);
    }
    SECTION("a connection that failed is retried for reads") {
        f.exchange.fail("connection reset", false);
        f.exchange.answer(page(R"({"Name":"a"})"));
        CHECK(f.read_all("Get-User") == std::vector<std::string>{"a"});
    }
}

TEST_CASE("writes are replayed only where Exchange cannot have acted", "[exchange][safety]") {
    Fixture f;
    const Cmdlet set{"Set-CASMailbox", {{"SmtpClientAuthenticationDisabled", SettingValue{}}}};
    SECTION("after 429") {
        f.exchange.answer({429, {{"retry-after", "1"}}, ""});
        f.exchange.answer(page(""));
        CHECK(f.client.write(set).objects.empty());
        CHECK(f.exchange.requests.size() == 2);
        CHECK(
            f.exchange.requests[0].body ==
            R"({"CmdletInput":{"CmdletName":"Set-CASMailbox","Parameters":{"SmtpClientAuthenticationDisabled":null}}})");
    }
    SECTION("after a connection refused before sending") {
        f.exchange.fail("Connection refused", true);
        f.exchange.answer(page(""));
        CHECK_NOTHROW(f.client.write(set));
    }
    SECTION("not after a 503: the outcome is unknown") {
        f.exchange.answer({503, {}, ""});
        try {
            f.client.write(set);
            FAIL("no error");
        } catch (const ExchangeError& error) {
            CHECK(error.uncertain());
            CHECK(error.status() == 503);
        }
        CHECK(f.exchange.requests.size() == 1);
    }
    SECTION("not after a connection cut once the request was sent") {
        f.exchange.fail("connection reset by peer", false);
        try {
            f.client.write(set);
            FAIL("no error");
        } catch (const ExchangeError& error) {
            CHECK(error.uncertain());
            CHECK_THAT(std::string(error.what()), Catch::Contains("the change may or may not have been made"));
        }
        CHECK(f.exchange.requests.size() == 1);
    }
    SECTION("the no-op warning is passed on") {
        f.exchange.answer(
            {200,
             {},
             R"({"@adminapi.warnings":["The command completed successfully but no settings of 'x' have been modified."],"value":[]})"});
        const CmdletResult result = f.client.write(set);
        REQUIRE(result.warnings.size() == 1);
        CHECK_THAT(result.warnings[0], Catch::Contains("no settings of 'x' have been modified"));
    }
}

TEST_CASE("a 401 refreshes the token once, and a missing role is explained", "[exchange]") {
    Fixture f;
    SECTION("expired token") {
        f.exchange.answer({401, {{"www-authenticate", "Bearer"}}, ""});
        f.exchange.answer(page(R"({"Name":"a"})"));
        CHECK(f.read_all("Get-User") == std::vector<std::string>{"a"});
        CHECK(f.login.issued == 2);
        CHECK(f.exchange.requests[1].headers.at("Authorization") == "Bearer token-2");
    }
    SECTION("a second 401 is an error") {
        f.exchange.answer({401, {}, ""});
        f.exchange.answer({401, {}, ""});
        CHECK_THAT(error_of([&] { f.read_all("Get-User"); }), Catch::StartsWith("Get-User failed: HTTP 401"));
    }
    SECTION("the role is missing for a cmdlet") {
        f.exchange.answer(error_answer(401, "User is not allowed to call Set-User"));
        CHECK_THAT(
            error_of([&] {
                f.client.write({"Set-User", {}});
            }),
            Catch::StartsWith("Set-User failed: HTTP 401: User is not allowed to call Set-User (client-request-id ") &&
                Catch::EndsWith("what to check: the app's Entra directory role does not allow Set-User: "
                                "assign Exchange Administrator to the app's service principal to apply (Global "
                                "Reader is enough to plan)"));
        CHECK(f.login.issued == 1);
    }
    SECTION("a fresh token refused too: the app has no Exchange.ManageAsApp") {
        f.exchange.answer({401, {}, ""});
        f.exchange.answer({401, {}, ""});
        CHECK_THAT(error_of([&] { f.read_all("Get-User"); }),
                   Catch::EndsWith("what to check: Exchange refused a fresh token: give the app the application "
                                   "permission Exchange.ManageAsApp (API permissions, Office 365 Exchange Online) and "
                                   "grant admin consent for it"));
    }
    SECTION("a 403 of NUL bytes: the app role without an Entra directory role") {
        f.exchange.answer({403, {}, std::string(4096, '\0')});
        const std::string error = error_of([&] { f.read_all("Get-User"); });
        CHECK_THAT(error,
                   Catch::StartsWith("Get-User failed: HTTP 403: no error text in the answer (client-request-id ") &&
                       Catch::Contains("what to check: the app has the Exchange.ManageAsApp permission but no "
                                       "Entra directory role"));
        CHECK(error.find('\0') == std::string::npos);
    }
    SECTION("a redirect is never followed, and says where it pointed") {
        f.exchange.answer({302, {{"location", "https://elsewhere.example.com/adminapi"}}, ""});
        CHECK_THAT(error_of([&] { f.read_all("Get-User"); }),
                   Catch::StartsWith("Get-User failed: HTTP 302: a redirect (HTTP 302) to "
                                     "https://elsewhere.example.com/adminapi, which authgate never follows"));
        CHECK(f.exchange.requests.size() == 1);
    }
}

TEST_CASE("error text is taken in the reference's order", "[exchange]") {
    CHECK(exchange_error_text(error_answer(
              400, "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|"
                   "The operation couldn't be performed because object 'x@contoso.com' couldn't be found on 'EX1'.")) ==
          "The operation couldn't be performed because object 'x@contoso.com' couldn't be found on 'EX1'. "
          "(ManagementObjectNotFoundException)");
    CHECK(exchange_error_text(error_answer(400, R"({"Message":"Policy not found.","TypeName":"X"})")) ==
          "Policy not found.");
    CHECK(
        exchange_error_text(
            {400,
             {},
             R"({"error":{"message":"outer","details":[],"innererror":{"internalexception":{"message":"inner"}}}})"}) ==
        "inner");
    CHECK(exchange_error_text({400, {}, R"({"error":{"message":"outer"}})"}) == "outer");
    CHECK(exchange_error_text(
              {403, {{"x-ms-diagnostics", "2000010;reason=\"The user is blocked.\""}}, std::string(64, '\0')}) ==
          "2000010;reason=\"The user is blocked.\"");
    CHECK(exchange_error_text({403, {}, std::string(64, '\0')}) == "no error text in the answer");
}

namespace {

std::vector<Cmdlet> mailbox_writes(int count) {
    std::vector<Cmdlet> writes;
    for (int i = 0; i < count; ++i)
        writes.push_back(
            {"Set-CASMailbox",
             {{"Identity", "guid-" + std::to_string(i)}, {"SmtpClientAuthenticationDisabled", SettingValue{}}}});
    return writes;
}

// Answers a $batch request with the given status per item id, in reverse order.
std::function<HttpResponse(const HttpRequest&)> batch_answer(std::map<std::string, int> statuses = {},
                                                             std::set<std::string> omit = {}) {
    return [=](const HttpRequest& request) {
        const value body = value::parse(request.body);
        const auto& items = body.at("requests").as_array();
        value responses = value::array();
        std::size_t n = 0;
        for (auto it = items.rbegin(); it != items.rend(); ++it) {
            const std::string id = it->at("id").as_string();
            if (omit.count(id)) continue;
            const int status = statuses.count(id) ? statuses.at(id) : 200;
            value response = value::object();
            response["id"] = value::string(id);
            response["status"] = value::number(status);
            response["body"] =
                status == 200 ? value::parse(R"({"@adminapi.warnings":[],"value":[]})")
                              : value::parse(error_answer(status, "Ex6F9304|Microsoft.Exchange.Configuration.Tasks."
                                                                  "ManagementObjectNotFoundException|object not found.")
                                                 .body);
            responses[n++] = response;
        }
        value answer = value::object();
        answer["responses"] = responses;
        return HttpResponse{200, {}, answer.serialize()};
    };
}

}  // namespace

TEST_CASE("independent writes go ten to a $batch request, matched by id", "[exchange][batch]") {
    Fixture f;
    for (int i = 0; i < 3; ++i) f.exchange.script.push_back(batch_answer({{"3", 400}}));
    const auto outcomes = f.client.write_many(mailbox_writes(25), 1);
    REQUIRE(f.exchange.requests.size() == 3);
    const HttpRequest& first = f.exchange.requests[0];
    CHECK(first.url == "https://outlook.office365.com/adminapi/beta/contoso.onmicrosoft.com/$batch");
    CHECK(first.headers.at("Prefer") == "odata.continue-on-error");
    const value body = value::parse(first.body);
    REQUIRE(body.at("requests").size() == 10);
    const value& item = body.at("requests").at(0);
    CHECK(item.at("id").as_string() == "1");
    CHECK(item.at("method").as_string() == "POST");
    CHECK(item.at("url").as_string() == base);
    CHECK(item.at("headers").at("X-CmdletName").as_string() == "Set-CASMailbox");
    CHECK(
        item.at("body").serialize() ==
        R"({"CmdletInput":{"CmdletName":"Set-CASMailbox","Parameters":{"Identity":"guid-0","SmtpClientAuthenticationDisabled":null}}})");
    CHECK(value::parse(f.exchange.requests[2].body).at("requests").size() == 5);
    REQUIRE(outcomes.size() == 25);
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        INFO(i);
        const bool third_of_a_batch = i % 10 == 2;
        CHECK(outcomes[i].made() == !third_of_a_batch);
    }
    CHECK_THAT(outcomes[2].error, Catch::StartsWith("Set-CASMailbox failed: HTTP 400: object not found. "
                                                    "(ManagementObjectNotFoundException) (client-request-id ") &&
                                      Catch::EndsWith(", $batch item 3)"));
    CHECK_FALSE(outcomes[2].uncertain());
}

TEST_CASE("a throttled batch item is sent again on its own", "[exchange][batch]") {
    Fixture f;
    f.exchange.script.push_back(batch_answer({{"2", 429}}));
    f.exchange.answer(page(""));
    const auto outcomes = f.client.write_many(mailbox_writes(3), 1);
    REQUIRE(f.exchange.requests.size() == 2);
    CHECK(f.exchange.requests[1].url == base);
    CHECK(value::parse(f.exchange.requests[1].body).at("CmdletInput").at("Parameters").at("Identity").as_string() ==
          "guid-1");
    CHECK((outcomes[0].made() && outcomes[1].made() && outcomes[2].made()));
}

TEST_CASE("every batch item carries the bearer and the anchor, and an item refused its credentials is sent on its own",
          "[exchange][batch]") {
    Fixture f;
    f.exchange.script.push_back(batch_answer({{"2", 401}}));
    f.exchange.answer(page(""));
    const auto outcomes = f.client.write_many(mailbox_writes(3), 1);
    REQUIRE(f.exchange.requests.size() == 2);
    const value batch = value::parse(f.exchange.requests[0].body);  // kept alive while its items are walked
    for (const auto& item : batch.at("requests").as_array()) {
        CHECK(item.at("headers").at("Authorization").as_string() == "Bearer token-1");
        CHECK(item.at("headers").at("X-AnchorMailbox").as_string() ==
              "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com");
    }
    CHECK(f.exchange.requests[1].url == base);  // the refused item, alone
    CHECK((outcomes[0].made() && outcomes[1].made() && outcomes[2].made()));
}

TEST_CASE("a batch the server refuses falls back to one write at a time", "[exchange][batch]") {
    Fixture f;
    f.exchange.answer({404, {}, R"({"error":{"code":"NotFound","message":"No HTTP resource was found."}})"});
    for (int i = 0; i < 3; ++i) f.exchange.answer(page(""));
    const auto outcomes = f.client.write_many(mailbox_writes(3), 1);
    CHECK(f.exchange.requests.size() == 4);
    CHECK((outcomes[0].made() && outcomes[1].made() && outcomes[2].made()));
}

TEST_CASE("a batch whose outcome is unknown marks every item uncertain, never resends", "[exchange][batch][safety]") {
    Fixture f;
    SECTION("503 on the batch") {
        f.exchange.answer({503, {}, ""});
        const auto outcomes = f.client.write_many(mailbox_writes(3), 1);
        CHECK(f.exchange.requests.size() == 1);
        for (const auto& outcome : outcomes) {
            CHECK_FALSE(outcome.made());
            CHECK(outcome.uncertain());
        }
    }
    SECTION("an item the answer does not mention") {
        f.exchange.script.push_back(batch_answer({}, {"2"}));
        const auto outcomes = f.client.write_many(mailbox_writes(3), 1);
        CHECK(outcomes[0].made());
        CHECK_FALSE(outcomes[1].made());
        CHECK(outcomes[1].uncertain());
        CHECK_THAT(outcomes[1].error,
                   Catch::StartsWith("Set-CASMailbox failed: the $batch answer has no response for item 2"));
        CHECK(outcomes[2].made());
    }
}

TEST_CASE("a batch item whose status is not a whole number is no answer, so uncertain", "[exchange][batch][safety]") {
    for (const std::string status : {"1e300", "200.5", "99999999999"}) {
        INFO(status);
        Fixture f;
        f.exchange.answer({200,
                           {},
                           R"({"responses":[{"id":"1","status":200,"body":{"value":[]}},)"
                           R"({"id":"2","status":)" +
                               status + R"(,"body":{"value":[]}}]})"});
        const auto outcomes = f.client.write_many(mailbox_writes(2), 1);
        CHECK(outcomes[0].made());
        CHECK_FALSE(outcomes[1].made());
        CHECK(outcomes[1].uncertain());
        CHECK_THAT(outcomes[1].error,
                   Catch::StartsWith("Set-CASMailbox failed: the $batch answer has no response for item 2"));
    }
}

TEST_CASE("batches run concurrently up to the bound", "[exchange][batch]") {
    // A thread-safe endpoint that records how many batches were in flight at once.
    class ConcurrentEndpoint : public HttpTransport {
    public:
        std::mutex mutex;
        std::condition_variable overlap;
        int in_flight = 0, most = 0, requests = 0;
        HttpResponse post(const HttpRequest& request) override {
            {
                // Hold the first request until a second is in flight: proves the overlap
                // without depending on timing (the timeout only stops a broken client hanging).
                std::unique_lock lock(mutex);
                ++requests;
                most = std::max(most, ++in_flight);
                overlap.notify_all();
                overlap.wait_for(lock, std::chrono::seconds(5), [&] { return most >= 2; });
            }
            HttpResponse answer = batch_answer()(request);
            std::lock_guard lock(mutex);
            --in_flight;
            return answer;
        }
    };
    Fixture f;
    ConcurrentEndpoint endpoint;
    ExchangeClient client{
        endpoint, f.tokens, {"https://outlook.office365.com", "contoso.onmicrosoft.com", 1000, 3, {}}, {}, 7};
    const auto outcomes = client.write_many(mailbox_writes(100), 4);
    CHECK(endpoint.requests == 10);
    CHECK(endpoint.most <= 4);
    CHECK(endpoint.most >= 2);
    CHECK(std::all_of(outcomes.begin(), outcomes.end(), [](const WriteOutcome& o) { return o.made(); }));
}

TEST_CASE("a page that cannot be read fails the read, and says why", "[exchange][safety]") {
    Fixture f;
    SECTION("not JSON") {
        f.exchange.answer({200, {}, "<html>Service Unavailable</html>"});
        CHECK_THAT(error_of([&] { f.read_all("Get-User"); }),
                   Catch::StartsWith("Get-User failed: the answer is not JSON ("));
    }
    SECTION("a value that is not an array") {
        f.exchange.answer({200, {}, R"({"value":{"Name":"a"}})"});
        CHECK_THAT(error_of([&] { f.read_all("Get-User"); }),
                   Catch::StartsWith("Get-User failed: the answer's \"value\" is not an array"));
    }
    SECTION("a nextLink that is not a string: a partial list must not look whole") {
        f.exchange.answer({200, {}, R"({"value":[{"Name":"a"}],"@odata.nextLink":42})"});
        CHECK_THAT(error_of([&] { f.read_all("Get-User"); }),
                   Catch::StartsWith("Get-User failed: the answer's @odata.nextLink is not a string"));
    }
}

TEST_CASE("a read that never ends is refused after max_pages", "[exchange][safety]") {
    Fixture f;
    ExchangeSettings settings{"https://outlook.office365.com", "contoso.onmicrosoft.com"};
    settings.max_pages = 3;
    ExchangeClient client{f.exchange, f.tokens, settings, [](std::chrono::milliseconds) {}, 1};
    for (int i = 0; i < 3; ++i) f.exchange.answer(page(R"({"Name":"a"})", base + "?$skiptoken=" + std::to_string(i)));
    CHECK_THAT(error_of([&] {
                   client.read(
                       {"Get-User", {}}, {}, [] {}, [](const simdjson::dom::element&) {});
               }),
               Catch::StartsWith("Get-User failed: more than 3 pages; the list is not read to its end"));
    CHECK(f.exchange.requests.size() == 3);  // not even a look-ahead past the last page allowed
}
