// The real authgate-sandbox binary over HTTPS, met by cpprest's http_client that trusts only the
// generated CA, with certificate and host name verification on.
#include <arpa/inet.h>
#include <cpprest/http_client.h>
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

// A client certificate in `directory`/client, as make-client-cert writes it.
void make_client_certificate(const std::filesystem::path& directory) {
    ChildProcess maker({SANDBOX_BINARY, "make-client-cert", "--out-dir", (directory / "client").string()},
                       directory / "make.log");
    REQUIRE(maker.wait(std::chrono::seconds(20)) == 0);
}

// The sandbox's command line for `seed`, trusting that certificate and keeping its TLS files in
// `directory`/tls, then `more`.
std::vector<std::string> sandbox_arguments(const std::filesystem::path& directory, const std::string& seed,
                                           const std::vector<std::string>& more) {
    std::vector<std::string> arguments{SANDBOX_BINARY,
                                       "--seed",
                                       seed,
                                       "--tenant",
                                       "contoso.onmicrosoft.com",
                                       "--app-id",
                                       kAppIdOnWire,
                                       "--app-cert",
                                       (directory / "client" / "client.pem").string(),
                                       "--tls-dir",
                                       (directory / "tls").string()};
    arguments.insert(arguments.end(), more.begin(), more.end());
    return arguments;
}

int read_port(const std::filesystem::path& port_file) {
    for (int attempt = 0; attempt < 500; ++attempt) {
        if (std::filesystem::exists(port_file)) return std::stoi(read_file(port_file));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("the sandbox wrote no port file");
    return 0;
}

// `max_redirects` 0: redirects are answered to the caller rather than followed.
web::http::client::http_client client_for(const std::string& origin, const std::filesystem::path& ca_file,
                                          size_t max_redirects = 10) {
    web::http::client::http_client_config config;
    config.set_timeout(std::chrono::seconds(10));
    config.set_max_redirects(max_redirects);
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

struct SessionFree {
    void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

// One HTTP/1.1 request on a TLS connection of its own (verified against the CA, closed after the
// answer), offering `resume` when given: what a client that keeps TLS sessions across connections
// does.
struct OneConnection {
    value body;          // the answer's JSON body
    SessionPtr session;  // to offer on the next connection
    bool resumed = false;
};

OneConnection request_on_new_connection(int port, const std::filesystem::path& ca_file, const std::string& method,
                                        const std::string& path, const std::string& body, int max_tls_version,
                                        uint64_t client_options, SSL_SESSION* resume) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    REQUIRE(context);
    REQUIRE(SSL_CTX_load_verify_locations(context.get(), ca_file.c_str(), nullptr) == 1);
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_max_proto_version(context.get(), max_tls_version);
    // The listener closes without close_notify.
    SSL_CTX_set_options(context.get(), SSL_OP_IGNORE_UNEXPECTED_EOF | client_options);
    const int descriptor = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(descriptor >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(descriptor, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), &SSL_free);
    SSL_set_fd(ssl.get(), descriptor);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), "127.0.0.1");
    if (resume != nullptr) SSL_set_session(ssl.get(), resume);
    REQUIRE(SSL_connect(ssl.get()) == 1);
    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                                "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    REQUIRE(SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) == static_cast<int>(request.size()));
    std::string answer;
    char buffer[16384];
    for (int read = 0; (read = SSL_read(ssl.get(), buffer, sizeof buffer)) > 0;) answer.append(buffer, read);
    OneConnection connection;
    connection.resumed = SSL_session_reused(ssl.get()) == 1;
    connection.session.reset(SSL_get1_session(ssl.get()));  // TLS 1.3: the ticket that came with the answer
    SSL_shutdown(ssl.get());
    ::close(descriptor);
    const size_t body_start = answer.find("\r\n\r\n");
    REQUIRE(body_start != std::string::npos);
    connection.body = value::parse(answer.substr(body_start + 4));
    return connection;
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
    make_client_certificate(directory);
    ChildProcess server(sandbox_arguments(directory, std::string(SANDBOX_TEST_DATA) + "/small_tenant.json",
                                          {"--port", "0", "--port-file", (directory / "port").string(), "--state-file",
                                           (directory / "state.json").string()}),
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

TEST_CASE("the sandbox serves Graph's usage sources over verified HTTPS, from usage in its seed") {
    const auto directory = temporary_directory();
    make_client_certificate(directory);
    value seed = value::parse(read_file(std::string(SANDBOX_TEST_DATA) + "/small_tenant.json"));
    seed["usage"] = value::parse(R"({"signins":[
        {"user":"scanner-3f@contoso.com","count":5,"first":"2026-11-20T08:00:00Z","last":"2026-11-29T08:00:00Z"},
        {"user":"printer@contoso.com","count":2,"clientAppUsed":"IMAP4","last":"2026-11-28T08:00:00Z"}],
      "email_app_usage":[{"user":"scanner-3f@contoso.com","smtp":"Yes","lastActivity":"2026-11-29"}]})");
    write_file_atomically(directory / "seed.json", seed.serialize());
    ChildProcess server(sandbox_arguments(directory, (directory / "seed.json").string(),
                                          {"--port-file", (directory / "port").string(), "--quiet"}),
                        directory / "server.log");
    const int port = read_port(directory / "port");
    const std::string origin = "https://127.0.0.1:" + std::to_string(port);
    const auto ca_file = directory / "tls" / "ca.pem";
    auto client = client_for(origin, ca_file);

    const std::string pem = read_file(directory / "client" / "client.pem");
    const TestCredential credential{read_certificate_pem(pem, "client.pem"), read_private_key_pem(pem, "client.pem")};
    const std::string assertion =
        sign_assertion(standard_header(credential, Algorithm::rs256),
                       standard_claims(kAppIdOnWire, origin + "/contoso.onmicrosoft.com/oauth2/v2.0/token",
                                       std::chrono::system_clock::now()),
                       credential.key.get(), Algorithm::rs256);
    http::http_request token_request(http::methods::POST);
    token_request.set_request_uri("/contoso.onmicrosoft.com/oauth2/v2.0/token");
    token_request.set_body("grant_type=client_credentials&client_id=" + std::string(kAppIdOnWire) +
                               "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
                               "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                               "&client_assertion=" +
                               assertion,
                           "application/x-www-form-urlencoded");
    const http::http_response token_response = client.request(token_request).get();
    REQUIRE(token_response.status_code() == 200);
    const std::string token = token_response.extract_json().get().at("access_token").as_string();

    // Sign-ins filtered as a client asks, two to a page, each nextLink followed as given.
    web::http::uri_builder query("/v1.0/auditLogs/signIns");
    query.append_query("$filter",
                       "createdDateTime ge 2026-11-01T00:00:00Z and (clientAppUsed eq 'Authenticated SMTP' or "
                       "clientAppUsed eq 'SMTP') and status/errorCode eq 0");
    query.append_query("$top", "2");
    std::string next = query.to_string();
    std::vector<std::string> times;
    for (int page = 0; page < 10 && !next.empty(); ++page) {
        http::http_request read(http::methods::GET);
        read.set_request_uri(next);
        read.headers().add("Authorization", "Bearer " + token);
        const http::http_response answer = client.request(read).get();
        REQUIRE(answer.status_code() == 200);
        const value body = answer.extract_json().get();
        for (const value& row : body.at("value").as_array()) times.push_back(row.at("createdDateTime").as_string());
        next = body.has_field("@odata.nextLink") ? body.at("@odata.nextLink").as_string() : "";
        if (!next.empty()) {
            REQUIRE(next.starts_with(origin + "/v1.0/auditLogs/signins?"));
            next = next.substr(origin.size());
        }
    }
    CHECK(times == std::vector<std::string>{"2026-11-29T08:00:00.0000000Z", "2026-11-27T02:00:00.0000000Z",
                                            "2026-11-24T20:00:00.0000000Z", "2026-11-22T14:00:00.0000000Z",
                                            "2026-11-20T08:00:00.0000000Z"});

    // The report. cpprest's client follows redirects by default, and sends the bearer token along:
    // the download is recorded with its Authorization header.
    http::http_request report(http::methods::GET);
    report.set_request_uri("/v1.0/reports/getEmailAppUsageUserDetail(period='D7')");
    report.headers().add("Authorization", "Bearer " + token);
    CHECK(client.request(report).get().status_code() == 200);
    // Done right: the 302 taken as an answer, the download fetched without the token, later a 304.
    client = client_for(origin, ca_file, 0);
    const http::http_response moved = client.request(report).get();
    REQUIRE(moved.status_code() == 302);
    const std::string location = moved.headers().find("Location")->second;
    REQUIRE(location.starts_with(origin + "/_reports/download/"));
    const http::http_response download =
        client_for(origin, ca_file).request(http::methods::GET, location.substr(origin.size())).get();
    REQUIRE(download.status_code() == 200);
    CHECK(download.headers().content_type() == "application/octet-stream");
    const std::vector<unsigned char> bytes = download.extract_vector().get();
    const std::string csv(bytes.begin(), bytes.end());
    CHECK_THAT(csv, Catch::StartsWith("\xEF\xBB\xBFReport Refresh Date,User Principal Name,") &&
                        Catch::Contains(",scanner-3f@contoso.com,scanner3f,False,,2026-11-29,"));
    const std::string etag = download.headers().find("ETag")->second;
    http::http_request again(http::methods::GET);
    const std::string second = client.request(report).get().headers().find("Location")->second;
    again.set_request_uri(second.substr(origin.size()));
    again.headers().add("If-None-Match", etag);
    CHECK(client.request(again).get().status_code() == 304);

    const value state = client.request(http::methods::GET, "/_sandbox/state").get().extract_json().get();
    CHECK(state.at("usage").at("signins").size() == 2);
    const value downloads = state.at("report_downloads");
    REQUIRE(downloads.size() == 3);
    CHECK(downloads.at(0).at("authorization").as_bool() == true);
    CHECK(downloads.at(1).at("authorization").as_bool() == false);
    CHECK(downloads.at(2).at("status").as_integer() == 304);
    CHECK(state.at("graph_requests").at("signIns").as_integer() == 3);
    server.signal(SIGTERM);
    CHECK(server.wait(std::chrono::seconds(10)) == 0);
    std::filesystem::remove_all(directory);
}

TEST_CASE("the sandbox signs in with a platform's token over verified HTTPS, and serves managed identities over "
          "plain HTTP too") {
    const auto directory = temporary_directory();
    make_client_certificate(directory);
    ChildProcess server(sandbox_arguments(directory, std::string(SANDBOX_TEST_DATA) + "/small_tenant.json",
                                          {"--port-file", (directory / "port").string(), "--http-port-file",
                                           (directory / "http-port").string(), "--arc-key-dir",
                                           (directory / "arc").string(), "--quiet"}),
                        directory / "server.log");
    const int port = read_port(directory / "port");
    const int http_port = read_port(directory / "http-port");
    const std::string origin = "https://127.0.0.1:" + std::to_string(port);
    const auto ca_file = directory / "tls" / "ca.pem";
    auto client = client_for(origin, ca_file);

    // GitHub's endpoint, as the toolkit calls ${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=…
    web::http::uri_builder github("/_github/idtoken");
    github.append_query("api-version", "2.0");
    github.append_query("audience", "api://AzureADTokenExchange");
    http::http_request platform(http::methods::GET);
    platform.set_request_uri(github.to_string());
    platform.headers().add("Authorization", "Bearer sandbox-github-request-token");
    const http::http_response platform_answer = client.request(platform).get();
    REQUIRE(platform_answer.status_code() == 200);
    const std::string github_token = platform_answer.extract_json().get().at("value").as_string();

    // The exchange at the token endpoint, then Exchange with the access token.
    http::http_request token_request(http::methods::POST);
    token_request.set_request_uri("/contoso.onmicrosoft.com/oauth2/v2.0/token");
    token_request.set_body("grant_type=client_credentials&client_id=" + std::string(kAppIdOnWire) +
                               "&scope=" + web::uri::encode_data_string(origin + "/.default") +
                               "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                               "&client_assertion=" +
                               github_token,
                           "application/x-www-form-urlencoded");
    const http::http_response token_response = client.request(token_request).get();
    REQUIRE(token_response.status_code() == 200);
    const std::string federated = token_response.extract_json().get().at("access_token").as_string();
    auto read = admin_request("Get-TransportConfig", "{}", federated);
    read.set_request_uri("/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand");
    CHECK(client.request(read).get().status_code() == 200);

    // IMDS over plain HTTP on loopback, as AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:HTTP_PORT points a
    // client.
    web::http::client::http_client plain("http://127.0.0.1:" + std::to_string(http_port));
    web::http::uri_builder imds("/metadata/identity/oauth2/token");
    imds.append_query("api-version", "2018-02-01");
    imds.append_query("resource", origin);
    http::http_request metadata(http::methods::GET);
    metadata.set_request_uri(imds.to_string());
    metadata.headers().add("Metadata", "true");
    const http::http_response imds_answer = plain.request(metadata).get();
    REQUIRE(imds_answer.status_code() == 200);
    const value imds_body = imds_answer.extract_json().get();
    CHECK(imds_body.at("expires_in").as_string() == "3599");
    auto as_identity = admin_request("Get-TransportConfig", "{}", imds_body.at("access_token").as_string());
    as_identity.set_request_uri("/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand");
    CHECK(client.request(as_identity).get().status_code() == 200);
    // Nothing else is served over plain HTTP.
    CHECK(plain.request(http::methods::GET, "/_sandbox/state").get().status_code() == 404);

    // Arc's challenge, over plain HTTP: the realm is a key file in --arc-key-dir.
    web::http::uri_builder arc("/_arc/metadata/identity/oauth2/token");
    arc.append_query("api-version", "2020-06-01");
    arc.append_query("resource", origin);
    http::http_request challenge(http::methods::GET);
    challenge.set_request_uri(arc.to_string());
    challenge.headers().add("Metadata", "true");
    const http::http_response challenged = plain.request(challenge).get();
    REQUIRE(challenged.status_code() == 401);
    const std::string realm = challenged.headers().find("WWW-Authenticate")->second;
    const std::string prefix = "Basic realm=" + std::filesystem::absolute(directory / "arc").string() + "/";
    REQUIRE(realm.starts_with(prefix));
    http::http_request answered(http::methods::GET);
    answered.set_request_uri(arc.to_string());
    answered.headers().add("Metadata", "true");
    answered.headers().add("Authorization", "Basic " + read_file(realm.substr(std::string("Basic realm=").size())));
    CHECK(plain.request(answered).get().status_code() == 200);

    const value state = client.request(http::methods::GET, "/_sandbox/state").get().extract_json().get();
    CHECK(state.at("http_port").as_integer() == http_port);
    CHECK(state.at("credentials").at("sign_ins").size() == 3);
    CHECK(state.at("identity_requests").at("arc").as_integer() == 2);
    server.signal(SIGTERM);
    CHECK(server.wait(std::chrono::seconds(10)) == 0);
    std::filesystem::remove_all(directory);
}

TEST_CASE("a TLS session from one connection resumes on the next, in TLS 1.3 and 1.2 by ticket or by session ID, "
          "unless tls_resumption is false") {
    const auto directory = temporary_directory();
    make_client_certificate(directory);
    ChildProcess server(sandbox_arguments(directory, std::string(SANDBOX_TEST_DATA) + "/small_tenant.json",
                                          {"--port", "0", "--port-file", (directory / "port").string(), "--quiet"}),
                        directory / "server.log");
    const int port = read_port(directory / "port");
    const auto ca_file = directory / "tls" / "ca.pem";
    const auto handshakes = [](const OneConnection& connection) {
        return std::pair{connection.body.at("tls").at("handshakes").as_integer(),
                         connection.body.at("tls").at("resumed").as_integer()};
    };
    int before = 0;  // handshakes so far
    int resumed_before = 0;
    // TLS 1.3 (tickets), TLS 1.2 with tickets, TLS 1.2 by session ID.
    for (const auto& [version, options] :
         {std::pair<int, uint64_t>{TLS1_3_VERSION, 0}, std::pair<int, uint64_t>{TLS1_2_VERSION, 0},
          std::pair<int, uint64_t>{TLS1_2_VERSION, SSL_OP_NO_TICKET}}) {
        INFO("TLS version " << std::hex << version << (options != 0 ? " without tickets" : ""));
        // Two connections in turn, the second offering the first's session: its handshake is resumed.
        const OneConnection first = request_on_new_connection(port, ca_file, "GET", "/_sandbox/state", "", version,
                                                              options, nullptr);
        CHECK_FALSE(first.resumed);
        const OneConnection second = request_on_new_connection(port, ca_file, "GET", "/_sandbox/state", "", version,
                                                               options, first.session.get());
        CHECK(second.resumed);
        CHECK(handshakes(second) == std::pair{before + 2, resumed_before + 1});

        // A front end that does not resume: the session offered is refused, the handshake is full.
        request_on_new_connection(port, ca_file, "POST", "/_sandbox/faults", R"({"tls_resumption": false})", version,
                                  options, nullptr);
        const OneConnection refused = request_on_new_connection(port, ca_file, "GET", "/_sandbox/state", "", version,
                                                                options, second.session.get());
        CHECK_FALSE(refused.resumed);
        CHECK(handshakes(refused) == std::pair{before + 4, resumed_before + 1});
        CHECK(refused.body.at("faults").at("active").at("tls_resumption") == value::boolean(false));
        request_on_new_connection(port, ca_file, "DELETE", "/_sandbox/faults", "", version, options, nullptr);
        before += 5;
        resumed_before += 1;
    }
    std::filesystem::remove_all(directory);
}

}  // namespace sandbox::test
