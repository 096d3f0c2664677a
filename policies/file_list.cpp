#include "policies/file_list.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace authgate {
namespace {

namespace fs = std::filesystem;

bool hidden(const fs::path& path) {
    const std::string name = path.filename().string();
    return !name.empty() && name[0] == '.';
}

}  // namespace

// Expands the given paths into the files to read, in merge order.
std::vector<SourceFile> list_files(const std::vector<std::string>& paths, Diagnostics& diagnostics) {
    std::vector<SourceFile> files;
    for (const std::string& path : paths) {
        std::error_code error;
        const fs::path root(path);
        if (fs::is_directory(root, error)) {
            std::vector<SourceFile> found;
            fs::recursive_directory_iterator it(root, fs::directory_options::none, error), end;
            for (; !error && it != end; it.increment(error)) {
                if (hidden(it->path())) {
                    if (it->is_directory()) it.disable_recursion_pending();
                    continue;
                }
                if (it->is_regular_file() && it->path().extension() == ".toml") {
                    const std::string relative = it->path().lexically_relative(root).generic_string();
                    found.push_back({(root / relative).lexically_normal().generic_string(), relative});
                }
            }
            if (error) diagnostics.error({path, 0, 0}, "cannot read directory: " + error.message());
            std::sort(found.begin(), found.end(),
                      [](const SourceFile& a, const SourceFile& b) { return a.relative < b.relative; });
            if (found.empty() && !error) diagnostics.error({path, 0, 0}, "no *.toml files in this directory");
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::exists(root, error)) {
            files.push_back({fs::path(path).lexically_normal().generic_string(), root.filename().string()});
        } else {
            diagnostics.error({path, 0, 0}, "no such file or directory");
        }
    }
    return files;
}

}  // namespace authgate
