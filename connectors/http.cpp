#include "connectors/http.h"

#include <algorithm>
#include <mutex>
#include <system_error>

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>

namespace authgate {
namespace {

using web::http::client::http_client;
using web::http::client::http_client_config;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
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
        // A client of its own has an empty pool: its one connection is new, never resent on.
        std::unique_ptr<http_client> own;
        if (request.connection == ConnectionUse::fresh) own = std::make_unique<http_client>(origin, client_config());
        http_client& client = own ? *own : client_for(origin);

        web::http::http_request message(web::http::methods::POST);
        message.set_request_uri(request.url.substr(origin.size()));
        std::string content_type = "application/json";
        for (const auto& [name, value] : request.headers) {
            if (lower(name) == "content-type") content_type = value;
            else message.headers().add(name, value);
        }
        message.set_body(request.body, content_type);
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
            if (message.find("SSL handshake") != std::string::npos)
                message += " (the server's certificate could not be verified against the system's trust anchors" +
                           std::string(settings_.ca_bundle ? " and " + *settings_.ca_bundle : "") +
                           "; a private CA needs --ca-bundle)";
            // A handshake refused by us happens before any request byte is sent.
            throw TransportError(message, refused_before_sending(error.error_code()) ||
                                              message.find("SSL handshake") != std::string::npos);
        }
    }

private:
    http_client& client_for(const std::string& origin) {
        std::lock_guard lock(mutex_);
        auto it = clients_.find(origin);
        if (it != clients_.end()) return *it->second;
        return *clients_.emplace(origin, std::make_unique<http_client>(origin, client_config())).first->second;
    }

    http_client_config client_config() const {
        http_client_config config;
        config.set_timeout(settings_.timeout);
        config.set_validate_certificates(true);  // there is deliberately no way to turn this off
        if (settings_.ca_bundle) {
            const std::string bundle = *settings_.ca_bundle;
            config.set_ssl_context_callback([bundle](boost::asio::ssl::context& context) {
                boost::system::error_code error;
                context.load_verify_file(bundle, error);
                if (error) throw TransportError("cannot load the CA bundle " + bundle + ": " + error.message(), true);
            });
        }
        return config;
    }

    HttpSettings settings_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<http_client>> clients_;
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
