#include "connectors/http.h"

#include <algorithm>
#include <mutex>
#include <system_error>

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace authgate {
namespace {

using web::http::client::http_client;
using web::http::client::http_client_config;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// Why the server's certificate was refused, kept for the message: cpprest reports only "Error in
// SSL handshake". Verification itself is OpenSSL's and cpprest's (chain, dates, host name).
struct CertificateRefusal {
    explicit CertificateRefusal(std::string host_) : host(std::move(host_)) {}
    const std::string host;
    std::mutex mutex;
    std::optional<int> error;  // X509_V_ERR_HOSTNAME_MISMATCH when the chain was good but not for host
};

int verify_and_remember(X509_STORE_CTX* store, void* refusal) {
    const int verified = X509_verify_cert(store);
    if (verified <= 0) {
        auto& remembered = *static_cast<CertificateRefusal*>(refusal);
        int error = X509_STORE_CTX_get_error(store);
        // cpprest's host name check refuses without saying why; OpenSSL then calls it unspecified.
        X509* leaf = X509_STORE_CTX_get0_cert(store);
        if ((error == X509_V_OK || error == X509_V_ERR_UNSPECIFIED) && leaf &&
            X509_check_ip_asc(leaf, remembered.host.c_str(), 0) != 1 &&
            X509_check_host(leaf, remembered.host.data(), remembered.host.size(), 0, nullptr) != 1)
            error = X509_V_ERR_HOSTNAME_MISMATCH;
        std::lock_guard lock(remembered.mutex);
        remembered.error = error;
    }
    return verified;
}

std::string host_of(const std::string& origin) {
    const std::string host = origin.substr(origin.find("://") + 3);
    const auto colon = host.rfind(':');
    return host.front() != '[' && colon != std::string::npos ? host.substr(0, colon) : host;
}

// The parenthesis after "Error in SSL handshake": what was wrong with the certificate.
std::string refusal_reason(std::optional<int> error, const std::string& origin,
                           const std::optional<std::string>& ca_bundle) {
    const std::string anchors = "the system's trust anchors" + (ca_bundle ? " and " + *ca_bundle : std::string());
    if (!error)
        return " (the server's certificate could not be verified against " + anchors + "; a private CA needs --ca-bundle)";
    switch (*error) {
        case X509_V_ERR_HOSTNAME_MISMATCH: return " (the server's certificate is not for " + host_of(origin) + ")";
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_CERT_UNTRUSTED:
            return " (the server's certificate is not signed by " + anchors + ": " + X509_verify_cert_error_string(*error) +
                   "; a private CA needs --ca-bundle)";
        default: return " (the server's certificate was refused: " + std::string(X509_verify_cert_error_string(*error)) + ")";
    }
}

http_client_config client_config(const HttpSettings& settings, CertificateRefusal* refusal) {
    http_client_config config;
    config.set_timeout(settings.timeout);
    config.set_validate_certificates(true);  // there is deliberately no way to turn this off
    config.set_ssl_context_callback([bundle = settings.ca_bundle, refusal](boost::asio::ssl::context& context) {
        SSL_CTX_set_cert_verify_callback(context.native_handle(), verify_and_remember, refusal);
        if (!bundle) return;
        boost::system::error_code error;
        context.load_verify_file(*bundle, error);
        if (error) throw TransportError("cannot load the CA bundle " + *bundle + ": " + error.message(), true);
    });
    return config;
}

bool refused_before_sending(const std::error_code& code) {
    return code == std::errc::connection_refused || code == std::errc::host_unreachable ||
           code == std::errc::network_unreachable || code == std::errc::address_not_available;
}

class HttpsTransport : public HttpTransport {
public:
    explicit HttpsTransport(HttpSettings settings) : settings_(std::move(settings)) {}

    HttpResponse post(const HttpRequest& request) override {
        const std::string origin = origin_of(request.url);
        if (origin.empty()) throw TransportError("refusing a non-HTTPS URL: " + request.url, true);
        auto& [refusal, client] = client_for(origin);
        {
            std::lock_guard lock(refusal.mutex);
            refusal.error.reset();
        }

        web::http::http_request message(web::http::methods::POST);
        message.set_request_uri(request.url.substr(origin.size()));
        std::string content_type = "application/json";
        for (const auto& [name, value] : request.headers) {
            if (lower(name) == "content-type") content_type = value;
            else message.headers().add(name, value);
        }
        // As bytes: cpprest's set_body(std::string) reads the string through a char buffer cast to
        // an unsigned char one, which UBSan rightly reports.
        message.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
        message.headers().set_content_type(content_type);
        try {
            web::http::http_response answer = client.request(message).get();
            HttpResponse response;
            response.status = answer.status_code();
            for (const auto& [name, value] : answer.headers()) response.headers[lower(name)] = value;
            const auto bytes = answer.extract_vector().get();
            response.body.assign(bytes.begin(), bytes.end());
            return response;
        } catch (const web::http::http_exception& error) {
            std::string message = "cannot reach " + origin + ": " + error.what();
            if (message.find("SSL handshake") != std::string::npos) {
                std::lock_guard lock(refusal.mutex);
                message += refusal_reason(refusal.error, origin, settings_.ca_bundle);
            }
            // A handshake refused by us happens before any request byte is sent.
            throw TransportError(message, refused_before_sending(error.error_code()) ||
                                              message.find("SSL handshake") != std::string::npos);
        }
    }

private:
    // One client per origin, and where its handshakes record a refused certificate.
    struct Connection {
        Connection(const std::string& origin, const HttpSettings& settings)
            : refusal(host_of(origin)), client(origin, client_config(settings, &refusal)) {}
        CertificateRefusal refusal;  // declared first: outlives the client and its handshakes
        http_client client;
    };

    Connection& client_for(const std::string& origin) {
        std::lock_guard lock(mutex_);
        auto it = clients_.find(origin);
        if (it == clients_.end()) it = clients_.emplace(origin, std::make_unique<Connection>(origin, settings_)).first;
        return *it->second;
    }

    HttpSettings settings_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Connection>> clients_;
};

}  // namespace

std::string HttpResponse::header(const std::string& lower_case_name) const {
    const auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
}

std::string trim_slash(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

std::string origin_of(const std::string& url) {
    const std::string scheme = "https://";
    if (lower(url.substr(0, scheme.size())) != scheme) return {};
    const std::size_t end = url.find_first_of("/?#", scheme.size());
    const std::string origin = lower(url.substr(0, end));
    return origin.size() > scheme.size() ? origin : std::string();
}

std::unique_ptr<HttpTransport> make_https_transport(const HttpSettings& settings) {
    return std::make_unique<HttpsTransport>(settings);
}

}  // namespace authgate
