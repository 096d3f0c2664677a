// Owner notices by e-mail, end to end: the real authgate against the sandbox's Graph sendMail and
// its SMTP server (STARTTLS, AUTH XOAUTH2 with a token it verifies), each notice once across runs,
// a failed send tried again by the next run, refusals with their advice, the recipients checked,
// the Teams card, and no token in any output.
#include <catch2/catch.hpp>

#include <cpprest/http_client.h>
#include <cpprest/json.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "journal_reader.h"
#include "sandbox_fixture.h"

using namespace authgate::testing;
using web::json::value;
namespace fs = std::filesystem;

namespace {

// The bundled example as it reads today, with `extra` appended to its tenant.toml.
std::string example_plus(const Sandbox& sandbox, const std::string& extra, const std::string& name = "desired") {
    const fs::path copy = sandbox.folder() / name;
    fs::copy(sandbox.example(), copy, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    std::ofstream(copy / "tenant.toml", std::ios::app) << "\n" << extra;
    return copy.string();
}

std::string graph_mail(const std::string& sender = "monitoring@contoso.com") {
    return "[notifications.email]\nsender = \"" + sender + "\"\ncc = [\"messaging-team@contoso.com\"]\n";
}

std::string smtp_mail(const Sandbox& sandbox, const std::string& sender) {
    return "[notifications.email]\ntransport = \"smtp\"\nsender = \"" + sender +
           "\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = " +
           std::to_string(sandbox.state().at("smtp_port").as_integer()) + "\n";
}

value get(const Sandbox& sandbox, const std::string& path) {
    web::http::client::http_client_config config;
    config.set_ssl_context_callback(
        [&](boost::asio::ssl::context& context) { context.load_verify_file(sandbox.ca_bundle()); });
    web::http::client::http_client client(sandbox.origin(), config);
    return client.request(web::http::methods::GET, path).get().extract_json(true).get();
}

std::vector<value> messages(const Sandbox& sandbox) {
    const value mail = get(sandbox, "/_sandbox/mail");  // kept: the loop reads into it
    std::vector<value> out;
    for (const value& message : mail.at("messages").as_array()) out.push_back(message);
    return out;
}

std::vector<std::string> recipients_of(const value& message) {
    std::vector<std::string> to;
    for (const value& address : message.at("to").as_array()) to.push_back(address.as_string());
    return to;
}

// The backoff between Graph's retries, shortened as the fault tests shorten it.
const std::map<std::string, std::string> fast_retries{{"AUTHGATE_RETRY_DELAY_MS", "100"}};

SandboxOptions with_smtp(std::vector<std::string> more = {}) {
    SandboxOptions options;
    options.extra = {"--smtp-port", "0"};
    options.extra.insert(options.extra.end(), more.begin(), more.end());
    return options;
}

void check_no_token(const RunResult& result) {
    INFO(result.out << result.err);
    CHECK(result.out.find("eyJ") == std::string::npos);
    CHECK(result.err.find("eyJ") == std::string::npos);
    CHECK(result.err.find("auth=Bearer") == std::string::npos);
}

}  // namespace

TEST_CASE("reconcile mails each owner once through Graph, however often it runs", "[integration][notices]") {
    Sandbox sandbox(with_smtp());
    const std::string desired = example_plus(sandbox, graph_mail());
    const fs::path trace = sandbox.folder() / "trace";

    // Who would get what, before anything is sent.
    const RunResult dry = sandbox.authgate({"notify", "-c", desired, "--dry-run", "--state", sandbox.journal()});
    INFO(dry.out << dry.err);
    REQUIRE(dry.exit_code == 0);
    CHECK_THAT(dry.out, Catch::Contains("by graph as monitoring@contoso.com: 2 messages"));
    CHECK_THAT(dry.out, Catch::Contains("To it-ops@contoso.com (MailUniversalDistributionGroup)"));
    CHECK_THAT(dry.out, Catch::Contains("SMTP AUTH exception for backup-alerts@contoso.com expires in 7 days"));
    CHECK_THAT(dry.out, Catch::Contains("SMTP AUTH exception for legacy-erp@contoso.com has expired"));
    CHECK(messages(sandbox).empty());

    const RunResult first = sandbox.authgate(
        {"reconcile", "-c", desired, "--mode", "report", "--state", sandbox.journal(), "--trace", trace.string()});
    INFO(first.out << first.err);
    REQUIRE((first.exit_code == 0 || first.exit_code == 2));
    check_no_token(first);
    auto sent = messages(sandbox);
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].at("transport").as_string() == "graph");
    CHECK(sent[0].at("sender").as_string() == "monitoring@contoso.com");
    std::vector<std::string> owners{recipients_of(sent[0]).at(0), recipients_of(sent[1]).at(0)};
    std::sort(owners.begin(), owners.end());
    CHECK(owners == std::vector<std::string>{"finance-apps@contoso.com", "it-ops@contoso.com"});
    for (const value& message : sent) {
        CHECK(message.at("cc").at(0).as_string() == "messaging-team@contoso.com");
        CHECK_THAT(message.at("content").as_string(), Catch::Contains("What to do:"));
        CHECK_THAT(message.at("content").as_string(), Catch::Contains("exceptions/"));
    }

    // Again, and through notify: nothing new to tell anyone.
    const RunResult second =
        sandbox.authgate({"reconcile", "-c", desired, "--mode", "report", "--state", sandbox.journal()});
    INFO(second.out << second.err);
    CHECK(messages(sandbox).size() == 2);
    const RunResult notify = sandbox.authgate({"notify", "-c", desired, "--state", sandbox.journal()});
    INFO(notify.out << notify.err);
    CHECK(notify.exit_code == 0);
    CHECK_THAT(notify.out, Catch::Contains("No owner notice is due."));
    CHECK(messages(sandbox).size() == 2);

    // The journal holds each notice with its Message-ID; neither it nor the trace holds a token.
    const auto rows = query(sandbox.journal(), "SELECT mailbox, notice, status, transport, message_id FROM notices "
                                               "ORDER BY mailbox");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].at("mailbox") == "backup-alerts@contoso.com");
    CHECK(rows[0].at("notice") == "warning 14 days " + example_date("2026-11-29"));
    CHECK(rows[0].at("status") == "sent");
    CHECK(rows[1].at("notice") == "expired " + example_date("2026-10-31"));
    CHECK_THAT(rows[1].at("message_id"), Catch::Matches("<authgate\\.[0-9a-f]{32}@contoso\\.com>"));
    for (const auto& entry : fs::recursive_directory_iterator(trace)) {
        std::ifstream in(entry.path());
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        CHECK(text.find("eyJ") == std::string::npos);
    }
}

TEST_CASE("a send that fails is tried again by the next run and never fails the run", "[integration][notices]") {
    Sandbox sandbox(with_smtp());
    const std::string desired = example_plus(sandbox, graph_mail());
    sandbox.set_faults(R"({"send_mail": {"answer": "server_error", "count": 20}})");
    const RunResult failed =
        sandbox.authgate({"reconcile", "-c", desired, "--mode", "report", "--state", sandbox.journal()}, fast_retries);
    INFO(failed.out << failed.err);
    CHECK((failed.exit_code == 0 || failed.exit_code == 2));
    CHECK_THAT(failed.err, Catch::Contains("an owner notice was not sent; the next run tries again"));
    CHECK(messages(sandbox).empty());
    CHECK(query(sandbox.journal(), "SELECT 1 FROM notices WHERE status = 'failed'").size() == 2);

    sandbox.set_faults("{}");
    const RunResult retried =
        sandbox.authgate({"reconcile", "-c", desired, "--mode", "report", "--state", sandbox.journal()});
    INFO(retried.out << retried.err);
    CHECK(messages(sandbox).size() == 2);
    const auto rows = query(sandbox.journal(), "SELECT status, attempts FROM notices");
    REQUIRE(rows.size() == 2);
    for (const auto& row : rows) {
        CHECK(row.at("status") == "sent");
        CHECK(row.at("attempts") == "2");
    }
}

TEST_CASE("Graph refusals name what to do", "[integration][notices]") {
    Sandbox sandbox(with_smtp());
    const std::string desired = example_plus(sandbox, graph_mail());
    sandbox.set_faults(R"({"send_mail": {"answer": "access_policy", "count": 20}})");
    const RunResult result = sandbox.authgate({"notify", "-c", desired, "--state", sandbox.journal()});
    INFO(result.out << result.err);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Catch::Contains("Access to OData is disabled"));
    CHECK_THAT(result.err, Catch::Contains("application access policy"));
    CHECK_THAT(result.out, Catch::Contains("0 messages sent (0 notices), 2 not sent"));
}

TEST_CASE("SMTP with XOAUTH2 after STARTTLS sends the notices, each once", "[integration][notices]") {
    Sandbox sandbox(with_smtp());
    // monitoring@ has SMTP AUTH on (its own exception), as smtp.office365.com requires.
    const std::string desired = example_plus(sandbox, smtp_mail(sandbox, "monitoring@contoso.com"));
    for (int run = 0; run < 2; ++run) {
        const RunResult result =
            sandbox.authgate({"reconcile", "-c", desired, "--mode", "report", "--state", sandbox.journal()});
        INFO(result.out << result.err);
        check_no_token(result);
        CHECK(result.err.find("not sent") == std::string::npos);
    }
    const auto sent = messages(sandbox);
    REQUIRE(sent.size() == 2);
    for (const value& message : sent) {
        CHECK(message.at("transport").as_string() == "smtp");
        CHECK(message.at("auth_user").as_string() == "monitoring@contoso.com");
        CHECK(message.at("mail_from").as_string() == "monitoring@contoso.com");
        const std::string raw = message.at("message").as_string();
        CHECK_THAT(raw, Catch::Contains("Content-Transfer-Encoding: base64"));
        CHECK_THAT(raw, Catch::Contains("Message-ID: <authgate."));
        CHECK(raw.find("eyJ") == std::string::npos);
    }
    CHECK(query(sandbox.journal(), "SELECT 1 FROM notices WHERE status = 'sent' AND transport = 'smtp'").size() == 2);
}

TEST_CASE("SMTP refused for a sender without SMTP AUTH gets advice, then High Volume Email sends",
          "[integration][notices]") {
    Sandbox sandbox(with_smtp());
    // hr-payroll@ has SMTP AUTH off: smtp.office365.com answers 535 5.7.139.
    const std::string desired = example_plus(sandbox, smtp_mail(sandbox, "hr-payroll@contoso.com"));
    const RunResult refused =
        sandbox.authgate({"reconcile", "-c", desired, "--mode", "report", "--state", sandbox.journal()});
    INFO(refused.out << refused.err);
    CHECK((refused.exit_code == 0 || refused.exit_code == 2));
    CHECK_THAT(refused.err, Catch::Contains("5.7.139"));
    CHECK_THAT(refused.err, Catch::Contains("smtp.hve.mx.microsoft"));
    check_no_token(refused);
    CHECK(messages(sandbox).empty());

    // The same server as High Volume Email: SMTP AUTH being off does not matter there.
    sandbox.set_faults(R"({"smtp_hve": true})");
    const RunResult retried =
        sandbox.authgate({"reconcile", "-c", desired, "--mode", "report", "--state", sandbox.journal()});
    INFO(retried.out << retried.err);
    CHECK(messages(sandbox).size() == 2);
}

TEST_CASE("notify --to sends a test message, and an owner no recipient has is reported", "[integration][notices]") {
    Sandbox sandbox(with_smtp());
    const std::string desired =
        example_plus(sandbox, graph_mail() +
                                  "\n[[smtp_auth.exception]]\nmailbox = \"sales-bot@contoso.com\"\nowner = "
                                  "\"nobody@contoso.com\"\nreason = \"CRM alerts\"\nexpires = " +
                                  example_date("2026-11-25") + "\nreplacement = \"oauth\"\n");
    const RunResult test = sandbox.authgate({"notify", "-c", desired, "--to", "alex.vance@contoso.com"});
    INFO(test.out << test.err);
    REQUIRE(test.exit_code == 0);
    CHECK_THAT(test.out, Catch::Contains("A test message was sent to alex.vance@contoso.com"));
    auto sent = messages(sandbox);
    REQUIRE(sent.size() == 1);
    CHECK(recipients_of(sent[0]) == std::vector<std::string>{"alex.vance@contoso.com"});

    const RunResult dry = sandbox.authgate({"notify", "-c", desired, "--dry-run", "--state", sandbox.journal()});
    INFO(dry.out << dry.err);
    CHECK_THAT(dry.out, Catch::Contains("nobody@contoso.com (no such recipient in the tenant: would bounce)"));

    // The notice still reaches the others on it; the owner's address is reported.
    const RunResult run = sandbox.authgate({"notify", "-c", desired, "--state", sandbox.journal()});
    INFO(run.out << run.err);
    CHECK_THAT(run.err, Catch::Contains("the owner's address is no mailbox or group of the tenant"));
    sent = messages(sandbox);
    const auto to_team = std::count_if(sent.begin(), sent.end(), [](const value& message) {
        return recipients_of(message).at(0) == "messaging-team@contoso.com";
    });
    CHECK(to_team == 1);
}

TEST_CASE("a Teams workflow webhook is sent an Adaptive Card", "[integration][notices]") {
    Sandbox sandbox;
    const std::string desired = example_plus(sandbox, "[notifications]\nwebhook_url = \"" + sandbox.origin() +
                                                          "/_sandbox/webhook\"\nwebhook_format = \"teams\"\n");
    const RunResult result =
        sandbox.authgate({"reconcile", "-c", desired, "--mode", "report", "--state", sandbox.journal()});
    INFO(result.out << result.err);
    const value state = sandbox.state();
    const auto& hooks = state.at("webhooks").as_array();
    REQUIRE(hooks.size() > 0);
    const value& card = hooks.at(0).at("attachments").at(0);
    CHECK(card.at("contentType").as_string() == "application/vnd.microsoft.card.adaptive");
    CHECK(card.at("content").at("type").as_string() == "AdaptiveCard");
}
