#pragma once
// Which .toml files the paths given for a desired state name, in the order they are merged.
#include <string>
#include <vector>

#include "diagnostics.h"

namespace authgate {

struct SourceFile {
    std::string display;   // path as the user would write it from here
    std::string relative;  // path inside the desired-state root, for the digest
};

// A file is itself; a directory is its *.toml files, recursively, sorted by relative path, with
// hidden files and directories (".git") left out. A path that is missing, an unreadable
// directory, or one without .toml files is an error in `diagnostics`.
std::vector<SourceFile> list_files(const std::vector<std::string>& paths, Diagnostics& diagnostics);

}  // namespace authgate
