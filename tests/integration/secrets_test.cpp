// No access token, client assertion, private key, certificate password or webhook URL in anything
// authgate writes: standard output and error, logs at every level in both formats, the journal,
// saved plans, snapshots and the report page; on the paths that succeed and on those that fail.
// The real binary over real HTTPS; the sandbox tells which tokens it issued (their SHA-256) and
// which assertions it accepted (their jti).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include <openssl/sha.h>

#include "sandbox_fixture.h"

using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

// Distinctive, so that finding them anywhere can only be a leak.
const std::string pfx_password = "Pfx-canary-5e2d91c7-pass";
const std::string wrong_password = "Wrong-canary-0b7f4a13-pass";
const std::string webhook_secret = "hook-canary-93c1d7e0";
constexpr std::size_t token_length = 64;  // the sandbox's tokens: 48 random bytes, base64url

std::string file_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string sha256_hex(std::string_view text) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    static const char digits[] = "0123456789ABCDEF";
    std::string hex;
    for (unsigned char byte : digest) hex += {digits[byte >> 4], digits[byte & 15]};
    return hex;
}

bool base64url(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

// How many issued tokens `text` holds: every window of token length in every run of base64url
// characters is hashed, so a token is found whatever surrounds it.
int tokens_in(const std::string& text, const std::set<std::string>& issued_digests) {
    int found = 0;
    for (std::size_t start = 0; start < text.size();) {
        std::size_t end = start;
        while (end < text.size() && base64url(text[end])) ++end;
        for (std::size_t at = start; end - start >= token_length && at + token_length <= end; ++at)
            if (issued_digests.contains(sha256_hex(std::string_view(text).substr(at, token_length)))) ++found;
        start = end + 1;
    }
    return found;
}

// The lines of a PEM private key's body, each a distinctive 64-character piece of the key.
std::vector<std::string> key_lines(const std::string& pem_file) {
    std::istringstream pem(file_text(pem_file));
    std::vector<std::string> lines;
    bool in_key = false;
    for (std::string line; std::getline(pem, line);) {
        if (line.find("BEGIN PRIVATE KEY") != std::string::npos) in_key = true;
        else if (line.find("END PRIVATE KEY") != std::string::npos) in_key = false;
        else if (in_key) lines.push_back(line);
    }
    return lines;
}

// A copy of the bundled example as it reads today that notifies a webhook named by the environment.
std::string contoso_with_webhook(const Sandbox& sandbox) {
    const fs::path copy = sandbox.folder() / "desired";
    fs::copy(sandbox.example(), copy, fs::copy_options::recursive);
    std::ofstream(copy / "notifications.toml") << "[notifications]\nwebhook_url_env = \"AUTHGATE_WEBHOOK\"\n";
    return copy.string();
}

// Everything the runs wrote, and the credentials the sandboxes saw them use.
struct Sweep {
    std::string everything;
    std::set<std::string> token_digests;
    std::vector<std::string> jtis;
    int runs = 0;

    void keep(const RunResult& run) {
        everything += run.out + run.err;
        ++runs;
    }
    void keep(const fs::path& file) {
        REQUIRE(fs::exists(file));
        everything += file_text(file);
    }
    void keep_journal(const fs::path& database) {
        for (const std::string suffix : {"", "-wal", "-shm"})
            if (fs::exists(database.string() + suffix)) keep(database.string() + suffix);
    }
    void keep_credentials(const Sandbox& sandbox) {
        const auto credentials = sandbox.state().at("credentials");
        for (const auto& digest : credentials.at("issued_token_sha256").as_array())
            token_digests.insert(digest.as_string());
        for (const auto& jti : credentials.at("accepted_jtis").as_array()) jtis.push_back(jti.as_string());
    }
};

}  // namespace

TEST_CASE("the token scan finds a token whatever surrounds it", "[integration][secrets]") {
    const std::string token(token_length, 'k');
    const std::set<std::string> issued{sha256_hex(token)};
    CHECK(tokens_in("Authorization: Bearer " + token + "\n", issued) == 1);
    CHECK(tokens_in("{\"access_token\":\"" + token + "\"}", issued) == 1);
    CHECK(tokens_in("x" + token + "-y", issued) == 1);
    CHECK(tokens_in(token.substr(1), issued) == 0);
}

TEST_CASE("no token, assertion, key, password or webhook URL appears in any output, log, journal or saved plan",
          "[integration][secrets][safety]") {
    const fs::path pfx_folder = fs::path(client_credentials().pem).parent_path().parent_path() / "canary";
    if (!fs::exists(pfx_folder / "client.pfx")) {
        const RunResult made =
            run_program({AUTHGATE_SANDBOX_BINARY, "make-client-cert", "--out-dir", pfx_folder.string()},
                        {{"SANDBOX_PFX_PASSWORD", pfx_password}});
        REQUIRE(made.exit_code == 0);
    }
    const std::string pfx = (pfx_folder / "client.pfx").string();
    Sweep sweep;

    {
        Sandbox sandbox({"examples/contoso/live.json", {"--app-cert", (pfx_folder / "client.crt").string()}});
        const std::string desired = contoso_with_webhook(sandbox);
        const fs::path state = sandbox.folder() / "state.db";
        const fs::path saved_plan = sandbox.folder() / "reviewed.plan.json";
        const fs::path snapshot = sandbox.folder() / "evidence.json";
        const std::map<std::string, std::string> environment{
            {"AUTHGATE_CERT_PASSWORD", pfx_password},
            {"AUTHGATE_WEBHOOK", sandbox.origin() + "/_sandbox/webhook?key=" + webhook_secret}};
        // authgate with the PFX (its password from the environment), or with the PEM key.
        const auto with_pfx = [&](std::vector<std::string> args, std::map<std::string, std::string> extra = {}) {
            const auto flags = sandbox.connection_flags(pfx);
            args.insert(args.end(), flags.begin(), flags.end());
            for (const auto& [name, value] : environment) extra.emplace(name, value);
            return sandbox.authgate(args, extra, false);
        };
        const auto reconcile = [&](const std::string& mode, const std::string& format, const std::string& level) {
            return with_pfx({"reconcile", "-c", desired, "--once", "--mode", mode, "--log-format", format,
                             "--log-level", level, "--state", state.string()});
        };

        // Plans in every format, one saved.
        sweep.keep(with_pfx({"plan", "-c", desired, "--format", "text"}));
        sweep.keep(with_pfx({"plan", "-c", desired, "--format", "markdown", "--out", saved_plan.string()}));
        sweep.keep(sandbox.authgate({"plan", "-c", desired, "--format", "json"}, environment));
        // reconcile reporting drift, with every log format and level.
        for (const std::string format : {"text", "json"})
            for (const std::string level : {"error", "warning", "info", "debug"}) {
                const RunResult run = reconcile("report", format, level);
                CHECK(run.exit_code == 2);
                sweep.keep(run);
            }
        // The saved plan applied, then apply -c with nothing left to do.
        const RunResult applied = with_pfx({"apply", saved_plan.string(), "--state", state.string()});
        CHECK(applied.exit_code == 0);
        sweep.keep(applied);
        sweep.keep(with_pfx({"apply", "-c", desired, "--auto-approve", "--state", state.string()}));
        sweep.keep(with_pfx({"snapshot", "--out", snapshot.string(), "-c", desired}));
        const fs::path report = sandbox.folder() / "report.html";
        sweep.keep(with_pfx({"report", "-c", desired, "--state", state.string(), "--out", report.string()}));

        // Failures: refused sign-ins (PS256, then RS256) on every command, a token that expires in
        // use, the wrong PFX password.
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"plan", "-c", desired},
                 {"apply", "-c", desired, "--auto-approve", "--state", state.string()},
                 {"reconcile", "-c", desired, "--once", "--log-format", "json", "--log-level", "debug", "--state",
                  state.string()},
                 {"reconcile", "-c", desired, "--once", "--log-format", "text", "--log-level", "debug", "--state",
                  state.string()}}) {
            sandbox.set_faults(R"({"token_error": {"count": 2, "code": 700027}})");
            const RunResult refused = with_pfx(args);
            CHECK(refused.exit_code == 1);
            CHECK_THAT(refused.err, Catch::Contains("AADSTS700027"));
            sweep.keep(refused);
        }
        sandbox.set_faults(R"({"expire_tokens": {"count": 1}})");
        sweep.keep(reconcile("enforce", "json", "debug"));
        const RunResult wrong = with_pfx({"plan", "-c", desired}, {{"AUTHGATE_CERT_PASSWORD", wrong_password}});
        CHECK(wrong.exit_code == 1);
        sweep.keep(wrong);

        sweep.keep(sandbox.authgate({"history", "--format", "json", "--state", state.string()}, {}, false));
        sweep.keep(sandbox.authgate({"status", "--state", state.string()}, {}, false));
        sweep.keep(saved_plan);
        sweep.keep(snapshot);
        sweep.keep(report);
        sweep.keep_journal(state);
        sweep.keep_credentials(sandbox);
    }
    {
        // reconcile making changes: some refused by Exchange (each failure logged), then the rest.
        Sandbox sandbox;
        const std::string desired = contoso_with_webhook(sandbox);
        const fs::path state = sandbox.folder() / "state.db";
        const std::map<std::string, std::string> environment{
            {"AUTHGATE_WEBHOOK", sandbox.origin() + "/_sandbox/webhook?key=" + webhook_secret}};
        sandbox.set_faults(R"({"forbidden_cmdlets": ["Set-CASMailbox"]})");
        const RunResult partial = sandbox.authgate({"reconcile", "-c", desired, "--once", "--log-format", "text",
                                                    "--log-level", "debug", "--state", state.string()},
                                                   environment);
        CHECK(partial.exit_code == 1);
        sweep.keep(partial);
        sandbox.set_faults("{}");
        const RunResult rest = sandbox.authgate({"reconcile", "-c", desired, "--once", "--log-format", "json",
                                                 "--log-level", "debug", "--state", state.string()},
                                                environment);
        CHECK(rest.exit_code == 0);
        sweep.keep(rest);
        CHECK_THAT(rest.err, Catch::Contains(R"("level":"debug")"));  // debug lines were there to be scanned
        sweep.keep_journal(state);
        sweep.keep_credentials(sandbox);
    }

    // The sweep looked at real output and the sandboxes saw real credentials.
    REQUIRE(sweep.runs == 25);
    REQUIRE(sweep.everything.size() > 100000);
    REQUIRE(sweep.token_digests.size() >= 15);  // one per sign-in, and one more after the expired token
    REQUIRE(sweep.jtis.size() == sweep.token_digests.size());

    CHECK(tokens_in(sweep.everything, sweep.token_digests) == 0);
    for (const auto& jti : sweep.jtis) {
        INFO("assertion jti " << jti);
        CHECK(sweep.everything.find(jti) == std::string::npos);
    }
    std::vector<std::string> secrets{"PRIVATE KEY", pfx_password,      wrong_password, webhook_secret,
                                     "eyJ",  // a JWT's header: base64url of '{"'
                                     "Bearer ",     "client_assertion"};
    for (const auto& key : {client_credentials().pem, (pfx_folder / "client.pem").string()})
        for (const auto& line : key_lines(key)) secrets.push_back(line);
    REQUIRE(secrets.size() > 40);
    for (const auto& secret : secrets) {
        INFO(secret);
        CHECK(sweep.everything.find(secret) == std::string::npos);
    }
}

TEST_CASE("a trace (--trace DIR) holds every request and answer, and no secret", "[integration][secrets][trace]") {
    Sandbox sandbox;
    const fs::path trace = sandbox.folder() / "trace";
    const std::string state = (sandbox.folder() / "state.db").string();
    // A plan, then an apply: sign-in, reads with pages, $batch writes and the read-back.
    REQUIRE(sandbox.authgate({"plan", "-c", sandbox.example(), "--trace", trace.string()}).exit_code == 0);
    const RunResult apply = sandbox.authgate(
        {"apply", "-c", sandbox.example(), "--auto-approve", "--state", state, "--trace", trace.string()});
    INFO(apply.err);
    REQUIRE(apply.exit_code == 0);

    std::string everything;
    int files = 0;
    for (const auto& entry : fs::directory_iterator(trace)) {
        everything += file_text(entry.path());
        ++files;
        CHECK((fs::status(entry.path()).permissions() & fs::perms::all) ==
              (fs::perms::owner_read | fs::perms::owner_write));
    }
    const auto credentials = sandbox.state().at("credentials");
    std::set<std::string> token_digests;
    for (const auto& digest : credentials.at("issued_token_sha256").as_array())
        token_digests.insert(digest.as_string());
    const int requests = sandbox.state().at("requests").at("token").as_integer() +
                         sandbox.state().at("requests").at("invoke").as_integer() +
                         sandbox.state().at("requests").at("batch").as_integer();
    CHECK(files == requests);  // one file for every request the tenant saw
    CHECK_THAT(everything, Catch::Contains("/oauth2/v2.0/token") && Catch::Contains("X-CmdletName: Get-CASMailbox") &&
                               Catch::Contains("$batch") && Catch::Contains("--- answer: HTTP 200"));

    REQUIRE(token_digests.size() >= 2);
    CHECK(tokens_in(everything, token_digests) == 0);
    for (const auto& jti : credentials.at("accepted_jtis").as_array())
        CHECK(everything.find(jti.as_string()) == std::string::npos);
    std::vector<std::string> secrets{"PRIVATE KEY", "eyJ"};
    for (const auto& line : key_lines(client_credentials().pem)) secrets.push_back(line);
    for (const auto& secret : secrets) {
        INFO(secret);
        CHECK(everything.find(secret) == std::string::npos);
    }
    // What names a secret is there, with the secret taken out.
    for (const std::string key : {"Authorization: ", "client_assertion=", "\"access_token\":\""}) {
        INFO(key);
        std::size_t at = everything.find(key);
        CHECK(at != std::string::npos);
        for (; at != std::string::npos; at = everything.find(key, at + 1))
            CHECK(everything.compare(at + key.size(), 9, "[removed]") == 0);
    }
}
