// The migration report's page: every piece of tenant and desired-state text inert, and its size
// bounded on a large tenant.
#include <catch2/catch.hpp>

#include <sstream>

#include "agent/render_html.h"

using namespace authgate;

namespace {

const Instant now = *parse_instant("2026-11-22T10:00:00Z");

std::string page_of(const MigrationReport& report) {
    std::ostringstream out;
    render_html(out, report);
    return out.str();
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

ReportException exception(const std::string& mailbox, const std::string& text) {
    ReportException result;
    result.mailbox = mailbox;
    result.owner = text;
    result.reason = text;
    result.ticket = text;
    result.replacement = text;
    result.expires = text;
    result.expires_at = now + std::chrono::hours(24 * 30);
    result.granted_at = now - std::chrono::hours(24 * 30);
    result.last_use = text;
    return result;
}

}  // namespace

TEST_CASE("html_escape makes text inert in a text node and in a quoted attribute", "[render][html]") {
    const std::vector<std::pair<std::string, std::string>> table{
        {"scanner@contoso.com", "scanner@contoso.com"},
        {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"\"><img src=x onerror=alert(1)>", "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"},
        {"' onmouseover='x", "&#39; onmouseover=&#39;x"},
        {"</style><style>", "&lt;/style&gt;&lt;style&gt;"},
        {"a & b &amp;", "a &amp; b &amp;amp;"},
        {"javascript:alert(1)", "javascript:alert(1)"},  // text, never a link: the page makes none
        {"line\nbreak\x1b[31m", "line\\nbreak\\x1b[31m"},
        {"evil\u202Etxt.exe", "evil\\u{202e}txt.exe"},
        {"", ""},
    };
    for (const auto& [text, escaped] : table) {
        INFO(text);
        CHECK(html_escape(text) == escaped);
    }
}

TEST_CASE("hostile desired-state and tenant text adds no element to the page", "[render][html]") {
    const std::vector<std::string> hostile{
        "<script>alert(1)</script>",   "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "</style><b>x</b>",
        "</title><iframe src=//evil>", "]]><svg onload=alert(1)>",        "' onfocus='alert(1)",
    };
    MigrationReport report;
    report.tenant = "<script>tenant</script>";
    report.generated_at = now;
    report.live_source = "snapshot <b>x</b>.json";
    report.desired_digest = "\"><script>";
    report.default_policy_live = "</style><script>";
    report.default_policy_desired = "<img src=x>";
    report.org_disabled_desired = true;
    report.org_disabled_live = false;
    report.journal = true;
    report.usage_recorded = true;
    report.basic_senders = {{now - std::chrono::hours(24), 3}, {now, 2}};
    for (std::size_t i = 0; i < hostile.size(); ++i) {
        report.exceptions.push_back(exception(hostile[i] + "@contoso.com", hostile[i]));
        Cutoff cutoff;
        cutoff.mailbox = hostile[i];
        cutoff.use = hostile[i];
        cutoff.accepted = hostile[i];
        report.cutoffs.push_back(cutoff);
        report.drift.push_back({"t", hostile[i], hostile[i], hostile[i], hostile[i], hostile[i], now, now, {}});
        report.undeclared_grants.push_back(
            {1, "t", hostile[i], ExceptionEvent::granted, hostile[i], hostile[i], 0, now});
        SourceReport source;
        source.why_not = hostile[i];
        report.sources.push_back(source);
        ReportRun run;
        run.run.error = hostile[i];
        run.run.tenant_name = hostile[i];
        JournalChange change;
        change.target = change.before = change.after = change.error = change.reason = hostile[i];
        run.changes.push_back(change);
        run.change_count = 1;
        report.runs.push_back(run);
    }
    const std::string page = page_of(report);
    // The page's own elements only: one style, no script, image, frame, link or event handler.
    CHECK(occurrences(page, "<style") == 1);
    CHECK(occurrences(page, "</style") == 1);
    CHECK(occurrences(page, "<script") == 0);
    CHECK(occurrences(page, "<img") == 0);
    CHECK(occurrences(page, "<iframe") == 0);
    CHECK(occurrences(page, "<b>") == 0);
    CHECK(occurrences(page, "<svg onload") == 0);
    CHECK(occurrences(page, "href") == 0);
    CHECK(occurrences(page, "<title>") == 1 + report.exceptions.size());  // the page's and each bar's
    CHECK(occurrences(page, "='alert") == 0);
    // Each hostile text is there, as text.
    CHECK(page.find("&lt;script&gt;alert(1)&lt;/script&gt;@contoso.com") != std::string::npos);
    CHECK(page.find("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
    CHECK(occurrences(page, "<tr class=\"exception\">") == hostile.size());
    CHECK(occurrences(page, "<tr class=\"undeclared\">") == hostile.size());
}

TEST_CASE("the page of a large tenant stays small: long lists are cut and counted", "[render][html]") {
    MigrationReport report;
    report.tenant = "fabrikam.onmicrosoft.com";
    report.generated_at = now;
    report.journal = report.usage_recorded = true;
    for (int i = 0; i < 1000; ++i)
        report.exceptions.push_back(exception("device-" + std::to_string(i) + "@fabrikam.com", "facilities-it"));
    for (int i = 0; i < 365; ++i) report.basic_senders.push_back({now - std::chrono::hours(24) * (365 - i), 1000 - i});
    for (int i = 0; i < 100000; ++i) {
        Cutoff cutoff;
        cutoff.mailbox = "user-" + std::to_string(i) + "@fabrikam.com";
        cutoff.use = "3 messages with Basic SMTP, last 2026-11-21 (1 day ago) (sign-in logs)";
        report.cutoffs.push_back(cutoff);
    }
    report.exceptions[0].reason = std::string(1 << 20, 'x');  // one huge value
    const std::string page = page_of(report);
    CHECK(page.size() < 5'000'000);
    CHECK(occurrences(page, "<tr class=\"exception\">") == 1000);
    CHECK(occurrences(page, "<tr class=\"cutoff\">") == report_list_limit);
    CHECK(page.find("… and 99500 more") != std::string::npos);
    CHECK(page.find("<span id=\"cutoff-count\">100000</span>") != std::string::npos);
    CHECK(page.find("(1048576 bytes)") != std::string::npos);
}
