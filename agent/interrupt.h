#pragma once
// SIGINT (Ctrl-C) and SIGTERM while a run writes to the tenant. The first is noted, and the run
// stops before its next write: the batch in flight finishes, the run is journalled
// "interrupted", the lock released, and the exit code is 128 + the signal (130, 143). The
// signal's own action is back in place at once, so that a second one ends the process.
namespace authgate {

class InterruptGuard {
public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    int signal() const;  // 0, SIGINT or SIGTERM: the first that came
};

const char* signal_name(int signal);  // "SIGINT"

}  // namespace authgate
