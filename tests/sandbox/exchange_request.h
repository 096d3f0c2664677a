// What Exchange's admin API requires of a request before it runs a cmdlet: a valid bearer
// token, X-AnchorMailbox, a JSON body naming the cmdlet, X-CmdletName agreeing with it, and the
// Prefer and X-ResponseFormat headers it understands.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "exchange_error.h"
#include "http_message.h"

namespace sandbox {

struct SandboxState;

// One cmdlet call: an InvokeCommand request, or one item of a $batch.
struct CmdletCall {
    std::string id;      // the batch item's id; empty for InvokeCommand
    std::string cmdlet;  // as named in the body
    web::json::value parameters = web::json::value::object(true);
    std::vector<std::string> select;  // from $select
    std::optional<std::string> skiptoken;
    size_t page_size = 1000;
    std::string tenant_segment;
    std::string origin;  // how the client addressed the sandbox, for nextLink
    std::string client_request_id;
    std::string anchor;  // X-AnchorMailbox as sent (a batch item's own, if it has one)
    bool batch_item = false;
};

// 401 with WWW-Authenticate when the bearer token is missing, unknown or expired.
std::optional<HttpResponse> check_bearer(SandboxState& state, const HttpRequest& request);

std::optional<ExchangeError> check_anchor_mailbox(const SandboxState& state, const HttpRequest& request);

// Reads the call from a body and the call's own headers and query (for a batch item, the item's
// headers and URL query). `require_content_type` is false for batch items, whose Content-Type
// may be left out.
std::variant<CmdletCall, ExchangeError> read_cmdlet_call(const SandboxState& state, const Headers& headers,
                                                         const QueryParameters& query, const std::string& body,
                                                         bool require_content_type);

// The preferences of a Prefer header ("odata.maxpagesize=100, odata.continue-on-error").
bool prefers(const Headers& headers, std::string_view preference);

}  // namespace sandbox
