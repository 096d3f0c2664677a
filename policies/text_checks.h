#pragma once
// Checks on the raw text of a desired state and of the strings in it, made before or besides
// toml++: encoding, nesting depth, control characters, and the shape of ids and names. Also how
// such text is quoted back in a message.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "source.h"

namespace authgate {

// Text from the desired state quoted in a message: control characters escaped and cut short
// after `most` bytes.
std::string shown(std::string_view text, std::size_t most = 120);

// Whether the text has a control character: C0, DEL, or C1.
bool has_control_character(std::string_view text);

// The first Unicode control that makes text read differently from what it is, or 0.
unsigned reordering_control(std::string_view text);

// The offset of the first byte where the text stops being UTF-8, or nullopt.
std::optional<std::size_t> invalid_utf8(std::string_view text);

// The line and column (in characters) of a byte offset into the text of `file`.
SourceLocation location_of(std::string_view text, std::size_t offset, const std::string& file);

// Where the text nests tables, dotted keys and arrays more than max_nesting levels deep, or
// nullopt; this keeps toml++ from overflowing the stack.
inline constexpr int max_nesting = 64;
std::optional<SourceLocation> too_deep(std::string_view text, const std::string& file);

bool is_guid(std::string_view text);

// A tenant GUID or its initial domain (*.onmicrosoft.com and the national clouds' equivalents).
bool is_tenant_id(std::string_view text);

// Characters, not UTF-8 bytes, as Exchange counts them.
std::size_t character_count(std::string_view text);

// Letters, digits and _, not starting with a digit.
bool is_env_name(std::string_view text);

}  // namespace authgate
