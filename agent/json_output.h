#pragma once
// The one JSON helper: pretty printing with stable key order for reports and golden files.
#include <iosfwd>

#include <cpprest/json.h>

namespace authgate {

// Build report objects with web::json::value::object(true) so members keep their order.
void write_json(std::ostream& out, const web::json::value& value);

}  // namespace authgate
