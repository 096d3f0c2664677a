#pragma once
// Reads a PowerShell line back the way PowerShell's tokenizer would, for the one shape
// powershell_line writes: Cmdlet -Name value -Name value …, where a value is $null, $true,
// $false or a single-quoted string. PowerShell ends a single-quoted string at any of ' and the
// typographic quotes U+2018 to U+201B, and reads two of them in a row as one (the second).
// A line that reads back as other parameters than were written has let a value escape.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "policies/plan.h"

namespace authgate::fuzz {

// The length of the PowerShell single quote at the start of `text`, or 0.
inline std::size_t single_quote_at(std::string_view text) {
    if (!text.empty() && text[0] == '\'') return 1;
    if (text.size() >= 3 && text[0] == '\xE2' && text[1] == '\x80' && text[2] >= '\x98' && text[2] <= '\x9B') return 3;
    return 0;
}

// The cmdlet as PowerShell would read the line, or nothing when it is not of that shape.
inline std::optional<Cmdlet> read_powershell_line(std::string_view line) {
    Cmdlet cmdlet;
    std::size_t at = line.find(' ');
    cmdlet.name = std::string(line.substr(0, at));
    while (at != std::string_view::npos) {
        if (line.substr(at, 2) != " -") return std::nullopt;
        const std::size_t name_end = line.find(' ', at + 2);
        if (name_end == std::string_view::npos) return std::nullopt;
        std::string name(line.substr(at + 2, name_end - at - 2));
        std::string_view rest = line.substr(name_end + 1);
        SettingValue value;
        std::size_t used = 0;
        if (rest.starts_with("$null")) {
            used = 5;
        } else if (rest.starts_with("$true")) {
            value = true, used = 5;
        } else if (rest.starts_with("$false")) {
            value = false, used = 6;
        } else if (const std::size_t open = single_quote_at(rest)) {
            std::string text;
            std::size_t i = open;
            for (;;) {
                if (i >= rest.size()) return std::nullopt;  // never closed
                if (const std::size_t quote = single_quote_at(rest.substr(i))) {
                    const std::size_t doubled = single_quote_at(rest.substr(i + quote));
                    if (!doubled) {
                        i += quote;
                        break;
                    }
                    text.append(rest.substr(i + quote, doubled));
                    i += quote + doubled;
                    continue;
                }
                text += rest[i++];
            }
            value = std::move(text);
            used = i;
        } else {
            return std::nullopt;
        }
        cmdlet.parameters.emplace_back(std::move(name), std::move(value));
        rest.remove_prefix(used);
        if (rest.empty()) break;
        at = name_end + 1 + used;
        if (line[at] != ' ') return std::nullopt;
    }
    return cmdlet;
}

inline bool reads_back(const Cmdlet& cmdlet) {
    const auto read = read_powershell_line(powershell_line(cmdlet));
    return read && read->name == cmdlet.name && read->parameters == cmdlet.parameters;
}

}  // namespace authgate::fuzz
