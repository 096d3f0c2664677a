// authgate-bench: the figures of issue "scale and speed", from one run on this machine.
//
// For each tenant size it starts the sandbox tenant seeded with a generated tenant, runs the real
// `authgate plan` over HTTPS and measures wall time, CPU time, peak RSS, requests and bytes; and,
// taking turns with it, has curl fetch the very same pages from the same sandbox, one after the
// other on one connection: the transfer floor. Then `authgate apply` of a thousand mailbox changes with
// latency injected per request, beside the batched floor and beside one request per change; and
// what its journal cost it (statements, and seconds in the database), with the journal in a SQLite
// file and again, on a fresh tenant, in a PostgreSQL database of a private server that the bench
// starts with tests/postgresql/pg-server (--pg-server) and stops at its end.
//
// Usage: authgate-bench --authgate PATH --sandbox PATH [--pg-server PATH] [--sizes 1000,10000,100000]
//                       [--runs 3] [--changes 1000] [--latency-ms 20] [--work-dir DIR]
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <cpprest/json.h>

#include "connectors/credentials.h"
#include "connectors/exchange_client.h"
#include "connectors/exchange_online.h"
#include "connectors/http.h"
#include "connectors/token_client.h"
#include "policies/time.h"
#include "tenant_generator.h"

namespace fs = std::filesystem;
using namespace authgate;
using namespace authgate::bench;

namespace {

const std::string app_id = "6f1c0e2a-0000-4000-8000-0000000000be";

struct Options {
    std::string authgate, sandbox;
    std::string pg_server;  // tests/postgresql/pg-server; none: the journal in PostgreSQL is not measured
    std::vector<int> sizes{1000, 10000, 100000};
    int runs = 3;
    int changes = 1000;
    int latency_ms = 20;
    fs::path work_dir;
};

// ---------------------------------------------------------------- processes

struct Measured {
    int exit_code = -1;
    double wall = 0, cpu = 0;  // seconds
    long max_rss_kb = 0;
};

pid_t spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int in = open("/dev/null", O_RDONLY);
        const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        std::vector<char*> args;
        for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    return pid;
}

Measured run_measured(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = spawn(argv, out, err);
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    Measured measured;
    measured.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    measured.cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                   static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    measured.max_rss_kb = usage.ru_maxrss;
    measured.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return measured;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// ---------------------------------------------------------------- the sandbox tenant

class SandboxProcess {
public:
    SandboxProcess(const Options& options, const fs::path& folder, const fs::path& seed) : folder_(folder) {
        const fs::path port_file = folder / "port";
        fs::remove(port_file);
        pid_ = spawn({options.sandbox, "--seed", seed.string(), "--tenant", bench_tenant, "--app-id", app_id,
                      "--app-cert", (folder.parent_path() / "client" / "client.crt").string(), "--tls-dir",
                      (folder.parent_path() / "tls").string(), "--port-file", port_file.string(), "--quiet"},
                     folder / "sandbox.out", folder / "sandbox.err");
        for (int waited = 0; !fs::exists(port_file); ++waited) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_ || waited > 3000)
                throw std::runtime_error("the sandbox did not start: " + read_text(folder / "sandbox.err"));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        port_ = std::stoi(read_text(port_file));
    }
    ~SandboxProcess() {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    std::string origin() const { return "https://127.0.0.1:" + std::to_string(port_); }
    std::string ca() const { return (folder_.parent_path() / "tls" / "ca.pem").string(); }

    std::string control(const std::string& method, const std::string& path, const std::string& body = "") const {
        std::vector<std::string> argv{"curl", "-sS", "--fail", "--cacert", ca(), "-X", method, origin() + path};
        if (!body.empty()) {
            write_text(folder_ / "control.json", body);
            argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary",
                                     "@" + (folder_ / "control.json").string()});
        }
        if (run_measured(argv, folder_ / "control.out", folder_ / "control.err").exit_code != 0)
            throw std::runtime_error(method + " " + path + " failed: " + read_text(folder_ / "control.err"));
        return read_text(folder_ / "control.out");
    }

private:
    fs::path folder_;
    pid_t pid_ = -1;
    int port_ = 0;
};

ExchangeSettings exchange_settings(const SandboxProcess& sandbox) {
    ExchangeSettings settings;
    settings.exchange_endpoint = sandbox.origin();
    settings.tenant = bench_tenant;
    return settings;
}

std::vector<std::string> connection_flags(const SandboxProcess& sandbox, const fs::path& root) {
    return {"--tenant",
            bench_tenant,
            "--app-id",
            app_id,
            "--certificate",
            (root / "client" / "client.pem").string(),
            "--login-endpoint",
            sandbox.origin(),
            "--exchange-endpoint",
            sandbox.origin(),
            "--ca-bundle",
            sandbox.ca()};
}

// Fields of the JSON log line of `event` on authgate's standard error.
std::map<std::string, std::string> log_line(const fs::path& err, const std::string& event) {
    std::istringstream lines(read_text(err));
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.front() != '{') continue;
        const auto json = web::json::value::parse(line);
        if (!json.has_string_field("event") || json.at("event").as_string() != event) continue;
        std::map<std::string, std::string> fields;
        for (const auto& [name, value] : json.as_object())
            if (value.is_string()) fields[name] = value.as_string();
        return fields;
    }
    throw std::runtime_error("no '" + event + "' line in " + err.string() + ":\n" + read_text(err));
}

// ---------------------------------------------------------------- the curl floor

// Keeps every request sent to the admin API, to be sent again by curl.
class RecordingTransport : public HttpTransport {
public:
    explicit RecordingTransport(HttpTransport& inner) : inner_(inner) {}
    HttpResponse post(const HttpRequest& request) override {
        HttpResponse response = inner_.post(request);
        if (request.url.find("/adminapi/") != std::string::npos) requests.push_back(request);
        return response;
    }
    std::vector<HttpRequest> requests;

private:
    HttpTransport& inner_;
};

std::string config_quoted(const std::string& text) {
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + "\"";
}

struct Floor {
    int requests = 0;
    long long bytes = 0;
    double wall = 0;
};

// Reads the tenant once, as authgate does, recording the requests, and writes a curl config that
// sends the same requests in order on one connection. The config holds the bearer token: it is
// written 0600 in the work folder, and removed by the caller when done.
struct CurlFloor {
    fs::path config;
    int requests = 0;
};

CurlFloor prepare_curl_floor(const SandboxProcess& sandbox, const fs::path& root, const fs::path& folder) {
    const Credential credential = Credential::load((root / "client" / "client.pem").string(), std::nullopt, now_utc());
    const auto https = make_https_transport({sandbox.ca()});
    RecordingTransport recording(*https);
    TokenClient tokens(recording, credential, {sandbox.origin(), sandbox.origin(), bench_tenant, app_id});
    ExchangeClient exchange(recording, tokens, exchange_settings(sandbox));
    ExchangeOnlineConnector(exchange).read_live_state();

    const fs::path bodies = folder / "bodies";
    fs::create_directories(bodies);
    std::string config;
    for (std::size_t i = 0; i < recording.requests.size(); ++i) {
        const HttpRequest& request = recording.requests[i];
        const fs::path body = bodies / (std::to_string(i) + ".json");
        write_text(body, request.body);
        if (i) config += "next\n";
        // `next` resets the options of a transfer: each one repeats them.
        config += "url = " + config_quoted(request.url) + "\ncacert = " + config_quoted(sandbox.ca()) +
                  "\nsilent\nshow-error\n";
        for (const auto& [name, value] : request.headers)
            config += "header = " + config_quoted(name + ": " + value) + "\n";
        config += "data-binary = " + config_quoted("@" + body.string()) + "\noutput = \"/dev/null\"\n" +
                  "write-out = \"%{http_code} %{size_download}\\n\"\n";
    }
    CurlFloor floor{folder / "curl.config", static_cast<int>(recording.requests.size())};
    {
        const int fd = open(floor.config.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        close(fd);
    }
    write_text(floor.config, config);
    return floor;
}

// One run of the floor: wall seconds; `bytes` gets what curl received.
double run_curl_floor(const CurlFloor& floor, const fs::path& folder, long long& bytes) {
    const Measured measured = run_measured({"curl", "--config", floor.config.string()}, folder / "curl.out",
                                           folder / "curl.err");
    if (measured.exit_code != 0) throw std::runtime_error("curl failed: " + read_text(folder / "curl.err"));
    std::istringstream lines(read_text(folder / "curl.out"));
    bytes = 0;
    for (std::string status, size; lines >> status >> size;) {
        if (status != "200") throw std::runtime_error("curl got HTTP " + status);
        bytes += std::stoll(size);
    }
    return measured.wall;
}

// ---------------------------------------------------------------- plan

struct PlanFigures {
    int size = 0;
    double wall = 0, cpu = 0, read_seconds = 0;
    long max_rss_kb = 0;
    int requests = 0, token_requests = 0;
    long long bytes = 0;
    Floor floor;
    double seed_mb = 0;
};

PlanFigures bench_plan(const Options& options, const fs::path& root, int size) {
    const fs::path folder = root / ("plan-" + std::to_string(size));
    TenantShape shape;
    shape.mailboxes = size;
    write_tenant(folder, shape);
    SandboxProcess sandbox(options, folder, folder / "seed.json");

    PlanFigures figures;
    figures.size = size;
    figures.seed_mb = static_cast<double>(fs::file_size(folder / "seed.json")) / 1e6;
    std::vector<std::string> argv{options.authgate, "plan",  "-c",           (folder / "desired").string(),
                                  "--format",       "json",  "--log-format", "json",
                                  "--log-level",    "debug", "--state",      (folder / "state.db").string()};
    const auto flags = connection_flags(sandbox, root);
    argv.insert(argv.end(), flags.begin(), flags.end());

    // authgate and curl take turns, so that whatever else the machine does weighs on both alike.
    const CurlFloor curl = prepare_curl_floor(sandbox, root, folder);
    figures.floor.requests = curl.requests;
    std::vector<double> walls, cpus, reads, floors;
    for (int run = 0; run < options.runs; ++run) {
        floors.push_back(run_curl_floor(curl, folder, figures.floor.bytes));
        const Measured measured = run_measured(argv, folder / "plan.json", folder / "plan.err");
        if (measured.exit_code != 0)
            throw std::runtime_error("authgate plan failed: " + read_text(folder / "plan.err"));
        auto read = log_line(folder / "plan.err", "read");
        if (std::stoi(read["mailboxes"]) != size)
            throw std::runtime_error("plan read " + read["mailboxes"] + " mailboxes");
        walls.push_back(measured.wall);
        cpus.push_back(measured.cpu);
        reads.push_back(std::stod(read["seconds"]));
        figures.max_rss_kb = std::max(figures.max_rss_kb, measured.max_rss_kb);
        figures.requests = std::stoi(read["requests"]);
        figures.token_requests = std::stoi(read["token_requests"]);
        figures.bytes = std::stoll(read["bytes_received"]);
    }
    const auto plan = web::json::value::parse(read_text(folder / "plan.json"));
    const int changes = plan.at("summary").at("change").as_integer();
    if (changes != unlisted_count(shape))
        throw std::runtime_error("the plan has " + std::to_string(changes) + " changes, not " +
                                 std::to_string(unlisted_count(shape)));
    figures.wall = median(walls);
    figures.cpu = median(cpus);
    figures.read_seconds = median(reads);
    figures.floor.wall = median(floors);
    fs::remove(curl.config);
    return figures;
}

// ---------------------------------------------------------------- a PostgreSQL server

// A private PostgreSQL server on this machine (tests/postgresql/pg-server), stopped and removed
// when done.
class PgServer {
public:
    PgServer(const std::string& script, const fs::path& folder)
        : script_(script), folder_(folder), state_(folder / "pg-server.env") {
        if (run_measured({script_, "start", state_.string()}, folder_ / "pg-server.out", folder_ / "pg-server.err")
                .exit_code != 0)
            throw std::runtime_error("the PostgreSQL server did not start: " + read_text(folder_ / "pg-server.err"));
    }
    ~PgServer() { run_measured({script_, "stop", state_.string()}, folder_ / "pg-stop.out", folder_ / "pg-stop.err"); }
    PgServer(const PgServer&) = delete;
    PgServer& operator=(const PgServer&) = delete;

    // A new, empty database: its URI.
    std::string create_database(const std::string& name) const {
        if (run_measured({script_, "createdb", state_.string(), name}, folder_ / "createdb.out",
                         folder_ / "createdb.err")
                .exit_code != 0)
            throw std::runtime_error("createdb " + name + " failed: " + read_text(folder_ / "createdb.err"));
        std::string uri = read_text(folder_ / "createdb.out");
        while (!uri.empty() && (uri.back() == '\n' || uri.back() == '\r')) uri.pop_back();
        return uri;
    }

private:
    std::string script_;
    fs::path folder_, state_;
};

// ---------------------------------------------------------------- apply

// What the journal cost one apply, and that apply's wall time.
struct JournalCost {
    bool measured = false;
    long long statements = 0;
    double seconds = 0, wall = 0;
};

struct ApplyFigures {
    int changes = 0, mailboxes = 0;
    double wall = 0, write_seconds = 0, verify_seconds = 0, read_seconds = 0;
    int batch_requests = 0, invoke_requests = 0, mutations = 0;
    double one_at_a_time = 0;
    int one_at_a_time_requests = 0;
    JournalCost sqlite, postgresql;
};

int sandbox_requests(const SandboxProcess& sandbox, const std::string& kind) {
    const auto state = web::json::value::parse(sandbox.control("GET", "/_sandbox/state"));
    return state.at("requests").at(kind).as_integer();
}

ApplyFigures bench_apply(const Options& options, const fs::path& root) {
    const fs::path folder = root / "apply";
    TenantShape shape;
    shape.mailboxes = options.changes * 10;
    shape.exception_every = 0;
    shape.basic_auth_users = 0;
    shape.unlisted_every = 10;
    shape.unlisted_offset = 5;
    write_tenant(folder, shape);
    const std::string latency = "{\"latency_ms\":" + std::to_string(options.latency_ms) + "}";

    ApplyFigures figures;
    figures.changes = unlisted_count(shape);
    figures.mailboxes = shape.mailboxes;
    // One apply of every change to a fresh tenant, with the journal at `state` (fresh too);
    // `name` names its output files.
    const auto apply_once = [&](const std::string& name, const std::string& state) {
        SandboxProcess sandbox(options, folder, folder / "seed.json");
        sandbox.control("POST", "/_sandbox/faults", latency);
        std::vector<std::string> argv{options.authgate, "apply",        "-c",   (folder / "desired").string(),
                                      "--auto-approve", "--log-format", "json", "--log-level",
                                      "debug",          "--state",      state};
        const auto flags = connection_flags(sandbox, root);
        argv.insert(argv.end(), flags.begin(), flags.end());
        const fs::path out = folder / (name + ".out"), err = folder / (name + ".err");
        const Measured measured = run_measured(argv, out, err);
        if (measured.exit_code != 0)
            throw std::runtime_error("authgate apply (" + name + ") failed (exit " +
                                     std::to_string(measured.exit_code) + "): " + read_text(err));
        auto applied = log_line(err, "apply");
        auto read = log_line(err, "read");
        const auto tenant = web::json::value::parse(sandbox.control("GET", "/_sandbox/state"));
        const int mutations = static_cast<int>(tenant.at("mutations").size());
        if (mutations != figures.changes)
            throw std::runtime_error("the sandbox recorded " + std::to_string(mutations) + " mutations, not " +
                                     std::to_string(figures.changes) + " (" + name + ")");
        JournalCost journal{true, std::stoll(applied.at("journal_statements")),
                            std::stod(applied.at("journal_seconds")), measured.wall};
        return std::make_tuple(measured, applied, read, tenant, journal);
    };
    {
        for (const char* file : {"state.db", "state.db-wal", "state.db-shm"}) fs::remove(folder / file);
        auto [measured, applied, read, tenant, journal] = apply_once("apply", (folder / "state.db").string());
        figures.wall = measured.wall;
        figures.write_seconds = std::stod(applied["write_seconds"]);
        figures.verify_seconds = std::stod(applied["verify_seconds"]);
        figures.read_seconds = std::stod(read["seconds"]);
        figures.batch_requests = tenant.at("requests").at("batch").as_integer();
        figures.invoke_requests = tenant.at("requests").at("invoke").as_integer();
        figures.mutations = static_cast<int>(tenant.at("mutations").size());
        figures.sqlite = journal;
    }
    if (!options.pg_server.empty()) {
        const PgServer server(options.pg_server, folder);
        const std::string uri = server.create_database("bench_apply");
        figures.postgresql = std::get<4>(apply_once("apply-postgresql", uri));
    }
    {
        // The same changes, one InvokeCommand each, one after the other, from a fresh tenant.
        SandboxProcess sandbox(options, folder, folder / "seed.json");
        sandbox.control("POST", "/_sandbox/faults", latency);
        const Credential credential = Credential::load((root / "client" / "client.pem").string(), std::nullopt,
                                                       now_utc());
        const auto https = make_https_transport({sandbox.ca()});
        TokenClient tokens(*https, credential, {sandbox.origin(), sandbox.origin(), bench_tenant, app_id});
        ExchangeClient exchange(*https, tokens, exchange_settings(sandbox));
        tokens.bearer();
        const int before = sandbox_requests(sandbox, "invoke");
        const auto started = std::chrono::steady_clock::now();
        for (int i = 0; i < shape.mailboxes; ++i) {
            if (i % shape.unlisted_every != shape.unlisted_offset) continue;
            char name[32];
            std::snprintf(name, sizeof name, "user%06d@fabrikam.com", i);
            exchange.write({"Set-CASMailbox",
                            {{"Identity", std::string(name)}, {"SmtpClientAuthenticationDisabled", SettingValue{}}}});
        }
        figures.one_at_a_time = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        figures.one_at_a_time_requests = sandbox_requests(sandbox, "invoke") - before;
    }
    return figures;
}

// ---------------------------------------------------------------- main

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--authgate") options.authgate = next();
        else if (arg == "--sandbox") options.sandbox = next();
        else if (arg == "--pg-server") options.pg_server = next();
        else if (arg == "--runs") options.runs = std::stoi(next());
        else if (arg == "--changes") options.changes = std::stoi(next());
        else if (arg == "--latency-ms") options.latency_ms = std::stoi(next());
        else if (arg == "--work-dir") options.work_dir = next();
        else if (arg == "--sizes") {
            options.sizes.clear();
            std::istringstream list(next());
            for (std::string size; std::getline(list, size, ',');) options.sizes.push_back(std::stoi(size));
        } else throw std::invalid_argument("unknown argument " + arg);
    }
    if (options.authgate.empty() || options.sandbox.empty())
        throw std::invalid_argument("usage: authgate-bench --authgate PATH --sandbox PATH [--pg-server PATH] "
                                    "[--sizes N,N] [--runs N] [--changes N] [--latency-ms MS] [--work-dir DIR]");
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options options = parse(argc, argv);
        options.authgate = fs::absolute(options.authgate).string();
        options.sandbox = fs::absolute(options.sandbox).string();
        if (!options.pg_server.empty()) options.pg_server = fs::absolute(options.pg_server).string();
        fs::path root = options.work_dir;
        if (root.empty()) {
            char pattern[] = "/tmp/authgate-bench.XXXXXX";
            root = mkdtemp(pattern);
        }
        fs::create_directories(root);
        if (run_measured({options.sandbox, "make-client-cert", "--out-dir", (root / "client").string()},
                         root / "cert.out", root / "cert.err")
                .exit_code != 0)
            throw std::runtime_error("make-client-cert failed: " + read_text(root / "cert.err"));
        std::printf("authgate-bench: %u cores, median of %d runs, work folder %s\n\n",
                    std::thread::hardware_concurrency(), options.runs, root.c_str());

        std::printf("plan, against the sandbox tenant over HTTPS (about 1%% of mailboxes with an override)\n");
        std::printf("%9s %9s %8s %8s %8s %8s %9s %8s %9s %9s %8s %7s %9s %9s\n", "mailboxes", "seed MB", "wall s",
                    "read s", "cpu s", "RSS MB", "requests", "MB recv", "curl s", "curl MB", "x floor", "reqs",
                    "us/mbx", "KB/mbx");
        std::vector<PlanFigures> plans;
        for (int size : options.sizes) {
            const PlanFigures f = bench_plan(options, root, size);
            plans.push_back(f);
            std::printf("%9d %9.1f %8.3f %8.3f %8.3f %8.1f %9d %8.2f %9.3f %9.2f %8.2f %7d %9.1f %9.2f\n", f.size,
                        f.seed_mb, f.wall, f.read_seconds, f.cpu, f.max_rss_kb / 1024.0, f.requests, f.bytes / 1e6,
                        f.floor.wall, f.floor.bytes / 1e6, f.wall / f.floor.wall, f.floor.requests,
                        f.cpu / f.size * 1e6, f.max_rss_kb / static_cast<double>(f.size));
            std::fflush(stdout);
        }
        std::printf("(wall: the whole authgate plan process; read: its reading of the tenant; curl: the same %s\n"
                    " requests sent by one curl on one connection; x floor = wall / curl)\n",
                    "admin API");
        // What each further mailbox costs: the slope between sizes, without the fixed cost of a run.
        for (std::size_t i = 1; i < plans.size(); ++i) {
            const PlanFigures& a = plans[i - 1];
            const PlanFigures& b = plans[i];
            const double added = b.size - a.size;
            std::printf("from %d to %d mailboxes, each further mailbox: %.1f us wall, %.1f us CPU, %.2f KB peak RSS, "
                        "%.0f bytes received\n",
                        a.size, b.size, (b.wall - a.wall) / added * 1e6, (b.cpu - a.cpu) / added * 1e6,
                        (b.max_rss_kb - a.max_rss_kb) / added, (b.bytes - a.bytes) / added);
        }
        std::printf("\n");

        if (options.changes > 0) {
            const ApplyFigures a = bench_apply(options, root);
            const double floor = std::ceil(a.changes / 10.0) / 4.0 * options.latency_ms / 1000.0;
            const double serial = a.changes * options.latency_ms / 1000.0;
            std::printf("apply of %d mailbox changes (tenant of %d mailboxes), %d ms latency per request\n", a.changes,
                        a.mailboxes, options.latency_ms);
            std::printf("  authgate apply, whole run      %8.3f s  (read %.3f s, writes %.3f s, read-back %.3f s)\n",
                        a.wall, a.read_seconds, a.write_seconds, a.verify_seconds);
            std::printf("  write requests                 %8d $batch (%d InvokeCommand for the reads), %d mutations\n",
                        a.batch_requests, a.invoke_requests, a.mutations);
            std::printf("  batched floor ceil(%d/10)/4 x %d ms = %.3f s; writes / floor = %.2f\n", a.changes,
                        options.latency_ms, floor, a.write_seconds / floor);
            std::printf(
                "  one request per change, in turn %8.3f s (%d requests; latency alone %.1f s); / writes = %.1f\n",
                a.one_at_a_time, a.one_at_a_time_requests, serial, a.one_at_a_time / a.write_seconds);
            // The journal's part of each apply: its statements and the seconds spent in the database.
            const auto journal = [](const JournalCost& cost) {
                char text[160];
                if (!cost.measured) return std::string("not measured (no PostgreSQL server: --pg-server)");
                std::snprintf(text, sizeof text, "%lld statements, %.3f s (%.1f%% of the apply's wall, %.3f s)",
                              cost.statements, cost.seconds, cost.seconds / cost.wall * 100, cost.wall);
                return std::string(text);
            };
            std::printf("  journal, apply of %d changes  sqlite: %s\n", a.changes, journal(a.sqlite).c_str());
            std::printf("  %*spostgresql: %s\n", static_cast<int>(std::to_string(a.changes).size()) + 24, "",
                        journal(a.postgresql).c_str());
            if (a.postgresql.measured)
                std::printf(
                    "  (postgresql: a fresh tenant; the bench's own server on this machine, over a unix socket, "
                    "fsync off:\n   a server across a network adds a round trip to each statement)\n");
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "authgate-bench: %s\n", error.what());
        return 1;
    }
}
