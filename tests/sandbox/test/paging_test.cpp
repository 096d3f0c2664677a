// Paging as Exchange does it: @odata.nextLink with a $skiptoken, followed by a POST of the same
// body; links expire; pages can fail and be fetched again.
#include <catch2/catch.hpp>

#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {

using web::json::value;

const value kAllMailboxes = params(R"({"ResultSize":"Unlimited"})");

// The $skiptoken of an answer's nextLink, which must point at this sandbox's InvokeCommand.
std::string skiptoken_of(const HttpResponse& response, const std::string& origin = kOrigin) {
    const value body = body_of(response);
    REQUIRE(body.has_field("@odata.nextLink"));
    const std::string link = body.at("@odata.nextLink").as_string();
    const std::string prefix = origin + "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand?$skiptoken=";
    REQUIRE(link.starts_with(prefix));
    return link.substr(prefix.size());
}

HttpResponse follow(SandboxFixture& fixture, const std::string& token, const value& parameters = kAllMailboxes) {
    return fixture.invoke("Get-CASMailbox", parameters, {{"Prefer", "odata.maxpagesize=2"}}, {{"$skiptoken", token}});
}

}  // namespace

TEST_CASE("a read longer than a page comes in pages linked by @odata.nextLink") {
    SandboxFixture fixture;
    const HttpResponse first = fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=2"}});
    CHECK(identities(values_of(first)) == std::vector<std::string>{"scanner3f", "ceo"});
    const HttpResponse second = follow(fixture, skiptoken_of(first));
    CHECK(identities(values_of(second)) == std::vector<std::string>{"printer", "alice"});
    const HttpResponse third = follow(fixture, skiptoken_of(second));
    CHECK(identities(values_of(third)) == std::vector<std::string>{"bob"});
    CHECK_FALSE(body_of(third).has_field("@odata.nextLink"));
}

TEST_CASE("a read's later pages show the mailboxes as listed, and a write after it shows in the next read") {
    SandboxFixture fixture;
    const HttpResponse first = fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=2"}});
    fixture.invoke("Set-CASMailbox", params(R"({"Identity":"alice","SmtpClientAuthenticationDisabled":true})"));
    const value listed = values_of(follow(fixture, skiptoken_of(first))).at(1);
    REQUIRE(listed.at("Identity").as_string() == "alice");
    CHECK(listed.at("SmtpClientAuthenticationDisabled").is_null());
    const value read_again = values_of(fixture.invoke("Get-CASMailbox", params(R"({"Identity":"alice"})"))).at(0);
    CHECK(read_again.at("SmtpClientAuthenticationDisabled").as_bool());
}

TEST_CASE("$select given on the first page shapes every page") {
    SandboxFixture fixture;
    const HttpResponse first = fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=3"}},
                                              {{"$select", "Guid"}});
    const HttpResponse second = follow(fixture, skiptoken_of(first));
    CHECK(values_of(second).at(0).serialize() ==
          R"({"Identity":"alice","Guid@odata.type":"#Guid","Guid":"9feb45ad-0000-4000-8000-000000000004"})");
}

TEST_CASE("a nextLink is on the origin the client addressed") {
    SandboxFixture fixture;
    const HttpResponse first = fixture.invoke("Get-CASMailbox", kAllMailboxes,
                                              {{"Prefer", "odata.maxpagesize=2"}, {"Host", "localhost:8443"}});
    CHECK_FALSE(skiptoken_of(first, "https://localhost:8443").empty());
}

TEST_CASE("a page may be fetched again until its link expires") {
    SandboxFixture fixture({.link_expiry = std::chrono::seconds(60)});
    const std::string token =
        skiptoken_of(fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=2"}}));
    CHECK(follow(fixture, token).status == 200);
    fixture.advance(std::chrono::seconds(59));
    CHECK(follow(fixture, token).status == 200);
    fixture.advance(std::chrono::seconds(1));
    const HttpResponse expired = follow(fixture, token);
    CHECK(expired.status == 400);
    CHECK(body_of(expired).at("error").at("message").as_string() ==
          "Expired or Invalid pagination request. Default Expiry time is 00:30:00");
}

TEST_CASE("a nextLink followed with another body is an invalid pagination request") {
    SandboxFixture fixture;
    const std::string token =
        skiptoken_of(fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=2"}}));
    CHECK(follow(fixture, token, params(R"({"ResultSize":100})")).status == 400);
    CHECK(follow(fixture, "not-a-token").status == 400);
    CHECK(follow(fixture, token).status == 200);
}

TEST_CASE("the page size is odata.maxpagesize, lowered to --page-size-max") {
    SandboxFixture fixture({.page_size_max = 3});
    CHECK(values_of(fixture.invoke("Get-CASMailbox", kAllMailboxes)).size() == 3);
    CHECK(values_of(fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=1000"}})).size() ==
          3);
    CHECK(values_of(fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=1"}})).size() == 1);
}

TEST_CASE("the fail_page fault fails the k-th page once, and that page can then be fetched") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"fail_page": {"page": 2, "status": 500}})");
    const std::string token =
        skiptoken_of(fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=2"}}));
    CHECK(follow(fixture, token).status == 500);
    CHECK(identities(values_of(follow(fixture, token))) == std::vector<std::string>{"printer", "alice"});
    CHECK(fixture.state().at("faults").at("fired").at("fail_page").as_integer() == 1);
}

TEST_CASE("the expire_links fault makes every nextLink expired") {
    SandboxFixture fixture;
    const std::string token =
        skiptoken_of(fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=2"}}));
    fixture.set_faults(R"({"expire_links": true})");
    CHECK(follow(fixture, token).status == 400);
}

TEST_CASE("the foreign_next_link fault puts nextLink on another origin") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"foreign_next_link": true})");
    const HttpResponse first = fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=2"}});
    CHECK_FALSE(skiptoken_of(first, "https://attacker.invalid").empty());
    fixture.set_faults(R"({"foreign_next_link": "https://127.0.0.1:9"})");
    const HttpResponse listener = fixture.invoke("Get-CASMailbox", kAllMailboxes, {{"Prefer", "odata.maxpagesize=2"}});
    CHECK_FALSE(skiptoken_of(listener, "https://127.0.0.1:9").empty());
}

TEST_CASE("without ResultSize Unlimited Get-CASMailbox stops at ResultSize with Exchange's warning") {
    SandboxFixture fixture;
    const HttpResponse limited = fixture.invoke("Get-CASMailbox", params(R"({"ResultSize":2})"));
    CHECK(values_of(limited).size() == 2);
    CHECK(body_of(limited).at("@adminapi.warnings").at(0).as_string() ==
          "There are more results available than are currently displayed. To view them, increase the value for the "
          "ResultSize parameter.");
    CHECK_FALSE(body_of(limited).has_field("@odata.nextLink"));
}

}  // namespace sandbox::test
