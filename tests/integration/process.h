#pragma once
// Runs programs for the integration tests: the real authgate binary and the sandbox tenant.
#include <chrono>
#include <map>
#include <string>
#include <sys/types.h>
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
