// POST /adminapi/beta/{tenant}/$batch: up to 10 InvokeCommand calls in one request. Items run in
// the order sent; the responses come back shuffled (seeded, so a run is repeatable) so that a
// client must match them by id, as Exchange does not promise order.
#pragma once

#include <string>

#include "http_message.h"

namespace sandbox {

struct SandboxState;

inline constexpr size_t kMaximumBatchRequests = 10;

HttpResponse handle_batch(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment);

}  // namespace sandbox
