#include "agent/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "policies/files.h"

namespace authgate {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write, FileMode mode) {
    const auto fail = [&](const std::string& why) { return FileError("cannot write", path, why); };
    // Only a regular file is replaced: never a link (whatever it points at), a folder or a device.
    struct stat existing {};
    const bool exists = ::lstat(path.c_str(), &existing) == 0;
    if (exists && !S_ISREG(existing.st_mode))
        throw fail(S_ISLNK(existing.st_mode) ? "it is a symbolic link, which authgate does not replace or follow"
                                             : "it is not a regular file");
    std::ostringstream text;
    write(text);
    const std::string content = text.str();

    // Written aside under a name nobody can guess, created exclusively (a link planted there is
    // not followed), readable by its owner only, then renamed over the path (rename replaces a
    // link itself, never what it points at).
    const std::filesystem::path target(path);
    const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    std::string temporary = (folder / ("." + target.filename().string() + ".XXXXXX")).string();
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0) throw fail(std::strerror(errno));
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
    }
    bool complete = written == content.size();
    if (complete && mode == FileMode::keep && exists) complete = ::fchmod(fd, existing.st_mode & 07777) == 0;
    complete = complete && ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    if (!complete) {
        ::unlink(temporary.c_str());
        throw fail(std::strerror(error));
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int rename_error = errno;
        ::unlink(temporary.c_str());
        throw fail(std::strerror(rename_error));
    }
}

}  // namespace authgate
