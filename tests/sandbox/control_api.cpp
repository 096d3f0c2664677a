#include "control_api.h"

#include "sandbox_state.h"

namespace sandbox {

namespace {

using web::json::value;

HttpResponse problem(int status, const std::string& message) {
    value body = value::object(true);
    body["error"] = value::string(message);
    return HttpResponse::json(status, body);
}

HttpResponse faults_answer(const SandboxState& state) { return HttpResponse::json(200, state.faults.report()); }

HttpResponse handle_faults(SandboxState& state, const HttpRequest& request) {
    if (request.method == "GET") return faults_answer(state);
    if (request.method == "DELETE") {
        state.faults.replace(FaultSettings{});
        return faults_answer(state);
    }
    if (request.method != "POST") return problem(405, "use GET, POST or DELETE on /_sandbox/faults");
    try {
        state.faults.replace(FaultSettings::parse(value::parse(request.body)));
    } catch (const web::json::json_exception& error) {
        return problem(400, std::string("the fault document is not JSON: ") + error.what());
    } catch (const std::invalid_argument& error) {
        return problem(400, error.what());
    }
    return faults_answer(state);
}

HttpResponse handle_usage(SandboxState& state, const HttpRequest& request) {
    if (request.method == "DELETE") {
        state.graph.usage = std::make_shared<const UsageData>();
    } else if (request.method == "POST") {
        try {
            state.graph.usage = std::make_shared<const UsageData>(
                UsageData::parse(value::parse(request.body), state.tenant, state.clock()));
        } catch (const web::json::json_exception& error) {
            return problem(400, std::string("the usage document is not JSON: ") + error.what());
        } catch (const std::invalid_argument& error) {
            return problem(400, error.what());
        }
    } else if (request.method != "GET") {
        return problem(405, "use GET, POST or DELETE on /_sandbox/usage");
    }
    return HttpResponse::json(200, usage_summary(state.graph));
}

}  // namespace

value state_document(const SandboxState& state) {
    value document = state.tenant.to_snapshot();
    document["mutations"] = state.journal.mutations();
    document["requests"] = state.journal.requests();
    document["faults"] = state.faults.report();
    value tls = value::object(true);
    tls["handshakes"] = value::number(state.tls.handshakes);
    tls["resumed"] = value::number(state.tls.resumed);
    document["tls"] = tls;
    document["webhooks"] = value::array(state.webhooks);
    document["tenant_id"] = value::string(state.tenant_guid());
    // Digests and jtis only: what a test needs to prove that no token or assertion leaked.
    const auto strings = [](const std::vector<std::string>& texts) {
        std::vector<value> values;
        for (const auto& text : texts) values.push_back(value::string(text));
        return value::array(values);
    };
    value credentials = value::object(true);
    credentials["issued_token_sha256"] = strings(state.tokens.issued_digests());
    credentials["accepted_jtis"] = strings(state.assertions.accepted_jtis());
    // Sign-ins without a stored certificate, once there was one (absent before): each access
    // token's sign-in, each token a platform handed out (claims only), requests by endpoint.
    if (!state.sign_ins.empty()) credentials["sign_ins"] = value::array(state.sign_ins);
    if (!state.platform_tokens.empty()) credentials["platform_tokens"] = value::array(state.platform_tokens);
    document["credentials"] = credentials;
    if (state.http_port != 0) document["http_port"] = value::number(state.http_port);
    if (state.mail.smtp_port != 0) document["smtp_port"] = value::number(state.mail.smtp_port);
    if (!state.identity_requests.empty()) {
        value identity_requests = value::object(true);
        for (const auto& [endpoint, count] : state.identity_requests)
            identity_requests[endpoint] = value::number(count);
        document["identity_requests"] = identity_requests;
    }
    // Graph, once usage is loaded or Graph was asked: the usage document (a seed's "usage" member
    // takes it), requests by endpoint, and each request to a report download link, with whether it
    // carried an Authorization header.
    const bool usage_loaded = !state.graph.usage->document.is_null();
    if (!usage_loaded && state.graph.requests.empty() && state.graph.report_downloads.empty()) return document;
    if (usage_loaded) document["usage"] = state.graph.usage->document;
    value graph_requests = value::object(true);
    for (const auto& [endpoint, count] : state.graph.requests) graph_requests[endpoint] = value::number(count);
    document["graph_requests"] = graph_requests;
    document["report_downloads"] = value::array(state.graph.report_downloads);
    return document;
}

HttpResponse handle_control(SandboxState& state, const HttpRequest& request) {
    if (request.path == "/_sandbox/state") {
        if (request.method != "GET") return problem(405, "use GET on /_sandbox/state");
        return HttpResponse::json(200, state_document(state));
    }
    if (request.path == "/_sandbox/faults") return handle_faults(state, request);
    if (request.path == "/_sandbox/usage") return handle_usage(state, request);
    if (request.path == "/_sandbox/entra") return handle_entra_control(state, request);
    if (request.path == "/_sandbox/oidc/token") return handle_oidc_token_control(state, request);
    if (request.path == "/_sandbox/platforms") return handle_platforms_control(state, request);
    if (request.path == "/_sandbox/federated-credentials") return handle_federated_credentials_control(state, request);
    if (request.path == "/_sandbox/managed-identities") return handle_managed_identities_control(state, request);
    if (request.path == "/_sandbox/mail") return handle_mail_control(state, request);
    if (request.path == "/_sandbox/webhook") {
        if (request.method != "POST") return problem(405, "use POST on /_sandbox/webhook");
        try {
            state.webhooks.push_back(value::parse(request.body));
        } catch (const web::json::json_exception& error) {
            return problem(400, std::string("the webhook body is not JSON: ") + error.what());
        }
        return HttpResponse::json(200, value::object());
    }
    return problem(404, "no such control endpoint: " + request.path);
}

}  // namespace sandbox
