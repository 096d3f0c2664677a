#pragma once
// Edits of the desired state's text for `authgate exception add|renew|remove`: the file is
// edited as text, where toml++'s source positions say, so that its comments and layout stay as
// they are. The result is judged by the loader and validation before anything is written.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authgate {

// The keys of an [[smtp_auth.exception]] to write, in the order written; a value is TOML text
// already (a quoted string, a date, true).
struct ExceptionKeys {
    std::vector<std::pair<std::string, std::string>> values;
};

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view text);

// `text` with a new [[smtp_auth.exception]] for `mailbox` appended.
std::string add_exception(const std::string& text, const ExceptionKeys& keys);
// `text` with the keys of `mailbox`'s exception set: a value replaced where it stands (its
// comment kept), a key it lacks added after its last one. Throws std::runtime_error when the
// file has no exception for that mailbox, or cannot be parsed.
std::string set_exception_keys(const std::string& text, std::string_view mailbox, const ExceptionKeys& keys);
// `text` without `mailbox`'s exception: from its header to its last key.
std::string remove_exception(const std::string& text, std::string_view mailbox);
// Whether the file holds an exception for `mailbox` (false when it cannot be parsed).
bool has_exception(const std::string& text, std::string_view mailbox);

// A unified diff of two versions of one file (one hunk around what changed, 3 lines of context).
std::string unified_diff(const std::string& path, const std::string& before, const std::string& after);

}  // namespace authgate
