// TLS session resumption across the listener's connections, as Exchange Online's and Entra's front
// ends resume sessions. cpprest makes a new SSL context for every accepted connection, so each is
// given the same session ticket keys (random, made once for the process's life): a ticket issued
// on one connection resumes the session on the next, in TLS 1.3 and 1.2. A TLS 1.2 client that
// offers no ticket resumes by session ID from one cache shared by the contexts. Every context also
// counts its handshakes, full or resumed, for /_sandbox/state.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "sandbox.h"

namespace sandbox {

class TlsSessions {
public:
    // Makes the ticket keys; throws std::runtime_error when there is no randomness for them.
    explicit TlsSessions(Sandbox& sandbox);
    TlsSessions(const TlsSessions&) = delete;
    TlsSessions& operator=(const TlsSessions&) = delete;
    ~TlsSessions();

    // Installs the ticket keys and the handshake counter in one connection's context; throws
    // std::runtime_error when OpenSSL refuses them.
    void install(SSL_CTX* context);

private:
    static int ticket_key(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                          EVP_MAC_CTX* mac, int encrypt);
    static void handshake_info(const SSL* ssl, int where, int result);
    static int keep_session(SSL* ssl, SSL_SESSION* session);
    static SSL_SESSION* find_session(SSL* ssl, const unsigned char* id, int length, int* copy);

    Sandbox& sandbox_;
    std::array<unsigned char, 16> key_name_{};
    std::array<unsigned char, 32> cipher_key_{};  // AES-256-CBC
    std::array<unsigned char, 32> mac_key_{};     // HMAC-SHA256
    // TLS 1.2 sessions by ID, the oldest dropped past a bound.
    std::mutex cache_mutex_;
    std::map<std::string, SSL_SESSION*> cache_;
    std::deque<std::string> cache_order_;
};

}  // namespace sandbox
