#include "policies/files.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace authgate {

std::string read_file(const std::string& path) {
    const auto cannot_read = [&](int error) { return FileError("cannot read", path, std::strerror(error)); };
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) throw cannot_read(errno);
    std::string text;
    std::array<char, 1 << 16> buffer;
    std::size_t count = 0;
    while ((count = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) text.append(buffer.data(), count);
    // A folder opens, and fails only when read.
    if (std::ferror(file.get())) throw cannot_read(errno);
    return text;
}

std::optional<std::string> utf16_problem(std::string_view text) {
    if (!text.starts_with("\xFF\xFE") && !text.starts_with("\xFE\xFF")) return std::nullopt;
    return "the file is UTF-16; save it as UTF-8 (in Windows PowerShell: Out-File -Encoding utf8)";
}

}  // namespace authgate
