// Fuzz target: what Exchange Online answers, read as the live state (ExchangeOnlineConnector
// over ExchangeClient: pages, nextLinks, error answers, retries, then Exchange's objects), then
// the answers to a $batch of two writes. The input is the answers in the order the requests
// are made, separated by lines "---"; an answer may start with a line "HTTP 503" for its
// status (200 otherwise). When the input runs out, every read answers one harmless object or
// none. Properties: a bad answer is a ConnectorError and nothing else; a read sends only
// Get-* cmdlets, and only to the Exchange endpoint; writes report outcomes, never throw.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>

#include "../unit/test_certificates.h"
#include "connectors/exchange_online.h"
#include "fuzz_check.h"

namespace {

using namespace authgate;

const std::string endpoint = "https://outlook.office365.com";

class Tokens : public HttpTransport {
public:
    HttpResponse post(const HttpRequest&) override {
        return {200, {}, R"({"token_type":"Bearer","expires_in":3599,"access_token":"token"})"};
    }
};

class Answers : public HttpTransport {
public:
    explicit Answers(const std::string& input) {
        std::size_t start = 0;
        while (start <= input.size()) {
            const std::size_t end = input.find("\n---\n", start);
            answers_.push_back(parse(input.substr(start, end == std::string::npos ? std::string::npos : end - start)));
            if (end == std::string::npos) break;
            start = end + 5;
        }
    }

    bool reading = true;

    HttpResponse post(const HttpRequest& request) override {
        const auto cmdlet = request.headers.find("X-CmdletName");
        if (reading) {
            fuzz::require(origin_of(request.url) == endpoint, "requests go to the Exchange endpoint only");
            fuzz::require(cmdlet != request.headers.end() && cmdlet->second.starts_with("Get-"),
                          "a read sends only Get-*");
        }
        if (!answers_.empty()) {
            HttpResponse next = std::move(answers_.front());
            answers_.pop_front();
            return next;
        }
        const std::string name = cmdlet == request.headers.end() ? "" : cmdlet->second;
        if (name == "Get-TransportConfig") return {200, {}, R"({"value":[{"SmtpClientAuthenticationDisabled":true}]})"};
        if (name == "Get-OrganizationConfig") return {200, {}, R"({"value":[{"DefaultAuthenticationPolicy":null}]})"};
        if (name.empty()) return {200, {}, R"({"responses":[]})"};
        return {200, {}, R"({"value":[]})"};
    }

private:
    static HttpResponse parse(const std::string& text) {
        if (text.starts_with("HTTP ") && text.size() >= 8) {
            const std::string digits = text.substr(5, 3);
            if (digits.find_first_not_of("0123456789") == std::string::npos) {
                const std::size_t line_end = text.find('\n');
                return {std::stoi(digits), {}, line_end == std::string::npos ? "" : text.substr(line_end + 1)};
            }
        }
        return {200, {}, text};
    }

    std::deque<HttpResponse> answers_;
};

const Credential& credential() {
    static const Credential loaded = [] {
        const testing::TestCertificate certificate = testing::make_certificate();
        const std::string path = testing::write_temp_file("app.pem", certificate.certificate_pem + certificate.key_pem);
        Credential credential = Credential::load(path, std::nullopt, now_utc());
        std::filesystem::remove_all(std::filesystem::path(path).parent_path());
        return credential;
    }();
    return loaded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Tokens login;
    static TokenClient tokens(login, credential(),
                              {"https://login.microsoftonline.com", endpoint, "contoso.onmicrosoft.com",
                               "6f1c0e2a-0000-4000-8000-000000000001"});
    Answers answers(std::string(reinterpret_cast<const char*>(data), size));
    ExchangeClient client(
        answers, tokens, {endpoint, "contoso.onmicrosoft.com", 1000, 3, {}}, [](std::chrono::milliseconds) {}, 42);
    ExchangeOnlineConnector connector(client);
    try {
        connector.read_live_state();
    } catch (const ConnectorError&) {
    }

    answers.reading = false;
    const std::vector<Cmdlet> writes{
        {"Set-CASMailbox", {{"Identity", "a"}, {"SmtpClientAuthenticationDisabled", SettingValue{}}}},
        {"Set-CASMailbox", {{"Identity", "b"}, {"SmtpClientAuthenticationDisabled", true}}}};
    const std::vector<WriteOutcome> outcomes = connector.write(writes);
    fuzz::require(outcomes.size() == writes.size(), "every write has an outcome");
    for (const WriteOutcome& outcome : outcomes)
        fuzz::require(outcome.made() || !outcome.error.empty(), "a write that failed says why");
    return 0;
}
