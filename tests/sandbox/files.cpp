#include "files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sandbox {

namespace {

std::runtime_error file_error(const std::string& action, const std::filesystem::path& path) {
    return std::runtime_error("cannot " + action + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

std::string read_file(const std::filesystem::path& path) {
    std::ifstream input(path, std::ios::binary);
    if (!input) throw file_error("read", path);
    std::ostringstream content;
    content << input.rdbuf();
    return content.str();
}

void write_file_atomically(const std::filesystem::path& path, const std::string& content, mode_t mode) {
    const std::filesystem::path temporary = path.string() + ".tmp." + std::to_string(::getpid());
    const int descriptor = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (descriptor < 0) throw file_error("create", temporary);
    ::fchmod(descriptor, mode);  // the umask must not widen or narrow what was asked for
    size_t written = 0;
    while (written < content.size()) {
        const ssize_t result = ::write(descriptor, content.data() + written, content.size() - written);
        if (result < 0) {
            if (errno == EINTR) continue;
            ::close(descriptor);
            throw file_error("write", temporary);
        }
        written += static_cast<size_t>(result);
    }
    if (::close(descriptor) != 0) throw file_error("write", temporary);
    if (::rename(temporary.c_str(), path.c_str()) != 0) throw file_error("rename into", path);
}

DirectoryLock::DirectoryLock(const std::filesystem::path& directory) {
    const std::filesystem::path lock_path = directory / ".lock";
    descriptor_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (descriptor_ < 0) throw file_error("open", lock_path);
    while (::flock(descriptor_, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        const std::runtime_error error = file_error("lock", lock_path);
        ::close(descriptor_);
        throw error;
    }
}

DirectoryLock::~DirectoryLock() {
    if (descriptor_ >= 0) ::close(descriptor_);  // closing releases the flock
}

}  // namespace sandbox
