// The sandbox on the wire: cpprest's http_listener over TLS on 127.0.0.1, converting each
// request to the sandbox's own types and back. Only loopback is ever bound. Without a credential
// it listens over plain HTTP, for the managed identity endpoints only.
#pragma once

#include <cpprest/http_listener.h>

#include <memory>
#include <optional>

#include "sandbox.h"
#include "tls_directory.h"
#include "tls_sessions.h"

namespace sandbox {

enum class RequestLog { on, off };

class HttpsServer {
public:
    // No credential: plain HTTP, whose requests the sandbox routes to the managed identity
    // endpoints only.
    HttpsServer(Sandbox& sandbox, std::optional<ServerCredential> credential, RequestLog log);
    ~HttpsServer();

    // Listens on 127.0.0.1:port; port 0 picks a free one. Returns the port. Throws
    // std::runtime_error when it cannot listen.
    int open(int port);
    void close();

private:
    void serve(web::http::http_request request);
    void configure_tls(boost::asio::ssl::context& context);

    Sandbox& sandbox_;
    std::optional<ServerCredential> credential_;
    RequestLog log_;
    TlsSessions tls_sessions_;  // one set of session ticket keys for every connection
    std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
    int port_ = 0;
};

}  // namespace sandbox
