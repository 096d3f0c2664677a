#include "sandbox_fixture.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <cpprest/http_client.h>
#include <boost/asio/ssl.hpp>

#include "policies/time.h"
#include "tests/postgresql/test_server.h"

namespace authgate::testing {
namespace {

namespace fs = std::filesystem;

fs::path fresh_folder(const std::string& prefix) {
    std::random_device random;
    const fs::path folder = fs::temp_directory_path() /
                            (prefix + std::to_string(::getpid()) + "-" + std::to_string(random()));
    fs::create_directories(folder);
    return folder;
}

void make_certificate(const fs::path& folder, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{AUTHGATE_SANDBOX_BINARY, "make-client-cert", "--out-dir", folder.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const RunResult made = run_program(argv, {{"SANDBOX_PFX_PASSWORD", "pfx-secret"}});
    if (made.exit_code != 0) throw std::runtime_error("make-client-cert failed: " + made.err);
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

web::http::client::http_client control_client(const std::string& origin, const std::string& ca_bundle) {
    web::http::client::http_client_config config;
    config.set_ssl_context_callback(
        [ca_bundle](boost::asio::ssl::context& context) { context.load_verify_file(ca_bundle); });
    return web::http::client::http_client(origin, config);
}

}  // namespace

std::string source_dir() { return AUTHGATE_SOURCE_DIR; }

const std::string& test_day() {
    static const std::string day = format_date(now_utc());
    return day;
}

std::string example_date(const std::string& date) {
    const auto as_of = parse_instant(fixed_time.substr(0, 10));
    const auto moved = parse_instant(date);
    const auto today = parse_instant(test_day());
    if (!as_of || !moved || !today) throw std::invalid_argument("example_date: not a date: " + date);
    return format_date(*moved + (*today - *as_of));
}

std::string Sandbox::example() const {
    const fs::path copy = folder_ / "contoso";
    if (!example_made_) {
        const RunResult made =
            run_program({source_dir() + "/scripts/dated-example", copy.string(), "--today", test_day()}, {});
        if (made.exit_code != 0) throw std::runtime_error("dated-example failed: " + made.err);
        example_made_ = true;
    }
    return copy.string();
}

const ClientCredentials& client_credentials() {
    static const ClientCredentials credentials = [] {
        // Made once per test run by CTest (tests/integration/make-client-credentials), else here.
        fs::path folder;
        // AUTHGATE_TEST_CLIENTS names that folder; unset, it is where the fixture writes (if made);
        // empty, they are made here (the clock tests: at the clock they are given).
        const char* named = std::getenv("AUTHGATE_TEST_CLIENTS");
        const fs::path made = named ? fs::path(named) : fs::path(AUTHGATE_TEST_CLIENTS_DIR);
        if (!made.empty() && fs::exists(made / "expired" / "client.pem")) {
            folder = made;
        } else {
            folder = fresh_folder("authgate-clients-");
            make_certificate(folder / "app");
            make_certificate(folder / "other");
            make_certificate(folder / "expired", {"--days", "-1"});
        }
        return ClientCredentials{(folder / "app" / "client.pem").string(), (folder / "app" / "client.pfx").string(),
                                 (folder / "other" / "client.pem").string(),
                                 (folder / "expired" / "client.pem").string()};
    }();
    return credentials;
}

const std::string& Sandbox::journal() const {
    if (journal_.empty()) journal_ = journal_location((folder_ / "state.db").string());
    return journal_;
}

Sandbox::Sandbox(SandboxOptions options) : folder_(fresh_folder("authgate-sandbox-")) {
    const ClientCredentials& credentials = client_credentials();
    std::vector<std::string> argv{AUTHGATE_SANDBOX_BINARY,
                                  "--seed",
                                  fs::path(options.seed).is_absolute() ? options.seed
                                                                       : source_dir() + "/" + options.seed,
                                  "--tenant",
                                  tenant,
                                  "--app-id",
                                  app_id,
                                  "--app-cert",
                                  credentials.pem,
                                  "--app-cert",
                                  credentials.expired_pem,
                                  "--tls-dir",
                                  (folder_ / "tls").string(),
                                  "--port-file",
                                  (folder_ / "port").string(),
                                  "--state-file",
                                  (folder_ / "state.json").string()};
    argv.insert(argv.end(), options.extra.begin(), options.extra.end());
    process_ = std::make_unique<BackgroundProgram>(argv, (folder_ / "sandbox.log").string());
    // Up to 15 s, looked at every 5 ms: it usually listens within 50.
    for (int i = 0; i < 3000 && !fs::exists(folder_ / "port"); ++i) {
        if (!process_->running()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!fs::exists(folder_ / "port"))
        throw std::runtime_error("the sandbox did not start: " + read_file(folder_ / "sandbox.log"));
    port_ = std::stoi(read_file(folder_ / "port"));
}

Sandbox::~Sandbox() {
    // The sandbox exits 0 on SIGTERM: a crash, or a sanitizer's report, fails the test that ran it.
    const int status = process_->stop();
    if (std::uncaught_exceptions() == 0) {
        INFO("the sandbox's log:\n" << read_file(folder_ / "sandbox.log"));
        CHECK(status == 0);
    }
    process_.reset();
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
}

std::vector<std::string> Sandbox::connection_flags(const std::string& certificate) const {
    return {"--login-endpoint",
            origin(),
            "--exchange-endpoint",
            origin(),
            "--graph-endpoint",
            origin(),
            "--ca-bundle",
            ca_bundle(),
            "--app-id",
            app_id,
            "--certificate",
            certificate.empty() ? client_credentials().pem : certificate};
}

RunResult Sandbox::authgate(std::vector<std::string> args, const std::map<std::string, std::string>& environment,
                            bool with_connection_flags) const {
    std::vector<std::string> argv{AUTHGATE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    if (with_connection_flags) {
        const auto flags = connection_flags();
        argv.insert(argv.end(), flags.begin(), flags.end());
    }
    // Run from the repository so that paths in messages read as in the CLI cases.
    const fs::path here = fs::current_path();
    fs::current_path(source_dir());
    // Not the CI's own GitHub Actions settings: outputs must not depend on where tests run.
    std::map<std::string, std::string> env{{"GITHUB_ACTIONS", ""}, {"GITHUB_STEP_SUMMARY", ""}};
    for (const auto& [name, value] : environment) env[name] = value;
    RunResult result = run_program(argv, env);
    fs::current_path(here);
    return result;
}

std::unique_ptr<RunningProgram> Sandbox::start_authgate(std::vector<std::string> args,
                                                        const std::map<std::string, std::string>& environment,
                                                        bool terminal) const {
    std::vector<std::string> argv{AUTHGATE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto flags = connection_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    ProgramOptions options;
    options.environment = {{"GITHUB_ACTIONS", ""}, {"GITHUB_STEP_SUMMARY", ""}};
    for (const auto& [name, value] : environment) options.environment[name] = value;
    options.directory = source_dir();
    options.terminal = terminal;
    return std::make_unique<RunningProgram>(argv, options);
}

std::string Sandbox::tenant_id() const {
    const web::json::value document = state();
    return document.at("tenant_id").as_string();
}

web::json::value Sandbox::state() const {
    auto client = control_client(origin(), ca_bundle());
    return client.request(web::http::methods::GET, "/_sandbox/state").get().extract_json(true).get();
}

void Sandbox::set_faults(const std::string& document) const {
    auto client = control_client(origin(), ca_bundle());
    const auto response =
        client.request(web::http::methods::POST, "/_sandbox/faults", document, "application/json").get();
    if (response.status_code() != 200) throw std::runtime_error("faults refused: " + response.extract_string().get());
}

void Sandbox::load_usage(const std::string& document) const {
    auto client = control_client(origin(), ca_bundle());
    const auto response =
        client.request(web::http::methods::POST, "/_sandbox/usage", document, "application/json").get();
    if (response.status_code() != 200) throw std::runtime_error("usage refused: " + response.extract_string().get());
}

void Sandbox::load_entra(const std::string& document) const {
    auto client = control_client(origin(), ca_bundle());
    const auto response =
        client.request(web::http::methods::POST, "/_sandbox/entra", document, "application/json").get();
    if (response.status_code() != 200) throw std::runtime_error("entra refused: " + response.extract_string().get());
}

int Sandbox::cmdlet_calls(const std::string& cmdlet) const {
    const auto by_cmdlet = state().at("requests").at("by_cmdlet");
    return by_cmdlet.has_field(cmdlet) ? by_cmdlet.at(cmdlet).as_integer() : 0;
}

int Sandbox::token_requests() const { return state().at("requests").at("token").as_integer(); }

}  // namespace authgate::testing
