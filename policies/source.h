#pragma once
// Where something in the desired state was written, so every message can name it.
#include <string>

namespace authgate {

struct SourceLocation {
    std::string file;
    int line = 0;
    int column = 0;

    bool known() const { return !file.empty(); }
};

// "file:line:column" (or less when parts are unknown).
std::string to_string(const SourceLocation& where);

}  // namespace authgate
