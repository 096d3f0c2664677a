// --trace: what the trace files keep of a request and its answer, and what they never keep.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/trace.h"
#include "fake_http.h"
#include "temp_dir.h"

using namespace authgate;
using namespace authgate::testing;

TEST_CASE("secrets are taken out of traced text, whatever carries them", "[trace][safety]") {
    const std::string jwt = "eyJ0eXAiOiJKV1QifQ.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl";
    const auto [what, text, expected] = GENERATE_REF(table<std::string, std::string, std::string>({
        {"a bearer in text", "Bearer abc.DEF-ghi_123 then", "Bearer [removed] then"},
        {"a client assertion in a form", "grant_type=client_credentials&client_assertion=" + jwt + "&scope=x",
         "grant_type=client_credentials&client_assertion=[removed]&scope=x"},
        {"an access token in JSON", R"({"token_type":"Bearer","access_token":"opaque-secret","expires_in":3599})",
         R"({"token_type":"Bearer","access_token":"[removed]","expires_in":3599})"},
        {"a $batch item's Authorization", R"({"headers":{"Authorization":"Bearer x.y.z","X-CmdletName":"Set-User"}})",
         R"({"headers":{"Authorization":"[removed]","X-CmdletName":"Set-User"}})"},
        {"a JWT on its own", "token " + jwt + ".", "token [removed]"},
        {"text that only looks like it", "eyJust a word and Bearer", "eyJust a word and Bearer"},
    }));
    INFO(what);
    CHECK(remove_secrets(text) == expected);
}

TEST_CASE("a traced request and its answer go to a file of their own, 0600, without the bearer", "[trace][safety]") {
    TempDir dir;
    const std::string folder = (std::filesystem::path(dir.path()) / "trace").string();
    auto inner = std::make_unique<ScriptedTransport>();
    ScriptedTransport& script = *inner;
    script.answer({200,
                   {{"set-cookie", "affinity=secret-cookie"}, {"content-type", "application/json"}},
                   std::string("{\"value\":[]}") + '\0'});
    auto traced = make_tracing_transport(std::move(inner), folder);
    const HttpResponse response =
        traced->post({"https://outlook.office365.com/adminapi/beta/t/InvokeCommand",
                      {{"Authorization", "Bearer top-secret-token"}, {"X-CmdletName", "Get-User"}},
                      R"({"CmdletInput":{"CmdletName":"Get-User"}})"});
    CHECK(response.status == 200);
    CHECK(script.requests.at(0).headers.at("Authorization") == "Bearer top-secret-token");  // sent as it was

    std::vector<std::filesystem::path> files(std::filesystem::directory_iterator(folder), {});
    REQUIRE(files.size() == 1);
    CHECK_THAT(files[0].filename().string(), Catch::EndsWith("-0001-InvokeCommand.txt"));
    struct stat info {};
    REQUIRE(::stat(files[0].c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    REQUIRE(::stat(folder.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0700);
    std::stringstream text;
    text << std::ifstream(files[0]).rdbuf();
    CHECK_THAT(text.str(), Catch::StartsWith("POST https://outlook.office365.com/adminapi/beta/t/InvokeCommand\n") &&
                               Catch::Contains("Authorization: [removed]\n") &&
                               Catch::Contains("X-CmdletName: Get-User\n") &&
                               Catch::Contains("--- answer: HTTP 200 after ") &&
                               Catch::Contains("set-cookie: [removed]\n") && Catch::Contains("{\"value\":[]}\\0"));
    CHECK(text.str().find("top-secret-token") == std::string::npos);
    CHECK(text.str().find("secret-cookie") == std::string::npos);
}

TEST_CASE("a trace folder that is a link is refused", "[trace][safety]") {
    TempDir dir;
    std::filesystem::create_directory(std::filesystem::path(dir.path()) / "elsewhere");
    std::filesystem::create_directory_symlink(std::filesystem::path(dir.path()) / "elsewhere",
                                              std::filesystem::path(dir.path()) / "trace");
    CHECK_THROWS_AS(make_tracing_transport(std::make_unique<ScriptedTransport>(),
                                           (std::filesystem::path(dir.path()) / "trace").string()),
                    ConnectorError);
}
