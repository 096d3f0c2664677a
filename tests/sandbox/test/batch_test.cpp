// $batch: up to ten calls, answered by id in a shuffled but repeatable order.
#include <catch2/catch.hpp>
#include <set>

#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {

using web::json::value;

value item(const std::string& id, const std::string& cmdlet, const std::string& parameters,
           const std::string& url = kInvokeUrl) {
    value request = value::object(true);
    request["id"] = value::string(id);
    request["method"] = value::string("POST");
    request["url"] = value::string(url);
    value headers = value::object(true);
    headers["X-CmdletName"] = value::string(cmdlet);
    headers["Content-Type"] = value::string("application/json");
    request["headers"] = headers;
    request["body"] = params(R"({"CmdletInput":{"CmdletName":")" + cmdlet + R"(","Parameters":)" + parameters + "}}");
    return request;
}

value mailbox_writes(int count) {
    const std::vector<std::string> names = {"scanner3f", "ceo", "printer", "alice", "bob"};
    std::vector<value> requests;
    for (int i = 0; i < count; ++i) {
        requests.push_back(item(std::to_string(i + 1), "Set-CASMailbox",
                                R"({"Identity":")" + names[static_cast<size_t>(i) % names.size()] +
                                    R"(","SmtpClientAuthenticationDisabled":true})"));
    }
    return value::array(requests);
}

std::vector<std::string> ids(const HttpResponse& response) {
    std::vector<std::string> found;
    const value body = body_of(response);
    for (const value& answer : body.at("responses").as_array()) found.push_back(answer.at("id").as_string());
    return found;
}

value answer_for(const HttpResponse& response, const std::string& id) {
    const value body = body_of(response);
    for (const value& answer : body.at("responses").as_array()) {
        if (answer.at("id").as_string() == id) return answer;
    }
    FAIL("no response for id " << id);
    return value();
}

}  // namespace

TEST_CASE("a batch answers every request by id, in a shuffled order that repeats from run to run") {
    SandboxFixture fixture;
    const HttpResponse response = fixture.batch(mailbox_writes(5));
    REQUIRE(response.status == 200);
    const std::vector<std::string> order = ids(response);
    CHECK(std::set<std::string>(order.begin(), order.end()) == std::set<std::string>{"1", "2", "3", "4", "5"});
    CHECK(order != std::vector<std::string>{"1", "2", "3", "4", "5"});
    CHECK(ids(SandboxFixture().batch(mailbox_writes(5))) == order);
    CHECK(answer_for(response, "2").at("status").as_integer() == 200);
    CHECK(answer_for(response, "2").at("body").at("@adminapi.warnings").at(0).as_string() ==
          "The command completed successfully but no settings of 'ceo' have been modified.");
    CHECK(fixture.state().at("mutations").at(0).at("via").as_string() == "$batch");
    CHECK(fixture.state().at("requests").at("batch").as_integer() == 1);
    CHECK(fixture.state().at("requests").at("by_cmdlet").at("Set-CASMailbox").as_integer() == 5);
}

TEST_CASE("two responses are never left in request order") {
    SandboxFixture fixture;
    for (int round = 0; round < 5; ++round)
        CHECK(ids(fixture.batch(mailbox_writes(2))) == std::vector<std::string>{"2", "1"});
}

TEST_CASE("a batch of more than ten requests is refused") {
    SandboxFixture fixture;
    CHECK(fixture.batch(mailbox_writes(10)).status == 200);
    const HttpResponse refused = fixture.batch(mailbox_writes(11));
    CHECK(refused.status == 400);
    CHECK_THAT(body_of(refused).at("error").at("message").as_string(), Catch::Contains("at most 10"));
}

TEST_CASE("each batch item is checked like an InvokeCommand request") {
    SandboxFixture fixture;
    value bad_header = item("1", "Get-TransportConfig", "{}");
    bad_header["headers"]["X-CmdletName"] = value::string("Set-User");
    const value requests =
        value::array({bad_header,
                      item("2", "Get-TransportConfig", "{}",
                           "https://127.0.0.1:8443/adminapi/beta/fabrikam.onmicrosoft.com/InvokeCommand"),
                      item("3", "Get-TransportConfig", "{}",
                           "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand?$select=Identity"),
                      item("4", "Get-CASMailbox", R"({"Identity":"nobody"})")});
    const HttpResponse response = fixture.batch(requests);
    CHECK(answer_for(response, "1").at("status").as_integer() == 400);
    CHECK(answer_for(response, "2").at("status").as_integer() == 400);
    CHECK(answer_for(response, "3").at("body").at("value").at(0).serialize() == R"({"Identity":"Transport Settings"})");
    CHECK(answer_for(response, "4")
              .at("body")
              .at("error")
              .at("details")
              .at(0)
              .at("message")
              .as_string()
              .starts_with("Ex6F9304|"));
}

TEST_CASE("without odata.continue-on-error a batch stops at the first failure") {
    SandboxFixture fixture;
    const value requests =
        value::array({item("1", "Get-CASMailbox", R"({"Identity":"nobody"})"), item("2", "Get-TransportConfig", "{}")});
    const HttpResponse response = fixture.batch(requests, false);
    CHECK(answer_for(response, "1").at("status").as_integer() == 400);
    CHECK(answer_for(response, "2").at("status").as_integer() == 424);
}

TEST_CASE("a throttle fault for one cmdlet answers only its items, with Retry-After") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"throttle": {"count": 1, "retry_after": "0.5", "cmdlet": "Set-CASMailbox"}})");
    const value requests =
        value::array({item("a", "Get-TransportConfig", "{}"),
                      item("b", "Set-CASMailbox", R"({"Identity":"ceo","SmtpClientAuthenticationDisabled":false})")});
    const HttpResponse response = fixture.batch(requests);
    CHECK(response.status == 200);
    CHECK(answer_for(response, "a").at("status").as_integer() == 200);
    CHECK(answer_for(response, "b").at("status").as_integer() == 429);
    CHECK(answer_for(response, "b").at("headers").at("Retry-After").as_string() == "0.5");
    CHECK(fixture.state().at("mutations").size() == 0);
}

TEST_CASE("a throttle fault without a cmdlet answers the whole batch with 429") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"throttle": {"count": 1}})");
    const HttpResponse response = fixture.batch(mailbox_writes(2));
    CHECK(response.status == 429);
    CHECK(response.headers.get("Retry-After") == "1");
}

}  // namespace sandbox::test
