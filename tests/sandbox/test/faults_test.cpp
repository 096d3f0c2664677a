// Faults: each fires as many times as its count says, answers as documented, and is reported in
// the state document.
#include <catch2/catch.hpp>

#include "invoke_command.h"
#include "sandbox_fixture.h"

namespace sandbox::test {
namespace {
using web::json::value;
const value kNoParameters = value::object();
}  // namespace

TEST_CASE("throttle answers 429 with Retry-After as many times as its count, then lets requests through") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"throttle": {"count": 2, "retry_after": "0.5"}})");
    for (int i = 0; i < 2; ++i) {
        const HttpResponse throttled = fixture.invoke("Get-TransportConfig", kNoParameters);
        CHECK(throttled.status == 429);
        CHECK(throttled.headers.get("Retry-After") == "0.5");
    }
    CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).status == 200);
    const value faults = fixture.state().at("faults");
    CHECK(faults.at("fired").at("throttle").as_integer() == 2);
    CHECK(faults.at("active").at("throttle").at("count").as_integer() == 0);
}

TEST_CASE("a throttle with retry_after null sends no Retry-After, and a cmdlet filter spares other cmdlets") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"throttle": {"count": 1, "retry_after": null, "cmdlet": "Set-CASMailbox"}})");
    CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).status == 200);
    const HttpResponse throttled =
        fixture.invoke("Set-CASMailbox", params(R"({"Identity":"ceo","SmtpClientAuthenticationDisabled":true})"));
    CHECK(throttled.status == 429);
    CHECK_FALSE(throttled.headers.get("Retry-After").has_value());
}

TEST_CASE("server_error answers its status") {
    for (const int status : {500, 502, 503, 504}) {
        SandboxFixture fixture;
        fixture.set_faults(R"({"server_error": {"count": 1, "status": )" + std::to_string(status) + "}}");
        CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).status == status);
        CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).status == 200);
    }
}

TEST_CASE("transient_exception answers 400 naming the exception in the details") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"transient_exception": {"count": 1, "name": "DCOverloadedException"}})");
    const HttpResponse response = fixture.invoke("Get-CASMailbox", params(R"({"ResultSize":"Unlimited"})"));
    CHECK(response.status == 400);
    CHECK_THAT(detail_of(response), Catch::Contains("|Microsoft.Exchange.Data.Directory.DCOverloadedException|"));
}

TEST_CASE("a forbidden cmdlet answers 401 'User is not allowed to call'") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"forbidden_cmdlets": ["Set-User"]})");
    const HttpResponse response = fixture.invoke("Set-User",
                                                 params(R"({"Identity":"alice","AuthenticationPolicy":null})"));
    CHECK(response.status == 401);
    CHECK(body_of(response).at("error").at("message").as_string() == "User is not allowed to call Set-User");
    CHECK(fixture.invoke("Get-User", params(R"({"Identity":"alice"})")).status == 200);
}

TEST_CASE("nul_403 answers 403 with a body of NUL bytes and the reason in x-ms-diagnostics") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"nul_403": {"count": 1}})");
    const HttpResponse response = fixture.invoke("Get-TransportConfig", kNoParameters);
    CHECK(response.status == 403);
    CHECK(response.body == std::string(4096, '\0'));
    CHECK_THAT(response.headers.get("x-ms-diagnostics").value_or(""),
               Catch::Contains("isn't supported in this scenario"));
}

TEST_CASE("expire_tokens makes the tokens issued so far expire, once") {
    SandboxFixture fixture;
    CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).status == 200);
    fixture.set_faults(R"({"expire_tokens": {"count": 1}})");
    const HttpResponse expired = fixture.invoke("Get-TransportConfig", kNoParameters);
    CHECK(expired.status == 401);
    CHECK_THAT(expired.headers.get("x-ms-diagnostics").value_or(""), Catch::Contains("The token has expired."));
    CHECK(fixture.state().at("faults").at("fired").at("expire_tokens").as_integer() == 1);
    CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).status == 401);  // that token stays expired
}

TEST_CASE("drop_connection before_response runs the cmdlet and loses the answer") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"drop_connection": {"count": 1, "when": "before_response", "cmdlet": "Set-CASMailbox"}})");
    CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).delivery == Delivery::answer);
    const HttpResponse dropped =
        fixture.invoke("Set-CASMailbox", params(R"({"Identity":"ceo","SmtpClientAuthenticationDisabled":false})"));
    CHECK(dropped.delivery == Delivery::drop_connection);
    CHECK(fixture.state().at("mutations").at(0).at("result").as_string() == "changed");
}

TEST_CASE("drop_connection before_processing does not run the cmdlet") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"drop_connection": {"count": 1, "when": "before_processing"}})");
    const HttpResponse dropped =
        fixture.invoke("Set-CASMailbox", params(R"({"Identity":"ceo","SmtpClientAuthenticationDisabled":false})"));
    CHECK(dropped.delivery == Delivery::drop_connection);
    CHECK(fixture.state().at("mutations").size() == 0);
}

TEST_CASE("drop_connection answers: cut in the body keeps the real headers, nothing closes the connection") {
    SandboxFixture fixture;
    fixture.set_faults(
        R"({"drop_connection": {"count": 1, "answer": "partial_body", "cmdlet": "Get-TransportConfig"}})");
    const HttpResponse cut = fixture.invoke("Get-TransportConfig", kNoParameters);
    CHECK(cut.delivery == Delivery::drop_in_body);
    CHECK(cut.status == 200);
    CHECK(body_of(cut).at("value").size() == 1);  // what would have been sent; the server sends half of it
    fixture.set_faults(
        R"({"drop_connection": {"count": 1, "when": "before_response", "answer": "nothing", "cmdlet": "Set-CASMailbox"}})");
    const HttpResponse closed =
        fixture.invoke("Set-CASMailbox", params(R"({"Identity":"ceo","SmtpClientAuthenticationDisabled":false})"));
    CHECK(closed.delivery == Delivery::close_without_answer);
    CHECK(fixture.state().at("mutations").size() == 1);
    CHECK(fixture.state().at("faults").at("active").at("drop_connection").at("answer").as_string() == "nothing");
}

TEST_CASE("slow_answer handles the request and holds its answer back") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"slow_answer": {"count": 1, "delay_ms": 4000, "cmdlet": "Set-CASMailbox"}})");
    CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).delay_ms == 0);
    const HttpResponse slow = fixture.invoke("Set-CASMailbox",
                                             params(R"({"Identity":"ceo","SmtpClientAuthenticationDisabled":false})"));
    CHECK(slow.status == 200);
    CHECK(slow.delay_ms == 4000);
    CHECK(fixture.state().at("mutations").at(0).at("result").as_string() == "changed");
    CHECK(fixture.state().at("faults").at("fired").at("slow_answer").as_integer() == 1);
}

TEST_CASE("token_garbage answers 200 with no token after the requests it lets through") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"token_garbage": {"count": 3, "kind": "html", "after": 1}})");
    CHECK_FALSE(fixture.token().empty());  // the first request is let through
    const HttpResponse html = fixture.post_token({});
    CHECK(html.status == 200);
    CHECK(html.headers.get("Content-Type") == "text/html; charset=utf-8");
    CHECK_THAT(html.body, Catch::StartsWith("<!DOCTYPE html>"));
    fixture.set_faults(R"({"token_garbage": {"kind": "not_json"}})");
    CHECK(fixture.post_token({}).body == "OK");
    fixture.set_faults(R"({"token_garbage": {"kind": "no_access_token"}})");
    const HttpResponse empty = fixture.post_token({});
    CHECK_FALSE(body_of(empty).has_field("access_token"));
    CHECK(fixture.post_token({}).status == 400);  // spent: the usual checks answer again
}

TEST_CASE("latency_ms delays admin API answers") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"latency_ms": 150})");
    const auto started = std::chrono::steady_clock::now();
    CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).status == 200);
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(150));
}

TEST_CASE("admin API requests are reads or writes by their path and cmdlet") {
    const auto request = [](const std::string& path, const std::map<std::string, std::string>& headers,
                            const std::string& body, const QueryParameters& query = {}) {
        HttpRequest made;
        made.method = "POST";
        made.path = path;
        made.query = query;
        made.body = body;
        for (const auto& [name, content] : headers) made.headers.set(name, content);
        return made;
    };
    const std::string invoke = "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand";
    const auto body = [](const std::string& cmdlet) {
        return R"({"CmdletInput":{"CmdletName":")" + cmdlet + R"(","Parameters":{}}})";
    };
    using Kind = AdminRequestKind;
    const std::vector<std::pair<HttpRequest, std::optional<Kind>>> table = {
        {request(invoke, {{"X-CmdletName", "Get-CASMailbox"}}, body("Get-CASMailbox")), Kind::read},
        {request(invoke, {{"X-CmdletName", "get-user"}}, ""), Kind::read},
        {request(invoke, {}, body("Get-AuthenticationPolicy")), Kind::read},
        {request(invoke, {}, "", {{"$skiptoken", "abc"}}), Kind::read},
        {request("/adminapi/v1.0/contoso.onmicrosoft.com/EXOModuleFile", {}, ""), Kind::read},
        {request(invoke, {{"X-CmdletName", "Set-CASMailbox"}}, body("Set-CASMailbox")), Kind::write},
        {request(invoke, {}, body("New-AuthenticationPolicy")), Kind::write},
        {request(invoke, {}, "not json"), Kind::write},
        {request("/adminapi/beta/contoso.onmicrosoft.com/$batch", {}, R"({"requests":[]})"), Kind::write},
        {request("/adminapi/beta/contoso.onmicrosoft.com/Other", {}, ""), Kind::other},
        {request("/contoso.onmicrosoft.com/oauth2/v2.0/token", {}, ""), std::nullopt},
        {request("/_sandbox/state", {}, ""), std::nullopt},
    };
    for (const auto& [made, kind] : table) {
        INFO(made.path << " " << made.headers.get("X-CmdletName").value_or("") << " " << made.body);
        CHECK(admin_request_kind(made) == kind);
    }
}

TEST_CASE("read_latency_ms and write_latency_ms apply to their kind, latency_ms to the rest") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"latency_ms": 7, "read_latency_ms": 100, "write_latency_ms": 30})");
    const FaultSettings both = FaultSettings::parse(fixture.state().at("faults").at("active"));
    CHECK(both.latency_ms_for(AdminRequestKind::read) == 100);
    CHECK(both.latency_ms_for(AdminRequestKind::write) == 30);
    CHECK(both.latency_ms_for(AdminRequestKind::other) == 7);
    fixture.set_faults(R"({"latency_ms": 7, "write_latency_ms": 0})");
    const FaultSettings writes_only = FaultSettings::parse(fixture.state().at("faults").at("active"));
    CHECK(writes_only.latency_ms_for(AdminRequestKind::read) == 7);
    CHECK(writes_only.latency_ms_for(AdminRequestKind::write) == 0);
    CHECK_FALSE(fixture.state().at("faults").at("active").has_field("read_latency_ms"));
}

TEST_CASE("tls_resumption false is shown in the state, and the default true is not") {
    SandboxFixture fixture;
    CHECK(fixture.sandbox().resumes_tls_sessions());
    CHECK_FALSE(fixture.state().at("faults").at("active").has_field("tls_resumption"));
    fixture.set_faults(R"({"tls_resumption": false})");
    CHECK_FALSE(fixture.sandbox().resumes_tls_sessions());
    CHECK(fixture.state().at("faults").at("active").at("tls_resumption") == value::boolean(false));
    fixture.set_faults(R"({"tls_resumption": true})");
    CHECK(fixture.sandbox().resumes_tls_sessions());
}

TEST_CASE("the state counts TLS handshakes, full and resumed") {
    SandboxFixture fixture;
    CHECK(fixture.state().at("tls").serialize() == R"({"handshakes":0,"resumed":0})");
    fixture.sandbox().count_tls_handshake(TlsHandshake::full);
    fixture.sandbox().count_tls_handshake(TlsHandshake::resumed);
    CHECK(fixture.state().at("tls").serialize() == R"({"handshakes":2,"resumed":1})");
}

TEST_CASE("a fault document with a mistake is refused whole, naming the mistake") {
    SandboxFixture fixture;
    const std::vector<std::pair<std::string, std::string>> documents = {
        {R"({"throttel": {"count": 1}})", "no member 'throttel'"},
        {R"({"server_error": {"status": 501}})", "server_error.status"},
        {R"({"drop_connection": {"answer": "half"}})",
         R"(fault 'drop_connection.answer': must be "headers", "partial_body" or "nothing")"},
        {R"({"slow_answer": {"delay_ms": -1}})", "slow_answer.delay_ms"},
        {R"({"token_garbage": {"kind": "xml"}})",
         R"(fault 'token_garbage.kind': must be "not_json", "html" or "no_access_token")"},
        {R"({"throttle": {"count": "1"}})", "throttle.count"},
        {R"({"drop_connection": {"when": "after_response"}})",
         R"(fault 'drop_connection.when': must be "before_response" or "before_processing")"},
        {R"({"drop_connection": {"when": 3}})", "drop_connection.when"},
        {R"({"foreign_next_link": "http://127.0.0.1:9"})", "foreign_next_link"},
        {R"({"foreign_next_link": "https://127.0.0.1:9/path"})", "foreign_next_link"},
        {R"({"read_latency_ms": -1})", "fault 'document.read_latency_ms': must be an integer of at least 0"},
        {R"({"write_latency_ms": "300"})", "document.write_latency_ms"},
        {R"({"tls_resumption": "no"})", "fault 'tls_resumption': must be true or false"},
        {"[1]", "must be a JSON object"},
        {"{", "not JSON"},
    };
    for (const auto& [document, message_part] : documents) {
        const HttpResponse response = fixture.control("POST", "/_sandbox/faults", document);
        CHECK(response.status == 400);
        CHECK_THAT(body_of(response).at("error").as_string(), Catch::Contains(message_part));
    }
}

TEST_CASE("DELETE /_sandbox/faults clears the faults and GET shows them") {
    SandboxFixture fixture;
    fixture.set_faults(R"({"throttle": {"count": 5}, "forbidden_cmdlets": ["Set-User"]})");
    CHECK(body_of(fixture.control("GET", "/_sandbox/faults")).at("active").at("throttle").at("count").as_integer() ==
          5);
    CHECK(fixture.control("DELETE", "/_sandbox/faults").status == 200);
    CHECK(fixture.invoke("Get-TransportConfig", kNoParameters).status == 200);
    CHECK_FALSE(body_of(fixture.control("GET", "/_sandbox/faults")).at("active").has_field("throttle"));
}

}  // namespace sandbox::test
