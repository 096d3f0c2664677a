// POST /adminapi/beta/{tenant}/InvokeCommand: one cmdlet call through the faults, the cmdlet
// table and paging. answer_call is shared with $batch, which runs it once per item.
#pragma once

#include <optional>
#include <string>

#include "exchange_request.h"
#include "exchange_response.h"
#include "faults.h"
#include "http_message.h"

namespace sandbox {

struct SandboxState;

// The checks every admin API request passes first: POST, a valid bearer token, a tenant this
// sandbox serves, and X-AnchorMailbox.
std::optional<HttpResponse> refuse_exchange_request(SandboxState& state, const HttpRequest& request,
                                                    const std::string& tenant_segment);

CallAnswer answer_call(SandboxState& state, const CmdletCall& call);

// 403 with a body of NUL bytes and the reason only in x-ms-diagnostics (the nul_403 fault).
HttpResponse nul_403_response(SandboxState& state, const HttpRequest& request);
// The same answer for another application (a managed identity's client id).
HttpResponse role_not_supported_response(SandboxState& state, const HttpRequest& request, const std::string& app_id);

// The answer as the drop_connection and slow_answer faults deliver it (`drop`/`slow` when they
// fired for this request). Before processing, `answered` is not used: nothing ran.
HttpResponse deliver(std::optional<DropConnectionFault> drop, std::optional<SlowAnswerFault> slow,
                     HttpResponse answered);

// GET /adminapi/v1.0/{tenant}/EXOModuleFile with `CommandName: *`: the module file's listing of
// the cmdlets the app's roles allow (every cmdlet of the table but forbidden_cmdlets).
HttpResponse handle_module_file(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment);

// The kind of an admin API request (a path under /adminapi/), by its path and cmdlet (X-CmdletName,
// else the body's CmdletInput.CmdletName); nullopt for any other path.
std::optional<AdminRequestKind> admin_request_kind(const HttpRequest& request);

HttpResponse handle_invoke_command(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment);

}  // namespace sandbox
