#include "policies/printable.h"

#include <cctype>
#include <cstdio>

namespace authgate {
namespace {

// Bidirectional and invisible formatting controls: U+061C, U+200B-200F, U+202A-202E, U+2060-2069, U+FEFF.
bool format_control(unsigned code) {
    return code == 0x061C || (code >= 0x200B && code <= 0x200F) || (code >= 0x202A && code <= 0x202E) ||
           (code >= 0x2060 && code <= 0x2069) || code == 0xFEFF;
}

}  // namespace

std::string printable(std::string_view text) {
    std::string shown;
    shown.reserve(text.size());
    char buffer[16];
    for (std::size_t i = 0; i < text.size();) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\n') shown += "\\n", ++i;
        else if (c == '\r') shown += "\\r", ++i;
        else if (c == '\t') shown += "\\t", ++i;
        else if (c < 0x20 || c == 0x7f) {
            std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
            shown += buffer;
            ++i;
        } else if (c < 0x80) {
            shown += static_cast<char>(c);
            ++i;
        } else {
            // One UTF-8 sequence; an invalid byte is shown as such.
            const int length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
            unsigned code = length == 4 ? c & 0x07u : length == 3 ? c & 0x0fu : c & 0x1fu;
            bool valid = length > 0 && i + static_cast<std::size_t>(length) <= text.size();
            for (int k = 1; valid && k < length; ++k) {
                const unsigned char next = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
                valid = (next & 0xc0) == 0x80;
                code = (code << 6) | (next & 0x3fu);
            }
            if (!valid) {
                std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
                shown += buffer;
                ++i;
            } else if ((code >= 0x80 && code <= 0x9f) || format_control(code)) {
                std::snprintf(buffer, sizeof buffer, "\\u{%04x}", code);
                shown += buffer;
                i += static_cast<std::size_t>(length);
            } else {
                shown.append(text.substr(i, static_cast<std::size_t>(length)));
                i += static_cast<std::size_t>(length);
            }
        }
    }
    return shown;
}

std::string grouped(std::size_t number) {
    const std::string digits = std::to_string(number);
    std::string text;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
        text += digits[i];
    }
    return text;
}

std::string counted(std::size_t number, std::string_view noun, std::string_view plural) {
    std::string text = grouped(number) + " ";
    if (number == 1) return text.append(noun);
    return plural.empty() ? text.append(noun).append("s") : text.append(plural);
}

std::string percent_encode(std::string_view text, std::string_view also_kept) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            also_kept.find(static_cast<char>(c)) != std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

}  // namespace authgate
