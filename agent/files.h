#pragma once
// Files the commands write for pipelines and auditors (saved plans, snapshots, imported desired
// states) are written aside and renamed into place, so that no reader ever sees half of one;
// they are readable by their owner only (0600), and a link or anything but a regular file at the
// path is refused, never followed.
#include <functional>
#include <iosfwd>
#include <string>

namespace authgate {

// Who may read the file written: its owner only (0600), or as the file it replaces was (an edit
// of a file under version control keeps its mode).
enum class FileMode { owner_only, keep };

// Throws FileError (policies/files.h) naming the file and why when it cannot be written.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write,
                           FileMode mode = FileMode::owner_only);

}  // namespace authgate
