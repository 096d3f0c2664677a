#include "agent/interrupt.h"

#include <signal.h>

#include <csignal>

namespace authgate {
namespace {

volatile std::sig_atomic_t received = 0;
struct sigaction previous_int, previous_term;

void note(int signal) {
    if (received == 0) received = signal;
}

}  // namespace

InterruptGuard::InterruptGuard() {
    received = 0;
    struct sigaction action {};
    action.sa_handler = note;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND | SA_RESTART;  // the second signal takes its own action
    sigaction(SIGINT, &action, &previous_int);
    sigaction(SIGTERM, &action, &previous_term);
}

InterruptGuard::~InterruptGuard() {
    sigaction(SIGINT, &previous_int, nullptr);
    sigaction(SIGTERM, &previous_term, nullptr);
}

int InterruptGuard::signal() const { return received; }

const char* signal_name(int signal) {
    switch (signal) {
        case SIGINT: return "SIGINT";
        case SIGTERM: return "SIGTERM";
        default: return "a signal";
    }
}

}  // namespace authgate
