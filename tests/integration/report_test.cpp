// The migration report of a live tenant over real HTTPS: before an apply, whom the plan would cut
// off from the usage the journal kept; after it, the run, its changes and each grant. It names no
// connection setting.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "policies/time.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

std::string days_ago(int days) { return authgate::format_instant(authgate::now_utc() - std::chrono::hours(24) * days); }

std::string file_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

}  // namespace

TEST_CASE("the report shows whom the plan cuts off, then the apply that did it, and no connection setting",
          "[integration][report]") {
    Sandbox sandbox;
    const std::string state = sandbox.journal();
    // Sales-bot has no exception (the org switch cuts it off); the scanner has one.
    sandbox.load_usage(R"({"signins": [
        {"user": "sales-bot@contoso.com", "count": 312, "first": ")" +
                       days_ago(6) + R"(", "last": ")" + days_ago(1) + R"("},
        {"user": "scanner-3f@contoso.com", "count": 40, "first": ")" +
                       days_ago(5) + R"(", "last": ")" + days_ago(2) + R"("}]})");
    REQUIRE(sandbox.authgate({"usage", "-c", sandbox.example(), "--state", state}).exit_code == 0);

    const fs::path before = sandbox.folder() / "before.html";
    const RunResult made =
        sandbox.authgate({"report", "-c", sandbox.example(), "--state", state, "--out", before.string()});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    CHECK(made.out == "Wrote the report of 7 exceptions to " + before.string() + ".\n");
    const std::string page = file_text(before);
    CHECK(occurrences(page, "<tr class=\"exception\">") == 7);
    CHECK(page.find("<span id=\"sender-count\">2</span>") != std::string::npos);
    CHECK(page.find("<span id=\"cutoff-count\">1</span>") != std::string::npos);
    CHECK(page.find("<tr class=\"cutoff\"><td>sales-bot@contoso.com</td><td>SMTP AUTH</td><td>312 messages") !=
          std::string::npos);
    CHECK(page.find("<td>40 messages with Basic SMTP, last ") != std::string::npos);  // the scanner's last use
    CHECK(page.find("<svg id=\"burn-down\"") != std::string::npos);
    CHECK(page.find("SMTP AUTH on</div><div class=\"sub\">desired: SMTP AUTH off") != std::string::npos);
    CHECK(page.find("The journal holds no run.") != std::string::npos);

    REQUIRE(sandbox.authgate({"apply", "-c", sandbox.example(), "--auto-approve", "--state", state}).exit_code == 0);
    const fs::path after = sandbox.folder() / "after.html";
    REQUIRE(
        sandbox.authgate({"report", "-c", sandbox.example(), "--state", state, "--out", after.string()}).exit_code ==
        0);
    const std::string applied = file_text(after);
    CHECK(applied.find("<span id=\"cutoff-count\">0</span>") != std::string::npos);
    CHECK(applied.find("SMTP AUTH off</div><div class=\"sub\">desired: SMTP AUTH off") != std::string::npos);
    CHECK(occurrences(applied, "<tr class=\"run\">") == 1);
    CHECK(applied.find("verified: transport_config organization SmtpClientAuthenticationDisabled false → true") !=
          std::string::npos);
    CHECK(occurrences(applied, ", granted " + test_day()) == 2);  // the two exceptions the apply granted

    // The scanner's exception deleted from the desired state: granted, no longer declared.
    const fs::path desired = sandbox.folder() / "desired";
    fs::copy(sandbox.example(), desired, fs::copy_options::recursive);
    const std::string facilities = file_text(desired / "exceptions" / "facilities.toml");
    std::ofstream(desired / "exceptions" / "facilities.toml") << std::regex_replace(
        facilities, std::regex(R"(\[\[smtp_auth\.exception\]\]\nmailbox = "scanner-3f@contoso\.com"[^\[]*)"), "");
    const fs::path removed = sandbox.folder() / "removed.html";
    REQUIRE(
        sandbox.authgate({"report", "-c", desired.string(), "--state", state, "--out", removed.string()}).exit_code ==
        0);
    const std::string undeclared = file_text(removed);
    CHECK(occurrences(undeclared, "<tr class=\"exception\">") == 6);
    CHECK(undeclared.find("<tr class=\"undeclared\"><td>scanner-3f@contoso.com</td><td>facilities-it@contoso.com") !=
          std::string::npos);

    // Where the tenant, the certificate, the trust anchors and the journal are: on no page.
    for (const std::string& page_text : {page, applied, undeclared})
        for (const std::string& setting :
             {sandbox.origin(), sandbox.ca_bundle(), client_credentials().pem, state, sandbox.folder().string()}) {
            INFO(setting);
            CHECK(page_text.find(setting) == std::string::npos);
        }
}
