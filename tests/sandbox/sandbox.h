// The sandbox tenant as one object: routes a request to the token endpoint, the admin API or the
// control API, under one lock, and keeps the --state-file current. Tests drive it in process;
// the HTTPS server only converts requests and responses.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>

#include "http_message.h"
#include "sandbox_state.h"

namespace sandbox {

class Sandbox {
public:
    Sandbox(SandboxConfig config, Tenant tenant, std::vector<RegisteredCertificate> app_certificates,
            PssPolicy pss_policy, Clock clock = system_clock());

    HttpResponse handle(const HttpRequest& request);  // thread-safe

    void set_port(int port);       // the listener's port: part of the accepted scopes, audiences and links
    void set_http_port(int port);  // the plain-HTTP listener's (managed identity endpoints), for the record
    void set_faults(FaultSettings faults);
    // For the HTTPS listener's TLS contexts (tls_sessions.h), from the handshake's thread.
    void count_tls_handshake(TlsHandshake handshake);
    bool resumes_tls_sessions();  // false under the tls_resumption fault
    // Replaces the usage data Graph answers from (the document of POST /_sandbox/usage); throws
    // std::invalid_argument naming what is wrong.
    void load_usage(const web::json::value& document);
    // Writes the state document to `path` after every write cmdlet and on write_state_file().
    void keep_state_file(std::filesystem::path path);
    void write_state_file();
    web::json::value state_document();
    // Runs `action(state)` under the lock: for the SMTP listener, whose sessions are not HTTP.
    template <typename Action>
    auto with_state(Action&& action) {
        const std::lock_guard lock(mutex_);
        return action(state_);
    }

private:
    HttpResponse route(const HttpRequest& request);
    void write_state_file_locked();

    std::mutex mutex_;
    SandboxState state_;
    std::optional<std::filesystem::path> state_file_;
};

}  // namespace sandbox
