#include "https_server.h"

#include <cpprest/producerconsumerstream.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>

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

void log_request(const http_request& request, const std::string& outcome) {
  const auto cmdlet = request.headers().find("X-CmdletName");
  std::cerr << request.method() << " " << request.request_uri().path()
            << (cmdlet != request.headers().end() ? " " + cmdlet->second : "") << " -> " << outcome << "\n";
}

}  // namespace

HttpsServer::HttpsServer(Sandbox& sandbox, ServerCredential credential, RequestLog log)
    : sandbox_(sandbox), credential_(std::move(credential)), log_(log) {}

HttpsServer::~HttpsServer() {
  try {
    close();
  } catch (const std::exception& error) {
    std::cerr << "authgate-sandbox: stopping the listener failed: " << error.what() << "\n";
  }
}

int HttpsServer::open(int port) {
  web::http::experimental::listener::http_listener_config config;
  config.set_ssl_context_callback([this](boost::asio::ssl::context& context) { configure_tls(context); });
  for (int attempt = 1;; ++attempt) {
    const int candidate = port != 0 ? port : free_loopback_port();
    const std::string url = "https://" + std::string(kLoopback) + ":" + std::to_string(candidate) + "/";
    listener_ = std::make_unique<web::http::experimental::listener::http_listener>(url, config);
    listener_->support([this](http_request request) { serve(std::move(request)); });
    try {
      listener_->open().wait();
      sandbox_.set_port(candidate);
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

void HttpsServer::configure_tls(boost::asio::ssl::context& context) {
  context.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                      boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                      boost::asio::ssl::context::no_tlsv1_1);
  SSL_CTX* native = context.native_handle();
  if (SSL_CTX_use_certificate(native, credential_.certificate.get()) != 1 ||
      SSL_CTX_use_PrivateKey(native, credential_.key.get()) != 1 ||
      SSL_CTX_add1_chain_cert(native, credential_.authority.get()) != 1) {
    // cpprest drops the connection when the callback throws this.
    throw boost::system::system_error(boost::asio::error::invalid_argument, "cannot load the server certificate");
  }
}

void HttpsServer::serve(http_request request) {
  request.extract_vector()
      .then([this, request](pplx::task<std::vector<unsigned char>> body) {
        HttpResponse response;
        try {
          response = sandbox_.handle(convert(request, body.get()));
        } catch (const std::exception& error) {
          response = HttpResponse::json(500, web::json::value::string(std::string("sandbox failure: ") + error.what()));
          std::cerr << "authgate-sandbox: " << request.method() << " " << request.request_uri().path() << ": "
                    << error.what() << "\n";
        }
        const bool drop = response.delivery == Delivery::drop_connection;
        if (log_ == RequestLog::on) log_request(request, drop ? "connection dropped" : std::to_string(response.status));
        // A dropped answer is cut off after its headers: cpprest's listener cannot close the
        // connection on purpose (see README, "drop_connection on the wire").
        request.reply(drop ? broken_response() : convert(response));
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
