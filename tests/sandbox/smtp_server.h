// The sandbox's SMTP submission listener: Exchange Online's smtp.office365.com:587 as a client of
// SMTP AUTH with XOAUTH2 meets it (README.md, "Mail"). Plain TCP on 127.0.0.1 with STARTTLS
// (the HTTPS listener's certificate), one thread per connection, blocking sockets and OpenSSL.
// The decisions that need the tenant are mail.h's, made under the sandbox's lock.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "sandbox.h"
#include "tls_directory.h"

namespace sandbox {

// The largest message the listener takes (its EHLO's SIZE), as Exchange Online's default.
inline constexpr size_t kSmtpMaxMessageSize = 36700160;

class SmtpServer {
public:
    // `hve`: play High Volume Email (no SMTP AUTH setting checked, internal recipients only).
    SmtpServer(Sandbox& sandbox, const ServerCredential& credential, bool hve);
    ~SmtpServer();
    SmtpServer(const SmtpServer&) = delete;
    SmtpServer& operator=(const SmtpServer&) = delete;

    // Listens on 127.0.0.1:port (0: a free one); returns the port. Throws std::runtime_error.
    int open(int port);
    // Stops listening, ends every session and waits for their threads.
    void close();

private:
    void accept_loop();
    void session(int descriptor);

    Sandbox& sandbox_;
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context_;
    int listener_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    struct Session {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::mutex sessions_mutex_;
    std::set<int> open_sessions_;
    std::vector<Session> sessions_;  // joined when done, at the next connection or at close
};

}  // namespace sandbox
