#pragma once
// A command line authgate cannot accept: printed with the command's usage, exit 1.
#include <stdexcept>

namespace authgate {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace authgate
