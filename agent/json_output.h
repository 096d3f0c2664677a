#pragma once
// The one JSON helper: pretty printing with stable key order for reports and golden files.
#include <iosfwd>
#include <string>
#include <string_view>

#include <cpprest/json.h>

namespace authgate {

// Build report objects with web::json::value::object(true) so members keep their order.
void write_json(std::ostream& out, const web::json::value& value);

// `text` as a JSON string literal, quotes included, appended to `out`: the very bytes cpprest's
// serialize() writes for it (", \, and control characters escaped; everything else as it is).
void append_json_string(std::string& out, std::string_view text);

}  // namespace authgate
