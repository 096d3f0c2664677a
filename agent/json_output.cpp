#include "agent/json_output.h"

#include <ostream>
#include <string>

namespace authgate {
namespace {

// Into one string, written at once: a plan of a thousand changes is a megabyte, and a stream
// insertion per token costs more than the rest of the rendering.
void write(std::string& out, const web::json::value& value, int depth) {
    const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
    if (value.is_object()) {
        const auto& object = value.as_object();
        if (object.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        bool first = true;
        for (const auto& [key, member] : object) {
            out.append(first ? "" : ",\n").append(indent);
            append_json_string(out, key);
            out.append(": ");
            write(out, member, depth + 1);
            first = false;
        }
        out.append("\n").append(static_cast<std::size_t>(depth) * 2, ' ').append("}");
    } else if (value.is_array()) {
        const auto& array = value.as_array();
        if (array.size() == 0) {
            out += "[]";
            return;
        }
        out += "[\n";
        for (std::size_t i = 0; i < array.size(); ++i) {
            out.append(i ? ",\n" : "").append(indent);
            write(out, array.at(i), depth + 1);
        }
        out.append("\n").append(static_cast<std::size_t>(depth) * 2, ' ').append("]");
    } else if (value.is_string()) {
        append_json_string(out, value.as_string());
    } else {
        out += value.serialize();
    }
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    static const char digits[] = "0123456789ABCDEF";
    out += '"';
    std::size_t plain = 0;  // the start of the run of characters written as they are
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(text.data() + plain, i - plain);
        plain = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out.append("\\u00").append(1, digits[c >> 4]).append(1, digits[c & 15]);
        }
    }
    out.append(text.data() + plain, text.size() - plain);
    out += '"';
}

void write_json(std::ostream& out, const web::json::value& value) {
    std::string text;
    write(text, value, 0);
    text += "\n";
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace authgate
