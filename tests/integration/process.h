#pragma once
// Runs programs for the integration tests: the real authgate binary and the sandbox tenant.
#include <sys/types.h>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace authgate::testing {

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `argv` to completion with `environment` added to (or replacing in) this process's
// environment, standard input closed. Kills it after `limit`.
RunResult run_program(const std::vector<std::string>& argv, const std::map<std::string, std::string>& environment = {},
                      std::chrono::seconds limit = std::chrono::seconds(60));

struct ProgramOptions {
    std::map<std::string, std::string> environment;  // added to (or, empty, removed from) this process's
    std::string directory;                           // where it runs; "" for here
    bool terminal = false;  // standard input, output and error on a pseudo-terminal; `out` holds all
};

// A program started and left running while the test acts on it: reads its output, types at
// its terminal, sends it signals, then collects its result.
class RunningProgram {
public:
    RunningProgram(const std::vector<std::string>& argv, const ProgramOptions& options);
    ~RunningProgram();  // SIGKILL when still running
    RunningProgram(const RunningProgram&) = delete;
    RunningProgram& operator=(const RunningProgram&) = delete;

    pid_t pid() const { return pid_; }
    // Reads its output until `text` has appeared (true), or it ended or `limit` passed (false).
    bool wait_for_output(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(60));
    void type(const std::string& text);  // at its terminal
    void signal(int signal);
    // Reads its output to the end, waits for it, and returns what it did.
    RunResult finish(std::chrono::seconds limit = std::chrono::seconds(60));
    const RunResult& so_far() const { return result_; }

private:
    bool pump(int timeout_ms);  // false once every output has ended

    pid_t pid_ = -1;
    int out_ = -1;  // the terminal's master side when on a terminal
    int err_ = -1;
    RunResult result_;
};

// A program running in the background until stop() or destruction (SIGTERM, then SIGKILL).
class BackgroundProgram {
public:
    BackgroundProgram(const std::vector<std::string>& argv, const std::string& log_file);
    ~BackgroundProgram();
    BackgroundProgram(const BackgroundProgram&) = delete;
    BackgroundProgram& operator=(const BackgroundProgram&) = delete;

    bool running();
    int stop();  // exit status

private:
    pid_t pid_ = -1;
    int status_ = -1;
};

}  // namespace authgate::testing
