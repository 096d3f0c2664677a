#include <catch2/catch.hpp>

#include <set>

#include "policies/jitter.h"
#include "policies/plan.h"
#include "policies/time.h"

using namespace authgate;

TEST_CASE("instants parse from RFC 3339 and print in UTC", "[time]") {
    const std::vector<std::pair<std::string, std::string>> rows{
        {"2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z"},
        {"2026-11-22t10:00:00z", "2026-11-22T10:00:00Z"},
        {"2026-11-22T12:30:00+02:30", "2026-11-22T10:00:00Z"},
        {"2026-11-21T23:00:00-11:00", "2026-11-22T10:00:00Z"},
        {"2026-11-22T10:00:00.1234567Z", "2026-11-22T10:00:00Z"},
        {"2026-11-22", "2026-11-22T00:00:00Z"},
        {"2024-02-29", "2024-02-29T00:00:00Z"},
    };
    for (const auto& [text, expected] : rows) {
        INFO(text);
        const auto instant = parse_instant(text);
        REQUIRE(instant);
        CHECK(format_instant(*instant) == expected);
    }
}

TEST_CASE("instants print as Exchange writes a DateTime, with seven digits of fraction", "[time]") {
    CHECK(format_exchange_instant(*parse_instant("2026-11-22T10:00:00Z")) == "2026-11-22T10:00:00.0000000Z");
    CHECK(format_exchange_instant(*parse_instant("1999-12-31T23:59:59.9Z")) == "1999-12-31T23:59:59.0000000Z");
}

TEST_CASE("malformed instants are refused", "[time]") {
    for (const char* text :
         {"", "2026-11-22T10:00:00", "2026-13-01", "2025-02-29", "2026-11-22T24:00:00Z", "2026-11-22T10:00Z",
          "2026-11-22T10:00:00+0200", "tomorrow", "2026-11-22T10:00:00Zjunk", "2026-11-22T10:00:00.Z"}) {
        INFO(text);
        CHECK_FALSE(parse_instant(text));
    }
}

TEST_CASE("whole days round down, also before the start", "[time]") {
    const Instant noon = *parse_instant("2026-11-22T12:00:00Z");
    CHECK(whole_days(noon, *parse_instant("2026-11-23T11:59:59Z")) == 0);
    CHECK(whole_days(noon, *parse_instant("2026-11-23T12:00:00Z")) == 1);
    CHECK(whole_days(noon, *parse_instant("2026-11-22T11:59:59Z")) == -1);
    CHECK(format_date(noon) == "2026-11-22");
}

TEST_CASE("PowerShell lines quote strings safely", "[plan]") {
    const Cmdlet cmdlet{"Set-User",
                        {{"Identity", std::string("o'brien'; Remove-Mailbox x")},
                         {"AuthenticationPolicy", SettingValue{}},
                         {"Enabled", true}}};
    CHECK(powershell_line(cmdlet) ==
          "Set-User -Identity 'o''brien''; Remove-Mailbox x' -AuthenticationPolicy $null -Enabled $true");
}

TEST_CASE("durations are read as a person writes them", "[time]") {
    CHECK(parse_duration("90s") == std::chrono::seconds(90));
    CHECK(parse_duration("15m") == std::chrono::seconds(900));
    CHECK(parse_duration("24h") == std::chrono::seconds(86400));
    CHECK(parse_duration("7d") == std::chrono::seconds(604800));
    CHECK(parse_duration("1h30m") == std::chrono::seconds(5400));
    for (const char* bad : {"", "15", "m", "15x", "0s", "-5m", "1.5h", "15m "}) {
        INFO(bad);
        CHECK_FALSE(parse_duration(bad));
    }
}

TEST_CASE("jitter spreads a delay over its range, the same way for the same seed", "[time]") {
    Jitter jitter(7), again(7);
    std::set<long long> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto delay = jitter.spread(std::chrono::milliseconds{2000}, 0.5, 1.0);
        CHECK((delay.count() >= 1000 && delay.count() < 2000));
        CHECK(again.spread(std::chrono::milliseconds{2000}, 0.5, 1.0) == delay);
        seen.insert(delay.count());
    }
    CHECK(seen.size() > 100);
    CHECK(jitter.spread(std::chrono::milliseconds{0}, 0.9, 1.1).count() == 0);
}
