#pragma once
// One name table per enum: the names the journal, the JSON plan, the desired state and the
// command line use, read and written from the same table, so that a name is spelled once and an
// unknown name is an error rather than a default.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace authgate {

// Specialised next to each enum with `static constexpr std::array<std::pair<E, std::string_view>, N> table`.
template <class E>
struct EnumNames;

template <class E>
concept NamedEnum = requires {
    EnumNames<E>::table;
};

template <NamedEnum E>
constexpr std::string_view to_string(E value) {
    for (const auto& [candidate, name] : EnumNames<E>::table)
        if (candidate == value) return name;
    return "unknown";
}

// Nullopt for a name the table does not have.
template <NamedEnum E>
constexpr std::optional<E> parse_name(std::string_view name) {
    for (const auto& [candidate, spelled] : EnumNames<E>::table)
        if (spelled == name) return candidate;
    return std::nullopt;
}

// "a, b or c", for messages that list what is accepted.
template <NamedEnum E>
std::string name_list() {
    std::string list;
    const auto& table = EnumNames<E>::table;
    for (std::size_t i = 0; i < table.size(); ++i)
        list += (i == 0 ? "" : i + 1 == table.size() ? " or " : ", ") + std::string(table[i].second);
    return list;
}

}  // namespace authgate
