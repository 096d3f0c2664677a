#include "agent/render_html.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>

#include "policies/printable.h"

namespace authgate {

std::string html_escape(std::string_view text) {
    const std::string shown = printable(text);
    std::string escaped;
    escaped.reserve(shown.size() + shown.size() / 8);
    for (const char c : shown) {
        switch (c) {
            case '&': escaped += "&amp;"; break;
            case '<': escaped += "&lt;"; break;
            case '>': escaped += "&gt;"; break;
            case '"': escaped += "&quot;"; break;
            case '\'': escaped += "&#39;"; break;
            default: escaped += c;
        }
    }
    return escaped;
}

namespace {

constexpr std::size_t value_limit = 300;  // one huge value must not make the page huge

// Tenant or desired-state text for the page: cut short when huge, then escaped.
std::string text(std::string_view value) {
    if (value.size() <= value_limit) return html_escape(value);
    std::size_t cut = value_limit;
    while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    return html_escape(value.substr(0, cut)) + "… (" + std::to_string(value.size()) + " bytes)";
}

std::string day_of(Instant at) { return format_instant(at).substr(0, 10); }

std::string number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
    return buffer;
}

// What the page calls an exception's state, and the class that colours it: expired first, then
// unused, then expiring.
std::string_view shown_state(const ReportException& exception) {
    if (exception.state == ExceptionState::expired) return "expired";
    if (exception.unused) return "unused";
    return exception.state == ExceptionState::expiring ? "expiring" : "active";
}

std::string on_off(const std::optional<bool>& disabled, std::string_view unknown) {
    if (!disabled) return std::string(unknown);
    return *disabled ? "SMTP AUTH off" : "SMTP AUTH on";
}

std::string policy_text(const std::optional<std::string>& policy, std::string_view unknown) {
    if (!policy) return std::string(unknown);
    return policy->empty() ? "none" : text(*policy);
}

constexpr std::string_view style = R"css(
:root{--active:#2e7d32;--expiring:#e69500;--expired:#c62828;--unused:#78909c;--ink:#1b1f24;--muted:#5f6b76;--line:#d6dbe0}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid var(--line);padding-bottom:4px}
.meta,.note{color:var(--muted);font-size:12.5px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px;margin-top:16px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 12px;break-inside:avoid}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.card .value{font-size:20px;font-weight:600}
.card .sub{font-size:12.5px;color:var(--muted)}
.ok{color:var(--active)}.warn{color:var(--expiring)}.bad{color:var(--expired)}
table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}
th,td{text-align:left;vertical-align:top;padding:4px 6px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
th{background:#f3f5f7;font-weight:600}
tr{break-inside:avoid}
.badge{display:inline-block;border-radius:3px;padding:0 6px;color:#fff;font-size:12px;white-space:nowrap}
.badge.active{background:var(--active)}.badge.expiring{background:var(--expiring)}.badge.expired{background:var(--expired)}.badge.unused{background:var(--unused)}
svg{display:block;max-width:100%;height:auto;margin-top:8px}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:var(--ink)}
svg .axis{stroke:var(--line)}svg .today{stroke:var(--ink);stroke-dasharray:4 3}
svg .active{fill:var(--active)}svg .expiring{fill:var(--expiring)}svg .expired{fill:var(--expired)}svg .unused{fill:var(--unused)}
svg .ungranted{fill-opacity:.45}
svg .senders{fill:#c6dcef;stroke:#1f5f99;stroke-width:1.5}
.legend span{margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px}
td.changes{padding-left:24px;color:var(--muted)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
@media print{body{max-width:none;padding:0;font-size:11px}h2{break-after:avoid}section{break-inside:auto}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}@page{margin:14mm}}
)css";

void render_glance(std::ostream& out, const MigrationReport& report) {
    std::size_t counts[4] = {0, 0, 0, 0};  // active, expiring, expired, unused
    for (const ReportException& exception : report.exceptions) {
        const std::string_view state = shown_state(exception);
        ++counts[state == "active" ? 0 : state == "expiring" ? 1 : state == "expired" ? 2 : 3];
    }
    const auto card = [&](std::string_view label, const std::string& value, const std::string& sub,
                          std::string_view tone = "") {
        out << "<div class=\"card\"><div class=\"label\">" << label << "</div><div class=\"value"
            << (tone.empty() ? "" : " ") << tone << "\">" << value << "</div><div class=\"sub\">" << sub
            << "</div></div>\n";
    };
    out << "<section id=\"glance\"><h2>At a glance</h2><div class=\"cards\">\n";
    const bool org_converged = report.org_disabled_desired && report.org_disabled_live &&
                               *report.org_disabled_desired == *report.org_disabled_live;
    card("Organisation switch", on_off(report.org_disabled_live, "not read"),
         "desired: " + on_off(report.org_disabled_desired, "not managed"),
         org_converged ? (*report.org_disabled_live ? "ok" : "warn") : "warn");
    card("Default authentication policy", policy_text(report.default_policy_live, "not read"),
         "desired: " + policy_text(report.default_policy_desired, "not managed"));
    card("Exceptions", "<span id=\"exception-count\">" + std::to_string(report.exceptions.size()) + "</span>",
         std::to_string(counts[0]) + " active, " + std::to_string(counts[1]) + " expiring, " +
             std::to_string(counts[2]) + " expired, " + std::to_string(counts[3]) + " unused",
         counts[2]   ? "bad"
         : counts[1] ? "warn"
                     : "");
    if (report.usage_recorded)
        card("Basic SMTP senders", "<span id=\"sender-count\">" + std::to_string(report.recent_senders) + "</span>",
             "seen in the last " + std::to_string(report.usage_days) + " days", report.recent_senders ? "warn" : "ok");
    else card("Basic SMTP senders", "unknown", "no usage recorded in the journal");
    if (report.usage_recorded)
        card("Would be cut off", "<span id=\"cutoff-count\">" + std::to_string(report.cutoffs.size()) + "</span>",
             "senders without an exception in force", report.cutoffs.empty() ? "ok" : "bad");
    else
        card("Would be cut off", "unknown",
             report.inheriting >= 0 ? std::to_string(report.inheriting) + " mailboxes inherit the switch; use unknown"
                                    : "no usage recorded");
    std::size_t open = 0;
    for (const DriftRecord& drift : report.drift) open += !drift.resolved_at;
    card("Open drift", report.journal ? std::to_string(open) : "unknown",
         report.journal ? "from the journal" : "no journal", open ? "bad" : "");
    card("Plan", std::to_string(report.plan_changes) + " to change", std::to_string(report.plan_reports) + " to report",
         report.plan_changes ? "warn" : "ok");
    if (!report.runs.empty()) {
        const RunRecord& last = report.runs.front().run;
        card("Last run", std::string(to_string(last.outcome)),
             std::string(to_string(last.command)) + " " + format_instant(last.started_at),
             last.outcome == RunOutcome::succeeded ? "ok" : "bad");
    } else {
        card("Last run", "none", report.journal ? "the journal holds no run" : "no journal");
    }
    out << "</div></section>\n";
}

// The exceptions as bars from grant to expiry on one time axis, with today marked.
void render_timeline(std::ostream& out, const MigrationReport& report) {
    using namespace std::chrono;
    const Instant now = report.generated_at;
    const auto a_year = hours(24 * 365);
    Instant from = now - hours(24 * 30), to = now + hours(24 * 30);
    for (const ReportException& exception : report.exceptions) {
        if (exception.granted_at) from = std::min(from, *exception.granted_at);
        from = std::min(from, exception.expires_at);
        to = std::max(to, exception.expires_at);
    }
    from = std::max(from, Instant(floor<seconds>(now - a_year)));
    to = std::min(to, Instant(floor<seconds>(now + a_year)));
    constexpr double width = 1000, label = 250, right = 10, row = 18, top = 28;
    const double span = static_cast<double>((to - from).count());
    const auto x = [&](Instant at) {
        const double fraction = static_cast<double>((std::clamp(at, from, to) - from).count()) / span;
        return label + fraction * (width - label - right);
    };
    const double height = top + row * static_cast<double>(report.exceptions.size()) + 8;
    out << "<svg id=\"timeline\" role=\"img\" aria-label=\"Exceptions from grant to expiry\" viewBox=\"0 0 " << width
        << " " << number(height) << "\" width=\"" << width << "\" height=\"" << number(height)
        << "\" xmlns=\"http://www.w3.org/2000/svg\">\n";
    // Month ticks.
    const year_month_day start{floor<days>(from)};
    for (year_month month = start.year() / start.month() + months(1);; month += months(1)) {
        const Instant at{sys_days(month / 1)};
        if (at > to) break;
        out << "<line class=\"axis\" x1=\"" << number(x(at)) << "\" y1=\"14\" x2=\"" << number(x(at)) << "\" y2=\""
            << number(height - 4) << "\"/><text x=\"" << number(x(at) + 2) << "\" y=\"11\">" << day_of(at).substr(0, 7)
            << "</text>\n";
    }
    out << "<line class=\"today\" x1=\"" << number(x(now)) << "\" y1=\"14\" x2=\"" << number(x(now)) << "\" y2=\""
        << number(height - 4) << "\"/><text x=\"" << number(x(now) + 3) << "\" y=\"24\">" << day_of(now) << "</text>\n";
    double y = top;
    for (const ReportException& exception : report.exceptions) {
        const Instant begin = exception.granted_at ? *exception.granted_at : from;
        const double x1 = x(begin), x2 = std::max(x(exception.expires_at), x1 + 2);
        const std::string mailbox = text(exception.mailbox);
        std::string_view label_text = exception.mailbox;  // a long address is cut at the label column
        if (label_text.size() > 40) {
            std::size_t cut = 38;
            while (cut > 0 && (static_cast<unsigned char>(label_text[cut]) & 0xC0) == 0x80) --cut;
            label_text = label_text.substr(0, cut);
        }
        out << "<g><title>" << mailbox << ": " << shown_state(exception) << ", "
            << (exception.granted_at ? "granted " + day_of(*exception.granted_at) : std::string("no grant journalled"))
            << ", expires " << text(exception.expires) << "</title><text x=\"4\" y=\"" << number(y + 12.5) << "\">"
            << text(label_text) << (label_text.size() < exception.mailbox.size() ? "…" : "") << "</text><rect class=\""
            << shown_state(exception) << (exception.granted_at ? "" : " ungranted") << "\" x=\"" << number(x1)
            << "\" y=\"" << number(y + 3) << "\" width=\"" << number(x2 - x1) << "\" height=\"" << number(row - 6)
            << "\" rx=\"2\"/></g>\n";
        y += row;
    }
    out << "</svg>\n";
}

void render_undeclared(std::ostream& out, const MigrationReport& report) {
    if (report.undeclared_grants.empty()) return;
    out << "<h3>Granted, no longer declared</h3>\n<p>Exceptions authgate granted that the desired state no longer "
           "declares: the plan reverts them like expired ones.</p>\n<table id=\"undeclared-table\"><thead><tr>"
           "<th>mailbox</th><th>owner</th><th>expires</th><th>granted</th></tr></thead><tbody>\n";
    for (const ExceptionEventRecord& grant : report.undeclared_grants)
        out << "<tr class=\"undeclared\"><td>" << text(grant.mailbox) << "</td><td>" << text(grant.owner) << "</td><td>"
            << text(grant.expires) << "</td><td>" << day_of(grant.at) << "</td></tr>\n";
    out << "</tbody></table>\n";
}

void render_exceptions(std::ostream& out, const MigrationReport& report) {
    out << "<section id=\"exceptions\"><h2>Exceptions</h2>\n"
           "<p class=\"legend\"><span><i style=\"background:var(--active)\"></i>active</span>"
           "<span><i style=\"background:var(--expiring)\"></i>expiring within "
        << report.warn_days
        << " days</span><span><i style=\"background:var(--expired)\"></i>expired</span>"
           "<span><i style=\"background:var(--unused)\"></i>unused"
        << (report.unused_days ? " for " + std::to_string(*report.unused_days) + " days" : std::string())
        << "</span><span><i style=\"background:var(--active);opacity:.45\"></i>no grant journalled</span></p>\n";
    if (report.exceptions.empty()) {
        out << "<p>The desired state declares no exception.</p>\n";
        render_undeclared(out, report);
        out << "</section>\n";
        return;
    }
    render_timeline(out, report);
    if (!report.unused_days)
        out << "<p class=\"note\">Unused exceptions are judged when <code>[exceptions] unused_days</code> is set and "
               "every usage source was read.</p>\n";
    else if (!report.unused_judged)
        out << "<p class=\"note\">Which exceptions are unused is not known: the usage evidence could not be read in "
               "full (a report from a snapshot reads no usage source).</p>\n";
    out << "<table id=\"exception-table\"><thead><tr><th>mailbox</th><th>state</th><th>owner</th><th>reason</th>"
           "<th>ticket</th><th>replacement</th><th>granted</th><th>expires</th><th>last use</th></tr></thead><tbody>\n";
    for (const ReportException& exception : report.exceptions) {
        const std::string_view state = shown_state(exception);
        out << "<tr class=\"exception\"><td class=\"mailbox\">" << text(exception.mailbox)
            << (exception.basic_auth ? " <span class=\"note\">(basic_auth)</span>" : "")
            << "</td><td><span class=\"badge " << state << "\">" << state << "</span>";
        if (state == "unused" && exception.state == ExceptionState::expiring)
            out << " <span class=\"badge expiring\">expiring</span>";
        out << "</td><td>" << text(exception.owner) << "</td><td>" << text(exception.reason) << "</td><td>"
            << text(exception.ticket) << "</td><td>" << text(exception.replacement) << "</td><td>"
            << (exception.granted_at ? day_of(*exception.granted_at) : std::string("—")) << "</td><td>"
            << text(exception.expires) << " <span class=\"note\">("
            << (exception.state == ExceptionState::expired ? std::string("expired")
                                                           : std::to_string(exception.days_left) + " days left")
            << ")</span></td><td>"
            << (!exception.last_use.empty() ? text(exception.last_use)
                : report.usage_recorded     ? std::string("none seen")
                                            : std::string("not known"))
            << "</td></tr>\n";
    }
    out << "</tbody></table>\n";
    render_undeclared(out, report);
    out << "</section>\n";
}

// Basic SMTP senders per day, as a step area down toward zero.
void render_burn_down(std::ostream& out, const std::vector<DailySenders>& days) {
    constexpr double width = 1000, height = 220, left = 40, right = 10, top = 12, bottom = 24;
    long most = 1;
    for (const DailySenders& day : days) most = std::max(most, day.senders);
    const double step = (width - left - right) / static_cast<double>(days.size());
    const auto y = [&](long count) {
        return top + (height - top - bottom) * (1.0 - static_cast<double>(count) / static_cast<double>(most));
    };
    out << "<svg id=\"burn-down\" role=\"img\" aria-label=\"Basic SMTP senders per day\" viewBox=\"0 0 " << width << " "
        << height << "\" width=\"" << width << "\" height=\"" << height << "\" xmlns=\"http://www.w3.org/2000/svg\">\n";
    out << "<line class=\"axis\" x1=\"" << left << "\" y1=\"" << number(y(0)) << "\" x2=\"" << width - right
        << "\" y2=\"" << number(y(0)) << "\"/><line class=\"axis\" x1=\"" << left << "\" y1=\"" << number(y(most))
        << "\" x2=\"" << width - right << "\" y2=\"" << number(y(most)) << "\"/>\n"
        << "<text x=\"" << left - 4 << "\" y=\"" << number(y(0) + 4) << "\" text-anchor=\"end\">0</text><text x=\""
        << left - 4 << "\" y=\"" << number(y(most) + 4) << "\" text-anchor=\"end\">" << most << "</text>\n";
    std::string path = "M" + number(left) + " " + number(y(0));
    for (std::size_t i = 0; i < days.size(); ++i) {
        const double x = left + step * static_cast<double>(i);
        path += " L" + number(x) + " " + number(y(days[i].senders)) + " L" + number(x + step) + " " +
                number(y(days[i].senders));
    }
    path += " L" + number(width - right) + " " + number(y(0)) + " Z";
    out << "<path class=\"senders\" d=\"" << path << "\"/>\n";
    out << "<text x=\"" << left << "\" y=\"" << height - 6 << "\">" << day_of(days.front().day) << "</text><text x=\""
        << width - right << "\" y=\"" << height - 6 << "\" text-anchor=\"end\">" << day_of(days.back().day)
        << "</text>\n</svg>\n";
}

void render_usage(std::ostream& out, const MigrationReport& report) {
    out << "<section id=\"usage\"><h2>Basic SMTP senders</h2>\n";
    if (!report.usage_recorded) {
        out << "<p>The journal holds no usage evidence for this tenant: who sends with Basic SMTP is not known (which "
               "is not the same as nobody). Run <code>authgate usage</code> to read the sign-in logs and reports; each "
               "read is kept in the journal and drawn here.</p>\n";
        if (report.inheriting >= 0)
            out << "<p>Once the plan turns SMTP AUTH off for the organisation, <strong>" << report.inheriting
                << "</strong> mailboxes inherit it.</p>\n";
        out << "</section>\n";
        return;
    }
    out << "<p class=\"note\">Senders seen using Basic SMTP on each day, from what the journal kept of every usage "
           "read: a sender counts from its first sighting to its last.</p>\n";
    if (!report.basic_senders.empty()) render_burn_down(out, report.basic_senders);
    out << "<ul class=\"note\">\n";
    for (const SourceReport& source : report.sources) out << "<li>" << text(describe(source)) << "</li>\n";
    if (report.sources.empty())
        out << "<li>no source was read for this report: the evidence is what the journal kept</li>\n";
    out << "</ul>\n<h3>Would be cut off</h3>\n";
    if (report.inheriting >= 0)
        out << "<p>Once the plan turns SMTP AUTH off for the organisation, " << report.inheriting
            << " mailboxes inherit it.</p>\n";
    if (report.cutoffs.empty()) {
        out << "<p>The plan cuts off no sender seen in the journal's evidence.</p></section>\n";
        return;
    }
    out << "<table id=\"cutoff-table\"><thead><tr><th>mailbox</th><th>loses</th><th>use seen</th><th>accepted</th>"
           "</tr></thead><tbody>\n";
    const std::size_t shown = std::min(report.cutoffs.size(), report_list_limit);
    for (std::size_t i = 0; i < shown; ++i) {
        const Cutoff& cutoff = report.cutoffs[i];
        out << "<tr class=\"cutoff\"><td>" << text(cutoff.mailbox.text()) << "</td><td>"
            << (cutoff.basic_only ? "Basic SMTP" : "SMTP AUTH") << "</td><td>" << text(cutoff.use) << "</td><td>"
            << (cutoff.accepted ? text(*cutoff.accepted) : std::string("no")) << "</td></tr>\n";
    }
    out << "</tbody></table>\n";
    if (shown < report.cutoffs.size())
        out << "<p class=\"note\">… and " << report.cutoffs.size() - shown
            << " more; <code>authgate usage</code> lists them all.</p>\n";
    out << "</section>\n";
}

void render_drift(std::ostream& out, const MigrationReport& report) {
    out << "<section id=\"drift\"><h2>Drift</h2>\n";
    if (!report.journal) {
        out << "<p>No journal: drift is recorded by <code>authgate reconcile</code>.</p></section>\n";
        return;
    }
    if (report.drift.empty()) {
        out << "<p>No drift recorded.</p></section>\n";
        return;
    }
    out << "<table id=\"drift-table\"><thead><tr><th>state</th><th>what</th><th>is</th><th>desired</th>"
           "<th>first seen</th><th>last seen</th><th>resolved</th></tr></thead><tbody>\n";
    for (const DriftRecord& drift : report.drift)
        out << "<tr class=\"drift " << (drift.resolved_at ? "closed" : "open") << "\"><td>"
            << (drift.resolved_at ? "closed" : "<strong class=\"bad\">open</strong>") << "</td><td>"
            << text(drift.resource) << " " << text(drift.target) << " " << text(drift.attribute) << "</td><td>"
            << text(drift.actual) << "</td><td>" << text(drift.expected) << "</td><td>"
            << format_instant(drift.first_seen) << "</td><td>" << format_instant(drift.last_seen) << "</td><td>"
            << (drift.resolved_at ? format_instant(*drift.resolved_at) : std::string("—")) << "</td></tr>\n";
    out << "</tbody></table>\n";
    if (report.drift.size() >= report_list_limit)
        out << "<p class=\"note\">The latest " << report_list_limit << " are shown.</p>\n";
    out << "</section>\n";
}

void render_runs(std::ostream& out, const MigrationReport& report) {
    out << "<section id=\"runs\"><h2>Last runs</h2>\n";
    if (report.runs.empty()) {
        out << "<p>" << (report.journal ? "The journal holds no run." : "No journal.") << "</p></section>\n";
        return;
    }
    out << "<table id=\"run-table\"><thead><tr><th>run</th><th>started</th><th>command</th><th>outcome</th>"
           "<th>planned</th><th>applied</th><th>failed</th></tr></thead><tbody>\n";
    for (const ReportRun& entry : report.runs) {
        const RunRecord& run = entry.run;
        out << "<tr class=\"run\"><td>#" << run.id << "</td><td>" << format_instant(run.started_at) << "</td><td>"
            << to_string(run.command)
            << (run.mode == RunMode::none ? "" : " --mode " + std::string(to_string(run.mode))) << "</td><td>"
            << to_string(run.outcome) << "</td><td>" << run.planned << "</td><td>" << run.applied << "</td><td>"
            << run.failed << "</td></tr>\n";
        if (!run.error.empty()) out << "<tr><td class=\"changes\" colspan=\"7\">" << text(run.error) << "</td></tr>\n";
        if (entry.changes.empty()) continue;
        out << "<tr><td class=\"changes\" colspan=\"7\">";
        for (const JournalChange& change : entry.changes)
            out << text(change.status) << ": " << text(change.resource) << " " << text(change.target) << " "
                << text(change.attribute) << " " << text(change.before) << " → " << text(change.after) << " ("
                << text(change.reason) << ")" << (change.error.empty() ? "" : " " + text(change.error)) << "<br>";
        if (entry.change_count > entry.changes.size())
            out << "… and " << entry.change_count - entry.changes.size()
                << " more; <code>authgate history</code> lists them all.";
        out << "</td></tr>\n";
    }
    out << "</tbody></table></section>\n";
}

}  // namespace

void render_html(std::ostream& out, const MigrationReport& report) {
    const std::string tenant = text(report.tenant);
    // default-src 'none': even text that escaped its escaping could fetch or run nothing.
    out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>SMTP AUTH migration: "
        << tenant << "</title>\n<style>" << style << "</style></head>\n<body>\n";
    out << "<header><h1>SMTP AUTH migration: <span id=\"tenant\">" << tenant << "</span></h1>\n<p class=\"meta\">As at "
        << format_instant(report.generated_at) << " · live state from " << text(report.live_source)
        << " · desired state " << text(report.desired_digest) << " · made by authgate</p></header>\n";
    render_glance(out, report);
    render_exceptions(out, report);
    render_usage(out, report);
    render_drift(out, report);
    render_runs(out, report);
    out << "</body></html>\n";
}

}  // namespace authgate
