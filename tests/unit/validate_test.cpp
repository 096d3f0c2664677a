// Validation: the rules that relate elements to each other and to time, each with its exact
// message, and the exception lifecycle they rest on.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "policies/lifecycle.h"
#include "policies/loader.h"
#include "policies/validate.h"
#include "temp_dir.h"

using namespace authgate;
using authgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const Instant now = *parse_instant("2026-11-22T10:00:00Z");
const std::string tenant_header = "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n";

Instant at(const char* text) { return *parse_instant(text); }

// Seven lines, with ticket and replacement so that a valid one draws no warning.
std::string exception_toml(const std::string& mailbox, const std::string& expires = "2027-03-31",
                           const std::string& more = "") {
    return "[[smtp_auth.exception]]\nmailbox = \"" + mailbox +
           "\"\nowner = \"owner@contoso.com\"\nreason = \"device\"\nexpires = " + expires +
           "\nticket = \"CHG1\"\nreplacement = \"oauth\"\n" + more;
}

DesiredState loaded(const std::string& body) {
    LoadResult result = load_desired_state_text("desired.toml", tenant_header + body);
    for (const auto& d : result.diagnostics.all()) INFO(format(d));
    REQUIRE(result.diagnostics.empty());
    return result.state;
}

std::vector<std::string> lines(const Diagnostics& diagnostics) {
    std::vector<std::string> out;
    for (const auto& d : diagnostics.all()) out.push_back(format(d));
    return out;
}

std::vector<std::string> validated(const std::string& body, Instant when = now) {
    return lines(validate(loaded(body), when));
}

}  // namespace

TEST_CASE("a consistent desired state draws no diagnostics", "[validate]") {
    CHECK(validated("[smtp_auth]\norg_disabled = true\ndeny = [\"ceo@contoso.com\"]\n" +
                    exception_toml("scanner@contoso.com") +
                    exception_toml("mfp@contoso.com", "2027-02-28", "basic_auth = true\n") +
                    "[exceptions]\nbasic_auth_policy = \"Allow Basic SMTP\"\n"
                    "[[authentication_policy]]\nname = \"allow basic smtp\"\nallow_basic_auth_smtp = true\n"
                    "[guardrails]\nprotected = [\"breakglass@contoso.com\"]\n")
              .empty());
}

TEST_CASE("each rule that relates elements has its own message, at the offending element", "[validate]") {
    struct Row {
        const char* rule;
        std::string body;
        std::vector<std::string> expected;
    };
    const std::string basic_exception = exception_toml("mfp@contoso.com", "2027-02-28", "basic_auth = true\n");
    const std::vector<Row> rows{
        {"duplicate exception mailbox, ignoring case",
         exception_toml("Scanner@contoso.com") + exception_toml("scanner@CONTOSO.com"),
         {"desired.toml:11:1: error: duplicate exception for mailbox 'scanner@CONTOSO.com' (first declared at "
          "desired.toml:4:1)"}},
        {"duplicate policy name, ignoring case",
         "[[authentication_policy]]\nname = \"Block Basic Auth\"\n[[authentication_policy]]\nname = \"BLOCK basic "
         "auth\"\n",
         {"desired.toml:6:1: error: duplicate authentication policy 'BLOCK basic auth' (first declared at "
          "desired.toml:4:1)"}},
        {"duplicate deny entry",
         "[smtp_auth]\ndeny = [\"ceo@contoso.com\", \"CEO@contoso.com\"]\n",
         {"desired.toml:5:28: error: duplicate deny entry 'CEO@contoso.com' (first declared at desired.toml:5:9)"}},
        {"duplicate protected mailbox",
         "[guardrails]\nprotected = [\"a@contoso.com\", \"A@contoso.com\"]\n",
         {"desired.toml:5:31: error: duplicate protected mailbox 'A@contoso.com' (first declared at "
          "desired.toml:5:14)"}},
        {"mailbox both denied and excepted",
         "[smtp_auth]\ndeny = [\"scanner@contoso.com\"]\n" + exception_toml("Scanner@contoso.com"),
         {"desired.toml:5:9: error: mailbox 'scanner@contoso.com' is both denied and given an exception "
          "(desired.toml:6:1)"}},
        {"basic_auth exception without basic_auth_policy",
         basic_exception,
         {"desired.toml:4:1: error: exception for 'mfp@contoso.com' has basic_auth = true, but [exceptions] "
          "basic_auth_policy is not set"}},
        {"basic_auth_policy not declared",
         "[exceptions]\nbasic_auth_policy = \"Allow Basic SMTP\"\n" + basic_exception,
         {"desired.toml:5:21: error: basic_auth_policy 'Allow Basic SMTP' is not declared as an "
          "[[authentication_policy]]"}},
        {"basic_auth_policy not allowing Basic SMTP",
         "[exceptions]\nbasic_auth_policy = \"Allow Basic SMTP\"\n" + basic_exception +
             "[[authentication_policy]]\nname = \"allow basic smtp\"\nallow_basic_auth_pop = true\n",
         {"desired.toml:5:21: error: basic_auth_policy 'Allow Basic SMTP' does not allow Basic SMTP; add "
          "allow_basic_auth_smtp = true to its [[authentication_policy]] at desired.toml:14:1"}},
        {"protected mailbox with an exception",
         "[guardrails]\nprotected = [\"breakglass@contoso.com\"]\n" + exception_toml("BreakGlass@contoso.com"),
         {"desired.toml:6:1: error: mailbox 'BreakGlass@contoso.com' is protected (desired.toml:5:14) and cannot "
          "have an exception"}},
        {"protected mailbox in deny",
         "[guardrails]\nprotected = [\"breakglass@contoso.com\"]\n[smtp_auth]\ndeny = [\"BREAKGLASS@contoso.com\"]\n",
         {"desired.toml:7:9: error: mailbox 'BREAKGLASS@contoso.com' is protected (desired.toml:5:14) and cannot be "
          "in deny"}},
        {"expiry beyond max_days",
         "[exceptions]\nmax_days = 30\n" + exception_toml("a@contoso.com", "2027-01-01"),
         {"desired.toml:10:11: error: 'expires' 2027-01-01 is more than max_days = 30 days from now (2026-11-22); "
          "shorten the exception or raise [exceptions] max_days"}},
    };
    for (const Row& row : rows) {
        INFO(row.rule);
        CHECK(validated(row.body) == row.expected);
    }
}

TEST_CASE("basic_auth_policy is only checked when an exception needs it", "[validate]") {
    CHECK(validated("[exceptions]\nbasic_auth_policy = \"Nowhere\"\n" + exception_toml("a@contoso.com")).empty());
    CHECK(validated("[exceptions]\nbasic_auth_policy = \"Nowhere\"\n").empty());
}

TEST_CASE("a duplicate mailbox across files names the first file", "[validate]") {
    TempDir dir;
    dir.write("tenant.toml", tenant_header);
    dir.write("exceptions/facilities.toml", exception_toml("Scanner-3F@contoso.com"));
    dir.write("exceptions/it-ops.toml", exception_toml("a@contoso.com") + exception_toml("scanner-3f@CONTOSO.com"));
    const LoadResult result = load_desired_state({dir.path()});
    REQUIRE(result.diagnostics.empty());
    CHECK(lines(validate(result.state, now)) ==
          std::vector<std::string>{dir / "exceptions/it-ops.toml:8:1: error: duplicate exception for mailbox "
                                         "'scanner-3f@CONTOSO.com' (first declared at " +
                                   dir / "exceptions/facilities.toml:1:1)"});
}

TEST_CASE("an expiry may be exactly max_days from now, not a second more", "[validate]") {
    const std::vector<std::tuple<std::string, std::string, bool>> rows{
        {"180 days at the same instant", "2027-05-21T10:00:00Z", true},
        {"one second more", "2027-05-21T10:00:01Z", false},
        {"the same instant in another zone", "2027-05-21T12:00:00+02:00", true},
        {"a date whose day ends before the limit", "2027-05-20", true},
        {"a date whose day ends after the limit", "2027-05-21", false},
    };
    for (const auto& [what, expires, accepted] : rows) {
        INFO(what);
        CHECK(validated(exception_toml("a@contoso.com", expires)).empty() == accepted);
    }
}

TEST_CASE("judged as at a later time, max_days still counts from when the exception is granted", "[validate]") {
    // A command that writes judges as at --at (here 30 days on) but grants now: an exception
    // 200 days from now is within max_days of --at, and still refused.
    const DesiredState state = loaded(exception_toml("a@contoso.com", "2027-06-10"));
    const Instant later = now + std::chrono::days(30);
    CHECK(lines(validate(state, later)).empty());
    CHECK(
        lines(validate(state, later, now)) ==
        std::vector<std::string>{"desired.toml:8:11: error: 'expires' 2027-06-10 is more than max_days = 180 days from "
                                 "now (2026-11-22); shorten the exception or raise [exceptions] max_days"});
}

TEST_CASE("exceptions draw warnings for expiry, ticket and replacement", "[validate]") {
    const std::string no_ticket = "[[smtp_auth.exception]]\nmailbox = \"no-ticket@contoso.com\"\nowner = "
                                  "\"it@contoso.com\"\nreason = \"r\"\nexpires = 2027-03-31\nreplacement = \"hve\"\n";
    const std::string no_replacement = "[[smtp_auth.exception]]\nmailbox = \"no-replacement@contoso.com\"\nowner = "
                                       "\"it@contoso.com\"\nreason = \"r\"\nexpires = 2027-03-31\nticket = \"CHG2\"\n";
    const Diagnostics diagnostics =
        validate(loaded(exception_toml("expired@contoso.com", "2026-10-31") +             // line 4
                        exception_toml("week@contoso.com", "2026-11-29") +                // line 11
                        exception_toml("tomorrow@contoso.com", "2026-11-23T12:00:00Z") +  // line 18
                        no_ticket +                                                       // line 25
                        no_replacement),                                                  // line 31
                 now);
    CHECK(lines(diagnostics) ==
          std::vector<std::string>{
              "desired.toml:4:1: warning: exception for 'expired@contoso.com' expired 2026-10-31 (owner "
              "owner@contoso.com); remove it or renew it",
              "desired.toml:11:1: warning: exception for 'week@contoso.com' expires in 7 days (2026-11-29, owner "
              "owner@contoso.com)",
              "desired.toml:18:1: warning: exception for 'tomorrow@contoso.com' expires in 1 day "
              "(2026-11-23T12:00:00Z, owner owner@contoso.com)",
              "desired.toml:25:1: warning: exception for 'no-ticket@contoso.com' has no ticket",
              "desired.toml:31:1: warning: exception for 'no-replacement@contoso.com' has no replacement (oauth, hve, "
              "acs, relay, direct-send or retire)"});
    std::vector<std::string> codes;
    for (const auto& d : diagnostics.all()) codes.push_back(d.code);
    CHECK(codes == std::vector<std::string>{"exception_expired", "exception_expiring", "exception_expiring",
                                            "exception_without_ticket", "exception_without_replacement"});
    CHECK(diagnostics.error_count() == 0);
    CHECK(diagnostics.warning_count() == 5);
}

TEST_CASE("errors come before warnings, each in source order", "[validate]") {
    CHECK(validated(exception_toml("expired@contoso.com", "2026-10-31") + exception_toml("EXPIRED@contoso.com")) ==
          std::vector<std::string>{
              "desired.toml:11:1: error: duplicate exception for mailbox 'EXPIRED@contoso.com' (first declared at "
              "desired.toml:4:1)",
              "desired.toml:4:1: warning: exception for 'expired@contoso.com' expired 2026-10-31 (owner "
              "owner@contoso.com); remove it or renew it"});
}

TEST_CASE("an exception is expired from its instant, expiring within max(warn_days), else active", "[validate]") {
    Exception exception;
    exception.expires = at("2027-03-31T00:00:00Z");
    using std::chrono::days;
    using std::chrono::seconds;
    struct Row {
        const char* when;
        Instant now;
        std::vector<int> warn_days;
        ExceptionState state;
        long days_left;
    };
    const std::vector<Row> rows{
        {"a second after expiry", exception.expires + seconds{1}, {14, 7, 1}, ExceptionState::expired, -1},
        {"exactly at expiry", exception.expires, {14, 7, 1}, ExceptionState::expired, 0},
        {"a second before expiry", exception.expires - seconds{1}, {14, 7, 1}, ExceptionState::expiring, 0},
        {"exactly max(warn_days) before", exception.expires - days{14}, {14, 7, 1}, ExceptionState::expiring, 14},
        {"a second earlier than that",
         exception.expires - days{14} - seconds{1},
         {14, 7, 1},
         ExceptionState::active,
         14},
        {"long before", exception.expires - days{180}, {14, 7, 1}, ExceptionState::active, 180},
        {"max of unsorted warn_days", exception.expires - days{30}, {7, 30, 1}, ExceptionState::expiring, 30},
        {"just outside unsorted warn_days",
         exception.expires - days{30} - seconds{1},
         {7, 30, 1},
         ExceptionState::active,
         30},
        {"no warn_days: active until expiry", exception.expires - seconds{1}, {}, ExceptionState::active, 0},
        {"no warn_days: expired at expiry", exception.expires, {}, ExceptionState::expired, 0},
        {"two days and a bit before", exception.expires - days{2} - seconds{3600}, {1}, ExceptionState::active, 2},
        {"a day and a half after", exception.expires + days{1} + seconds{43200}, {1}, ExceptionState::expired, -2},
    };
    for (const Row& row : rows) {
        INFO(row.when);
        ExceptionSettings settings;
        settings.warn_days = row.warn_days;
        CHECK(state_at(exception, settings, row.now) == row.state);
        CHECK(days_left(exception, row.now) == row.days_left);
    }
}

TEST_CASE("plausible addresses", "[validate]") {
    for (const std::string& address : std::vector<std::string>{
             "a@b.co", "scanner-3f@contoso.com", "o'brien@contoso.com", "first.last+tag@sub.contoso.com",
             "UPPER@CONTOSO.COM", "x_y@contoso-mail.com", "!#$%&*/=?^`{|}~@contoso.com",
             "j\xC3\xBCrgen@m\xC3\xBCller.de", std::string(64, 'l') + "@contoso.com"}) {
        INFO(address);
        CHECK(is_plausible_address(address));
    }
}

TEST_CASE("implausible addresses", "[validate]") {
    for (const std::string& address : std::vector<std::string>{
             "",
             "scanner",
             "@contoso.com",
             "scanner@",
             "scanner 3f@contoso.com",
             " scanner@contoso.com",
             "scanner@contoso.com ",
             "a@b@contoso.com",
             "a@localhost",
             "\"john doe\"@contoso.com",
             "a\"b@contoso.com",
             "a\tb@contoso.com",
             "a\nb@contoso.com",
             "a@contoso\x01.com",
             "a\x7f@contoso.com",
             ".a@contoso.com",
             "a.@contoso.com",
             "a..b@contoso.com",
             "a@.contoso.com",
             "a@contoso.com.",
             "a@contoso..com",
             "a@-contoso.com",
             "a(b)@contoso.com",
             "a,b@contoso.com",
             "<a@contoso.com>",
             "a@con_toso.com",
             std::string(65, 'l') + "@contoso.com",
         }) {
        INFO(address);
        CHECK_FALSE(is_plausible_address(address));
    }
}

TEST_CASE("an exception on its last day expires within a day, not in 0 days", "[validate]") {
    const Instant now = *parse_instant("2026-11-22T10:00:00Z");
    LoadResult loaded = load_desired_state_text(
        "desired.toml", "version = 1\n[tenant]\nid = \"contoso.onmicrosoft.com\"\n[[smtp_auth.exception]]\n"
                        "mailbox = \"today@contoso.com\"\nowner = \"it@contoso.com\"\nreason = \"r\"\n"
                        "expires = 2026-11-22\nticket = \"CHG1\"\nreplacement = \"hve\"\n");
    REQUIRE_FALSE(loaded.diagnostics.has_errors());
    const Diagnostics diagnostics = validate(loaded.state, now);
    REQUIRE(diagnostics.all().size() == 1);
    CHECK(format(diagnostics.all()[0]) ==
          "desired.toml:4:1: warning: exception for 'today@contoso.com' expires within a day (2026-11-22, owner "
          "it@contoso.com)");
}
