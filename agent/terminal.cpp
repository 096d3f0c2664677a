#include "agent/terminal.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace authgate {
namespace {

bool plain_requested(const po::variables_map& values) {
    if (values.count("no-color")) return true;
    if (const char* no_color = std::getenv("NO_COLOR"); no_color && *no_color) return true;
    const char* term = std::getenv("TERM");
    return term && std::string(term) == "dumb";
}

}  // namespace

void add_color_option(po::options_description& options) {
    options.add_options()("no-color", "plain text: no colour, no progress (also NO_COLOR=1, or when not a terminal)");
}

TextStyle stdout_style(const po::variables_map& values) { return {isatty(STDOUT_FILENO) && !plain_requested(values)}; }

Progress::Progress(const po::variables_map& values) : enabled_(isatty(STDERR_FILENO) && !plain_requested(values)) {}

Progress::~Progress() { done(); }

void Progress::update(const std::string& text) {
    if (!enabled_) return;
    std::cerr << "\r\033[K" << text << std::flush;
    shown_ = true;
}

void Progress::done() {
    if (!enabled_ || !shown_) return;
    std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
}

}  // namespace authgate
