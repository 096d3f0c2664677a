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

}  // namespace

TlsSessions::TlsSessions(Sandbox& sandbox) : sandbox_(sandbox) {
    if (RAND_bytes(key_name_.data(), key_name_.size()) != 1 ||
        RAND_bytes(cipher_key_.data(), cipher_key_.size()) != 1 || RAND_bytes(mac_key_.data(), mac_key_.size()) != 1) {
        throw std::runtime_error("cannot make the TLS session ticket keys: no randomness");
    }
}

void TlsSessions::install(SSL_CTX* context) {
    if (context_index() < 0 || counted_index() < 0 || SSL_CTX_set_ex_data(context, context_index(), this) != 1 ||
        SSL_CTX_set_tlsext_ticket_key_evp_cb(context, &TlsSessions::ticket_key) != 1) {
        throw std::runtime_error("cannot install the TLS session ticket keys");
    }
    SSL_CTX_set_info_callback(context, &TlsSessions::handshake_info);
}

// As in SSL_CTX_set_tlsext_ticket_key_evp_cb(3): 1 issues or accepts a ticket, 0 refuses one
// (a full handshake follows), -1 fails the handshake.
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
    return 1;
}

void TlsSessions::handshake_info(const SSL* ssl, int where, int /*result*/) {
    if ((where & SSL_CB_HANDSHAKE_DONE) == 0 || SSL_get_ex_data(ssl, counted_index()) != nullptr) return;
    auto* sessions = static_cast<TlsSessions*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    if (sessions == nullptr) return;
    SSL_set_ex_data(const_cast<SSL*>(ssl), counted_index(), &counted_mark);
    sessions->sandbox_.count_tls_handshake(SSL_session_reused(ssl) == 1 ? TlsHandshake::resumed : TlsHandshake::full);
}

}  // namespace sandbox
