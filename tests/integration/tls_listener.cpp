#include "tls_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace authgate::testing {
namespace {

namespace fs = std::filesystem;

struct Free {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
    void operator()(X509* certificate) const { X509_free(certificate); }
    void operator()(SSL* ssl) const { SSL_free(ssl); }
    void operator()(FILE* file) const { std::fclose(file); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

[[noreturn]] void fail(const std::string& what) {
    char reason[256] = "";
    ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
    throw std::runtime_error(what + ": " + reason);
}

void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
    if (extension == nullptr) fail("extension " + value);
    X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
}

Owned<X509> make_certificate(EVP_PKEY* key, const std::string& common_name, X509* issuer, int valid_from_days,
                             int valid_until_days) {
    static long serial = 1;
    Owned<X509> certificate(X509_new());
    X509_set_version(certificate.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), ++serial);
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 86400L * valid_from_days);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 86400L * valid_until_days);
    X509_set_pubkey(certificate.get(), key);
    X509_NAME* subject = X509_get_subject_name(certificate.get());
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
    X509* signer = issuer ? issuer : certificate.get();
    X509_set_issuer_name(certificate.get(), X509_get_subject_name(signer));
    add_extension(certificate.get(), signer, NID_subject_key_identifier, "hash");
    if (issuer) {
        add_extension(certificate.get(), signer, NID_authority_key_identifier, "keyid");
        add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(certificate.get(), signer, NID_key_usage, "critical,digitalSignature");
        add_extension(certificate.get(), signer, NID_ext_key_usage, "serverAuth");
    } else {
        add_extension(certificate.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(certificate.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    return certificate;
}

void add_alt_names(X509* certificate, const std::vector<std::string>& names) {
    std::string list;
    for (const auto& name : names) list += (list.empty() ? "" : ",") + name;
    if (!list.empty()) add_extension(certificate, nullptr, NID_subject_alt_name, list);
}

void sign(X509* certificate, EVP_PKEY* key) {
    if (X509_sign(certificate, key, EVP_sha256()) == 0) fail("signing a test certificate");
}

void write_pem(const std::string& path, X509* certificate) {
    Owned<FILE> file(std::fopen(path.c_str(), "w"));
    if (!file || PEM_write_X509(file.get(), certificate) != 1) fail("writing " + path);
}

void write_pem(const std::string& path, EVP_PKEY* key) {
    Owned<FILE> file(std::fopen(path.c_str(), "w"));
    if (!file || PEM_write_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        fail("writing " + path);
}

Owned<X509> read_certificate(const std::string& path) {
    Owned<FILE> file(std::fopen(path.c_str(), "r"));
    Owned<X509> certificate(file ? PEM_read_X509(file.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!certificate) fail("reading " + path);
    return certificate;
}

Owned<EVP_PKEY> read_key(const std::string& path) {
    Owned<FILE> file(std::fopen(path.c_str(), "r"));
    Owned<EVP_PKEY> key(file ? PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key) fail("reading " + path);
    return key;
}

SSL_CTX* server_context(const PemFiles& identity) {
    SSL_CTX* context = SSL_CTX_new(TLS_server_method());
    if (context == nullptr || SSL_CTX_use_certificate_chain_file(context, identity.certificate.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(context, identity.key.c_str(), SSL_FILETYPE_PEM) != 1)
        fail("the listener's certificate " + identity.certificate);
    return context;
}

// Everything up to the end of the headers, then Content-Length bytes of body.
std::string read_request(SSL* ssl) {
    std::string request;
    char buffer[16384];
    std::size_t wanted = std::string::npos;
    while (wanted == std::string::npos || request.size() < wanted) {
        const int n = SSL_read(ssl, buffer, sizeof buffer);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
        const auto head_end = request.find("\r\n\r\n");
        if (wanted == std::string::npos && head_end != std::string::npos) {
            std::size_t length = 0;
            std::string head = request.substr(0, head_end);
            for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (const auto at = head.find("\r\ncontent-length:"); at != std::string::npos)
                length = std::stoul(head.substr(at + 17));
            wanted = head_end + 4 + length;
        }
    }
    return request;
}

}  // namespace

TestCa::TestCa(const fs::path& folder, const std::string& name) : folder_(folder) {
    fs::create_directories(folder_);
    Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
    if (!key) fail("a CA key");
    auto certificate = make_certificate(key.get(), name, nullptr, -1, 30);
    sign(certificate.get(), key.get());
    files_ = {(folder_ / (name + ".pem")).string(), (folder_ / (name + ".key")).string()};
    write_pem(files_.certificate, certificate.get());
    write_pem(files_.key, key.get());
}

PemFiles TestCa::issue(const std::string& name, const ServerCertificate& spec) const {
    const auto ca = read_certificate(files_.certificate);
    const auto ca_key = read_key(files_.key);
    Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
    if (!key) fail("a server key");
    auto certificate = make_certificate(key.get(), spec.common_name, ca.get(), spec.valid_from_days,
                                        spec.valid_until_days);
    add_alt_names(certificate.get(), spec.subject_alt_names);
    sign(certificate.get(), ca_key.get());
    const PemFiles files{(folder_ / (name + ".pem")).string(), (folder_ / (name + ".key")).string()};
    write_pem(files.certificate, certificate.get());
    write_pem(files.key, key.get());
    return files;
}

TlsListener::TlsListener(const PemFiles& identity) : context_(server_context(identity)) {
    ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the test program
    socket_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (socket_ < 0 || ::bind(socket_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(socket_, 64) != 0 || ::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &size) != 0 ||
        ::pipe(stop_pipe_) != 0)
        throw std::runtime_error("the test listener cannot listen");
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
}

TlsListener::~TlsListener() {
    const char quit = 'q';
    if (::write(stop_pipe_[1], &quit, 1) == 1) thread_.join();
    else thread_.detach();
    ::close(socket_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    SSL_CTX_free(static_cast<SSL_CTX*>(context_));
}

void TlsListener::settle() {
    std::unique_lock lock(mutex_);
    const int ticket = ++settle_requests_;
    const char request = 's';
    if (::write(stop_pipe_[1], &request, 1) != 1) throw std::runtime_error("the test listener cannot be reached");
    settled_.wait(lock, [&] { return settles_done_ >= ticket; });
}

int TlsListener::connections() {
    settle();
    std::lock_guard lock(mutex_);
    return connections_;
}

std::vector<std::string> TlsListener::requests() {
    settle();
    std::lock_guard lock(mutex_);
    return requests_;
}

void TlsListener::serve() {
    for (;;) {
        pollfd fds[2] = {{socket_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) <= 0) continue;
        if (fds[0].revents & POLLIN) {
            const int connection = ::accept4(socket_, nullptr, nullptr, SOCK_CLOEXEC);
            if (connection >= 0) handle(connection);
        }
        if (fds[1].revents & POLLIN) {
            char command = 0;
            if (::read(stop_pipe_[0], &command, 1) != 1 || command == 'q') return;
            // Every connection a finished client made is in the backlog by now: take them all.
            pollfd pending{socket_, POLLIN, 0};
            while (::poll(&pending, 1, 0) > 0 && (pending.revents & POLLIN)) {
                const int connection = ::accept4(socket_, nullptr, nullptr, SOCK_CLOEXEC);
                if (connection < 0) break;
                handle(connection);
            }
            std::lock_guard lock(mutex_);
            ++settles_done_;
            settled_.notify_all();
        }
    }
}

void TlsListener::handle(int connection) {
    {
        std::lock_guard lock(mutex_);
        ++connections_;
    }
    // A client that connects and then says nothing must not hold the listener for ever.
    timeval limit{10, 0};
    ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    Owned<SSL> ssl(SSL_new(static_cast<SSL_CTX*>(context_)));
    SSL_set_fd(ssl.get(), connection);
    if (SSL_accept(ssl.get()) == 1) {
        const std::string request = read_request(ssl.get());
        if (!request.empty()) {
            std::lock_guard lock(mutex_);
            requests_.push_back(request);
        }
        const std::string answer = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                                   "Connection: close\r\n\r\n{}";
        SSL_write(ssl.get(), answer.data(), static_cast<int>(answer.size()));
        SSL_shutdown(ssl.get());
    }
    ERR_clear_error();
    ::close(connection);
}

}  // namespace authgate::testing
