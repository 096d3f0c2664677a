// How Exchange's admin API answers: the OData envelope with type annotations, warnings and
// @odata.nextLink, $select, the error envelope, and the headers every answer carries
// (request-id, client-request-id, Rate-Limit-*).
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <vector>

#include "exchange_error.h"
#include "faults.h"
#include "http_message.h"

namespace sandbox {

struct SandboxState;

// The answer to one cmdlet call, before it becomes an HTTP response or a $batch item.
struct CallAnswer {
    int status = 200;
    Headers headers;
    web::json::value body;
    std::optional<std::string> text;  // the body already serialized (pages are built as text); wins over `body`

    web::json::value body_value() const { return text ? web::json::value::parse(*text) : body; }

    static CallAnswer failure(const ExchangeError& error);
};

// A stored object as Exchange prints it: "Guid@odata.type":"#Guid" before each GUID property.
web::json::value render_object(const web::json::value& stored);

// Only the named properties (matched without regard to case), plus Identity, with their annotations.
web::json::value select_properties(const web::json::value& rendered, const std::vector<std::string>& select);

// select_properties(render_object(stored), select).serialize(), appended to `out` in one pass:
// pages of a thousand objects are built without copying a value.
void append_selected(std::string& out, const web::json::value& stored, const std::vector<std::string>& select);

// success_envelope(…).serialize() for objects already serialized by append_selected, joined by commas.
std::string success_envelope_text(const std::string& origin, const std::string& tenant_segment,
                                  const std::string& values, const std::vector<std::string>& warnings,
                                  const std::optional<std::string>& next_link);

web::json::value success_envelope(const std::string& origin, const std::string& tenant_segment,
                                  std::vector<web::json::value> values, const std::vector<std::string>& warnings,
                                  const std::optional<std::string>& next_link);

CallAnswer server_error_answer(int status);
CallAnswer throttled_answer(const ThrottleFault& fault);
ExchangeError transient_exception(const std::string& name);

// Adds the headers every Exchange answer carries and makes the HTTP response.
HttpResponse exchange_http_response(SandboxState& state, const HttpRequest& request, CallAnswer answer);

}  // namespace sandbox
