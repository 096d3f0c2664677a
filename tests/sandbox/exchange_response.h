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

  static CallAnswer failure(const ExchangeError& error);
};

// A stored object as Exchange prints it: "Guid@odata.type":"#Guid" before each GUID property.
web::json::value render_object(const web::json::value& stored);

// Only the named properties (matched without regard to case), plus Identity, with their annotations.
web::json::value select_properties(const web::json::value& rendered, const std::vector<std::string>& select);

web::json::value success_envelope(const std::string& origin, const std::string& tenant_segment,
                                  std::vector<web::json::value> values, const std::vector<std::string>& warnings,
                                  const std::optional<std::string>& next_link);

CallAnswer server_error_answer(int status);
CallAnswer throttled_answer(const ThrottleFault& fault);
ExchangeError transient_exception(const std::string& name);

// Adds the headers every Exchange answer carries and makes the HTTP response.
HttpResponse exchange_http_response(SandboxState& state, const HttpRequest& request, CallAnswer answer);

}  // namespace sandbox
