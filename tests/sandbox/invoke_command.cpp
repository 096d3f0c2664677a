#include "invoke_command.h"

#include <algorithm>
#include <memory>

#include "cmdlets.h"
#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

std::string next_link(SandboxState& state, const CmdletCall& call, const std::string& token) {
    const std::string origin = state.faults.foreign_next_link().value_or(call.origin);
    return origin + "/adminapi/beta/" + call.tenant_segment + "/InvokeCommand?$skiptoken=" + token;
}

// A policy reference (DefaultAuthenticationPolicy, a user's AuthenticationPolicy) is stored as
// the policy's name; --policy-references answers it as the policy's DN or Guid instead.
const value& named_as_configured(const SandboxState& state, const value& row) {
    thread_local value renamed;
    const auto form = state.config.behaviours.policy_references;
    if (form == ServiceBehaviours::PolicyReferences::name) return row;
    for (const char* property : {"AuthenticationPolicy", "DefaultAuthenticationPolicy"}) {
        const std::string name = text_property(row, property);
        if (name.empty()) continue;
        for (const size_t index : state.tenant.find_policies(name)) {
            const value& policy = *state.tenant.policies()[index];
            renamed = row;
            renamed[property] = value::string(text_property(
                policy, form == ServiceBehaviours::PolicyReferences::guid ? "Guid" : "DistinguishedName"));
            return renamed;
        }
    }
    return row;
}

// An answer with no rows: "value":[] as built, or --empty-value's absent or null.
void empty_value_as_configured(const SandboxState& state, std::string& text) {
    const auto form = state.config.behaviours.empty_value;
    if (form == ServiceBehaviours::EmptyValue::array) return;
    const std::string empty = ",\"value\":[]";
    const size_t at = text.rfind(empty);
    if (at == std::string::npos) return;
    text.replace(at, empty.size(), form == ServiceBehaviours::EmptyValue::null ? ",\"value\":null" : "");
}

CallAnswer answer_page(SandboxState& state, const CmdletCall& call, const PagePointer& page,
                       const std::vector<std::string>& warnings) {
    const ReadCursor& cursor = *page.cursor;
    if (const auto failure = state.faults.take_fail_page(cursor.cmdlet, page.page_number)) {
        return server_error_answer(failure->status);
    }
    const size_t end = std::min(page.offset + std::min(cursor.page_size, cursor.rows.size()), cursor.rows.size());
    std::string values;
    values.reserve((end - page.offset) * 256);
    for (size_t i = page.offset; i < end; ++i) {
        if (i > page.offset) values += ',';
        append_selected(values, named_as_configured(state, *cursor.rows[i]), cursor.select);
    }
    std::optional<std::string> link;
    if (end < cursor.rows.size()) {
        link = next_link(state, call,
                         state.pages.issue(PagePointer{page.cursor, end, page.page_number + 1}, state.clock()));
    }
    CallAnswer answer;
    answer.text = success_envelope_text(call.origin, call.tenant_segment, values, warnings, link);
    if (end == page.offset) empty_value_as_configured(state, *answer.text);
    return answer;
}

CallAnswer continue_read(SandboxState& state, const CmdletCall& call, const CmdletDefinition& cmdlet) {
    if (state.faults.expires_links() || state.config.behaviours.refuse_continuations)
        return CallAnswer::failure(exchange::invalid_pagination());
    const auto page = state.pages.find(*call.skiptoken, state.clock());
    if (!page || page->cursor->cmdlet != cmdlet.name ||
        page->cursor->parameters_key != canonical_json(call.parameters) ||
        (state.config.behaviours.bind_continuations_to_anchor && !iequals(page->cursor->anchor, call.anchor))) {
        return CallAnswer::failure(exchange::invalid_pagination());
    }
    return answer_page(state, call, *page, {});
}

void record_write(SandboxState& state, const CmdletCall& call, const CmdletDefinition& cmdlet, Change change) {
    state.journal.record_write(std::string(cmdlet.name), call.parameters, call.client_request_id, change,
                               call.batch_item ? "$batch" : "InvokeCommand");
}

// Runs the cmdlet and answers its first page; a write's answer (empty, or the new policy) is
// one page.
CallAnswer start_call(SandboxState& state, const CmdletCall& call, const CmdletDefinition& cmdlet) {
    CmdletResult result;
    try {
        result = run_cmdlet(cmdlet, state.tenant, call.parameters);
    } catch (const CmdletFailure& failure) {
        result.change = Change::failed;
        if (cmdlet.writes) record_write(state, call, cmdlet, result.change);
        return CallAnswer::failure(failure.error());
    }
    if (cmdlet.writes) record_write(state, call, cmdlet, result.change);
    auto cursor =
        std::make_shared<ReadCursor>(ReadCursor{std::string(cmdlet.name), canonical_json(call.parameters),
                                                std::move(result.objects), call.select, call.page_size, call.anchor});
    return answer_page(state, call, PagePointer{std::move(cursor), 0, 1}, result.warnings);
}

}  // namespace

std::optional<HttpResponse> refuse_exchange_request(SandboxState& state, const HttpRequest& request,
                                                    const std::string& tenant_segment) {
    if (request.method != "POST") {
        HttpResponse response = exchange_http_response(
            state, request,
            CallAnswer::failure(exchange::request_error(405, "MethodNotAllowed", "The admin API accepts only POST.")));
        response.headers.set("Allow", "POST");
        return response;
    }
    if (auto unauthorized = check_bearer(state, request))
        return exchange_http_response(state, request,
                                      CallAnswer{unauthorized->status, unauthorized->headers, value(), std::nullopt});
    // A principal without Exchange.ManageAsApp (a managed identity not assigned the role) is
    // answered as a live tenant answers an app whose role does not suffice.
    const std::string authorization = request.headers.get("Authorization").value_or("Bearer ");
    const std::string_view bearer = trim(std::string_view(authorization).substr(7));
    if (const TokenGrant* grant = state.tokens.grant(bearer)) {
        const bool has_role = std::find(grant->roles.begin(), grant->roles.end(), "Exchange.ManageAsApp") !=
                              grant->roles.end();
        if (!has_role || (grant->via == SignInVia::managed_identity && state.faults.refuses_managed_identity_role()))
            return role_not_supported_response(state, request, grant->app_id);
    }
    if (!state.serves_tenant(tenant_segment) ||
        (state.config.behaviours.tenant_guid_only && !iequals(tenant_segment, state.tenant_guid()))) {
        return exchange_http_response(state, request,
                                      CallAnswer::failure(exchange::request_error(
                                          404, "NotFound", "The tenant '" + tenant_segment + "' is not served here.")));
    }
    if (auto error = check_anchor_mailbox(state, request))
        return exchange_http_response(state, request, CallAnswer::failure(*error));
    return std::nullopt;
}

CallAnswer answer_call(SandboxState& state, const CmdletCall& call) {
    const FaultSite site{call.cmdlet, call.batch_item};
    if (const auto throttle = state.faults.take_throttle(site)) return throttled_answer(*throttle);
    if (const auto failure = state.faults.take_server_error(site)) return server_error_answer(failure->status);
    const CmdletDefinition* cmdlet = find_cmdlet(call.cmdlet);
    if (cmdlet == nullptr) return CallAnswer::failure(exchange::cmdlet_not_found(call.cmdlet));
    if (state.faults.forbids(cmdlet->name)) return CallAnswer::failure(exchange::not_allowed(cmdlet->name));
    if (const auto transient = state.faults.take_transient_exception(cmdlet->name)) {
        return CallAnswer::failure(transient_exception(transient->name));
    }
    return call.skiptoken ? continue_read(state, call, *cmdlet) : start_call(state, call, *cmdlet);
}

HttpResponse nul_403_response(SandboxState& state, const HttpRequest& request) {
    return role_not_supported_response(state, request, state.config.app_id);
}

HttpResponse role_not_supported_response(SandboxState& state, const HttpRequest& request, const std::string& app_id) {
    CallAnswer answer;
    answer.status = 403;
    answer.headers.set("x-ms-diagnostics",
                       "2000008;reason=\"The role assigned to application " + app_id +
                           " isn't supported in this scenario. Please check online documentation for "
                           "assigning correct Directory Roles to Azure AD Application for EXO App-Only "
                           "Authentication.\";error_category=\"invalid_grant\"");
    HttpResponse response = exchange_http_response(state, request, std::move(answer));
    response.body = std::string(4096, '\0');  // as in a live capture
    return response;
}

HttpResponse deliver(std::optional<DropConnectionFault> drop, std::optional<SlowAnswerFault> slow,
                     HttpResponse answered) {
    if (drop && drop->when == DropMoment::before_processing) answered = HttpResponse::dropped_connection();
    if (drop) {
        answered.delivery = drop->answer == DropAnswer::partial_body ? Delivery::drop_in_body
                            : drop->answer == DropAnswer::nothing    ? Delivery::close_without_answer
                                                                     : Delivery::drop_connection;
    }
    if (slow) answered.delay_ms = slow->delay_ms;
    return answered;
}

HttpResponse handle_module_file(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment) {
    state.journal.count_invoke_request();
    if (request.method != "GET") {
        return exchange_http_response(
            state, request,
            CallAnswer::failure(exchange::request_error(405, "MethodNotAllowed", "EXOModuleFile accepts only GET.")));
    }
    HttpRequest as_post = request;  // the same checks as the admin API's, whose method is POST
    as_post.method = "POST";
    if (auto refusal = refuse_exchange_request(state, as_post, tenant_segment)) return *refusal;
    if (!request.headers.get("CommandName")) {
        return exchange_http_response(
            state, request,
            CallAnswer::failure(
                exchange::request_error(400, "BadRequest", "The CommandName header is missing; send CommandName: *.")));
    }
    if (state.faults.take_nul_403()) return nul_403_response(state, request);
    std::string exported;
    for (const std::string_view name : cmdlet_names()) {
        if (state.faults.forbidden(name)) continue;
        if (!exported.empty()) exported += ',';
        exported += name;
    }
    value module = value::object(true);
    module["moduleName"] = value::string("tmpEXO_sandbox");
    module["version"] = value::string(query_value(request.query, "Version").value_or(""));
    module["exportedCmdlets"] = value::string(exported);
    value body = value::object(true);
    body["value"] = value::array({module});
    return HttpResponse::json(200, body);
}

std::optional<AdminRequestKind> admin_request_kind(const HttpRequest& request) {
    if (!request.path.starts_with("/adminapi/")) return std::nullopt;
    if (request.path.ends_with("/EXOModuleFile")) return AdminRequestKind::read;
    if (request.path.ends_with("/$batch")) return AdminRequestKind::write;
    if (!request.path.ends_with("/InvokeCommand")) return AdminRequestKind::other;
    if (query_value(request.query, "$skiptoken")) return AdminRequestKind::read;  // the next page of a read
    std::string cmdlet = request.headers.get("X-CmdletName").value_or("");
    if (cmdlet.empty()) {
        try {
            const value body = value::parse(request.body);
            cmdlet = body.at("CmdletInput").at("CmdletName").as_string();
        } catch (const web::json::json_exception&) {
            // No cmdlet named: not a read.
        }
    }
    return istarts_with(cmdlet, "Get-") ? AdminRequestKind::read : AdminRequestKind::write;
}

HttpResponse handle_invoke_command(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment) {
    state.journal.count_invoke_request();
    if (auto refusal = refuse_exchange_request(state, request, tenant_segment)) return *refusal;
    auto read = read_cmdlet_call(state, request.headers, request.query, request.body, true);
    if (const auto* error = std::get_if<ExchangeError>(&read)) {
        return exchange_http_response(state, request, CallAnswer::failure(*error));
    }
    CmdletCall call = std::get<CmdletCall>(std::move(read));
    call.tenant_segment = tenant_segment;
    call.origin = state.origin_for(request.headers.get("Host"));
    const CmdletDefinition* known = find_cmdlet(call.cmdlet);
    state.journal.count_cmdlet(known ? std::string(known->name) : call.cmdlet);

    if (state.faults.take_nul_403()) return nul_403_response(state, request);
    const std::string cmdlets[] = {call.cmdlet};
    const auto drop = state.faults.take_drop_connection(cmdlets);
    if (drop && drop->when == DropMoment::before_processing) return deliver(drop, std::nullopt, {});
    const auto slow = state.faults.take_slow_answer(cmdlets);
    return deliver(drop, slow, exchange_http_response(state, request, answer_call(state, call)));
}

}  // namespace sandbox
