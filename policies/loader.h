#pragma once
// Reads a desired state from TOML files and directories, checking syntax, keys and types.
// Semantic rules that span elements are in validate.h.
#include <string>
#include <vector>

#include "desired_state.h"
#include "diagnostics.h"

namespace authgate {

struct LoadResult {
    DesiredState state;
    Diagnostics diagnostics;
};

// Each path is a .toml file or a directory whose *.toml files (recursively, sorted by path)
// are merged. Never throws for bad input: every problem is a diagnostic.
LoadResult load_desired_state(const std::vector<std::string>& paths);
// The same, with one of its files (named as the listing names it) read as `text` instead: an
// edit judged by the loader before it is written.
struct EditedFile {
    std::string path;
    std::string text;
};
LoadResult load_desired_state(const std::vector<std::string>& paths, const EditedFile& edited);

// The same, from text already in memory (for tests and fuzzing); `name` is used in messages.
LoadResult load_desired_state_text(const std::string& name, const std::string& text);

}  // namespace authgate
