#include "policies/exception_edit.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include <toml++/toml.h>

#include "policies/name.h"

namespace authgate {
namespace {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            lines.push_back(text.substr(start));
            break;
        }
        lines.push_back(text.substr(start, end - start + 1));  // with its newline
        start = end + 1;
    }
    return lines;
}

std::string join(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) text += line;
    return text;
}

// The byte offset of a 1-based column, counted in code points as toml++ counts them.
std::size_t byte_of_column(const std::string& line, std::size_t column) {
    std::size_t at = 0;
    for (std::size_t point = 1; point < column && at < line.size(); ++point) {
        ++at;
        while (at < line.size() && (static_cast<unsigned char>(line[at]) & 0xC0) == 0x80) ++at;
    }
    return at;
}

struct Found {
    std::size_t header = 0;  // 0-based line of [[smtp_auth.exception]]
    std::size_t last = 0;    // 0-based last line of its keys
    const toml::table* table = nullptr;
};

std::optional<Found> find(const toml::table& root, const std::vector<std::string>& lines, std::string_view mailbox) {
    const toml::array* exceptions = root["smtp_auth"]["exception"].as_array();
    if (!exceptions) return std::nullopt;
    for (const toml::node& element : *exceptions) {
        const toml::table* table = element.as_table();
        if (!table) continue;
        const auto address = (*table)["mailbox"].value<std::string>();
        if (!address || !equals_ignoring_case(*address, mailbox)) continue;
        Found found{static_cast<std::size_t>(table->source().begin.line) - 1, 0, table};
        found.last = found.header;
        for (auto&& [key, value] : *table) {
            std::size_t end = static_cast<std::size_t>(value.source().end.line) - 1;
            found.last = std::max(found.last, end);
        }
        if (found.header >= lines.size() || found.last >= lines.size()) return std::nullopt;
        return found;
    }
    return std::nullopt;
}

toml::table parse(const std::string& text) {
    try {
        return toml::parse(text);
    } catch (const toml::parse_error& error) {
        throw std::runtime_error("the file is not valid TOML: " + std::string(error.description()));
    }
}

}  // namespace

std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04X", c);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string add_exception(const std::string& text, const ExceptionKeys& keys) {
    std::string edited = text;
    if (!edited.empty() && edited.back() != '\n') edited += '\n';
    if (!edited.empty()) edited += '\n';
    edited += "[[smtp_auth.exception]]\n";
    for (const auto& [key, value] : keys.values) edited += key + " = " + value + "\n";
    return edited;
}

bool has_exception(const std::string& text, std::string_view mailbox) {
    try {
        return find(toml::parse(text), split_lines(text), mailbox).has_value();
    } catch (const toml::parse_error&) {
        return false;
    }
}

std::string set_exception_keys(const std::string& text, std::string_view mailbox, const ExceptionKeys& keys) {
    const toml::table root = parse(text);
    std::vector<std::string> lines = split_lines(text);
    const auto found = find(root, lines, mailbox);
    if (!found) throw std::runtime_error("it holds no exception for " + std::string(mailbox));
    // Replacements from the last position back, so that earlier positions stay right.
    struct Replacement {
        std::size_t line, from, to;  // to: end line
        std::size_t from_column, to_column;
        std::string value;
    };
    std::vector<Replacement> replacements;
    std::vector<std::string> added;
    for (const auto& [key, value] : keys.values) {
        const toml::node* node = found->table->get(key);
        if (!node) {
            added.push_back(key + " = " + value + "\n");
            continue;
        }
        const toml::source_region& region = node->source();
        replacements.push_back({static_cast<std::size_t>(region.begin.line) - 1, 0,
                                static_cast<std::size_t>(region.end.line) - 1, region.begin.column, region.end.column,
                                value});
    }
    std::sort(replacements.begin(), replacements.end(),
              [](const Replacement& a, const Replacement& b) { return a.line > b.line; });
    // A key is added after the last one, before whatever follows (a blank line, the next table).
    if (!added.empty()) {
        std::string& last = lines[found->last];
        if (last.empty() || last.back() != '\n') last += '\n';
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(found->last) + 1, added.begin(), added.end());
    }
    for (const Replacement& r : replacements) {
        const std::string head = lines[r.line].substr(0, byte_of_column(lines[r.line], r.from_column));
        const std::string tail = lines[r.to].substr(byte_of_column(lines[r.to], r.to_column));
        lines[r.line] = head + r.value + tail;
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(r.line) + 1,
                    lines.begin() + static_cast<std::ptrdiff_t>(r.to) + 1);
    }
    return join(lines);
}

std::string remove_exception(const std::string& text, std::string_view mailbox) {
    const toml::table root = parse(text);
    std::vector<std::string> lines = split_lines(text);
    const auto found = find(root, lines, mailbox);
    if (!found) throw std::runtime_error("it holds no exception for " + std::string(mailbox));
    std::size_t from = found->header, to = found->last + 1;
    // One blank line around it goes with it, so that no gap of two is left.
    const auto blank = [&](std::size_t i) { return lines[i].find_first_not_of(" \t\r\n") == std::string::npos; };
    if (to < lines.size() && blank(to)) ++to;
    else if (from > 0 && blank(from - 1)) --from;
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(from), lines.begin() + static_cast<std::ptrdiff_t>(to));
    return join(lines);
}

std::string unified_diff(const std::string& path, const std::string& before, const std::string& after) {
    const std::vector<std::string> a = split_lines(before), b = split_lines(after);
    std::size_t prefix = 0;
    while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
    std::size_t suffix = 0;
    while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
           a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
        ++suffix;
    if (prefix == a.size() && prefix == b.size()) return "";
    constexpr std::size_t context = 3;
    const std::size_t start = prefix > context ? prefix - context : 0;
    const std::size_t a_end = std::min(a.size(), a.size() - suffix + context);
    const std::size_t b_end = std::min(b.size(), b.size() - suffix + context);
    const auto range = [](std::size_t first, std::size_t count) {
        return std::to_string(count == 0 ? first : first + 1) + "," + std::to_string(count);
    };
    // git's a/ and b/ before a relative path; an absolute one as it is.
    const bool absolute = !path.empty() && path.front() == '/';
    std::string diff = "--- " + std::string(absolute ? "" : "a/") + path + "\n+++ " + (absolute ? "" : "b/") + path +
                       "\n@@ -" + range(start, a_end - start) + " +" + range(start, b_end - start) + " @@\n";
    const auto line = [](char mark, std::string text) {
        if (text.empty() || text.back() != '\n') text += "\n\\ No newline at end of file\n";
        return std::string(1, mark) + text;
    };
    for (std::size_t i = start; i < prefix; ++i) diff += line(' ', a[i]);
    for (std::size_t i = prefix; i < a.size() - suffix; ++i) diff += line('-', a[i]);
    for (std::size_t i = prefix; i < b.size() - suffix; ++i) diff += line('+', b[i]);
    for (std::size_t i = a.size() - suffix; i < a_end; ++i) diff += line(' ', a[i]);
    return diff;
}

}  // namespace authgate
