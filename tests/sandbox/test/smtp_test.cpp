// The SMTP listener over real sockets: STARTTLS with the sandbox's certificate (verified against
// its ca.pem by a small OpenSSL client), AUTH XOAUTH2 in one line and in two steps, each refusal,
// High Volume Email, the smtp faults, and the record in /_sandbox/mail. The sandbox runs in
// process; the last test runs the binary with --smtp-port-file.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

#include "crypto.h"
#include "files.h"
#include "pki.h"
#include "sandbox_fixture.h"
#include "smtp_server.h"
#include "text.h"
#include "tls_directory.h"

namespace sandbox::test {
namespace {

using web::json::value;

// The TLS directory of the in-process listeners: made once per process, removed at its end.
struct SmtpTlsDirectory {
    SmtpTlsDirectory() {
        std::string pattern = (std::filesystem::temp_directory_path() / "sandbox-smtp-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = pattern;
    }
    ~SmtpTlsDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path path;
};

std::filesystem::path smtp_tls_directory() {
    static const SmtpTlsDirectory directory;
    return directory.path;
}

ServerCredential smtp_credential() {
    return prepare_tls_directory(smtp_tls_directory(), std::chrono::system_clock::now());
}

std::string base64(std::string_view bytes) {
    std::string text = base64url_encode(bytes);
    for (char& c : text) {
        if (c == '-') c = '+';
        if (c == '_') c = '/';
    }
    while (text.size() % 4 != 0) text += '=';
    return text;
}

std::string xoauth2(const std::string& user, const std::string& token, const char* auth = "auth") {
    return base64("user=" + user + "\x01" + auth + "=Bearer " + token + "\x01\x01");
}

// A blocking SMTP client: replies are read whole (every line of a multiline reply, joined by \n).
class SmtpClient {
public:
    explicit SmtpClient(int port) {
        descriptor_ = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(descriptor_ >= 0);
        const timeval limit{20, 0};  // a safety net against a hung test, not an assertion
        ::setsockopt(descriptor_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(descriptor_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~SmtpClient() {
        if (ssl_ != nullptr) SSL_free(ssl_);
        if (context_ != nullptr) SSL_CTX_free(context_);
        ::close(descriptor_);
    }
    SmtpClient(const SmtpClient&) = delete;
    SmtpClient& operator=(const SmtpClient&) = delete;

    void send(const std::string& data) {
        if (ssl_ != nullptr) {
            REQUIRE(SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size()));
        } else {
            REQUIRE(::send(descriptor_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
        }
    }

    // The whole reply, or "" when the server closed the connection.
    std::string reply() {
        std::string whole;
        for (;;) {
            const auto line = read_line();
            if (!line) return whole;
            whole += (whole.empty() ? "" : "\n") + *line;
            if (line->size() < 4 || (*line)[3] != '-') return whole;
        }
    }

    std::string command(const std::string& line) {
        send(line + "\r\n");
        return reply();
    }

    // STARTTLS and the handshake, verifying the certificate against ca.pem for 127.0.0.1.
    void start_tls(const std::filesystem::path& ca_file) {
        REQUIRE(command("STARTTLS") == "220 2.0.0 SMTP server ready");
        context_ = SSL_CTX_new(TLS_client_method());
        REQUIRE(SSL_CTX_load_verify_locations(context_, ca_file.c_str(), nullptr) == 1);
        SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
        ssl_ = SSL_new(context_);
        REQUIRE(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1") == 1);
        SSL_set_fd(ssl_, descriptor_);
        REQUIRE(SSL_connect(ssl_) == 1);
        REQUIRE(SSL_get_verify_result(ssl_) == X509_V_OK);
    }

private:
    std::optional<std::string> read_line() {
        for (;;) {
            const size_t end = buffer_.find("\r\n");
            if (end != std::string::npos) {
                std::string line = buffer_.substr(0, end);
                buffer_.erase(0, end + 2);
                return line;
            }
            char chunk[4096];
            const int received = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof chunk)
                                                 : static_cast<int>(::recv(descriptor_, chunk, sizeof chunk, 0));
            if (received <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<size_t>(received));
        }
    }

    int descriptor_ = -1;
    SSL_CTX* context_ = nullptr;
    SSL* ssl_ = nullptr;
    std::string buffer_;
};

// The fixture's sandbox with an SMTP listener.
struct SmtpFixture {
    explicit SmtpFixture(bool hve = false) : server(fixture.sandbox(), smtp_credential(), hve) {
        port = server.open(0);
    }

    // A client past EHLO, STARTTLS and EHLO again.
    std::unique_ptr<SmtpClient> secure_client() {
        auto client = std::make_unique<SmtpClient>(port);
        REQUIRE(client->reply() == "220 sandbox.authgate.test ESMTP authgate-sandbox");
        REQUIRE_THAT(client->command("EHLO client.contoso.com"), Catch::EndsWith("250 STARTTLS"));
        client->start_tls(smtp_tls_directory() / "ca.pem");
        REQUIRE_THAT(client->command("EHLO client.contoso.com"), Catch::EndsWith("250 AUTH LOGIN XOAUTH2"));
        return client;
    }

    std::string token_for(const std::string& scope) { return fixture.token_for(scope); }

    std::string authenticate(SmtpClient& client, const std::string& user) {
        return client.command("AUTH XOAUTH2 " + xoauth2(user, fixture.token()));
    }

    value mail() { return body_of(fixture.control("GET", "/_sandbox/mail")); }

    SandboxFixture fixture;
    SmtpServer server;
    int port = 0;
};

const char* const kAuthFailed = "535 5.7.3 Authentication unsuccessful [sandbox.authgate.test]";
const char* const kAuthDisabled =
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
    "https://aka.ms/smtp_auth_disabled for more information. [sandbox.authgate.test]";

}  // namespace

TEST_CASE("SMTP: STARTTLS, AUTH XOAUTH2 in one line, and a message recorded as received, dot-stuffing undone") {
    SmtpFixture smtp;
    SmtpClient client(smtp.port);
    CHECK(client.reply() == "220 sandbox.authgate.test ESMTP authgate-sandbox");
    CHECK(client.command("EHLO client.contoso.com") ==
          "250-sandbox.authgate.test Hello [127.0.0.1]\n250-SIZE 36700160\n250-8BITMIME\n250-ENHANCEDSTATUSCODES\n"
          "250 STARTTLS");
    CHECK(client.command("AUTH XOAUTH2 " + xoauth2("printer@contoso.com", smtp.fixture.token())) ==
          "530 5.7.57 Client not authenticated to send mail");
    CHECK(client.command("MAIL FROM:<printer@contoso.com>") == "530 5.7.57 Client not authenticated to send mail");
    client.start_tls(smtp_tls_directory() / "ca.pem");
    CHECK(client.command("EHLO client.contoso.com") ==
          "250-sandbox.authgate.test Hello [127.0.0.1]\n250-SIZE 36700160\n250-8BITMIME\n250-ENHANCEDSTATUSCODES\n"
          "250 AUTH LOGIN XOAUTH2");
    CHECK(client.command("MAIL FROM:<printer@contoso.com>") == "530 5.7.57 Client not authenticated to send mail");
    CHECK(smtp.authenticate(client, "printer@contoso.com") == "235 2.7.0 Authentication successful");
    CHECK(client.command("MAIL FROM:<Printer@Contoso.com> SIZE=120") == "250 2.1.0 Sender OK");
    CHECK(client.command("RCPT TO:<owner@fabrikam.com>") == "250 2.1.5 Recipient OK");
    CHECK(client.command("RCPT TO:<messaging-team@contoso.com>") == "250 2.1.5 Recipient OK");
    CHECK(client.command("DATA") == "354 Start mail input; end with <CRLF>.<CRLF>");
    CHECK(client.command("Subject: expiring\r\nMessage-ID: <exc-0042@authgate>\r\n\r\n..hidden dot\r\nline\r\n.") ==
          "250 2.0.0 OK <exc-0042@authgate> [Hostname=sandbox.authgate.test]");
    CHECK(client.command("NOOP") == "250 2.0.0 OK");
    CHECK(client.command("RSET") == "250 2.0.0 Resetting");
    CHECK(client.command("QUIT") == "221 2.0.0 Service closing transmission channel");

    const value mail = smtp.mail();
    CHECK(mail.at("smtp_auth_attempts").as_integer() == 1);
    CHECK(mail.at("smtp_port").as_integer() == smtp.port);
    REQUIRE(mail.at("messages").size() == 1);
    const value message = mail.at("messages").at(0);
    CHECK(message.at("transport").as_string() == "smtp");
    CHECK(message.at("auth_user").as_string() == "printer@contoso.com");
    CHECK(message.at("mail_from").as_string() == "Printer@Contoso.com");
    CHECK(message.at("rcpt_to").serialize() == R"(["owner@fabrikam.com","messaging-team@contoso.com"])");
    CHECK(message.at("message").as_string() ==
          "Subject: expiring\r\nMessage-ID: <exc-0042@authgate>\r\n\r\n.hidden dot\r\nline\r\n");
    CHECK(message.at("message_id").as_string() == "<exc-0042@authgate>");
    CHECK(message.at("hve").as_bool() == false);
    CHECK(smtp.fixture.state().at("smtp_port").as_integer() == smtp.port);
    // Neither the token nor the AUTH string is kept.
    const std::string everything = mail.serialize() + smtp.fixture.state().serialize();
    CHECK(everything.find(smtp.fixture.token()) == std::string::npos);
    CHECK(everything.find(xoauth2("printer@contoso.com", smtp.fixture.token())) == std::string::npos);
}

TEST_CASE("SMTP: AUTH XOAUTH2 in two steps, with Auth= as HVE's example writes it, and a generated Message-ID") {
    SmtpFixture smtp;
    auto client = smtp.secure_client();
    CHECK(client->command("AUTH XOAUTH2") == "334 ");
    CHECK(client->command(xoauth2("alice@contoso.com", smtp.fixture.token(), "Auth")) ==
          "235 2.7.0 Authentication successful");
    CHECK(client->command("AUTH XOAUTH2") == "503 5.5.1 Already authenticated");
    CHECK(client->command("MAIL FROM:<alice@contoso.com>") == "250 2.1.0 Sender OK");
    CHECK(client->command("DATA") == "503 5.5.1 Need rcpt command");
    CHECK(client->command("RCPT TO:<bob@contoso.com>") == "250 2.1.5 Recipient OK");
    CHECK(client->command("DATA") == "354 Start mail input; end with <CRLF>.<CRLF>");
    CHECK_THAT(client->command("Subject: x\r\n\r\nbody\r\n."),
               Catch::Matches("250 2\\.0\\.0 OK <[0-9a-f-]{36}@sandbox\\.authgate\\.test> "
                              "\\[Hostname=sandbox\\.authgate\\.test\\]"));
    // A second message on the same session.
    CHECK(client->command("MAIL FROM:<alice@contoso.com>") == "250 2.1.0 Sender OK");
    CHECK(client->command("RCPT TO:<carol@contoso.com>") == "250 2.1.5 Recipient OK");
    CHECK(client->command("DATA") == "354 Start mail input; end with <CRLF>.<CRLF>");
    CHECK_THAT(client->command("\r\n."), Catch::StartsWith("250 2.0.0 OK <"));
    CHECK(smtp.mail().at("messages").size() == 2);
}

TEST_CASE("SMTP refuses a token for another audience or without SMTP.SendAsApp, an unknown user, Basic, a bad string") {
    SmtpFixture smtp;
    auto client = smtp.secure_client();
    SECTION("a Graph token") {
        const std::string graph = smtp.token_for("https://graph.microsoft.com/.default");
        CHECK(client->command("AUTH XOAUTH2 " + xoauth2("printer@contoso.com", graph)) == kAuthFailed);
    }
    SECTION("a token issued while smtp_send_as_app is false") {
        smtp.fixture.set_faults(R"({"smtp_send_as_app": false})");
        const std::string exchange = smtp.token_for(kOrigin + "/.default");
        CHECK(client->command("AUTH XOAUTH2 " + xoauth2("printer@contoso.com", exchange)) == kAuthFailed);
    }
    SECTION("a token not issued here, or expired") {
        CHECK(client->command("AUTH XOAUTH2 " + xoauth2("printer@contoso.com", "eyJ0eXAiOiJKV1QifQ.e30.c2ln")) ==
              kAuthFailed);
        const std::string token = smtp.fixture.token();
        smtp.fixture.advance(std::chrono::hours(2));
        CHECK(client->command("AUTH XOAUTH2 " + xoauth2("printer@contoso.com", token)) == kAuthFailed);
    }
    SECTION("a user that is no mailbox of the tenant") {
        CHECK(smtp.authenticate(*client, "legacy-erp@contoso.com") == kAuthFailed);
        CHECK(smtp.authenticate(*client, "printer@fabrikam.com") == kAuthFailed);
    }
    SECTION("AUTH LOGIN and AUTH PLAIN") {
        const std::string basic =
            "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [sandbox.authgate.test]";
        CHECK(client->command("AUTH LOGIN") == basic);
        CHECK(client->command("AUTH PLAIN " + base64(std::string("\0printer@contoso.com\0secret", 27))) == basic);
        CHECK(client->command("AUTH CRAM-MD5") == "504 5.7.4 Unrecognized authentication type");
    }
    SECTION("a string that is not base64 or not user=…^Aauth=Bearer …^A^A") {
        CHECK(client->command("AUTH XOAUTH2 !!!") == "501 5.5.2 Cannot Decode response");
        CHECK(client->command("AUTH XOAUTH2 " + base64("user=printer@contoso.com\x01"
                                                       "auth=Bearer x")) == "501 5.5.2 Cannot Decode response");
        CHECK(client->command("AUTH XOAUTH2 " + base64("auth=Bearer x\x01\x01")) == "501 5.5.2 Cannot Decode response");
    }
    // The session goes on after a refusal: a good AUTH succeeds.
    smtp.fixture.set_faults("{}");
    CHECK(client->command("AUTH XOAUTH2 " + xoauth2("printer@contoso.com", smtp.token_for(kOrigin + "/.default"))) ==
          "235 2.7.0 Authentication successful");
    CHECK(smtp.mail().at("smtp_auth_attempts").as_integer() >= 2);
}

TEST_CASE("SMTP AUTH is refused 5.7.139 where SMTP AUTH is off for the mailbox, by its own setting or the tenant's") {
    SmtpFixture smtp;
    auto client = smtp.secure_client();
    CHECK(smtp.authenticate(*client, "ceo@contoso.com") == kAuthDisabled);  // its own: true
    CHECK(smtp.authenticate(*client, "scanner-3f@contoso.com") == "235 2.7.0 Authentication successful");  // null
    smtp.fixture.invoke("Set-TransportConfig", params(R"({"SmtpClientAuthenticationDisabled":true})"));
    auto second = smtp.secure_client();
    CHECK(smtp.authenticate(*second, "scanner-3f@contoso.com") == kAuthDisabled);  // null: the tenant's
    CHECK(smtp.authenticate(*second, "printer@contoso.com") == "235 2.7.0 Authentication successful");  // false
}

TEST_CASE("SMTP: MAIL FROM must be the authenticated mailbox") {
    SmtpFixture smtp;
    auto client = smtp.secure_client();
    REQUIRE(smtp.authenticate(*client, "printer@contoso.com") == "235 2.7.0 Authentication successful");
    CHECK(client->command("MAIL FROM:<ceo@contoso.com>") ==
          "550 5.7.60 SMTP; Client does not have permissions to send as this sender");
    CHECK(client->command("RCPT TO:<a@contoso.com>") == "503 5.5.1 Need mail command");
    CHECK(client->command("MAIL FROM:<printer@contoso.com>") == "250 2.1.0 Sender OK");
    CHECK(client->command("MAIL FROM:<printer@contoso.com>") == "503 5.5.1 Sender already specified");
}

TEST_CASE("SMTP as High Volume Email: SMTP AUTH settings do not matter, external recipients are refused") {
    for (const bool by_flag : {true, false}) {
        SECTION(by_flag ? "--smtp-hve" : "the smtp_hve fault") {
            SmtpFixture smtp(by_flag);
            if (!by_flag) smtp.fixture.set_faults(R"({"smtp_hve": true})");
            auto client = smtp.secure_client();
            CHECK(smtp.authenticate(*client, "ceo@contoso.com") == "235 2.7.0 Authentication successful");
            CHECK(client->command("MAIL FROM:<ceo@contoso.com>") == "250 2.1.0 Sender OK");
            CHECK(client->command("RCPT TO:<owner@fabrikam.com>") ==
                  "550 5.5.105 External sending is not supported for High Volume Email accounts");
            CHECK(client->command("RCPT TO:<Owner@CONTOSO.com>") == "250 2.1.5 Recipient OK");
            CHECK(client->command("RCPT TO:<ops@contoso.onmicrosoft.com>") == "250 2.1.5 Recipient OK");
            CHECK(client->command("DATA") == "354 Start mail input; end with <CRLF>.<CRLF>");
            CHECK_THAT(client->command("Subject: x\r\n\r\ny\r\n."), Catch::StartsWith("250 2.0.0 OK"));
            const value message = smtp.mail().at("messages").at(0);
            CHECK(message.at("rcpt_to").size() == 2);
            CHECK(message.at("hve").as_bool());
        }
    }
}

TEST_CASE("The smtp fault answers AUTH or DATA with its reply, or drops the connection after the greeting") {
    SmtpFixture smtp;
    SECTION("auth") {
        smtp.fixture.set_faults(R"({"smtp": {"stage": "auth", "reply": "535 5.7.3 Authentication unsuccessful [x]"}})");
        auto client = smtp.secure_client();
        CHECK(smtp.authenticate(*client, "printer@contoso.com") == "535 5.7.3 Authentication unsuccessful [x]");
        CHECK(smtp.authenticate(*client, "printer@contoso.com") == "235 2.7.0 Authentication successful");
    }
    SECTION("data") {
        smtp.fixture.set_faults(
            R"({"smtp": {"count": 1, "stage": "data", "reply": "451 4.3.0 Temporary server error"}})");
        auto client = smtp.secure_client();
        REQUIRE(smtp.authenticate(*client, "printer@contoso.com") == "235 2.7.0 Authentication successful");
        for (const char* expected : {"451 4.3.0 Temporary server error", "250 2.0.0 OK"}) {
            CHECK(client->command("MAIL FROM:<printer@contoso.com>") == "250 2.1.0 Sender OK");
            CHECK(client->command("RCPT TO:<a@contoso.com>") == "250 2.1.5 Recipient OK");
            CHECK(client->command("DATA") == "354 Start mail input; end with <CRLF>.<CRLF>");
            CHECK_THAT(client->command("Subject: x\r\n\r\ny\r\n."), Catch::StartsWith(expected));
        }
        CHECK(smtp.mail().at("messages").size() == 1);
    }
    SECTION("drop") {
        smtp.fixture.set_faults(R"({"smtp": {"stage": "drop"}})");
        SmtpClient dropped(smtp.port);
        CHECK(dropped.reply() == "220 sandbox.authgate.test ESMTP authgate-sandbox");
        CHECK(dropped.reply().empty());  // closed
        auto client = smtp.secure_client();
        CHECK(smtp.authenticate(*client, "printer@contoso.com") == "235 2.7.0 Authentication successful");
    }
    CHECK(body_of(smtp.fixture.control("GET", "/_sandbox/faults")).at("fired").at("smtp").as_integer() == 1);
}

TEST_CASE("authgate-sandbox serve --smtp-port-file writes the SMTP port before the port file") {
    std::string pattern = (std::filesystem::temp_directory_path() / "sandbox-smtp-serve-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    const std::filesystem::path directory = pattern;
    write_file_atomically(directory / "app.pem", certificate_pem(app_credential().certificate.get()));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        const int output = ::open((directory / "serve.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(output, STDOUT_FILENO);
        ::dup2(output, STDERR_FILENO);
        const std::vector<std::string> arguments = {SANDBOX_BINARY,
                                                    "--seed",
                                                    std::string(SANDBOX_TEST_DATA) + "/small_tenant.json",
                                                    "--tenant",
                                                    kTenant,
                                                    "--app-id",
                                                    kAppId,
                                                    "--app-cert",
                                                    (directory / "app.pem").string(),
                                                    "--tls-dir",
                                                    (directory / "tls").string(),
                                                    "--port-file",
                                                    (directory / "port").string(),
                                                    "--smtp-port-file",
                                                    (directory / "smtp-port").string(),
                                                    "--quiet"};
        std::vector<char*> argv;
        for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    bool started = false;
    for (int attempt = 0; attempt < 1000 && !started; ++attempt) {
        started = std::filesystem::exists(directory / "port");
        if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    INFO(read_file(directory / "serve.log"));
    CHECK(started);
    if (started) {
        REQUIRE(std::filesystem::exists(directory / "smtp-port"));
        const int port = std::stoi(read_file(directory / "smtp-port"));
        SmtpClient client(port);
        CHECK(client.reply() == "220 sandbox.authgate.test ESMTP authgate-sandbox");
        CHECK_THAT(client.command("EHLO client"), Catch::EndsWith("250 STARTTLS"));
        client.start_tls(directory / "tls" / "ca.pem");  // the HTTPS listener's CA
        CHECK_THAT(client.command("EHLO client"), Catch::EndsWith("250 AUTH LOGIN XOAUTH2"));
        CHECK(client.command("QUIT") == "221 2.0.0 Service closing transmission channel");
    }
    ::kill(child, SIGTERM);
    int status = 0;
    ::waitpid(child, &status, 0);
    std::filesystem::remove_all(directory);
}

}  // namespace sandbox::test
