// authgate-bench: the figures of issue "scale and speed", from one run on this machine.
//
// For each tenant size it starts the sandbox tenant seeded with a generated tenant, runs the real
// `authgate plan` over HTTPS and measures wall time, CPU time, peak RSS, requests and bytes; and,
// taking turns with it, has curl fetch the very same pages from the same sandbox, one after the
// other on one connection: the transfer floor. Then `authgate apply` of a thousand mailbox changes with
// latency injected per request, --runs times on a fresh tenant, beside the batched floor, with the
// TLS handshakes it made (full and resumed); once, beside one request per change; and what its
// journal cost it (statements, and seconds in the database), with the journal in a SQLite file and
// again, on a fresh tenant, in a PostgreSQL database of a private server that the bench starts with
// tests/postgresql/pg-server (--pg-server) and stops at its end. Then the same plan and apply "with
// service-like latency": each read page (read_latency_ms) and each write request
// (write_latency_ms) held back as long as Exchange Online takes. Then `authgate usage` of a
// generated tenant whose sign-in logs hold a given number of Basic SMTP sign-ins (at a fifth of it
// and at all of it), beside curl fetching the very same sign-in pages on one connection. When
// authgate writes a `timing` log line, its *_seconds fields say where a plan's and an apply's time
// went.
//
// Usage: authgate-bench --authgate PATH --sandbox PATH [--pg-server PATH] [--sizes 1000,10000,100000]
//                       [--runs 3] [--changes 1000] [--latency-ms 20] [--service-sizes 10000,100000]
//                       [--service-runs 3] [--service-page-ms 1000] [--service-write-ms 300]
//                       [--signins 100000] [--signin-users 20000] [--usage-mailboxes 100000]
//                       [--work-dir DIR]
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <cpprest/json.h>
#include <simdjson.h>

#include "connectors/credentials.h"
#include "connectors/exchange_client.h"
#include "connectors/exchange_online.h"
#include "connectors/graph_usage.h"
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
    // With service-like latency: plans of these sizes (none: no plan), and applies of `changes`,
    // `service_runs` times each (0: none of it), each read page held back `service_page_ms` and
    // each write request `service_write_ms`.
    std::vector<int> service_sizes{10000, 100000};
    int service_runs = 3;
    int service_page_ms = 1000;
    int service_write_ms = 300;
    // authgate usage: this many sign-ins (0: not measured), and a fifth of it, in the sign-in logs
    // of a tenant of `usage_mailboxes`, among `signin_users` users.
    int signins = 100000;
    int signin_users = 20000;
    int usage_mailboxes = 100000;
    fs::path work_dir;
};

// ---------------------------------------------------------------- processes

struct Measured {
    int exit_code = -1;
    double wall = 0, cpu = 0;  // seconds
    long max_rss_kb = 0;
};

// Standard error goes to `err`, or to `err_fd` when one is given.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err, int err_fd = -1) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int in = open("/dev/null", O_RDONLY);
        const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int e = err_fd >= 0 ? err_fd : open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
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

Measured wait_measured(pid_t pid, std::chrono::steady_clock::time_point started) {
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

Measured run_measured(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
    const auto started = std::chrono::steady_clock::now();
    return wait_measured(spawn(argv, out, err), started);
}

// What a running process has used so far, from /proc: CPU seconds (all its threads), resident
// memory now and its peak (VmRSS, VmHWM). Zero when it can no longer be read.
struct Usage {
    double cpu = 0;
    long rss_kb = 0, peak_kb = 0;
};

Usage usage_of(pid_t pid) {
    Usage usage;
    const std::string proc = "/proc/" + std::to_string(pid);
    std::ifstream stat_file(proc + "/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    if (const auto close_paren = stat.rfind(')'); close_paren != std::string::npos) {
        // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
        std::istringstream fields(stat.substr(close_paren + 1));
        std::string field;
        double ticks = 0;
        for (int number = 3; number <= 15 && fields >> field; ++number)
            if (number >= 14) ticks += std::stod(field);
        usage.cpu = ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    std::ifstream status(proc + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) usage.rss_kb = std::stol(line.substr(6));
        if (line.rfind("VmHWM:", 0) == 0) usage.peak_kb = std::stol(line.substr(6));
    }
    return usage;
}

// A line of standard error, when it arrived (seconds from the start of the process), and what the
// process had used by then.
struct TimedLine {
    double at = 0;
    Usage used;
    std::string text;
};

struct Timed {
    Measured measured;
    std::vector<TimedLine> lines;
};

// Runs `argv` as run_measured does, reading its standard error through a pipe as it is written:
// each line with the moment it arrived (authgate flushes every log line) and the CPU and memory
// used by then, and all of it into `err`. authgate's log lines are stamped to the second only;
// their arrival tells the parts of a run apart.
Timed run_timed(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = spawn(argv, out, err, fds[1]);
    close(fds[1]);
    Timed timed;
    std::ofstream copy(err, std::ios::binary);
    std::string pending;
    char buffer[65536];
    const auto since_start = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    while (true) {
        const ssize_t got = read(fds[0], buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        const double at = since_start();
        const Usage used = usage_of(pid);
        copy.write(buffer, got);
        pending.append(buffer, static_cast<std::size_t>(got));
        for (std::size_t end; (end = pending.find('\n')) != std::string::npos; pending.erase(0, end + 1))
            timed.lines.push_back({at, used, pending.substr(0, end)});
    }
    if (!pending.empty()) timed.lines.push_back({since_start(), usage_of(pid), pending});
    close(fds[0]);
    timed.measured = wait_measured(pid, started);
    return timed;
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

// What the sandbox holds back each admin API request (its latency faults): `every_ms`, or for a
// read or a write its own when set.
struct Latency {
    int every_ms = 0;
    std::optional<int> read_ms, write_ms;

    int write_or_every_ms() const { return write_ms.value_or(every_ms); }
    std::string fault_document() const {
        std::string document = "{\"latency_ms\":" + std::to_string(every_ms);
        if (read_ms) document += ",\"read_latency_ms\":" + std::to_string(*read_ms);
        if (write_ms) document += ",\"write_latency_ms\":" + std::to_string(*write_ms);
        return document + "}";
    }
    std::string text() const {
        std::string text;
        if (read_ms) text += std::to_string(*read_ms) + " ms per read page";
        if (write_ms)
            text += std::string(text.empty() ? "" : ", ") + std::to_string(*write_ms) + " ms per write request";
        if (every_ms > 0 || text.empty())
            text += std::string(text.empty() ? "" : ", others ") + std::to_string(every_ms) + " ms latency per request";
        return text;
    }
};

// "median of 3 runs", "1 run".
std::string runs_text(int runs) { return runs == 1 ? "1 run" : "median of " + std::to_string(runs) + " runs"; }

// Where authgate's runs spent their time, by its `timing` log line (absent from a binary that
// does not write one): the line's *_seconds fields, median over the runs, in the line's order.
class TimeSplit {
public:
    // One run's standard error.
    void add(const fs::path& err) {
        std::istringstream lines(read_text(err));
        for (std::string line; std::getline(lines, line);) {
            if (line.empty() || line.front() != '{') continue;
            simdjson::dom::parser parser;
            simdjson::dom::object fields;
            if (parser.parse(line).get(fields) != simdjson::SUCCESS) continue;
            std::string_view event;
            if (fields["event"].get(event) != simdjson::SUCCESS || event != "timing") continue;
            for (const auto field : fields) {
                const std::string name(field.key);
                if (!name.ends_with("_seconds")) continue;
                std::string_view text;
                double seconds = 0;
                if (field.value.get(text) == simdjson::SUCCESS) {
                    seconds = std::stod(std::string(text));
                } else if (field.value.get(seconds) != simdjson::SUCCESS) {
                    continue;
                }
                if (!seconds_.contains(name)) names_.push_back(name);
                seconds_[name].push_back(seconds);
            }
            return;
        }
    }
    // "where the time went: load 0.003 s, sign_in 0.004 s, …", or "" when no run had the line.
    std::string line() const {
        if (names_.empty()) return "";
        std::string text = "where the time went:";
        for (std::size_t i = 0; i < names_.size(); ++i) {
            char part[96];
            std::snprintf(part, sizeof part, "%s %s %.3f s", i ? "," : "",
                          names_[i].substr(0, names_[i].size() - std::string("_seconds").size()).c_str(),
                          median(seconds_.at(names_[i])));
            text += part;
        }
        return text;
    }

private:
    std::vector<std::string> names_;
    std::map<std::string, std::vector<double>> seconds_;
};

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

// Keeps every request that `keep` picks (those to the admin API, or the sign-in pages), to be
// sent again by curl.
class RecordingTransport : public HttpTransport {
public:
    RecordingTransport(HttpTransport& inner, std::function<bool(const HttpRequest&)> keep)
        : inner_(inner), keep_(std::move(keep)) {}
    HttpResponse post(const HttpRequest& request) override {
        HttpResponse response = inner_.post(request);
        if (keep_(request)) requests.push_back(request);
        return response;
    }
    std::vector<HttpRequest> requests;

private:
    HttpTransport& inner_;
    std::function<bool(const HttpRequest&)> keep_;
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

// A curl config that sends `requests` in order on one connection (a POST with its body, a GET).
CurlFloor write_curl_floor(const std::vector<HttpRequest>& requests, const SandboxProcess& sandbox,
                           const fs::path& folder) {
    const fs::path bodies = folder / "bodies";
    fs::create_directories(bodies);
    std::string config;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const HttpRequest& request = requests[i];
        if (i) config += "next\n";
        // `next` resets the options of a transfer: each one repeats them.
        config += "url = " + config_quoted(request.url) + "\ncacert = " + config_quoted(sandbox.ca()) +
                  "\nsilent\nshow-error\n";
        for (const auto& [name, value] : request.headers)
            config += "header = " + config_quoted(name + ": " + value) + "\n";
        if (request.method != "GET") {
            const fs::path body = bodies / (std::to_string(i) + ".json");
            write_text(body, request.body);
            config += "data-binary = " + config_quoted("@" + body.string()) + "\n";
        }
        config += "output = \"/dev/null\"\nwrite-out = \"%{http_code} %{size_download}\\n\"\n";
    }
    CurlFloor floor{folder / "curl.config", static_cast<int>(requests.size())};
    {
        const int fd = open(floor.config.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        close(fd);
    }
    write_text(floor.config, config);
    return floor;
}

CurlFloor prepare_curl_floor(const SandboxProcess& sandbox, const fs::path& root, const fs::path& folder) {
    const Credential credential = Credential::load((root / "client" / "client.pem").string(), std::nullopt, now_utc());
    const auto https = make_https_transport({sandbox.ca()});
    RecordingTransport recording(*https, [](const HttpRequest& request) {
        return request.url.find("/adminapi/") != std::string::npos;
    });
    TokenClient tokens(recording, credential, {sandbox.origin(), sandbox.origin(), bench_tenant, app_id});
    ExchangeClient exchange(recording, tokens, exchange_settings(sandbox));
    ExchangeOnlineConnector(exchange).read_live_state();
    return write_curl_floor(recording.requests, sandbox, folder);
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
    TimeSplit where;
};

// `runs` plans of a tenant of `size` mailboxes, each read page held back by `latency`, beside
// the curl floor under the same latency.
PlanFigures bench_plan(const Options& options, const fs::path& root, int size, int runs, const Latency& latency) {
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
    sandbox.control("POST", "/_sandbox/faults", latency.fault_document());  // after recording: for the runs only
    figures.floor.requests = curl.requests;
    std::vector<double> walls, cpus, reads, floors;
    for (int run = 0; run < runs; ++run) {
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
        figures.where.add(folder / "plan.err");
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

// Also one request per change and the journal in PostgreSQL, once each, or only the applies.
enum class Comparisons { yes, no };

struct ApplyFigures {
    int changes = 0, mailboxes = 0, runs = 0;
    Comparisons comparisons = Comparisons::no;
    // Medians over the runs; the writes' fastest and slowest run.
    double wall = 0, write_seconds = 0, verify_seconds = 0, read_seconds = 0;
    double fastest_writes = 0, slowest_writes = 0;
    int batch_requests = 0, invoke_requests = 0, mutations = 0;  // of one run
    double full_handshakes = 0, resumed_handshakes = 0;          // TLS, during the apply
    TimeSplit where;
    double one_at_a_time = 0;  // the comparisons, once
    int one_at_a_time_requests = 0;
    JournalCost sqlite, postgresql;
};

// TLS handshakes the sandbox has made so far, from its state document.
struct Handshakes {
    int full = 0, resumed = 0;
};

Handshakes handshakes_in(const web::json::value& state) {
    const int all = state.at("tls").at("handshakes").as_integer();
    const int resumed = state.at("tls").at("resumed").as_integer();
    return {all - resumed, resumed};
}

int sandbox_requests(const SandboxProcess& sandbox, const std::string& kind) {
    const auto state = web::json::value::parse(sandbox.control("GET", "/_sandbox/state"));
    return state.at("requests").at(kind).as_integer();
}

// `runs` applies of every change, each to a fresh tenant with a fresh journal, under `latency`.
ApplyFigures bench_apply(const Options& options, const fs::path& root, int runs, const Latency& latency,
                         Comparisons comparisons) {
    const fs::path folder = root / "apply";
    TenantShape shape;
    shape.mailboxes = options.changes * 10;
    shape.exception_every = 0;
    shape.basic_auth_users = 0;
    shape.unlisted_every = 10;
    shape.unlisted_offset = 5;
    write_tenant(folder, shape);
    const std::string faults = latency.fault_document();

    ApplyFigures figures;
    figures.changes = unlisted_count(shape);
    figures.mailboxes = shape.mailboxes;
    // One apply of every change to a fresh tenant, with the journal at `state` (fresh too);
    // `name` names its output files. Also the TLS handshakes it made: those between two state
    // documents of the sandbox, less the later one's own (a curl of its own: full).
    const auto apply_once = [&](const std::string& name, const std::string& state) {
        SandboxProcess sandbox(options, folder, folder / "seed.json");
        sandbox.control("POST", "/_sandbox/faults", faults);
        const Handshakes before = handshakes_in(web::json::value::parse(sandbox.control("GET", "/_sandbox/state")));
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
        const Handshakes after = handshakes_in(tenant);
        const Handshakes during{after.full - before.full - 1, after.resumed - before.resumed};
        return std::make_tuple(measured, applied, read, tenant, journal, during);
    };
    figures.runs = runs;
    figures.comparisons = comparisons;
    std::vector<double> walls, writes, verifies, reads, full, resumed;
    for (int run = 0; run < runs; ++run) {
        for (const char* file : {"state.db", "state.db-wal", "state.db-shm"}) fs::remove(folder / file);
        auto [measured, applied, read, tenant, journal, handshakes] = apply_once("apply",
                                                                                 (folder / "state.db").string());
        walls.push_back(measured.wall);
        writes.push_back(std::stod(applied["write_seconds"]));
        verifies.push_back(std::stod(applied["verify_seconds"]));
        reads.push_back(std::stod(read["seconds"]));
        full.push_back(handshakes.full);
        resumed.push_back(handshakes.resumed);
        figures.batch_requests = tenant.at("requests").at("batch").as_integer();
        figures.invoke_requests = tenant.at("requests").at("invoke").as_integer();
        figures.mutations = static_cast<int>(tenant.at("mutations").size());
        if (run == 0) figures.sqlite = journal;
        figures.where.add(folder / "apply.err");
    }
    figures.wall = median(walls);
    figures.write_seconds = median(writes);
    figures.verify_seconds = median(verifies);
    figures.read_seconds = median(reads);
    figures.fastest_writes = *std::min_element(writes.begin(), writes.end());
    figures.slowest_writes = *std::max_element(writes.begin(), writes.end());
    figures.full_handshakes = median(full);
    figures.resumed_handshakes = median(resumed);
    if (comparisons == Comparisons::no) return figures;
    if (!options.pg_server.empty()) {
        const PgServer server(options.pg_server, folder);
        const std::string uri = server.create_database("bench_apply");
        figures.postgresql = std::get<4>(apply_once("apply-postgresql", uri));
    }
    {
        // The same changes, one InvokeCommand each, one after the other, from a fresh tenant.
        SandboxProcess sandbox(options, folder, folder / "seed.json");
        sandbox.control("POST", "/_sandbox/faults", faults);
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

// ---------------------------------------------------------------- usage

constexpr int usage_days = 7;

// The JSON log line of `event` whose message starts with `message`: when it arrived, and what
// authgate had used by then.
const TimedLine& timed_log_line(const Timed& timed, const fs::path& err, const std::string& event,
                                const std::string& message) {
    for (const TimedLine& line : timed.lines) {
        if (line.text.empty() || line.text.front() != '{') continue;
        const auto json = web::json::value::parse(line.text);
        if (!json.has_string_field("event") || json.at("event").as_string() != event) continue;
        if (!json.has_string_field("message") || json.at("message").as_string().rfind(message, 0) != 0) continue;
        return line;
    }
    throw std::runtime_error("no '" + event + "' line '" + message + "' in " + err.string() + ":\n" + read_text(err));
}

// What the sandbox tenant has answered so far, by kind.
struct SandboxCounts {
    long long signin_pages = 0;  // GET auditLogs/signIns
    long long graph = 0;         // every Graph request, the sign-in pages included
    long long downloads = 0;     // report downloads
    long long tokens = 0;
    long long exchange = 0;  // InvokeCommand and $batch
    long long total() const { return graph + downloads + tokens + exchange; }
    SandboxCounts operator-(const SandboxCounts& earlier) const {
        return {signin_pages - earlier.signin_pages, graph - earlier.graph, downloads - earlier.downloads,
                tokens - earlier.tokens, exchange - earlier.exchange};
    }
};

// From the state document (which holds every mailbox: parsed with simdjson, as it is large).
SandboxCounts sandbox_counts(const SandboxProcess& sandbox) {
    const simdjson::padded_string text(sandbox.control("GET", "/_sandbox/state"));
    simdjson::dom::parser parser;
    const simdjson::dom::element state = parser.parse(text);
    SandboxCounts counts;
    const simdjson::dom::element requests = state["requests"];
    counts.tokens = requests["token"].get_int64();
    counts.exchange = requests["invoke"].get_int64().value() + requests["batch"].get_int64().value();
    simdjson::dom::object graph;
    if (state["graph_requests"].get(graph) == simdjson::SUCCESS) {
        for (const auto field : graph) {
            if (field.key == "reportSettings_changes") continue;  // counted under reportSettings too
            const std::int64_t count = field.value.get_int64();
            counts.graph += count;
            if (field.key == "signIns") counts.signin_pages = count;
        }
    }
    simdjson::dom::array downloads;
    if (state["report_downloads"].get(downloads) == simdjson::SUCCESS)
        counts.downloads = static_cast<long long>(downloads.size());
    return counts;
}

// The sign-in logs of the last `usage_days` days read once by GraphUsageReader in this process, as
// `authgate usage` reads them (windows of a day, pages of 1,000, following each @odata.nextLink), with a
// Graph token asked for the sandbox's origin (scope <origin>/.default); every page request is
// recorded for curl to send again. Skip tokens live 10 minutes: the floor is made anew each run.
struct GraphFloor {
    CurlFloor curl;
    double reader_seconds = 0;  // the read in this process: no tenant read, no journal, no process start
    long long rows = 0;
};

GraphFloor prepare_graph_floor(const SandboxProcess& sandbox, const fs::path& root, const fs::path& folder) {
    const Credential credential = Credential::load((root / "client" / "client.pem").string(), std::nullopt, now_utc());
    const auto https = make_https_transport({sandbox.ca()});
    RecordingTransport recording(*https, [](const HttpRequest& request) {
        std::string url = request.url;
        std::transform(url.begin(), url.end(), url.begin(), [](unsigned char c) { return std::tolower(c); });
        return url.find("/v1.0/auditlogs/signins") != std::string::npos;
    });
    TokenClient tokens(recording, credential,
                       {sandbox.origin(), sandbox.origin(), bench_tenant, app_id, sandbox.origin()});
    tokens.bearer();
    GraphUsageReader reader(recording, tokens, sandbox.origin());
    const Instant now = now_utc();
    const auto started = std::chrono::steady_clock::now();
    const UsageRead read = reader.sign_ins(now - std::chrono::hours(24) * usage_days, now);
    GraphFloor floor;
    floor.reader_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!read.report.read)
        throw std::runtime_error("the bench's read of the sign-in logs failed: " + read.report.why_not);
    floor.rows = read.report.rows;
    floor.curl = write_curl_floor(recording.requests, sandbox, folder);
    return floor;
}

// The parts of a usage run, told apart by when its log lines arrived: start to the tenant read
// ("read"), then the sign-in logs ("usage" signin_logs), then the email apps report ("usage"
// email_app_report), then the rest (the journal, the plan, the join, the output) to the exit.
enum Part { tenant_part, signins_part, report_part, rest_part, part_count };

struct UsageFigures {
    int signins = 0;        // sign-in rows in the logs
    long long counted = 0;  // sign-ins authgate counted
    int senders = 0, cut_off = 0;
    double wall = 0, cpu = 0;
    double part_wall[part_count] = {}, part_cpu[part_count] = {};
    long peak_kb[part_count] = {};  // peak resident memory at the end of each part; the last: the run's
    SandboxCounts requests;         // of one run
    Floor floor;
    double reader_seconds = 0;
};

std::vector<int> signin_sizes(const Options& options) {
    if (options.signins <= 0) return {};
    if (options.signins / 5 == 0) return {options.signins};
    return {options.signins / 5, options.signins};
}

std::vector<UsageFigures> bench_usage(const Options& options, const fs::path& root) {
    const fs::path folder = root / "usage";
    TenantShape shape;
    shape.mailboxes = options.usage_mailboxes;
    write_tenant(folder, shape);
    SandboxProcess sandbox(options, folder, folder / "seed.json");
    const fs::path state = folder / "state.db";
    std::vector<std::string> argv{options.authgate,
                                  "usage",
                                  "-c",
                                  (folder / "desired").string(),
                                  "--format",
                                  "json",
                                  "--days",
                                  std::to_string(usage_days),
                                  "--log-format",
                                  "json",
                                  "--log-level",
                                  "debug",
                                  "--state",
                                  state.string(),
                                  "--graph-endpoint",
                                  sandbox.origin()};
    const auto flags = connection_flags(sandbox, root);
    argv.insert(argv.end(), flags.begin(), flags.end());

    std::vector<UsageFigures> all;
    for (const int size : signin_sizes(options)) {
        // Spread over the week before now, inside the window that usage reads a few minutes later.
        const Instant now = now_utc();
        sandbox.control("POST", "/_sandbox/usage",
                        "{\"generate_signins\":" + std::to_string(size) +
                            ",\"users\":" + std::to_string(options.signin_users) + ",\"from\":\"" +
                            format_instant(now - std::chrono::hours(24) * usage_days + std::chrono::hours(1)) +
                            "\",\"to\":\"" + format_instant(now - std::chrono::minutes(1)) + "\"}");
        UsageFigures figures;
        figures.signins = size;
        std::vector<double> walls, cpus, floors, readers, part_walls[part_count], part_cpus[part_count],
            peaks[part_count];
        // The bench's read and curl, then authgate, in turns.
        for (int run = 0; run < options.runs; ++run) {
            const GraphFloor floor = prepare_graph_floor(sandbox, root, folder);
            if (floor.rows != size)
                throw std::runtime_error("the bench read " + std::to_string(floor.rows) + " sign-ins, not " +
                                         std::to_string(size));
            readers.push_back(floor.reader_seconds);
            figures.floor.requests = floor.curl.requests;
            floors.push_back(run_curl_floor(floor.curl, folder, figures.floor.bytes));
            fs::remove(floor.curl.config);

            // Each run starts from an empty journal, so that each does the same work.
            for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(state.string() + suffix);
            const SandboxCounts before = run == 0 ? sandbox_counts(sandbox) : SandboxCounts{};
            const fs::path err = folder / "usage.err";
            const Timed timed = run_timed(argv, folder / "usage.json", err);
            if (timed.measured.exit_code != 0)
                throw std::runtime_error("authgate usage failed (exit " + std::to_string(timed.measured.exit_code) +
                                         "): " + read_text(err));
            if (run == 0) figures.requests = sandbox_counts(sandbox) - before;
            const auto read = log_line(err, "read");
            if (std::stoi(read.at("mailboxes")) != shape.mailboxes)
                throw std::runtime_error("usage read " + read.at("mailboxes") + " mailboxes");
            const TimedLine* ends[part_count] = {&timed_log_line(timed, err, "read", ""),
                                                 &timed_log_line(timed, err, "usage", "signin_logs read"),
                                                 &timed_log_line(timed, err, "usage", "email_app_report read"),
                                                 nullptr};
            double at = 0, cpu = 0;
            for (int part = 0; part < part_count; ++part) {
                const double end_at = ends[part] ? ends[part]->at : timed.measured.wall;
                const double end_cpu = ends[part] ? ends[part]->used.cpu : timed.measured.cpu;
                part_walls[part].push_back(end_at - at);
                part_cpus[part].push_back(end_cpu - cpu);
                peaks[part].push_back(ends[part] ? ends[part]->used.peak_kb : timed.measured.max_rss_kb);
                at = end_at;
                cpu = end_cpu;
            }
            walls.push_back(timed.measured.wall);
            cpus.push_back(timed.measured.cpu);
        }
        const auto report = web::json::value::parse(read_text(folder / "usage.json"));
        for (const auto& sender : report.at("senders").as_array()) {
            ++figures.senders;
            figures.cut_off += sender.at("cut_off").as_bool();
        }
        for (const auto& source : report.at("sources").as_array()) {
            if (source.at("source").as_string() != "signin_logs") continue;
            if (!source.at("read").as_bool())
                throw std::runtime_error("usage did not read the sign-in logs: " + source.at("why_not").as_string());
            figures.counted = source.at("senders").as_number().to_int64();
        }
        if (figures.counted != size)
            throw std::runtime_error("usage counted " + std::to_string(figures.counted) + " sign-ins, not " +
                                     std::to_string(size));
        figures.wall = median(walls);
        figures.cpu = median(cpus);
        for (int part = 0; part < part_count; ++part) {
            figures.part_wall[part] = median(part_walls[part]);
            figures.part_cpu[part] = median(part_cpus[part]);
            figures.peak_kb[part] = static_cast<long>(median(peaks[part]));
        }
        figures.floor.wall = median(floors);
        figures.reader_seconds = median(readers);
        all.push_back(figures);
    }
    return all;
}

// ---------------------------------------------------------------- the figures

// The plan table of `sizes`, `runs` runs each under `latency`, and what each further mailbox costs.
void print_plans(const Options& options, const fs::path& root, const std::vector<int>& sizes, int runs,
                 const Latency& latency) {
    std::printf("%9s %9s %8s %8s %8s %8s %9s %8s %9s %9s %8s %7s %9s %9s\n", "mailboxes", "seed MB", "wall s", "read s",
                "cpu s", "RSS MB", "requests", "MB recv", "curl s", "curl MB", "x floor", "reqs", "us/mbx", "KB/mbx");
    std::vector<PlanFigures> plans;
    for (int size : sizes) {
        const PlanFigures f = bench_plan(options, root, size, runs, latency);
        plans.push_back(f);
        std::printf("%9d %9.1f %8.3f %8.3f %8.3f %8.1f %9d %8.2f %9.3f %9.2f %8.2f %7d %9.1f %9.2f\n", f.size,
                    f.seed_mb, f.wall, f.read_seconds, f.cpu, f.max_rss_kb / 1024.0, f.requests, f.bytes / 1e6,
                    f.floor.wall, f.floor.bytes / 1e6, f.wall / f.floor.wall, f.floor.requests, f.cpu / f.size * 1e6,
                    f.max_rss_kb / static_cast<double>(f.size));
        std::fflush(stdout);
    }
    std::printf("(wall: the whole authgate plan process; read: its reading of the tenant; curl: the same %s\n"
                " requests sent by one curl on one connection; x floor = wall / curl)\n",
                "admin API");
    const auto largest = std::max_element(plans.begin(), plans.end(),
                                          [](const PlanFigures& a, const PlanFigures& b) { return a.size < b.size; });
    if (const std::string where = largest->where.line(); !where.empty())
        std::printf("%d mailboxes, %s\n", largest->size, where.c_str());
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
}

// The apply's figures beside the batched floor under `latency`; the comparisons when measured.
void print_apply(const ApplyFigures& a, const Latency& latency) {
    const int write_ms = latency.write_or_every_ms();
    const double floor = std::ceil(a.changes / 10.0) / 4.0 * write_ms / 1000.0;
    std::printf("apply of %d mailbox changes (tenant of %d mailboxes), %s, %s\n", a.changes, a.mailboxes,
                latency.text().c_str(), runs_text(a.runs).c_str());
    std::printf("  authgate apply, whole run      %8.3f s  (read %.3f s, writes %.3f s, read-back %.3f s)\n", a.wall,
                a.read_seconds, a.write_seconds, a.verify_seconds);
    std::printf("  write requests                 %8d $batch (%d InvokeCommand for the reads), %d mutations\n",
                a.batch_requests, a.invoke_requests, a.mutations);
    std::printf("  batched floor ceil(%d/10)/4 x %d ms = %.3f s; writes / floor = %.2f (runs: %.2f to %.2f)\n",
                a.changes, write_ms, floor, a.write_seconds / floor, a.fastest_writes / floor,
                a.slowest_writes / floor);
    std::printf("  TLS handshakes during the apply %6.0f full, %.0f resumed\n", a.full_handshakes,
                a.resumed_handshakes);
    if (const std::string where = a.where.line(); !where.empty()) std::printf("  %s\n", where.c_str());
    if (a.comparisons == Comparisons::no) {
        std::printf("\n");
        std::fflush(stdout);
        return;
    }
    const double serial = a.changes * write_ms / 1000.0;
    std::printf("  one request per change, in turn %8.3f s (%d requests; latency alone %.1f s); / writes = %.1f\n",
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
        std::printf("  (postgresql: a fresh tenant; the bench's own server on this machine, over a unix socket, "
                    "fsync off:\n   a server across a network adds a round trip to each statement)\n");
    std::printf("\n");
    std::fflush(stdout);
}

// ---------------------------------------------------------------- main

// "1000,10000" as sizes; "0" alone: none.
std::vector<int> size_list(const std::string& text) {
    std::vector<int> sizes;
    std::istringstream list(text);
    for (std::string size; std::getline(list, size, ',');)
        if (std::stoi(size) > 0) sizes.push_back(std::stoi(size));
    return sizes;
}

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
        else if (arg == "--service-sizes") options.service_sizes = size_list(next());
        else if (arg == "--service-runs") options.service_runs = std::stoi(next());
        else if (arg == "--service-page-ms") options.service_page_ms = std::stoi(next());
        else if (arg == "--service-write-ms") options.service_write_ms = std::stoi(next());
        else if (arg == "--signins") options.signins = std::stoi(next());
        else if (arg == "--signin-users") options.signin_users = std::stoi(next());
        else if (arg == "--usage-mailboxes") options.usage_mailboxes = std::stoi(next());
        else if (arg == "--work-dir") options.work_dir = next();
        else if (arg == "--sizes") options.sizes = size_list(next());
        else throw std::invalid_argument("unknown argument " + arg);
    }
    if (options.authgate.empty() || options.sandbox.empty())
        throw std::invalid_argument("usage: authgate-bench --authgate PATH --sandbox PATH [--pg-server PATH] "
                                    "[--sizes N,N] [--runs N] [--changes N] [--latency-ms MS] "
                                    "[--service-sizes N,N] [--service-runs N] [--service-page-ms MS] "
                                    "[--service-write-ms MS] [--signins N] [--signin-users N] "
                                    "[--usage-mailboxes N] [--work-dir DIR]");
    if (options.runs < 1) throw std::invalid_argument("--runs must be at least 1");
    if (options.service_runs < 0 || options.service_page_ms < 0 || options.service_write_ms < 0 ||
        options.latency_ms < 0)
        throw std::invalid_argument("--service-runs, --service-page-ms, --service-write-ms and --latency-ms must be "
                                    "at least 0");
    if (options.signins > 0 && (options.signin_users < 1 || options.usage_mailboxes < 1))
        throw std::invalid_argument("--signin-users and --usage-mailboxes must be at least 1");
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

        if (!options.sizes.empty()) {
            std::printf("plan, against the sandbox tenant over HTTPS (about 1%% of mailboxes with an override)\n");
            print_plans(options, root, options.sizes, options.runs, Latency{});
        }
        if (options.changes > 0) {
            const Latency latency{options.latency_ms, {}, {}};
            print_apply(bench_apply(options, root, options.runs, latency, Comparisons::yes), latency);
        }
        if (options.service_runs > 0) {
            const Latency reads{0, options.service_page_ms, {}};
            const Latency both{0, options.service_page_ms, options.service_write_ms};
            std::printf("with service-like latency: %s, %s\n", both.text().c_str(),
                        runs_text(options.service_runs).c_str());
            if (!options.service_sizes.empty()) {
                std::printf("plan, against the sandbox tenant over HTTPS, %s\n", reads.text().c_str());
                print_plans(options, root, options.service_sizes, options.service_runs, reads);
            }
            if (options.changes > 0)
                print_apply(bench_apply(options, root, options.service_runs, both, Comparisons::no), both);
        }

        if (options.signins > 0) {
            std::printf("usage --days %d of a tenant of %d mailboxes, against the sandbox over HTTPS: Basic SMTP "
                        "sign-ins of %d users\n(the first mailboxes, a few sending much and many little), spread "
                        "over the %d days, 2%% failed; pages of 1,000, newest first\n",
                        usage_days, options.usage_mailboxes, options.signin_users, usage_days);
            std::fflush(stdout);
            const std::vector<UsageFigures> usages = bench_usage(options, root);
            std::printf("%9s %8s %7s %8s %7s %8s %10s %7s %8s %8s %7s %8s %8s %8s\n", "sign-ins", "senders", "cut off",
                        "wall s", "cpu s", "tenant s", "sign-ins s", "cpu s", "report s", "rest s", "cpu s", "curl s",
                        "x floor", "bench s");
            for (const UsageFigures& u : usages)
                std::printf("%9d %8d %7d %8.3f %7.3f %8.3f %10.3f %7.3f %8.3f %8.3f %7.3f %8.3f %8.2f %8.3f\n",
                            u.signins, u.senders, u.cut_off, u.wall, u.cpu, u.part_wall[tenant_part],
                            u.part_wall[signins_part], u.part_cpu[signins_part], u.part_wall[report_part],
                            u.part_wall[rest_part], u.part_cpu[rest_part], u.floor.wall,
                            u.part_wall[signins_part] / u.floor.wall, u.reader_seconds);
            std::printf("%9s %10s %11s %10s %10s %6s %9s %8s\n", "sign-ins", "MB tenant", "MB sign-ins", "MB report",
                        "MB peak", "pages", "requests", "curl MB");
            for (const UsageFigures& u : usages)
                std::printf("%9d %10.1f %11.1f %10.1f %10.1f %6lld %9lld %8.2f\n", u.signins,
                            u.peak_kb[tenant_part] / 1024.0, u.peak_kb[signins_part] / 1024.0,
                            u.peak_kb[report_part] / 1024.0, u.peak_kb[rest_part] / 1024.0, u.requests.signin_pages,
                            u.requests.total(), u.floor.bytes / 1e6);
            std::printf(
                "(wall and cpu: the whole authgate usage process. Its parts, told apart by when its log lines "
                "arrived:\n tenant: start to the tenant read's line (token, every mailbox); sign-ins: then to the "
                "sign-in logs'\n line (the Graph token, every page, the fold per user); report: then to the email "
                "apps report's line\n (report settings, redirect, download); rest: then to the exit (the journal, "
                "the plan, the join, the\n JSON out). MB: peak resident memory at the end of each part, the last "
                "the run's. pages: sign-in page\n requests; requests: all requests of one run (Exchange, Graph, "
                "download, tokens). curl: the same sign-in\n pages sent by one curl on one connection; x floor = "
                "sign-ins s / curl s. bench s: those pages read by\n GraphUsageReader in the bench's process. Each "
                "run starts with an empty journal.)\n");
            // What each further sign-in row costs: the slope between the two sizes.
            for (std::size_t i = 1; i < usages.size(); ++i) {
                const UsageFigures& a = usages[i - 1];
                const UsageFigures& b = usages[i];
                const double added = b.signins - a.signins;
                const auto per_row = [added](double before, double after) { return (after - before) / added; };
                const auto read_growth = [](const UsageFigures& u) {
                    return static_cast<double>(u.peak_kb[signins_part] - u.peak_kb[tenant_part]) * 1024.0;
                };
                std::printf(
                    "from %d to %d sign-ins (%d to %d senders), each further sign-in: %.1f us wall; the sign-in "
                    "read\n %.1f us wall, %.1f us CPU (curl: %.1f us); the rest %.1f us wall, %.1f us CPU; %.0f bytes "
                    "of peak RSS\n (%.0f of them while reading the sign-ins); %.0f bytes received\n",
                    a.signins, b.signins, a.senders, b.senders, per_row(a.wall, b.wall) * 1e6,
                    per_row(a.part_wall[signins_part], b.part_wall[signins_part]) * 1e6,
                    per_row(a.part_cpu[signins_part], b.part_cpu[signins_part]) * 1e6,
                    per_row(a.floor.wall, b.floor.wall) * 1e6,
                    per_row(a.part_wall[rest_part], b.part_wall[rest_part]) * 1e6,
                    per_row(a.part_cpu[rest_part], b.part_cpu[rest_part]) * 1e6,
                    per_row(a.peak_kb[rest_part] * 1024.0, b.peak_kb[rest_part] * 1024.0),
                    per_row(read_growth(a), read_growth(b)), per_row(a.floor.bytes, b.floor.bytes));
            }
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "authgate-bench: %s\n", error.what());
        return 1;
    }
}
