#pragma once
// Exchange compares addresses and policy names without regard to (ASCII) case. `Name` carries
// that rule in its type: its equality, order and hash ignore case, so that no comparison can
// forget to, while the text keeps the case it was written or read in.
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace authgate {

// Case-insensitive (ASCII) comparison and folding.
std::string fold_case(std::string_view text);
bool equals_ignoring_case(std::string_view a, std::string_view b);
std::weak_ordering compare_ignoring_case(std::string_view a, std::string_view b);
std::uint64_t hash_ignoring_case(std::string_view key);

class Name {
public:
    Name() = default;
    Name(std::string text) : text_(std::move(text)) {}  // NOLINT: a name is written as text
    Name(std::string_view text) : text_(text) {}        // NOLINT
    Name(const char* text) : text_(text) {}             // NOLINT

    const std::string& text() const { return text_; }
    operator const std::string&() const { return text_; }  // NOLINT: shown as written
    operator std::string_view() const { return text_; }    // NOLINT
    bool empty() const { return text_.empty(); }

    friend bool operator==(const Name& a, const Name& b) { return equals_ignoring_case(a.text_, b.text_); }
    friend bool operator==(const Name& a, std::string_view b) { return equals_ignoring_case(a.text_, b); }
    friend bool operator==(const Name& a, const std::string& b) { return equals_ignoring_case(a.text_, b); }
    friend bool operator==(const Name& a, const char* b) { return equals_ignoring_case(a.text_, b); }
    friend std::weak_ordering operator<=>(const Name& a, const Name& b) {
        return compare_ignoring_case(a.text_, b.text_);
    }

private:
    std::string text_;
};

std::string operator+(const std::string& a, const Name& b);
std::string operator+(const Name& a, const std::string& b);
std::string operator+(const char* a, const Name& b);
std::string operator+(const Name& a, const char* b);
std::ostream& operator<<(std::ostream& out, const Name& name);

}  // namespace authgate

template <>
struct std::hash<authgate::Name> {
    std::size_t operator()(const authgate::Name& name) const { return authgate::hash_ignoring_case(name.text()); }
};
