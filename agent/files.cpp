#include "agent/files.h"

#include <filesystem>
#include <fstream>

#include "agent/options.h"

namespace authgate {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
    const std::string partial = path + ".partial";
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        write(out);
        out.flush();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(partial, ignored);
            throw UsageError("cannot write " + path);
        }
    }
    std::error_code error;
    std::filesystem::rename(partial, path, error);
    if (error) throw UsageError("cannot write " + path + ": " + error.message());
}

}  // namespace authgate
