#pragma once
// What every fuzz target may rely on: a property that must hold for every input, checked in
// fuzzing builds and in the replay tests alike (so a crash input stays a failing test).
#include <cstdio>
#include <cstdlib>

namespace authgate::fuzz {

inline void require(bool holds, const char* property) {
    if (holds) return;
    std::fprintf(stderr, "fuzz property violated: %s\n", property);
    std::abort();
}

}  // namespace authgate::fuzz
