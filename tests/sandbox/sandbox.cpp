#include "sandbox.h"

#include <thread>

#include "batch.h"
#include "control_api.h"
#include "exchange_error.h"
#include "files.h"
#include "graph_api.h"
#include "invoke_command.h"
#include "mail.h"
#include "managed_identity.h"
#include "oidc_issuer.h"
#include "platform_endpoints.h"
#include "text.h"
#include "token_endpoint.h"

namespace sandbox {

namespace {

bool is_admin_api(const std::vector<std::string>& segments) {
    return segments.size() == 5 && segments[1] == "adminapi" && segments[2] == "beta";
}

HttpResponse not_found(const std::string& path) {
    return HttpResponse::json(
        404, exchange::request_error(404, "NotFound", "No endpoint of the sandbox tenant at " + path).envelope());
}

}  // namespace

Sandbox::Sandbox(SandboxConfig config, Tenant tenant, std::vector<RegisteredCertificate> app_certificates,
                 PssPolicy pss_policy, Clock clock)
    : state_(std::move(config), std::move(tenant), ClientAssertionVerifier(std::move(app_certificates), pss_policy),
             std::move(clock)) {}

HttpResponse Sandbox::handle(const HttpRequest& request) {
    // Latency is added outside the lock, so a slow answer does not hold up the others.
    if (const auto kind = admin_request_kind(request)) {
        int latency_ms = 0;
        {
            const std::lock_guard lock(mutex_);
            latency_ms = state_.faults.settings().latency_ms_for(*kind);
        }
        if (latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(latency_ms));
    }
    const std::lock_guard lock(mutex_);
    const size_t writes_before = state_.journal.mutation_count();
    HttpResponse response = route(request);
    if (state_.journal.mutation_count() != writes_before) write_state_file_locked();
    return response;
}

HttpResponse Sandbox::route(const HttpRequest& request) {
    const std::vector<std::string> segments = split(request.path, '/');  // segments[0] is "" before the first '/'
    // The managed identity endpoints, on the HTTPS origin and (as on the platforms) plain HTTP.
    if (request.path == kImdsTokenPath) return handle_imds_token(state_, request);
    if (iequals(request.path, kAppServiceTokenPath)) return handle_app_service_token(state_, request);
    if (request.path == kArcTokenPath) return handle_arc_token(state_, request);
    if (request.plain_http) {
        return HttpResponse::json(404, exchange::request_error(404, "NotFound",
                                                               "Only the managed identity endpoints are served over "
                                                               "plain HTTP; " +
                                                                   request.path + " is on the HTTPS origin.")
                                           .envelope());
    }
    if (request.path.starts_with("/_sandbox/")) return handle_control(state_, request);
    if (is_oidc_path(request.path)) return handle_oidc_metadata(state_, request);
    if (request.path == kGithubTokenPath) return handle_github_token(state_, request);
    if (request.path == kAzureDevOpsTokenPath) return handle_azure_devops_token(state_, request);
    if (segments.size() == 5 && segments[2] == "oauth2" && segments[3] == "v2.0" && segments[4] == "token") {
        return handle_token_request(state_, request, segments[1]);
    }
    if (is_admin_api(segments) && state_.config.behaviours.redirect_to) {
        // A front door that sends the client elsewhere (regional redirects are seen live): the
        // request is not handled here.
        HttpResponse moved;
        moved.status = 302;
        moved.headers.set("Location", *state_.config.behaviours.redirect_to + request.path);
        return moved;
    }
    if (segments.size() == 5 && segments[1] == "adminapi" && segments[2] == "v1.0" && segments[4] == "EXOModuleFile")
        return handle_module_file(state_, request, segments[3]);
    if (is_admin_api(segments) && segments[4] == "InvokeCommand")
        return handle_invoke_command(state_, request, segments[3]);
    if (is_admin_api(segments) && segments[4] == "$batch") return handle_batch(state_, request, segments[3]);
    if (is_send_mail_path(request.path)) return handle_send_mail(state_, request);
    if (is_graph_path(request.path)) return handle_graph(state_, request);
    if (is_report_download_path(request.path)) return handle_report_download(state_, request);
    return not_found(request.path);
}

void Sandbox::set_port(int port) {
    const std::lock_guard lock(mutex_);
    state_.port = port;
}

void Sandbox::set_http_port(int port) {
    const std::lock_guard lock(mutex_);
    state_.http_port = port;
}

void Sandbox::set_faults(FaultSettings faults) {
    const std::lock_guard lock(mutex_);
    state_.faults.replace(std::move(faults));
}

void Sandbox::count_tls_handshake(TlsHandshake handshake) {
    const std::lock_guard lock(mutex_);
    ++state_.tls.handshakes;
    if (handshake == TlsHandshake::resumed) ++state_.tls.resumed;
}

bool Sandbox::resumes_tls_sessions() {
    const std::lock_guard lock(mutex_);
    return state_.faults.settings().tls_resumption;
}

void Sandbox::load_usage(const web::json::value& document) {
    const std::lock_guard lock(mutex_);
    state_.graph.usage = std::make_shared<const UsageData>(UsageData::parse(document, state_.tenant, state_.clock()));
}

void Sandbox::keep_state_file(std::filesystem::path path) {
    const std::lock_guard lock(mutex_);
    state_file_ = std::move(path);
}

void Sandbox::write_state_file() {
    const std::lock_guard lock(mutex_);
    write_state_file_locked();
}

web::json::value Sandbox::state_document() {
    const std::lock_guard lock(mutex_);
    return sandbox::state_document(state_);
}

void Sandbox::write_state_file_locked() {
    if (state_file_) write_file_atomically(*state_file_, sandbox::state_document(state_).serialize() + "\n");
}

}  // namespace sandbox
