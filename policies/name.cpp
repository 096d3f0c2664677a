#include "policies/name.h"

#include <cstring>
#include <ostream>

namespace authgate {

namespace {

// splitmix64's finaliser.
std::uint64_t mix(std::uint64_t h) {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

// Eight bytes with their ASCII capitals in lower case, all at once: a byte gets 0x20 where its
// low seven bits are 'A'..'Z' and its high bit is clear. No addition carries into the next byte.
std::uint64_t fold_word(std::uint64_t word) {
    constexpr std::uint64_t ones = 0x0101010101010101u;
    constexpr std::uint64_t high = 0x8080808080808080u;
    const std::uint64_t low7 = word & ~high;
    const std::uint64_t from_a = low7 + (0x80 - 'A') * ones;      // high bit set where low7 >= 'A'
    const std::uint64_t past_z = low7 + (0x80 - 'Z' - 1) * ones;  // high bit set where low7 > 'Z'
    const std::uint64_t capitals = from_a & ~past_z & ~word & high;
    return word | capitals >> 2;  // 0x80 >> 2 == 0x20
}

}  // namespace

// Eight folded bytes at a time into the mixer: quick on addresses and GUIDs, and good enough for
// keys no attacker chooses the collisions of (a collision costs only a probe).
std::uint64_t hash_ignoring_case(std::string_view key) {
    std::uint64_t hash = 0x9e3779b97f4a7c15u ^ key.size();
    std::size_t at = 0;
    for (; at + 8 <= key.size(); at += 8) {
        std::uint64_t word;
        std::memcpy(&word, key.data() + at, 8);
        hash = mix(hash ^ fold_word(word));
    }
    std::uint64_t rest = 0;
    std::memcpy(&rest, key.data() + at, key.size() - at);
    return mix(hash ^ fold_word(rest));
}

std::string fold_case(std::string_view text) {
    std::string folded(text);
    for (char& c : folded)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return folded;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    const auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (fold(a[i]) != fold(b[i])) return false;
    return true;
}

std::weak_ordering compare_ignoring_case(std::string_view a, std::string_view b) {
    const auto fold = [](char c) {
        return static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    };
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        if (fold(a[i]) != fold(b[i]))
            return fold(a[i]) < fold(b[i]) ? std::weak_ordering::less : std::weak_ordering::greater;
    return a.size() <=> b.size();
}

std::string operator+(const std::string& a, const Name& b) { return a + b.text(); }
std::string operator+(const Name& a, const std::string& b) { return a.text() + b; }
std::string operator+(const char* a, const Name& b) { return a + b.text(); }
std::string operator+(const Name& a, const char* b) { return a.text() + b; }
std::ostream& operator<<(std::ostream& out, const Name& name) { return out << name.text(); }

}  // namespace authgate
