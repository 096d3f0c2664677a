#include "policies/table_reader.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "policies/validate.h"

namespace authgate {
namespace {

// Folds case and drops separators, so that AllowBasicAuthSmtp finds allow_basic_auth_smtp.
std::string squash(std::string_view key) {
    std::string out;
    for (char c : key)
        if (c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string suggestion(std::string_view unknown, const std::vector<std::string_view>& known) {
    std::string_view best;
    std::size_t best_distance = std::max<std::size_t>(2, unknown.size() / 3) + 1;
    for (std::string_view candidate : known) {
        // The same key in another case or spelling, a key cut short ("webhook"), or a typo.
        const bool prefix = unknown.size() >= 4 && candidate.substr(0, unknown.size()) == unknown;
        const std::size_t distance = squash(candidate) == squash(unknown) ? 0
                                     : prefix                             ? 1
                                                                          : edit_distance(unknown, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return std::string(best);
}

}  // namespace

SourceLocation where(const toml::source_region& region, const std::string& file) {
    SourceLocation location{region.path ? *region.path : file, static_cast<int>(region.begin.line),
                            static_cast<int>(region.begin.column)};
    if (location.line == 0) location = {file, 1, 1};
    return location;
}

std::string_view type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        default: return "nothing";
    }
}

void TableReader::allow_keys(const std::vector<std::string_view>& known) {
    for (const auto& [key, node] : table_) {
        const std::string_view name = key.str();
        if (std::find(known.begin(), known.end(), name) != known.end()) continue;
        // [guardrail] is a key to TOML, but the user wrote a table header.
        const bool table = node.is_table() || node.is_array_of_tables();
        std::string message = (table ? "unknown table '" : "unknown key '") + shown(name) + "' in " + context_;
        if (const std::string hint = suggestion(name, known); !hint.empty()) {
            message += "; did you mean '" + hint + "'?";
            suggested_.push_back(hint);
        }
        diagnostics_.error(where(key.source(), file_), message);
    }
}

const toml::node* TableReader::require(std::string_view key) {
    const toml::node* node = table_.get(key);
    if (!node && std::find(suggested_.begin(), suggested_.end(), key) == suggested_.end())
        diagnostics_.error(location(), "missing required key '" + std::string(key) + "' in " + context_);
    return node;
}

std::optional<Located<std::string>> TableReader::string(std::string_view key, bool required, bool allow_empty) {
    const toml::node* node = present(key, required);
    if (!node) return std::nullopt;
    const auto* value = node->as_string();
    if (!value) return type_error(key, *node, "a string");
    const std::string& text = value->get();
    if (text.empty() && !allow_empty) {
        diagnostics_.error(at(*node), "'" + std::string(key) + "' must not be empty");
        return std::nullopt;
    }
    if (has_control_character(text)) {
        diagnostics_.error(at(*node), "'" + std::string(key) + "' contains a control character");
        return std::nullopt;
    }
    if (const unsigned code = reordering_control(text)) {
        char hex[9];  // room for any unsigned, so the compiler need not know that codes stop at U+2069
        std::snprintf(hex, sizeof hex, "%04X", code);
        diagnostics_.error(at(*node), "'" + std::string(key) + "' contains the bidirectional control U+" + hex +
                                          ", which makes the text read differently from what it is; remove it");
        return std::nullopt;
    }
    return Located<std::string>{text, at(*node)};
}

std::optional<Located<bool>> TableReader::boolean(std::string_view key) {
    const toml::node* node = present(key, false);
    if (!node) return std::nullopt;
    if (const auto* value = node->as_boolean()) return Located<bool>{value->get(), at(*node)};
    return type_error(key, *node, "a boolean");
}

std::optional<Located<int>> TableReader::integer(std::string_view key, int min, int max) {
    const toml::node* node = present(key, false);
    if (!node) return std::nullopt;
    const auto* value = node->as_integer();
    if (!value) return type_error(key, *node, "an integer");
    if (value->get() < min || value->get() > max) {
        diagnostics_.error(at(*node), "'" + std::string(key) + "' must be from " + std::to_string(min) + " to " +
                                          std::to_string(max) + ", not " + std::to_string(value->get()));
        return std::nullopt;
    }
    return Located<int>{static_cast<int>(value->get()), at(*node)};
}

std::optional<std::vector<Located<std::string>>> TableReader::addresses(std::string_view key) {
    const toml::node* node = present(key, false);
    if (!node) return std::nullopt;
    const auto* array = node->as_array();
    if (!array) return type_error(key, *node, "an array of mail addresses");
    std::vector<Located<std::string>> result;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const auto* text = element.as_string();
        const std::string name = std::string(key) + "[" + std::to_string(i) + "]";
        if (!text) {
            diagnostics_.error(at(element),
                               "'" + name + "' must be a string, not " + std::string(type_name(element.type())));
        } else if (!is_plausible_address(text->get())) {
            diagnostics_.error(at(element),
                               "'" + name + "' is not a plausible mail address: \"" + shown(text->get()) + "\"");
        } else {
            result.push_back({text->get(), at(element)});
        }
    }
    return result;
}

std::nullopt_t TableReader::type_error(std::string_view key, const toml::node& node, std::string_view expected) {
    diagnostics_.error(at(node), "'" + std::string(key) + "' must be " + std::string(expected) + ", not " +
                                     std::string(type_name(node.type())));
    return std::nullopt;
}

}  // namespace authgate
