#include "https_server.h"

#include <cpprest/producerconsumerstream.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/stat.h>

#include <iostream>
#include <thread>

namespace sandbox {

namespace {

using web::http::http_request;
using web::http::http_response;

constexpr const char* kLoopback = "127.0.0.1";
constexpr int kPortAttempts = 5;

// A port no one listens on now. Another process may take it before the listener does; open()
// tries again then.
int free_loopback_port() {
    const int descriptor = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    const bool found = descriptor >= 0 &&
                       ::bind(descriptor, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                       ::getsockname(descriptor, reinterpret_cast<sockaddr*>(&address), &size) == 0;
    if (descriptor >= 0) ::close(descriptor);
    if (!found) throw std::runtime_error("cannot find a free port on 127.0.0.1");
    return ntohs(address.sin_port);
}

HttpRequest convert(const http_request& request, const std::vector<unsigned char>& body) {
    HttpRequest converted;
    converted.method = request.method();
    const web::uri& uri = request.request_uri();
    converted.path = web::uri::decode(uri.path());
    converted.query = parse_form(uri.query());
    for (const auto& [name, value] : request.headers()) converted.headers.set(name, value);
    converted.body.assign(body.begin(), body.end());
    return converted;
}

http_response convert(const HttpResponse& response) {
    http_response converted(static_cast<web::http::status_code>(response.status));
    for (const auto& [name, value] : response.headers.all()) converted.headers().add(name, value);
    if (!response.body.empty())
        converted.set_body(std::vector<unsigned char>(response.body.begin(), response.body.end()));
    return converted;
}

// When the socket cannot be found: headers announce a body that never comes, and cpprest closes
// the connection when the body stream ends early.
http_response broken_response() {
    http_response broken(web::http::status_codes::OK);
    concurrency::streams::producer_consumer_buffer<uint8_t> body;
    body.close(std::ios_base::out).wait();
    broken.set_body(body.create_istream(), 1024);
    return broken;
}

// The real headers and the first half of the real body (a stub when there is none), then the end
// of the stream: cpprest closes the connection with the rest of Content-Length missing.
http_response cut_in_body(const HttpResponse& response) {
    const std::string body = response.body.empty() ? std::string(R"({"@odata.context":"https://)") : response.body;
    http_response cut(static_cast<web::http::status_code>(response.status));
    for (const auto& [name, value] : response.headers.all()) cut.headers().add(name, value);
    concurrency::streams::producer_consumer_buffer<uint8_t> stream;
    const size_t half = body.size() / 2;
    stream.putn_nocopy(reinterpret_cast<const uint8_t*>(body.data()), half).wait();
    stream.close(std::ios_base::out).wait();
    cut.set_body(stream.create_istream(), body.size());
    return cut;
}

// cpprest's listener cannot close a connection on purpose, nor say which socket a request came on.
// The one that delivered the request being answered is the accepted connection of this listener
// that received data last (TCP_INFO): the client waits on it while idle pooled connections have been
// quiet longer. It is reset (TCP RST, as a load balancer dropping a kept-alive connection does), so
// the client sees its connection end before a byte of the answer. The socket is swapped for an
// unconnected one under the listener (dup2), so that the listener's own later writes and close fail
// harmlessly.
void reset_connection_of_request(int port) {
    DIR* descriptors = ::opendir("/proc/self/fd");
    if (descriptors == nullptr) return;
    int latest = -1;
    unsigned quiet_ms = 0;
    while (const dirent* entry = ::readdir(descriptors)) {
        const int fd = std::atoi(entry->d_name);
        struct stat status {};
        if (fd <= 2 || ::fstat(fd, &status) != 0 || !S_ISSOCK(status.st_mode)) continue;
        sockaddr_in local{}, peer{};
        socklen_t local_size = sizeof local, peer_size = sizeof peer;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 || local.sin_family != AF_INET ||
            ntohs(local.sin_port) != port || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) {
            continue;  // not a connection accepted by this listener (the listening socket has no peer)
        }
        tcp_info info{};
        socklen_t info_size = sizeof info;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_size) != 0) continue;
        if (latest < 0 || info.tcpi_last_data_recv < quiet_ms) {
            latest = fd;
            quiet_ms = info.tcpi_last_data_recv;
        }
    }
    ::closedir(descriptors);
    if (latest < 0) return;
    const linger reset{1, 0};  // closing with a zero linger sends RST
    ::setsockopt(latest, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    const int unconnected = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (unconnected < 0) return;
    ::dup2(unconnected, latest);  // closes the connection (RST) and leaves a harmless socket in its place
    ::close(unconnected);
}

void log_request(const http_request& request, const std::string& outcome) {
    const auto cmdlet = request.headers().find("X-CmdletName");
    std::cerr << request.method() << " " << request.request_uri().path()
              << (cmdlet != request.headers().end() ? " " + cmdlet->second : "") << " -> " << outcome << "\n";
}

}  // namespace

HttpsServer::HttpsServer(Sandbox& sandbox, std::optional<ServerCredential> credential, RequestLog log)
    : sandbox_(sandbox), credential_(std::move(credential)), log_(log), tls_sessions_(sandbox) {}

HttpsServer::~HttpsServer() {
    try {
        close();
    } catch (const std::exception& error) {
        std::cerr << "authgate-sandbox: stopping the listener failed: " << error.what() << "\n";
    }
}

int HttpsServer::open(int port) {
    web::http::experimental::listener::http_listener_config config;
    if (credential_)
        config.set_ssl_context_callback([this](boost::asio::ssl::context& context) { configure_tls(context); });
    for (int attempt = 1;; ++attempt) {
        const int candidate = port != 0 ? port : free_loopback_port();
        const std::string url = std::string(credential_ ? "https://" : "http://") + kLoopback + ":" +
                                std::to_string(candidate) + "/";
        listener_ = std::make_unique<web::http::experimental::listener::http_listener>(url, config);
        listener_->support([this](http_request request) { serve(std::move(request)); });
        try {
            listener_->open().wait();
            if (credential_) {
                sandbox_.set_port(candidate);
            } else {
                sandbox_.set_http_port(candidate);
            }
            port_ = candidate;
            return candidate;
        } catch (const std::exception& error) {
            listener_.reset();
            if (port != 0 || attempt == kPortAttempts) {
                throw std::runtime_error("cannot listen on " + url + ": " + error.what());
            }
        }
    }
}

void HttpsServer::close() {
    if (!listener_) return;
    listener_->close().wait();
    listener_.reset();
}

// Called for every accepted connection: cpprest makes a new context for each.
void HttpsServer::configure_tls(boost::asio::ssl::context& context) {
    context.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                        boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                        boost::asio::ssl::context::no_tlsv1_1);
    SSL_CTX* native = context.native_handle();
    if (SSL_CTX_use_certificate(native, credential_->certificate.get()) != 1 ||
        SSL_CTX_use_PrivateKey(native, credential_->key.get()) != 1 ||
        SSL_CTX_add1_chain_cert(native, credential_->authority.get()) != 1) {
        // cpprest drops the connection when the callback throws this.
        throw boost::system::system_error(boost::asio::error::invalid_argument, "cannot load the server certificate");
    }
    try {
        tls_sessions_.install(native);
    } catch (const std::runtime_error& error) {
        throw boost::system::system_error(boost::asio::error::invalid_argument, error.what());
    }
}

void HttpsServer::serve(http_request request) {
    request.extract_vector()
        .then([this, request](pplx::task<std::vector<unsigned char>> body) {
            HttpResponse response;
            try {
                HttpRequest converted = convert(request, body.get());
                converted.plain_http = !credential_;
                response = sandbox_.handle(converted);
            } catch (const std::exception& error) {
                response =
                    HttpResponse::json(500, web::json::value::string(std::string("sandbox failure: ") + error.what()));
                std::cerr << "authgate-sandbox: " << request.method() << " " << request.request_uri().path() << ": "
                          << error.what() << "\n";
            }
            // Held back outside the sandbox's lock: other requests go on meanwhile.
            if (response.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(response.delay_ms));
            const bool drop = response.delivery != Delivery::answer;
            if (log_ == RequestLog::on)
                log_request(request, drop ? "connection dropped" : std::to_string(response.status));
            // See README, "drop_connection on the wire".
            switch (response.delivery) {
                case Delivery::answer: request.reply(convert(response)); break;
                case Delivery::drop_connection: request.reply(broken_response()); break;
                case Delivery::drop_in_body: request.reply(cut_in_body(response)); break;
                case Delivery::close_without_answer:
                    reset_connection_of_request(port_);
                    request.reply(broken_response());  // goes nowhere: the connection was reset
                    break;
            }
        })
        .then([](pplx::task<void> served) {
            // An exception left unobserved in a pplx task ends the process.
            try {
                served.get();
            } catch (const std::exception& error) {
                std::cerr << "authgate-sandbox: answering a request failed: " << error.what() << "\n";
            }
        });
}

}  // namespace sandbox
