#pragma once
// Reading a file whole, the one way: the desired state, snapshots, certificates and saved plans.
// A file that cannot be read or written is a FileError, which names the file and the system's
// reason; it is not a usage error, because the command line was right.
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace authgate {

class FileError : public std::runtime_error {
public:
    // what(): "{failed} {path}: {reason}", e.g. "cannot read plan.json: No such file or directory".
    FileError(const std::string& failed, std::string path, std::string reason)
        : std::runtime_error(failed + " " + path + ": " + reason), path_(std::move(path)), reason_(std::move(reason)) {}
    const std::string& path() const { return path_; }
    const std::string& reason() const { return reason_; }  // "Permission denied", "Is a directory", …

private:
    std::string path_;
    std::string reason_;
};

// The file's bytes, as they are. Throws FileError ("cannot read PATH: REASON") when it cannot be
// opened or read to its end (a folder included).
std::string read_file(const std::string& path);

// Text files are UTF-8. Out-File and ">" in Windows PowerShell 5.1 write UTF-16, the usual way to
// get another encoding: the message that says so and how to fix it, or nullopt.
std::optional<std::string> utf16_problem(std::string_view text);

}  // namespace authgate
