#include "connectors/http.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <curl/curl.h>

namespace authgate {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// The host of an origin, without its port ("[::1]" for an IPv6 address).
std::string host_of(const std::string& origin) {
    const std::string host = origin.substr(origin.find("://") + 3);
    if (host.front() == '[') return host.substr(0, host.find(']') + 1);
    const auto colon = host.rfind(':');
    return colon != std::string::npos ? host.substr(0, colon) : host;
}

// What a handshake found wrong with the server's certificate, kept for the message: libcurl
// reports only that verification failed. Verification itself is OpenSSL's: the chain, its dates,
// and the host name, which libcurl checks again after the handshake.
struct CertificateCheck {
    std::string host;  // as the certificate must name it: a DNS name, or an IP address without brackets
    std::mutex mutex;
    std::optional<int> error;
};

int verify_and_remember(X509_STORE_CTX* store, void* argument) {
    auto& check = *static_cast<CertificateCheck*>(argument);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(store);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, check.host.c_str()) != 1 &&
        X509_VERIFY_PARAM_set1_host(param, check.host.data(), check.host.size()) != 1)
        return 0;
    const int verified = X509_verify_cert(store);
    if (verified <= 0) {
        std::lock_guard lock(check.mutex);
        check.error = X509_STORE_CTX_get_error(store);
    }
    return verified;
}

// The parenthesis after "Error in SSL handshake": what was wrong with the certificate.
std::string refusal_reason(std::optional<int> error, const std::string& origin,
                           const std::optional<std::string>& ca_bundle) {
    const std::string anchors = "the system's trust anchors" + (ca_bundle ? " and " + *ca_bundle : std::string());
    if (!error)
        return " (the server's certificate could not be verified against " + anchors +
               "; a private CA needs --ca-bundle)";
    switch (*error) {
        case X509_V_ERR_HOSTNAME_MISMATCH:
        case X509_V_ERR_IP_ADDRESS_MISMATCH: return " (the server's certificate is not for " + host_of(origin) + ")";
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

// OpenSSL's default trust anchors, as this process was started with (SSL_CERT_FILE and
// SSL_CERT_DIR honoured). libcurl makes a TLS context for every connection; with OpenSSL 3,
// parsing the system bundle into each costs tens of milliseconds, more than the handshake. So the
// anchors are read here once and every context is given the store loaded once (below); libcurl is
// given no CA file or path of its own, and OpenSSL's defaults are pointed at nothing, so that no
// per-connection fallback loads them again. What is trusted does not change.
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

// libcurl, set up once for the process (before any thread uses it).
void curl_global() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One libcurl handle and the connection it keeps alive. A handle is used by one request at a
// time; its connection is never shared with another handle.
struct Handle {
    Handle(TrustStore trust_store, CURLSH* sessions) : curl(curl_easy_init()), store(std::move(trust_store)) {
        if (curl == nullptr) throw TransportError("cannot start an HTTP client", true);
        curl_easy_setopt(curl, CURLOPT_SHARE, sessions);  // kept by curl_easy_reset
    }
    ~Handle() { curl_easy_cleanup(curl); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    CURL* curl;
    TrustStore store;
    CertificateCheck check;  // of this handle's handshakes; outlives its connections
    char error[CURL_ERROR_SIZE] = {};
    // The request under way: must it go out at most once, has any byte of it gone out, and was a
    // new connection to send it again refused.
    bool at_most_once = false;
    bool sent = false;
    bool refused_again = false;
};

// What goes out (libcurl's debug stream): a byte of the request's headers or body has been
// written to the connection, so the server may have it.
int note_sending(CURL*, curl_infotype type, char*, std::size_t size, void* argument) {
    if ((type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) && size > 0)
        static_cast<Handle*>(argument)->sent = true;
    return 0;
}

// Every connection libcurl opens for a handle. libcurl sends a request again only on a new
// connection (when a kept-alive one ends before the answer's first byte); for a request that
// must go out at most once, a new connection after any byte went out is refused, so the request
// can never be sent twice.
curl_socket_t open_connection(void* argument, curlsocktype, curl_sockaddr* address) {
    auto& handle = *static_cast<Handle*>(argument);
    if (handle.at_most_once && handle.sent) {
        handle.refused_again = true;
        return CURL_SOCKET_BAD;
    }
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

// Every TLS context libcurl makes for a handle's connections: the trust store loaded once, the
// verification that remembers why it refused, and no renegotiation.
CURLcode configure_tls(CURL*, void* context, void* argument) {
    auto& handle = *static_cast<Handle*>(argument);
    auto* native = static_cast<SSL_CTX*>(context);
    SSL_CTX_set1_cert_store(native, handle.store.get());
    SSL_CTX_set_cert_verify_callback(native, verify_and_remember, &handle.check);
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
    return CURLE_OK;
}

struct Received {
    HttpResponse response;
    bool reserved = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& received = *static_cast<Received*>(user);
    const std::size_t length = size * count;
    std::string_view line(data, length);
    if (line.starts_with("HTTP/")) {  // a new answer (after a 100 Continue): its own headers
        received.response.headers.clear();
        return length;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return length;
    std::string name = lower(std::string(line.substr(0, colon)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
    std::string& kept = received.response.headers[name];
    if (!kept.empty()) kept += ", ";  // a header sent more than once: its values in one list, as HTTP allows
    kept += value;
    return length;
}

constexpr std::size_t body_padding = 64;

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& received = *static_cast<Received*>(user);
    const std::size_t length = size * count;
    if (!received.reserved) {
        received.reserved = true;
        const std::string length_header = received.response.header("content-length");
        char* end = nullptr;
        const unsigned long long announced = std::strtoull(length_header.c_str(), &end, 10);
        // Room for what the server announced, within reason (a page is a few hundred kilobytes),
        // and for the padding a JSON parser reads past the end (simdjson's 64 bytes), so that a
        // page is parsed where it was received rather than copied first.
        if (!length_header.empty() && *end == '\0' && announced <= 64ull << 20)
            received.response.body.reserve(static_cast<std::size_t>(announced) + body_padding);
    }
    received.response.body.append(data, length);
    return length;
}

// libcurl's answer when nothing reached the server: no connection, or a handshake refused.
bool refused_before_sending(CURLcode code, CURL* curl) {
    switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS: return true;
        case CURLE_OPERATION_TIMEDOUT: {
            // Timed out before the request began: while connecting or in the handshake.
            curl_off_t began = 0;
            return curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &began) == CURLE_OK && began == 0;
        }
        default: return false;
    }
}

bool is_handshake_error(CURLcode code) {
    return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION ||
           code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_ISSUER_ERROR || code == CURLE_SSL_CIPHER;
}

// The sessions of a transport's connections, shared by its handles, so that a new connection to a
// server already met resumes its TLS session (an abbreviated handshake); and the DNS answers.
class SharedSessions {
public:
    SharedSessions() : share_(curl_share_init()) {
        if (share_ == nullptr) throw TransportError("cannot start an HTTP client", true);
        curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, lock);
        curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, unlock);
        curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
        curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
    ~SharedSessions() { curl_share_cleanup(share_); }
    SharedSessions(const SharedSessions&) = delete;
    SharedSessions& operator=(const SharedSessions&) = delete;
    CURLSH* get() const { return share_; }

private:
    static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
        static_cast<SharedSessions*>(user)->mutexes_[index(data)].lock();
    }
    static void unlock(CURL*, curl_lock_data data, void* user) {
        static_cast<SharedSessions*>(user)->mutexes_[index(data)].unlock();
    }
    static std::size_t index(curl_lock_data data) {
        return static_cast<std::size_t>(data) < lock_count ? static_cast<std::size_t>(data) : 0;
    }
    static constexpr std::size_t lock_count = CURL_LOCK_DATA_LAST;
    CURLSH* share_;
    std::array<std::mutex, lock_count> mutexes_;
};

class HttpsTransport : public HttpTransport {
public:
    explicit HttpsTransport(HttpSettings settings) : settings_(std::move(settings)) { curl_global(); }

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

        // A connection of its own (a longer timeout, an identity endpoint): a handle made for this
        // request, whose one connection is new and closed after it.
        const bool own = request.timeout || request.identity_endpoint;
        std::unique_ptr<Handle> handle = own ? std::make_unique<Handle>(store, sessions_.get()) : take(origin, store);
        {
            std::lock_guard lock(handle->check.mutex);
            handle->check.host = certificate_host(origin);
            handle->check.error.reset();
        }
        std::chrono::seconds timeout = settings_.timeout;
        if (request.timeout) timeout = std::max(timeout, *request.timeout);
        if (request.identity_endpoint) timeout = std::min(timeout, identity_timeout);

        CURL* curl = handle->curl;
        curl_easy_reset(curl);  // keeps the handle's live connection and sessions
        curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, origin.starts_with("http://") ? "http" : "https");
        curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is an answer, never followed
        // Never through a proxy, whatever the environment says: the request and its token go
        // straight to their origin.
        curl_easy_setopt(curl, CURLOPT_PROXY, "");
        curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
        // Verification cannot be turned off: peer and host always, against the store loaded once.
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
        curl_easy_setopt(curl, CURLOPT_CAINFO, nullptr);
        curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, configure_tls);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, handle.get());
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count() * 1000));
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, handle->error);
        handle->error[0] = '\0';
        handle->at_most_once = request.connection == ConnectionUse::at_most_once;
        handle->sent = handle->refused_again = false;
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_connection);
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, handle.get());
        if (handle->at_most_once) {  // what goes out is watched (nothing is printed)
            curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, note_sending);
            curl_easy_setopt(curl, CURLOPT_DEBUGDATA, handle.get());
            curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
        }
        if (own) {
            curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
            curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
        }

        curl_slist* headers = nullptr;
        const auto add_header = [&headers](const std::string& line) {
            if (curl_slist* added = curl_slist_append(headers, line.c_str())) headers = added;
            else throw TransportError("cannot start an HTTP request", true);
        };
        const std::unique_ptr<curl_slist*, void (*)(curl_slist**)> owned_headers(&headers, [](curl_slist** list) {
            curl_slist_free_all(*list);
        });
        std::string content_type = "application/json";
        for (const auto& [name, value] : request.headers) {
            if (lower(name) == "content-type") content_type = value;
            else add_header(name + ": " + value);
        }
        add_header("Expect:");  // the body goes with the headers, without waiting for 100 Continue
        add_header("User-Agent: authgate/" AUTHGATE_VERSION);
        if (request.method == "GET") {
            curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else {
            add_header("Content-Type: " + content_type);
            curl_easy_setopt(curl, CURLOPT_POST, 1L);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        }
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

        Received received;
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &received);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);

        const CURLcode code = curl_easy_perform(curl);
        if (code != CURLE_OK) {
            std::string message = "cannot reach " + origin + ": ";
            if (handle->refused_again) {
                message += "the connection ended before the answer came, after the request went out; it is not sent "
                           "again, so the server may or may not have acted on it";
            } else if (is_handshake_error(code)) {
                std::lock_guard lock(handle->check.mutex);
                message += "Error in SSL handshake";
                if (handle->check.error || code == CURLE_PEER_FAILED_VERIFICATION)
                    message += refusal_reason(handle->check.error, origin, settings_.ca_bundle);
                else message += " (" + curl_text(code, handle->error) + ")";
            } else {
                message += curl_text(code, handle->error);
            }
            // Nothing of the request went out, and libcurl says it could not have: safe to send again.
            const bool before_sending = !handle->sent && !handle->refused_again && refused_before_sending(code, curl);
            if (!own) give_back(origin, std::move(handle));
            throw TransportError(message, before_sending);
        }
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        received.response.status = static_cast<int>(status);
        if (!own) give_back(origin, std::move(handle));
        return std::move(received.response);
    }

private:
    static std::string curl_text(CURLcode code, const char* error) {
        return error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(code));
    }

    // The host as a certificate names it: an IPv6 address without brackets.
    static std::string certificate_host(const std::string& origin) {
        const std::string host = host_of(origin);
        return host.front() == '[' ? host.substr(1, host.size() - 2) : host;
    }

    // The handle that last finished a request to `origin` (its connection is the likeliest to be
    // alive), or a new one.
    std::unique_ptr<Handle> take(const std::string& origin, const TrustStore& store) {
        {
            std::lock_guard lock(mutex_);
            auto& idle = idle_[origin];
            if (!idle.empty()) {
                std::unique_ptr<Handle> handle = std::move(idle.back());
                idle.pop_back();
                return handle;
            }
        }
        return std::make_unique<Handle>(store, sessions_.get());
    }

    void give_back(const std::string& origin, std::unique_ptr<Handle> handle) {
        constexpr std::size_t kept = 8;  // more than a run ever has in flight to one origin
        std::lock_guard lock(mutex_);
        auto& idle = idle_[origin];
        if (idle.size() < kept) idle.push_back(std::move(handle));
    }

    TrustStore trust_store() {
        std::lock_guard lock(mutex_);
        if (!trust_) trust_ = load_trust_store(settings_.ca_bundle);
        return trust_;
    }

    HttpSettings settings_;
    SharedSessions sessions_;  // declared before the handles that use it: destroyed after them
    std::mutex mutex_;
    TrustStore trust_;
    std::map<std::string, std::vector<std::unique_ptr<Handle>>> idle_;
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
