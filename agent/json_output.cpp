#include "agent/json_output.h"

#include <ostream>
#include <string>

namespace authgate {
namespace {

void write(std::ostream& out, const web::json::value& value, int depth) {
    const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
    const std::string closing(static_cast<std::size_t>(depth) * 2, ' ');
    if (value.is_object()) {
        const auto& object = value.as_object();
        if (object.empty()) {
            out << "{}";
            return;
        }
        out << "{\n";
        bool first = true;
        for (const auto& [key, member] : object) {
            out << (first ? "" : ",\n") << indent << web::json::value::string(key).serialize() << ": ";
            write(out, member, depth + 1);
            first = false;
        }
        out << "\n" << closing << "}";
    } else if (value.is_array()) {
        const auto& array = value.as_array();
        if (array.size() == 0) {
            out << "[]";
            return;
        }
        out << "[\n";
        for (std::size_t i = 0; i < array.size(); ++i) {
            out << (i ? ",\n" : "") << indent;
            write(out, array.at(i), depth + 1);
        }
        out << "\n" << closing << "]";
    } else {
        out << value.serialize();
    }
}

}  // namespace

void write_json(std::ostream& out, const web::json::value& value) {
    write(out, value, 0);
    out << "\n";
}

}  // namespace authgate
