#pragma once
// The one JSON helper: pretty printing with stable key order for reports and golden files.
#include <iosfwd>

#include <cpprest/json.h>

namespace authgate {

// Keeps object members in insertion order; call before building JSON documents.
void keep_json_member_order();

void write_json(std::ostream& out, const web::json::value& value);

}  // namespace authgate
