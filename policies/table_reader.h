#pragma once
// Reads one TOML table of the desired state against its schema: unknown keys (with "did you
// mean"), missing keys and wrong types are diagnostics, each at its position in the file.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "desired_state.h"
#include "diagnostics.h"
#include "names.h"
#include "source.h"
#include "text_checks.h"

namespace authgate {

// The position toml++ gives, in `file` when toml++ knows no path; line 1 when it knows no line.
SourceLocation where(const toml::source_region& region, const std::string& file);

// "a string", "an integer", ... for "must be X, not Y".
std::string_view type_name(toml::node_type type);

// Reads one TOML table against its schema, reporting every problem with its position.
class TableReader {
public:
    TableReader(const toml::table& table, std::string context, const std::string& file, Diagnostics& diagnostics)
        : table_(table), context_(std::move(context)), file_(file), diagnostics_(diagnostics) {}

    SourceLocation location() const { return where(table_.source(), file_); }

    void allow_keys(const std::vector<std::string_view>& known);

    // The node of a required key, or nullptr after reporting it missing. A key that an unknown
    // key's "did you mean" already names (expire → expires) is not reported twice.
    const toml::node* require(std::string_view key);

    const toml::node* find(std::string_view key) const { return table_.get(key); }

    std::optional<Located<std::string>> string(std::string_view key, bool required, bool allow_empty = false);
    std::optional<Located<bool>> boolean(std::string_view key);
    std::optional<Located<int>> integer(std::string_view key, int min, int max);

    template <NamedEnum Enum>
    std::optional<Located<Enum>> choice(std::string_view key) {
        auto text = string(key, false);
        if (!text) return std::nullopt;
        if (const auto value = parse_name<Enum>(text->value)) return Located<Enum>{*value, text->source};
        std::string names;
        for (const auto& [value, name] : EnumNames<Enum>::table)
            names += (names.empty() ? "" : ", ") + std::string(name);
        diagnostics_.error(text->source, "'" + std::string(key) + "' must be one of " + names + "; not \"" +
                                             shown(text->value) + "\"");
        return std::nullopt;
    }

    // An array whose elements are all addresses; each element keeps its own position.
    std::optional<std::vector<Located<std::string>>> addresses(std::string_view key);

    SourceLocation at(const toml::node& node) const { return where(node.source(), file_); }
    const std::string& context() const { return context_; }
    Diagnostics& diagnostics() { return diagnostics_; }

private:
    const toml::node* present(std::string_view key, bool required) { return required ? require(key) : table_.get(key); }

    std::nullopt_t type_error(std::string_view key, const toml::node& node, std::string_view expected);

    const toml::table& table_;
    std::string context_;
    const std::string& file_;
    Diagnostics& diagnostics_;
    std::vector<std::string> suggested_;
};

}  // namespace authgate
