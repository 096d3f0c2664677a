#include "smtp_server.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <stdexcept>
#include <string>

#include "mail.h"
#include "text.h"

namespace sandbox {

namespace {

constexpr size_t kSmtpLineMax = 4096;  // a command line (RFC 5321's 512, with room for AUTH)
constexpr int kSmtpIdleSeconds = 300;  // a session waiting this long for a line ends

// One connection: its socket and, after STARTTLS, its TLS session; reads lines and writes replies.
class SmtpConnection {
public:
    explicit SmtpConnection(int descriptor) : descriptor_(descriptor) {}
    ~SmtpConnection() {
        if (ssl_ != nullptr) {
            SSL_shutdown(ssl_);
            SSL_free(ssl_);
        }
    }
    SmtpConnection(const SmtpConnection&) = delete;
    SmtpConnection& operator=(const SmtpConnection&) = delete;

    bool secure() const { return ssl_ != nullptr; }

    bool reply(const std::string& line) { return write(line + "\r\n"); }

    // The next line without its CRLF (a bare LF is taken too); nullopt when the connection ended,
    // timed out, or the line is longer than `limit`.
    std::optional<std::string> read_line(size_t limit = kSmtpLineMax) {
        for (;;) {
            const size_t end = buffer_.find('\n');
            if (end != std::string::npos) {
                std::string line = buffer_.substr(0, end);
                buffer_.erase(0, end + 1);
                if (line.ends_with('\r')) line.pop_back();
                return line;
            }
            if (buffer_.size() > limit) return std::nullopt;
            char chunk[16384];
            const int received = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof chunk)
                                                 : static_cast<int>(::recv(descriptor_, chunk, sizeof chunk, 0));
            if (received <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<size_t>(received));
        }
    }

    // STARTTLS: whatever the client sent ahead of the handshake is dropped (RFC 3207's defence
    // against command injection); then the handshake, as the server.
    bool start_tls(SSL_CTX* context) {
        buffer_.clear();
        ssl_ = SSL_new(context);
        if (ssl_ == nullptr || SSL_set_fd(ssl_, descriptor_) != 1) return false;
        if (SSL_accept(ssl_) != 1) {
            ERR_clear_error();
            return false;
        }
        return true;
    }

private:
    bool write(const std::string& data) {
        size_t sent = 0;
        while (sent < data.size()) {
            const int written =
                ssl_ != nullptr
                    ? SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent))
                    : static_cast<int>(::send(descriptor_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL));
            if (written <= 0) return false;
            sent += static_cast<size_t>(written);
        }
        return true;
    }

    int descriptor_;
    SSL* ssl_ = nullptr;
    std::string buffer_;
};

// The address of "MAIL FROM:<a@b> SIZE=10" or "RCPT TO:<a@b>" after the colon; nullopt when
// there are no angle brackets. `parameters` gets what follows them.
std::optional<std::string> path_argument(std::string_view rest, std::string& parameters) {
    rest = trim(rest);
    if (!rest.starts_with('<')) return std::nullopt;
    const size_t close = rest.find('>');
    if (close == std::string_view::npos) return std::nullopt;
    parameters = std::string(trim(rest.substr(close + 1)));
    return std::string(rest.substr(1, close - 1));
}

// The SIZE=n parameter of MAIL FROM, or 0.
size_t declared_size(const std::string& parameters) {
    for (const auto& parameter : split(parameters, ' ')) {
        if (istarts_with(parameter, "SIZE=")) {
            try {
                return static_cast<size_t>(std::stoull(parameter.substr(5)));
            } catch (const std::exception&) {
                return 0;
            }
        }
    }
    return 0;
}

}  // namespace

SmtpServer::SmtpServer(Sandbox& sandbox, const ServerCredential& credential, bool hve)
    : sandbox_(sandbox), context_(SSL_CTX_new(TLS_server_method()), SSL_CTX_free) {
    if (!context_ || SSL_CTX_set_min_proto_version(context_.get(), TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate(context_.get(), credential.certificate.get()) != 1 ||
        SSL_CTX_use_PrivateKey(context_.get(), credential.key.get()) != 1 ||
        SSL_CTX_add1_chain_cert(context_.get(), credential.authority.get()) != 1)
        throw std::runtime_error("cannot load the server certificate for the SMTP listener");
    sandbox_.with_state([hve](SandboxState& state) { state.mail.hve = hve; });
}

SmtpServer::~SmtpServer() { close(); }

int SmtpServer::open(int port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) throw std::runtime_error("cannot open a socket for the SMTP listener");
    const int reuse = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    socklen_t size = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
        ::close(listener_);
        listener_ = -1;
        throw std::runtime_error("cannot listen for SMTP on 127.0.0.1:" + std::to_string(port));
    }
    const int bound = ntohs(address.sin_port);
    sandbox_.with_state([bound](SandboxState& state) { state.mail.smtp_port = bound; });
    acceptor_ = std::thread([this] { accept_loop(); });
    return bound;
}

void SmtpServer::close() {
    if (listener_ < 0) return;
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listener_);
    listener_ = -1;
    std::vector<Session> sessions;
    {
        const std::lock_guard lock(sessions_mutex_);
        for (const int descriptor : open_sessions_) ::shutdown(descriptor, SHUT_RDWR);
        sessions.swap(sessions_);
    }
    for (auto& session : sessions) session.thread.join();
}

void SmtpServer::accept_loop() {
    while (!stopping_) {
        pollfd waiting{listener_, POLLIN, 0};
        if (::poll(&waiting, 1, 200) <= 0) continue;
        const int descriptor = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (descriptor < 0) continue;
        const timeval idle{kSmtpIdleSeconds, 0};
        ::setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
        const std::lock_guard lock(sessions_mutex_);
        if (stopping_) {
            ::close(descriptor);
            break;
        }
        // Sessions that have ended are joined here, so that a long run does not keep their threads.
        std::erase_if(sessions_, [](Session& ended) {
            if (!*ended.done) return false;
            ended.thread.join();
            return true;
        });
        open_sessions_.insert(descriptor);
        auto done = std::make_shared<std::atomic<bool>>(false);
        sessions_.push_back(Session{std::thread([this, descriptor, done] {
                                        // A write to a connection the client (or close()) ended
                                        // fails with EPIPE instead of killing the process.
                                        sigset_t pipe_signal;
                                        sigemptyset(&pipe_signal);
                                        sigaddset(&pipe_signal, SIGPIPE);
                                        pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
                                        session(descriptor);
                                        const std::lock_guard ended(sessions_mutex_);
                                        open_sessions_.erase(descriptor);
                                        ::close(descriptor);
                                        *done = true;
                                    }),
                                    done});
    }
}

void SmtpServer::session(int descriptor) {
    SmtpConnection connection(descriptor);
    if (!connection.reply(std::string("220 ") + kSmtpHostname + " ESMTP authgate-sandbox")) return;
    if (sandbox_.with_state([](SandboxState& state) { return smtp_drops_connection(state); })) return;

    bool greeted = false;
    std::optional<std::string> user;  // after AUTH
    std::optional<std::string> mail_from;
    std::vector<std::string> recipients;
    const auto reset_transaction = [&] {
        mail_from.reset();
        recipients.clear();
    };
    const std::string not_authenticated = "530 5.7.57 Client not authenticated to send mail";

    while (auto line = connection.read_line()) {
        const std::string_view command(*line);
        const size_t space = command.find(' ');
        const std::string verb = to_lower(command.substr(0, space));
        const std::string_view argument = space == std::string_view::npos ? "" : trim(command.substr(space + 1));
        bool sent = true;
        if (verb == "ehlo") {
            greeted = true;
            reset_transaction();
            std::string lines = std::string("250-") + kSmtpHostname + " Hello [127.0.0.1]\r\n" + "250-SIZE " +
                                std::to_string(kSmtpMaxMessageSize) + "\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n";
            lines += connection.secure() ? "250 AUTH LOGIN XOAUTH2" : "250 STARTTLS";
            sent = connection.reply(lines);
        } else if (verb == "helo") {
            greeted = true;
            reset_transaction();
            sent = connection.reply(std::string("250 ") + kSmtpHostname + " Hello [127.0.0.1]");
        } else if (verb == "starttls") {
            if (connection.secure()) {
                sent = connection.reply("503 5.5.1 TLS already active");
            } else {
                if (!connection.reply("220 2.0.0 SMTP server ready") || !connection.start_tls(context_.get())) return;
                greeted = false;
                user.reset();
                reset_transaction();
            }
        } else if (verb == "auth") {
            const size_t mechanism_end = argument.find(' ');
            const std::string_view mechanism = argument.substr(0, mechanism_end);
            if (!connection.secure()) {
                sent = connection.reply(not_authenticated);
            } else if (!greeted) {
                sent = connection.reply("503 5.5.2 Send hello first");
            } else if (user) {
                sent = connection.reply("503 5.5.1 Already authenticated");
            } else if (!iequals(mechanism, "XOAUTH2")) {
                const std::string answer =
                    sandbox_.with_state([&](SandboxState& state) { return smtp_refuse_mechanism(state, mechanism); });
                sent = connection.reply(answer);
            } else {
                std::string response =
                    mechanism_end == std::string_view::npos ? "" : std::string(trim(argument.substr(mechanism_end)));
                if (response.empty()) {
                    if (!connection.reply("334 ")) return;
                    auto answer = connection.read_line();
                    if (!answer) return;
                    response = *answer;
                }
                if (response == "*") {
                    sent = connection.reply("501 5.0.0 Authentication cancelled");
                } else {
                    const SmtpAuthOutcome outcome =
                        sandbox_.with_state([&](SandboxState& state) { return smtp_authenticate(state, response); });
                    user = outcome.user;
                    sent = connection.reply(outcome.reply);
                }
            }
        } else if (verb == "mail") {
            std::string parameters;
            const auto address = istarts_with(argument, "FROM:") ? path_argument(argument.substr(5), parameters)
                                                                 : std::nullopt;
            if (!connection.secure() || !user) {
                sent = connection.reply(not_authenticated);
            } else if (mail_from) {
                sent = connection.reply("503 5.5.1 Sender already specified");
            } else if (!address) {
                sent = connection.reply("501 5.5.4 Invalid arguments");
            } else if (!iequals(*address, *user)) {
                sent = connection.reply("550 5.7.60 SMTP; Client does not have permissions to send as this sender");
            } else if (declared_size(parameters) > kSmtpMaxMessageSize) {
                sent = connection.reply("552 5.3.4 Message size exceeds fixed maximum message size");
            } else {
                mail_from = *address;
                sent = connection.reply("250 2.1.0 Sender OK");
            }
        } else if (verb == "rcpt") {
            std::string parameters;
            const auto address = istarts_with(argument, "TO:") ? path_argument(argument.substr(3), parameters)
                                                               : std::nullopt;
            if (!connection.secure() || !user) {
                sent = connection.reply(not_authenticated);
            } else if (!mail_from) {
                sent = connection.reply("503 5.5.1 Need mail command");
            } else if (!address) {
                sent = connection.reply("501 5.5.4 Invalid arguments");
            } else {
                const auto refusal =
                    sandbox_.with_state([&](SandboxState& state) { return smtp_refuse_recipient(state, *address); });
                if (!refusal) recipients.push_back(*address);
                sent = connection.reply(refusal.value_or("250 2.1.5 Recipient OK"));
            }
        } else if (verb == "data") {
            if (!connection.secure() || !user) {
                sent = connection.reply(not_authenticated);
            } else if (!mail_from) {
                sent = connection.reply("503 5.5.1 Need mail command");
            } else if (recipients.empty()) {
                sent = connection.reply("503 5.5.1 Need rcpt command");
            } else {
                if (!connection.reply("354 Start mail input; end with <CRLF>.<CRLF>")) return;
                std::string message;
                bool too_large = false;
                for (;;) {
                    auto data_line = connection.read_line(kSmtpMaxMessageSize + kSmtpLineMax);
                    if (!data_line) return;
                    if (*data_line == ".") break;
                    if (data_line->starts_with('.')) data_line->erase(0, 1);  // dot-stuffing undone
                    if (message.size() + data_line->size() + 2 > kSmtpMaxMessageSize) too_large = true;
                    if (!too_large) message += *data_line + "\r\n";
                }
                std::string answer = "552 5.3.4 Message size exceeds fixed maximum message size";
                if (!too_large) {
                    answer = sandbox_.with_state([&](SandboxState& state) {
                        return smtp_accept_message(state, *user, *mail_from, recipients, message);
                    });
                }
                reset_transaction();
                sent = connection.reply(answer);
            }
        } else if (verb == "rset") {
            reset_transaction();
            sent = connection.reply("250 2.0.0 Resetting");
        } else if (verb == "noop") {
            sent = connection.reply("250 2.0.0 OK");
        } else if (verb == "quit") {
            connection.reply("221 2.0.0 Service closing transmission channel");
            return;
        } else {
            sent = connection.reply("500 5.3.3 Unrecognized command");
        }
        if (!sent) return;
    }
}

}  // namespace sandbox
