#include "tls_sessions.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace sandbox {

namespace {

// Where each context keeps its TlsSessions, and each connection the mark that its handshake was
// counted (OpenSSL may report a handshake done again after it sends a session ticket).
int context_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int counted_index() {
    static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

char counted_mark = 1;

constexpr std::size_t kCachedSessionsMax = 10000;

std::string id_of(const unsigned char* id, unsigned int length) { return std::string(id, id + length); }

}  // namespace

TlsSessions::TlsSessions(Sandbox& sandbox) : sandbox_(sandbox) {
    if (RAND_bytes(key_name_.data(), key_name_.size()) != 1 ||
        RAND_bytes(cipher_key_.data(), cipher_key_.size()) != 1 || RAND_bytes(mac_key_.data(), mac_key_.size()) != 1) {
        throw std::runtime_error("cannot make the TLS session ticket keys: no randomness");
    }
}

TlsSessions::~TlsSessions() {
    for (const auto& [id, session] : cache_) SSL_SESSION_free(session);
}

void TlsSessions::install(SSL_CTX* context) {
    if (context_index() < 0 || counted_index() < 0 || SSL_CTX_set_ex_data(context, context_index(), this) != 1 ||
        SSL_CTX_set_tlsext_ticket_key_evp_cb(context, &TlsSessions::ticket_key) != 1) {
        throw std::runtime_error("cannot install the TLS session ticket keys");
    }
    SSL_CTX_set_info_callback(context, &TlsSessions::handshake_info);
    // The context lives as long as its connection: its own cache would never be asked again.
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(context, &TlsSessions::keep_session);
    SSL_CTX_sess_set_get_cb(context, &TlsSessions::find_session);
}

// The cache keeps a copy: the listener closes connections without a close_notify, and OpenSSL then
// marks the connection's own session as not resumable. 0: OpenSSL keeps its reference.
int TlsSessions::keep_session(SSL* ssl, SSL_SESSION* session) {
    auto* sessions = static_cast<TlsSessions*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    if (sessions == nullptr || SSL_version(ssl) != TLS1_2_VERSION) return 0;  // TLS 1.3 resumes by ticket only
    unsigned int length = 0;
    const unsigned char* id = SSL_SESSION_get_id(session, &length);
    if (length == 0) return 0;
    SSL_SESSION* copy = SSL_SESSION_dup(session);
    if (copy == nullptr) return 0;
    const std::lock_guard lock(sessions->cache_mutex_);
    const auto [entry, added] = sessions->cache_.try_emplace(id_of(id, length), copy);
    if (!added) {
        SSL_SESSION_free(copy);
        return 0;
    }
    sessions->cache_order_.push_back(entry->first);
    if (sessions->cache_order_.size() > kCachedSessionsMax) {
        const auto oldest = sessions->cache_.find(sessions->cache_order_.front());
        SSL_SESSION_free(oldest->second);
        sessions->cache_.erase(oldest);
        sessions->cache_order_.pop_front();
    }
    return 0;
}

SSL_SESSION* TlsSessions::find_session(SSL* ssl, const unsigned char* id, int length, int* copy) {
    *copy = 1;  // OpenSSL takes a reference of its own: the cache keeps its one
    auto* sessions = static_cast<TlsSessions*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    if (sessions == nullptr || length <= 0 || !sessions->sandbox_.resumes_tls_sessions()) return nullptr;
    const std::lock_guard lock(sessions->cache_mutex_);
    const auto found = sessions->cache_.find(id_of(id, static_cast<unsigned int>(length)));
    return found == sessions->cache_.end() ? nullptr : found->second;
}

// As in SSL_CTX_set_tlsext_ticket_key_evp_cb(3): 1 issues a ticket, 2 accepts one and issues a
// new one (as front ends do, so that a client that uses each ticket once can always resume), 0
// refuses one (a full handshake follows), -1 fails the handshake.
int TlsSessions::ticket_key(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                            EVP_MAC_CTX* mac, int encrypt) {
    const auto* sessions = static_cast<const TlsSessions*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    if (sessions == nullptr) return -1;
    OSSL_PARAM mac_parameters[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(sessions->mac_key_.data()),
                                          sessions->mac_key_.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_end()};
    const int iv_length = EVP_CIPHER_get_iv_length(EVP_aes_256_cbc());
    if (encrypt == 1) {
        if (RAND_bytes(iv, iv_length) != 1) return -1;
        std::copy(sessions->key_name_.begin(), sessions->key_name_.end(), key_name);
        if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, sessions->cipher_key_.data(), iv) != 1 ||
            EVP_MAC_CTX_set_params(mac, mac_parameters) != 1) {
            return -1;
        }
        return 1;
    }
    // A front end that does not resume (the tls_resumption fault) cannot read any ticket.
    if (!std::equal(sessions->key_name_.begin(), sessions->key_name_.end(), key_name) ||
        !sessions->sandbox_.resumes_tls_sessions()) {
        return 0;
    }
    if (EVP_MAC_CTX_set_params(mac, mac_parameters) != 1 ||
        EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, sessions->cipher_key_.data(), iv) != 1) {
        return -1;
    }
    return 2;
}

void TlsSessions::handshake_info(const SSL* ssl, int where, int /*result*/) {
    if ((where & SSL_CB_HANDSHAKE_DONE) == 0 || SSL_get_ex_data(ssl, counted_index()) != nullptr) return;
    auto* sessions = static_cast<TlsSessions*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    if (sessions == nullptr) return;
    SSL_set_ex_data(const_cast<SSL*>(ssl), counted_index(), &counted_mark);
    sessions->sandbox_.count_tls_handshake(SSL_session_reused(ssl) == 1 ? TlsHandshake::resumed : TlsHandshake::full);
}

}  // namespace sandbox
