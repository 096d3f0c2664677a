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
            out.append(first ? "" : ",\n")
                .append(indent)
                .append(web::json::value::string(key).serialize())
                .append(": ");
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
    } else {
        out += value.serialize();
    }
}

}  // namespace

void write_json(std::ostream& out, const web::json::value& value) {
    std::string text;
    write(text, value, 0);
    text += "\n";
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace authgate
