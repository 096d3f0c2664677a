#include "policies/text_checks.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "policies/name.h"

namespace authgate {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() > suffix.size() && fold_case(text.substr(text.size() - suffix.size())) == suffix;
}

}  // namespace

// Text from the desired state quoted in a message: control characters (C0, DEL, C1) escaped, so
// that a message cannot move the cursor or fake a line of output, and cut short, so that a 10 MB
// value is not printed back whole.
std::string shown(std::string_view text, std::size_t most) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    std::size_t i = 0;
    // Past `most`, only the rest of a UTF-8 sequence is taken, so that no character is cut in two.
    for (; i < text.size() && (out.size() < most || (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        if (c < 0x20 || c == 0x7f) {
            out.append("\\x").append(1, digits[c >> 4]).append(1, digits[c & 15]);
        } else if (c == 0xC2 && next >= 0x80 && next <= 0x9F) {  // C1, U+0080 to U+009F
            out.append("\\u00").append(1, digits[next >> 4]).append(1, digits[next & 15]);
            ++i;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (i < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
    return out;
}

// Control characters: C0, DEL, and C1 (U+0080 to U+009F, which some terminals obey, e.g. U+009B
// as an escape).
bool has_control_character(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) return true;
        if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F) return true;
    }
    return false;
}

// The first Unicode control that makes text read differently from what it is (the bidirectional
// embeddings, overrides and isolates U+202A-202E and U+2066-2069, the marks U+200E, U+200F and
// U+061C), or 0. A reviewer reading "owner = ..." must see what the file says.
unsigned reordering_control(std::string_view text) {
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        if (c == 0xD8 && c1 == 0x9C) return 0x061C;
        if (c != 0xE2 || i + 2 >= text.size()) continue;
        const unsigned code = 0x2000u | ((c1 & 0x3Fu) << 6) | (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
        if (c1 < 0x80 || c1 > 0x81) continue;
        if (code == 0x200E || code == 0x200F || (code >= 0x202A && code <= 0x202E) ||
            (code >= 0x2066 && code <= 0x2069))
            return code;
    }
    return 0;
}

// Where the text stops being UTF-8 (overlong forms, surrogates and code points past U+10FFFF
// included), so that a file saved as Latin-1 or UTF-16 is named for what it is, at its byte.
std::optional<std::size_t> invalid_utf8(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    for (std::size_t i = 0; i < text.size();) {
        const unsigned char c = byte(i);
        std::size_t length = 1;
        unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            if (c == 0xE0) low = 0xA0;
            if (c == 0xED) high = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            if (c == 0xF0) low = 0x90;
            if (c == 0xF4) high = 0x8F;
        } else {
            return i;
        }
        if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return i;
        for (std::size_t k = 2; k < length; ++k)
            if ((byte(i + k) & 0xC0) != 0x80) return i;
        i += length;
    }
    return std::nullopt;
}

SourceLocation location_of(std::string_view text, std::size_t offset, const std::string& file) {
    SourceLocation where{file, 1, 1};
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') where.line++, where.column = 1;
        else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) where.column++;
    }
    return where;
}

// toml++ builds, walks and frees its tables recursively, so that a key of 100,000 dotted parts
// overflows the stack; no desired state needs more than a few levels. This bounds the depth from
// the text alone, before toml++ sees it: the parts of the last table header, plus the parts of
// each key and the brackets open around a value. Strings and comments are skipped as TOML reads
// them. Where the text stops being TOML the count may go astray, but toml++ stops there too.
std::optional<SourceLocation> too_deep(std::string_view text, const std::string& file) {
    enum class In { code, comment, basic, literal, multiline_basic, multiline_literal };
    In in = In::code;
    int line = 1, column = 0;
    std::size_t skip = 0;    // bytes of a delimiter already dealt with
    bool escaped = false;    // after a backslash in a basic string
    bool line_start = true;  // nothing but blanks yet on this line
    bool in_header = false;
    int header = 0;  // levels of the last [table] or [[table]] header
    int dots = 0;    // dots of the dotted key (or header) being read
    int key = 0;     // levels of the key before the last '='
    int open = 0;    // levels added by the brackets open around here
    std::vector<int> brackets;
    const auto run_of = [&](std::size_t i, char quote) {
        std::size_t n = 0;
        while (i + n < text.size() && text[i + n] == quote) ++n;
        return n;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column;
        if (c == '\n') ++line, column = 0;
        if (skip > 0) {
            --skip;
            continue;
        }
        switch (in) {
            case In::comment:
                if (c == '\n') in = In::code, dots = 0, key = 0, line_start = true;
                continue;
            case In::basic:
            case In::multiline_basic:
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '\n' && in == In::basic) {
                    in = In::code;  // not TOML: toml++ stops here
                } else if (c == '"') {
                    const std::size_t run = run_of(i, '"');
                    if (in == In::basic) in = In::code;
                    else if (run >= 3) in = In::code, skip = std::min<std::size_t>(run, 5) - 1;
                }
                continue;
            case In::literal:
            case In::multiline_literal:
                if (c == '\n' && in == In::literal) in = In::code;
                if (c != '\'') continue;
                if (in == In::literal) in = In::code;
                else if (const std::size_t run = run_of(i, '\''); run >= 3)
                    in = In::code, skip = std::min<std::size_t>(run, 5) - 1;
                continue;
            case In::code: break;
        }
        const bool was_line_start = line_start;
        if (c != ' ' && c != '\t' && c != '\r') line_start = false;
        switch (c) {
            case ' ':
            case '\t':
            case '\r': break;
            case '\n': dots = 0, key = 0, line_start = true; break;
            case '#': in = In::comment; break;
            case '"':
                in = run_of(i, '"') >= 3 ? In::multiline_basic : In::basic;
                if (in == In::multiline_basic) skip = 2;
                break;
            case '\'':
                in = run_of(i, '\'') >= 3 ? In::multiline_literal : In::literal;
                if (in == In::multiline_literal) skip = 2;
                break;
            case '.':
                if ((in_header ? 0 : header) + open + ++dots + 1 > max_nesting)
                    return SourceLocation{file, line, column};
                break;
            case '=': key = dots + 1, dots = 0; break;
            case '[':
                if (brackets.empty() && was_line_start) {
                    in_header = true, dots = 0;
                    if (i + 1 < text.size() && text[i + 1] == '[') skip = 1;
                    break;
                }
                [[fallthrough]];
            case '{':
                brackets.push_back(key + 1);
                open += key + 1, key = 0, dots = 0;
                if (header + open > max_nesting) return SourceLocation{file, line, column};
                break;
            case ']':
                if (in_header) {
                    header = dots + 2;  // + 1 for an array of tables
                    in_header = false, dots = 0;
                    if (i + 1 < text.size() && text[i + 1] == ']') skip = 1;
                    break;
                }
                [[fallthrough]];
            case '}':
                if (!brackets.empty()) open -= brackets.back(), brackets.pop_back();
                key = 0, dots = 0;
                break;
            case ',': key = 0, dots = 0; break;
            default:
                if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') dots = 0;
        }
    }
    return std::nullopt;
}

bool is_guid(std::string_view text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
}

bool is_tenant_id(std::string_view text) {
    return is_guid(text) || ends_with(text, ".onmicrosoft.com") || ends_with(text, ".onmicrosoft.us") ||
           ends_with(text, ".partner.onmschina.cn");
}

// Exchange counts characters, not UTF-8 bytes: "Drucker für Empfang" must not be penalised
// for its umlaut. Continuation bytes (10xxxxxx) do not start a character.
std::size_t character_count(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_env_name(std::string_view text) {
    if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0]))) return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace authgate
