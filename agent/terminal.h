#pragma once
// A person at a terminal gets colour and progress; a pipe, a file or --no-color gets plain text.
// NO_COLOR (no-color.org) and TERM=dumb are honoured too.
#include <cstddef>
#include <functional>
#include <string>

#include "agent/options.h"

namespace authgate {

struct TextStyle {
    bool color = false;
};

void add_color_option(po::options_description& options);
TextStyle stdout_style(const po::variables_map& values);

// Progress on standard error, rewritten in place; a no-op when standard error is not a terminal.
class Progress {
public:
    explicit Progress(const po::variables_map& values);
    ~Progress();
    void update(const std::string& text);
    void done();
    bool enabled() const { return enabled_; }

private:
    bool enabled_ = false;
    bool shown_ = false;
};

}  // namespace authgate
