#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace authgate::testing {
namespace {

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
    std::map<std::string, std::string> all;
    for (char** entry = environ; *entry; ++entry) {
        const std::string text(*entry);
        const auto eq = text.find('=');
        if (eq != std::string::npos) all[text.substr(0, eq)] = text.substr(eq + 1);
    }
    for (const auto& [name, value] : extra) {
        if (value.empty()) all.erase(name);
        else all[name] = value;
    }
    std::vector<std::string> list;
    for (const auto& [name, value] : all) list.push_back(name + "=" + value);
    return list;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (auto& s : strings) result.push_back(s.data());
    result.push_back(nullptr);
    return result;
}

pid_t spawn(std::vector<std::string> argv, std::vector<std::string> environment, posix_spawn_file_actions_t* actions) {
    auto args = pointers(argv);
    auto env = pointers(environment);
    pid_t pid = -1;
    if (posix_spawn(&pid, args[0], actions, nullptr, args.data(), env.data()) != 0)
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(errno));
    return pid;
}

}  // namespace

RunResult run_program(const std::vector<std::string>& argv, const std::map<std::string, std::string>& environment,
                      std::chrono::seconds limit) {
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    const pid_t pid = spawn(argv, merged_environment(environment), &actions);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);

    RunResult result;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int open = 2;
    while (open > 0 && std::chrono::steady_clock::now() < deadline) {
        if (poll(fds, 2, 200) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buffer[65536];
            const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    if (open > 0) kill(pid, SIGKILL);
    for (auto& fd : fds)
        if (fd.fd >= 0) close(fd.fd);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

RunningProgram::RunningProgram(const std::vector<std::string>& argv, const ProgramOptions& options) {
    std::vector<std::string> arguments = argv;
    std::vector<std::string> environment = merged_environment(options.environment);
    auto args = pointers(arguments);
    auto env = pointers(environment);
    if (options.terminal) {
        // Everything the child needs is ready before fork: after it, only exec.
        const char* directory = options.directory.empty() ? nullptr : options.directory.c_str();
        int master = -1;
        pid_ = forkpty(&master, nullptr, nullptr, nullptr);
        if (pid_ < 0) throw std::runtime_error(std::string("forkpty failed: ") + std::strerror(errno));
        if (pid_ == 0) {
            if (directory && chdir(directory) != 0) _exit(127);
            execve(args[0], args.data(), env.data());
            _exit(127);
        }
        out_ = master;
        return;
    }
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!options.directory.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.directory.c_str());
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    const int spawned = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawned != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(spawned));
    out_ = out_pipe[0];
    err_ = err_pipe[0];
}

RunningProgram::~RunningProgram() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
    if (err_ >= 0) close(err_);
}

bool RunningProgram::pump(int timeout_ms) {
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    std::string* sinks[2] = {&result_.out, &result_.err};
    if (out_ < 0 && err_ < 0) return false;
    if (poll(fds, 2, timeout_ms) <= 0) return true;
    for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buffer[65536];
        const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
        if (n > 0) {
            sinks[i]->append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {  // a terminal's master reads EIO once the child is gone
            close(fds[i].fd);
            (i == 0 ? out_ : err_) = -1;
        }
    }
    return out_ >= 0 || err_ >= 0;
}

bool RunningProgram::wait_for_output(const std::string& text, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (result_.out.find(text) != std::string::npos || result_.err.find(text) != std::string::npos) return true;
        if (!pump(100))
            return result_.out.find(text) != std::string::npos || result_.err.find(text) != std::string::npos;
    }
    return false;
}

void RunningProgram::type(const std::string& text) {
    if (out_ >= 0 && write(out_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw std::runtime_error("cannot type at the program's terminal");
}

void RunningProgram::signal(int signal) {
    if (pid_ > 0) kill(pid_, signal);
}

RunResult RunningProgram::finish(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline && pump(200)) {
    }
    if (out_ >= 0 || err_ >= 0) kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result_;
}

BackgroundProgram::BackgroundProgram(const std::vector<std::string>& argv, const std::string& log_file) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_ = spawn(argv, merged_environment({}), &actions);
    posix_spawn_file_actions_destroy(&actions);
}

bool BackgroundProgram::running() {
    if (pid_ < 0) return false;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

int BackgroundProgram::stop() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        // Up to 5 s, looked at every 5 ms: a sandbox usually stops within a few.
        for (int i = 0; i < 1000 && running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &status_, 0);
            pid_ = -1;
        }
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

BackgroundProgram::~BackgroundProgram() { stop(); }

}  // namespace authgate::testing
