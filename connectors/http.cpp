#include "connectors/http.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <system_error>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cpprest/http_client.h>
#include <boost/asio/ssl.hpp>

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
        return " (the server's certificate could not be verified against " + anchors +
               "; a private CA needs --ca-bundle)";
    switch (*error) {
        case X509_V_ERR_HOSTNAME_MISMATCH: return " (the server's certificate is not for " + host_of(origin) + ")";
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        case X509_V_ERR_CERT_UNTRUSTED:
            return " (the server's certificate is not signed by " + anchors + ": " +
                   X509_verify_cert_error_string(*error) + "; a private CA needs --ca-bundle)";
        default:
            return " (the server's certificate was refused: " + std::string(X509_verify_cert_error_string(*error)) +
                   ")";
    }
}

bool refused_before_sending(const std::error_code& code) {
    return code == std::errc::connection_refused || code == std::errc::host_unreachable ||
           code == std::errc::network_unreachable || code == std::errc::address_not_available;
}

// OpenSSL's default trust anchors, as this process was started with (SSL_CERT_FILE and
// SSL_CERT_DIR honoured). cpprest makes a TLS context for every connection and loads these
// defaults into it; with OpenSSL 3 parsing the system bundle costs tens of milliseconds each
// time, more than the handshake. So they are read here once, and OpenSSL's defaults are then
// pointed at nothing: the per-connection load finds nothing, and every context is given the
// store loaded once (below). What is trusted does not change.
struct DefaultTrust {
    std::string file, dir;
    bool file_from_environment = false;
};

const DefaultTrust& default_trust() {
    static const DefaultTrust trust = [] {
        const char* file = std::getenv(X509_get_default_cert_file_env());
        const char* dir = std::getenv(X509_get_default_cert_dir_env());
        DefaultTrust found{file ? file : X509_get_default_cert_file(), dir ? dir : X509_get_default_cert_dir(),
                           file != nullptr};
        const char* nothing = "/nonexistent/authgate-loads-the-trust-store-once";
        setenv(X509_get_default_cert_file_env(), nothing, 1);
        setenv(X509_get_default_cert_dir_env(), nothing, 1);
        return found;
    }();
    return trust;
}

using TrustStore = std::shared_ptr<X509_STORE>;

// True when `directories` (colon-separated) hold certificates under subject-hash names ("1a2b3c4d.0",
// as c_rehash and Debian's update-ca-certificates make them), which OpenSSL reads only when needed.
bool hashed_certificates_in(const std::string& directories) {
    std::size_t start = 0;
    while (start <= directories.size()) {
        const std::size_t end = std::min(directories.find(':', start), directories.size());
        std::error_code error;
        for (std::filesystem::directory_iterator it(directories.substr(start, end - start), error), last;
             !error && it != last; it.increment(error)) {
            const std::string name = it->path().filename().string();
            if (name.size() == 10 && name.compare(8, 2, ".0") == 0 &&
                std::all_of(name.begin(), name.begin() + 8, [](unsigned char c) { return std::isxdigit(c); }))
                return true;
        }
        start = end + 1;
    }
    return false;
}

// A bundle file read on first need, as OpenSSL reads a hashed directory: the store asks its
// lookups only for an issuer it does not already hold, and this one then parses the file once
// and adds the certificates with that subject to the store. A server whose issuer is in the CA
// bundle never costs the parse of the system bundle (about 150 certificates: some 80 ms with
// OpenSSL 3).
class LazyBundle {
public:
    static void add_to(X509_STORE* store, const std::string& path) {
        X509_LOOKUP* lookup = X509_STORE_add_lookup(store, method());
        if (lookup == nullptr) throw TransportError("cannot make a TLS trust store", true);
        X509_LOOKUP_set_method_data(lookup, new LazyBundle(path));
    }

private:
    explicit LazyBundle(std::string path) : path_(std::move(path)) {}
    ~LazyBundle() { X509_STORE_free(loaded_); }

    static X509_LOOKUP_METHOD* method() {
        static X509_LOOKUP_METHOD* const made = [] {
            X509_LOOKUP_METHOD* m = X509_LOOKUP_meth_new("authgate: a bundle file read on first need");
            if (m == nullptr) throw TransportError("cannot make a TLS trust store", true);
            X509_LOOKUP_meth_set_get_by_subject(m, by_subject);
            X509_LOOKUP_meth_set_free(m, [](X509_LOOKUP* lookup) {
                delete static_cast<LazyBundle*>(X509_LOOKUP_get_method_data(lookup));
            });
            return m;
        }();
        return made;
    }

    // Finds certificates named `name`, adds them to the store, and hands one back the way
    // OpenSSL's own lookups do: held by the store, its reference taken by the caller.
    static int by_subject(X509_LOOKUP* lookup, X509_LOOKUP_TYPE type, const X509_NAME* name, X509_OBJECT* found) {
        auto* self = static_cast<LazyBundle*>(X509_LOOKUP_get_method_data(lookup));
        if (self == nullptr || type != X509_LU_X509) return 0;
        std::call_once(self->once_, [self] {
            ERR_set_mark();  // a missing default is no error, as in OpenSSL; nothing is left on the error queue
            self->loaded_ = X509_STORE_new();
            if (self->loaded_ != nullptr) X509_STORE_load_file(self->loaded_, self->path_.c_str());
            ERR_pop_to_mark();
        });
        if (self->loaded_ == nullptr) return 0;
        X509_STORE* store = X509_LOOKUP_get_store(lookup);
        X509* match = nullptr;
        STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(self->loaded_);
        for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
            X509* certificate = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
            if (certificate == nullptr || X509_NAME_cmp(X509_get_subject_name(certificate), name) != 0) continue;
            ERR_set_mark();
            const bool added = X509_STORE_add_cert(store, certificate) == 1;  // one already there is no error
            ERR_pop_to_mark();
            if (added && match == nullptr) match = certificate;
        }
        if (match == nullptr || X509_OBJECT_set1_X509(found, match) != 1) return 0;
        X509_free(match);  // the reference set1 took: the store holds the certificate, the caller takes its own
        return 1;
    }

    std::string path_;
    std::once_flag once_;
    X509_STORE* loaded_ = nullptr;
};

// The default anchors and the CA bundle, in one store shared by every connection of a transport.
// The default bundle file is read on first need (LazyBundle), and only when asked for with
// SSL_CERT_FILE or when the default directory is not hashed; otherwise the directory, which holds
// the same anchors, is read lazily by OpenSSL.
TrustStore load_trust_store(const std::optional<std::string>& ca_bundle) {
    const DefaultTrust& trust = default_trust();
    TrustStore store(X509_STORE_new(), X509_STORE_free);
    if (!store) throw TransportError("cannot make a TLS trust store", true);
    if (trust.file_from_environment || !hashed_certificates_in(trust.dir)) LazyBundle::add_to(store.get(), trust.file);
    if (X509_LOOKUP* directory = X509_STORE_add_lookup(store.get(), X509_LOOKUP_hash_dir()))
        X509_LOOKUP_add_dir(directory, trust.dir.c_str(), X509_FILETYPE_PEM);
    if (ca_bundle && X509_STORE_load_file(store.get(), ca_bundle->c_str()) != 1)
        throw TransportError("cannot load the CA bundle " + *ca_bundle + ": no certificate could be read from it",
                             true);
    return store;
}

class HttpsTransport : public HttpTransport {
public:
    explicit HttpsTransport(HttpSettings settings) : settings_(std::move(settings)) {}

    HttpResponse post(const HttpRequest& request) override {
        const std::string origin = request.identity_endpoint ? identity_origin_of(request.url) : origin_of(request.url);
        if (origin.empty())
            throw TransportError("refusing " + host_part(request.url) +
                                     (request.identity_endpoint
                                          ? ": a managed identity endpoint must be https://, or http:// on this "
                                            "machine (127.0.0.0/8, ::1, localhost) or 169.254.169.254, without a "
                                            "user name or password"
                                          : ": only https:// URLs without a user name or password are used"),
                                 true);
        const TrustStore store =
            trust_store();  // loaded before the first connection: a bad bundle fails before sending
        // A client of its own has an empty pool: its one connection is new, never resent on.
        std::unique_ptr<Connection> own;
        if (request.connection == ConnectionUse::fresh || request.timeout || request.identity_endpoint) {
            HttpSettings settings = settings_;
            if (request.timeout) settings.timeout = std::max(settings.timeout, *request.timeout);
            if (request.identity_endpoint) settings.timeout = std::min(settings.timeout, identity_timeout);
            own = std::make_unique<Connection>(origin, settings, store, request.identity_endpoint);
        }
        auto& [refusal, client] = own ? *own : client_for(origin, store);
        {
            std::lock_guard lock(refusal.mutex);
            refusal.error.reset();
        }

        web::http::http_request message(request.method == "GET" ? web::http::methods::GET : web::http::methods::POST);
        message.set_request_uri(request.url.substr(origin.size()));
        std::string content_type = "application/json";
        for (const auto& [name, value] : request.headers) {
            if (lower(name) == "content-type") content_type = value;
            else message.headers().add(name, value);
        }
        // As bytes: cpprest's set_body(std::string) reads the string through a char buffer cast to
        // an unsigned char one, which UBSan rightly reports.
        if (request.method != "GET") {
            message.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
            message.headers().set_content_type(content_type);
        }
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
    static http_client_config client_config(const HttpSettings& settings, CertificateRefusal* refusal, TrustStore store,
                                            bool direct) {
        http_client_config config;
        // An identity endpoint is this machine's or the link-local metadata service: never a proxy's.
        if (direct) config.set_proxy(web::web_proxy(web::web_proxy::disabled));
        config.set_timeout(settings.timeout);
        config.set_validate_certificates(true);  // there is deliberately no way to turn this off
        config.set_max_redirects(0);             // a redirect is an answer, never followed
        config.set_ssl_context_callback([refusal, store = std::move(store)](boost::asio::ssl::context& context) {
            SSL_CTX_set1_cert_store(context.native_handle(), store.get());
            SSL_CTX_set_cert_verify_callback(context.native_handle(), verify_and_remember, refusal);
        });
        return config;
    }

    // A client, and where its handshakes record a refused certificate.
    struct Connection {
        Connection(const std::string& origin, const HttpSettings& settings, TrustStore store, bool direct = false)
            : refusal(host_of(origin)), client(origin, client_config(settings, &refusal, std::move(store), direct)) {}
        CertificateRefusal refusal;  // declared first: outlives the client and its handshakes
        http_client client;
    };

    // One pooled client per origin.
    Connection& client_for(const std::string& origin, const TrustStore& store) {
        std::lock_guard lock(mutex_);
        auto it = clients_.find(origin);
        if (it == clients_.end())
            it = clients_.emplace(origin, std::make_unique<Connection>(origin, settings_, store)).first;
        return *it->second;
    }

    TrustStore trust_store() {
        std::lock_guard lock(mutex_);
        if (!trust_) trust_ = load_trust_store(settings_.ca_bundle);
        return trust_;
    }

    HttpSettings settings_;
    std::mutex mutex_;
    TrustStore trust_;
    std::map<std::string, std::unique_ptr<Connection>> clients_;
};

}  // namespace

std::string HttpResponse::header(const std::string& lower_case_name) const {
    const auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
}

std::string HttpResponse::redirect() const {
    if (status < 300 || status > 399) return {};
    const std::string location = header("location");
    return "a redirect (HTTP " + std::to_string(status) + ") to " + (location.empty() ? "no Location" : location);
}

std::string percent_encode(const std::string& text) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
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
    if (origin.find('@') != std::string::npos) return {};  // userinfo: a password in a URL is never sent
    return origin.size() > scheme.size() ? origin : std::string();
}

namespace {

// A host that is this machine, or the instance metadata service's link-local address.
bool local_identity_host(const std::string& host) {
    if (host == "localhost" || host == "::1" || host == "169.254.169.254") return true;
    in_addr address{};
    return ::inet_pton(AF_INET, host.c_str(), &address) == 1 &&
           (ntohl(address.s_addr) >> 24) == 127;  // 127.0.0.0/8, in strict dotted-quad form only
}

}  // namespace

std::string identity_origin_of(const std::string& url) {
    if (std::string https = origin_of(url); !https.empty()) return https;
    const std::string scheme = "http://";
    if (lower(url.substr(0, scheme.size())) != scheme) return {};
    const std::string origin = lower(url.substr(0, url.find_first_of("/?#", scheme.size())));
    const std::string authority = origin.substr(scheme.size());
    if (authority.empty() || authority.find('@') != std::string::npos) return {};
    std::string host, port;
    bool has_port = false;
    if (authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string::npos) return {};
        host = authority.substr(1, close - 1);
        const std::string rest = authority.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return {};
        has_port = !rest.empty();
        if (has_port) port = rest.substr(1);
    } else {
        const std::size_t colon = authority.find(':');
        host = authority.substr(0, colon);
        has_port = colon != std::string::npos;
        if (has_port) port = authority.substr(colon + 1);
    }
    if (has_port && (port.empty() || port.size() > 5 ||
                     !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })))
        return {};
    return local_identity_host(host) ? origin : std::string();
}

std::string host_part(const std::string& url) {
    const std::size_t scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return "(not a URL)";
    const std::size_t start = scheme_end + 3;
    const std::size_t end = url.find_first_of("/?#", start);
    std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (const std::size_t at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
    return lower(url.substr(0, start) + authority);
}

std::unique_ptr<HttpTransport> make_https_transport(const HttpSettings& settings) {
    return std::make_unique<HttpsTransport>(settings);
}

}  // namespace authgate
