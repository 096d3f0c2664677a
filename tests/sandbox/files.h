// File helpers. Everything the sandbox writes for others to read (port file, state file,
// certificates) is written to a temporary file and renamed, so a reader never sees half a file.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace sandbox {

std::string read_file(const std::filesystem::path& path);  // throws std::runtime_error naming the file
void write_file_atomically(const std::filesystem::path& path, const std::string& content, mode_t mode = 0644);

// An exclusive flock on DIR/.lock for the lifetime of the object: two sandboxes started at once
// with the same --tls-dir must not each generate half of the CA and server files.
class DirectoryLock {
public:
    explicit DirectoryLock(const std::filesystem::path& directory);
    ~DirectoryLock();
    DirectoryLock(const DirectoryLock&) = delete;
    DirectoryLock& operator=(const DirectoryLock&) = delete;

private:
    int descriptor_ = -1;
};

}  // namespace sandbox
