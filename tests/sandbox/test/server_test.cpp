// The real authgate-sandbox binary over HTTPS, met by cpprest's http_client that trusts only the
// generated CA, with certificate and host name verification on.
#include <cpprest/http_client.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

#include "assertion_builder.h"
#include "files.h"
#include "pki.h"

namespace sandbox::test {
namespace {

using web::json::value;
namespace http = web::http;

constexpr const char* kAppIdOnWire = "0b5c7f3e-1234-4abc-9def-00000000beef";

std::filesystem::path temporary_directory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sandbox-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    return pattern;
}

// A child process running the sandbox binary, killed if the test ends early.
class ChildProcess {
public:
    ChildProcess(const std::vector<std::string>& arguments, const std::filesystem::path& output) {
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            const int descriptor = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(descriptor, STDOUT_FILENO);
            ::dup2(descriptor, STDERR_FILENO);
            std::vector<char*> argv;
            for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    ~ChildProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    void signal(int number) const { ::kill(pid_, number); }

    // The exit status, or -1 if it did not exit within the time given.
    int wait(std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
};

int read_port(const std::filesystem::path& port_file) {
    for (int attempt = 0; attempt < 500; ++attempt) {
        if (std::filesystem::exists(port_file)) return std::stoi(read_file(port_file));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("the sandbox wrote no port file");
    return 0;
}

web::http::client::http_client client_for(const std::string& origin, const std::filesystem::path& ca_file) {
    web::http::client::http_client_config config;
    config.set_timeout(std::chrono::seconds(10));
    config.set_ssl_context_callback(
        [ca_file](boost::asio::ssl::context& context) { context.load_verify_file(ca_file.string()); });
    return web::http::client::http_client(origin, config);
}

http::http_request admin_request(const std::string& cmdlet, const std::string& parameters, const std::string& token) {
    http::http_request request(http::methods::POST);
    request.headers().add("Authorization", "Bearer " + token);
    request.headers().add("X-AnchorMailbox",
                          "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com");
    request.headers().add("X-CmdletName", cmdlet);
    request.headers().add("X-ResponseFormat", "json");
    request.headers().add("Prefer", "odata.maxpagesize=2");
    request.set_body(
        value::parse(R"({"CmdletInput":{"CmdletName":")" + cmdlet + R"(","Parameters":)" + parameters + "}}"));
    return request;
}

}  // namespace

TEST_CASE("make-client-cert writes the certificate and key as PEM, the certificate alone, and a PKCS#12 file") {
    const auto directory = temporary_directory();
    ChildProcess maker({SANDBOX_BINARY, "make-client-cert", "--out-dir", (directory / "client").string(), "--days",
                        "-1"},
                       directory / "make.log");
    REQUIRE(maker.wait(std::chrono::seconds(20)) == 0);
    const std::string pem = read_file(directory / "client" / "client.pem");
    CHECK_THAT(pem, Catch::Contains("-----BEGIN CERTIFICATE-----") && Catch::Contains("-----BEGIN PRIVATE KEY-----"));
    CHECK((std::filesystem::status(directory / "client" / "client.pem").permissions() &
           std::filesystem::perms::group_read) == std::filesystem::perms::none);
    const auto certificate = read_certificate_pem(read_file(directory / "client" / "client.crt"), "client.crt");
    CHECK(certificate_not_after(certificate.get()) < std::chrono::system_clock::now());
    CHECK(std::filesystem::file_size(directory / "client" / "client.pfx") > 0);
    std::filesystem::remove_all(directory);
}

TEST_CASE("the sandbox serves a client over verified HTTPS from token to paged reads, drops a connection, and stops on "
          "SIGTERM") {
    const auto directory = temporary_directory();
    ChildProcess maker({SANDBOX_BINARY, "make-client-cert", "--out-dir", (directory / "client").string()},
                       directory / "make.log");
    REQUIRE(maker.wait(std::chrono::seconds(20)) == 0);
    ChildProcess server({SANDBOX_BINARY, "--seed", std::string(SANDBOX_TEST_DATA) + "/small_tenant.json", "--tenant",
                         "contoso.onmicrosoft.com", "--app-id", kAppIdOnWire, "--app-cert",
                         (directory / "client" / "client.pem").string(), "--tls-dir", (directory / "tls").string(),
                         "--port", "0", "--port-file", (directory / "port").string(), "--state-file",
                         (directory / "state.json").string()},
                        directory / "server.log");
    const int port = read_port(directory / "port");
    const std::string origin = "https://127.0.0.1:" + std::to_string(port);
    const auto ca_file = directory / "tls" / "ca.pem";
    auto client = client_for(origin, ca_file);

    // The token, with an assertion signed by the key make-client-cert wrote.
    const std::string pem = read_file(directory / "client" / "client.pem");
    const TestCredential credential{read_certificate_pem(pem, "client.pem"), read_private_key_pem(pem, "client.pem")};
    const std::string token_url = origin + "/contoso.onmicrosoft.com/oauth2/v2.0/token";
    const std::string assertion =
        sign_assertion(standard_header(credential, Algorithm::ps256),
                       standard_claims(kAppIdOnWire, token_url, std::chrono::system_clock::now()), credential.key.get(),
                       Algorithm::ps256);
    http::http_request token_request(http::methods::POST);
    token_request.set_request_uri("/contoso.onmicrosoft.com/oauth2/v2.0/token");
    token_request.set_body("grant_type=client_credentials&client_id=" + std::string(kAppIdOnWire) +
                               "&scope=" + web::uri::encode_data_string(origin + "/.default") +
                               "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                               "&client_assertion=" +
                               assertion,
                           "application/x-www-form-urlencoded");
    const http::http_response token_response = client.request(token_request).get();
    REQUIRE(token_response.status_code() == 200);
    const std::string token = token_response.extract_json().get().at("access_token").as_string();

    // A write, then a paged read followed by POSTing each nextLink.
    auto write = admin_request("Set-CASMailbox",
                               R"({"Identity":"ceo@contoso.com","SmtpClientAuthenticationDisabled":null})", token);
    write.set_request_uri("/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand");
    write.headers().add("client-request-id", "5a1d0000-0000-4000-8000-000000000001");
    const http::http_response written = client.request(write).get();
    CHECK(written.status_code() == 200);
    CHECK(written.headers().find("client-request-id")->second == "5a1d0000-0000-4000-8000-000000000001");

    size_t mailboxes = 0;
    std::string next = "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand";
    for (int page = 0; page < 10 && !next.empty(); ++page) {
        auto read = admin_request("Get-CASMailbox", R"({"ResultSize":"Unlimited"})", token);
        read.set_request_uri(next);
        const value body = client.request(read).get().extract_json().get();
        mailboxes += body.at("value").size();
        next = body.has_field("@odata.nextLink") ? body.at("@odata.nextLink").as_string().substr(origin.size()) : "";
    }
    CHECK(mailboxes == 5);

    // The certificate is good for localhost too.
    auto by_name = client_for("https://localhost:" + std::to_string(port), ca_file);
    const value state = by_name.request(http::methods::GET, "/_sandbox/state").get().extract_json().get();
    CHECK(state.at("mutations").at(0).at("client_request_id").as_string() == "5a1d0000-0000-4000-8000-000000000001");
    CHECK(state.at("requests").at("by_cmdlet").at("Get-CASMailbox").as_integer() == 3);

    // drop_connection: the client sees the connection close without an answer; the next request
    // works. A fresh client, because cpprest silently resends a request once when a pooled
    // keep-alive connection closes before answering.
    REQUIRE(client.request(http::methods::POST, "/_sandbox/faults", value::parse(R"({"drop_connection":{"count":1}})"))
                .get()
                .status_code() == 200);
    auto dropped = admin_request("Get-TransportConfig", "{}", token);
    dropped.set_request_uri("/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand");
    CHECK_THROWS_AS(client_for(origin, ca_file).request(dropped).get().extract_vector().get(), http::http_exception);
    auto again = admin_request("Get-TransportConfig", "{}", token);
    again.set_request_uri("/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand");
    CHECK(client.request(again).get().status_code() == 200);

    server.signal(SIGTERM);
    CHECK(server.wait(std::chrono::seconds(10)) == 0);
    const value final_state = value::parse(read_file(directory / "state.json"));
    CHECK(final_state.at("cas_mailboxes").at(1).at("SmtpClientAuthenticationDisabled").is_null());
    CHECK(final_state.at("faults").at("fired").at("drop_connection").as_integer() == 1);
    std::filesystem::remove_all(directory);
}

}  // namespace sandbox::test
