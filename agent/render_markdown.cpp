#include "agent/render.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <sstream>

#include "policies/printable.h"

namespace authgate {
namespace {

constexpr std::size_t report_limit = 60000;     // a pull-request comment must stay below 65,536
constexpr std::size_t reserve_for_tail = 4000;  // warnings summary and the truncation note

constexpr std::size_t value_limit = 300;  // one huge value must not push the rows after it out

// Text from the tenant or the desired state, as inert Markdown: a code span, in which nothing is
// a link, a mention, HTML or emphasis. Control characters are shown as escapes (so no newline ends
// the row or the span), the span's backticks outnumber any run inside it, a pipe is escaped so
// that it does not split a table cell, and a huge value is cut short.
std::string code(const std::string& text) {
    std::string shown = printable(text);
    if (shown.size() > value_limit) {
        std::size_t cut = value_limit;
        while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
        shown = shown.substr(0, cut) + "… (" + std::to_string(text.size()) + " bytes)";
    }
    std::size_t longest = 0;
    for (std::size_t i = 0, run = 0; i < shown.size(); ++i) {
        run = shown[i] == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    std::string escaped;
    for (char c : shown) escaped += c == '|' ? std::string("\\|") : std::string(1, c);
    const std::string fence(longest + 1, '`');
    const bool pad = !escaped.empty() && (escaped.front() == '`' || escaped.back() == '`' || escaped.front() == ' ');
    return fence + (pad ? " " : "") + escaped + (pad ? " " : "") + fence;
}

// A fence longer than any run of backticks in `lines`, so that no line can close the block.
std::string fence_for(const std::vector<std::string>& lines) {
    std::size_t longest = 0;
    for (const std::string& line : lines)
        for (std::size_t i = 0, run = 0; i < line.size(); ++i) {
            run = line[i] == '`' ? run + 1 : 0;
            longest = std::max(longest, run);
        }
    return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

// Appends whole lines while they fit; returns how many did not.
std::size_t append_lines(std::string& out, const std::vector<std::string>& lines, std::size_t budget) {
    std::size_t written = 0;
    for (const std::string& line : lines) {
        if (out.size() + line.size() > budget) break;
        out += line;
        ++written;
    }
    return lines.size() - written;
}

}  // namespace

void render_markdown(std::ostream& stream, const Plan& plan) {
    std::string out;
    out += "### authgate plan for " + code(plan.tenant) + "\n\n";
    out += "**" + summary_line(plan) + "** Evaluated at " + format_instant(plan.evaluated_at) + ".\n\n";
    // For reviewers, first: who this plan cuts off, and what the evidence could see.
    if (plan.usage) {
        out += "#### Impact on senders (last " + std::to_string(plan.usage->days) + " days)\n\n";
        bool any = false;
        for (const ChangeImpact& impact : plan.usage->impacts) {
            const Change& change = plan.changes.at(impact.change);
            if (impact.inheriting >= 0)
                out += "- " + code(describe(change)) + ": " + describe(impact, plan.usage->days) + "\n";
            for (const Cutoff& cutoff : impact.cutoffs) {
                any = true;
                out += std::string("- ") + (cutoff.accepted ? "" : "**") +
                       (cutoff.basic_only ? "takes Basic SMTP from " : "cuts off ") + code(cutoff.mailbox.text()) +
                       (cutoff.accepted ? "" : "**") + ": " + code(cutoff.use) +
                       (cutoff.accepted ? " (accepted: " + code(*cutoff.accepted) + ")" : "") + "\n";
            }
        }
        if (!any) out += "- No sender seen using SMTP AUTH is cut off by this plan.\n";
        for (const SourceReport& source : plan.usage->sources)
            out += std::string("- Evidence ") + (source.read ? "" : "**not read**: ") + code(describe(source)) + "\n";
        if (plan.usage->sources.empty()) out += "- **No evidence source was read**: nothing is known of who sends.\n";
        out += "\n";
    }

    if (!plan.changes.empty()) {
        std::map<std::pair<std::string, std::string>, std::pair<std::size_t, std::size_t>> counts;
        for (const Change& change : plan.changes) {
            auto& [changed,
                   reported] = counts[{std::string(to_string(change.resource)), std::string(to_string(change.reason))}];
            (change.action == Action::report ? reported : changed)++;
        }
        out += "| resource | reason | to change | to report |\n|---|---|---:|---:|\n";
        for (const auto& [key, value] : counts)
            out += "| " + key.first + " | " + key.second + " | " + std::to_string(value.first) + " | " +
                   std::to_string(value.second) + " |\n";
        out += "\n";
    }

    std::vector<std::string> warning_lines;
    for (const Diagnostic& warning : plan.warnings) {
        std::string line = "- ";
        if (warning.source.known()) line += code(warning.source.file + ":" + std::to_string(warning.source.line)) + " ";
        warning_lines.push_back(line + code(warning.message) + "\n");
    }
    std::vector<std::string> expiring_lines;
    for (const ExceptionStatus& status : plan.exceptions)
        if (status.state != ExceptionState::missing && status.days_left < 30)
            expiring_lines.push_back("| " + code(status.mailbox) + " | " + code(status.owner) + " | " +
                                     code(status.expires) + " | " + std::string(to_string(status.state)) + " | " +
                                     std::to_string(status.days_left) + " |\n");

    std::size_t omitted = 0;
    const std::size_t budget = report_limit - reserve_for_tail;
    if (!plan.changes.empty()) {
        std::vector<std::string> rows;
        for (const Change& change : plan.changes)
            rows.push_back("| " + std::string(change.action == Action::report ? "report" : to_string(change.action)) +
                           " | " + std::string(to_string(change.resource)) + " | " + code(change.target) + " | " +
                           code(change.attribute) + " | " + code(describe(change.before, "")) + " → " +
                           code(describe(change.after, "")) + " | " + code(change.detail) + " |\n");
        out += "<details open><summary>Changes (" + std::to_string(plan.changes.size()) + ")</summary>\n\n";
        out += "| action | resource | target | attribute | before → after | why |\n|---|---|---|---|---|---|\n";
        omitted += append_lines(out, rows, budget);
        out += "\n</details>\n\n";
    }
    if (!warning_lines.empty()) {
        out += "<details><summary>Warnings (" + std::to_string(warning_lines.size()) + ")</summary>\n\n";
        omitted += append_lines(out, warning_lines, budget);
        out += "\n</details>\n\n";
    }
    if (!expiring_lines.empty()) {
        out += "<details><summary>Exceptions expiring within 30 days (" + std::to_string(expiring_lines.size()) +
               ")</summary>\n\n| mailbox | owner | expires | state | days left |\n|---|---|---|---|---:|\n";
        omitted += append_lines(out, expiring_lines, budget);
        out += "\n</details>\n\n";
    }
    if (!plan.skipped.empty()) {
        std::vector<std::string> lines;
        for (const Skipped& skipped : plan.skipped)
            lines.push_back("- " + code(skipped.target) + " (" + code(skipped.reason) + "): " + code(skipped.detail) +
                            "\n");
        out += "<details><summary>Skipped (" + std::to_string(plan.skipped.size()) + ")</summary>\n\n";
        omitted += append_lines(out, lines, budget);
        out += "\n</details>\n\n";
    }
    std::vector<std::string> commands;
    for (const Change& change : plan.changes)
        if (change.action != Action::report) commands.push_back(powershell_line(change.cmdlet) + "\n");
    if (!commands.empty()) {
        const std::string fence = fence_for(commands);
        out += "<details><summary>Equivalent PowerShell</summary>\n\n" + fence + "powershell\n";
        omitted += append_lines(out, commands, budget);
        out += fence + "\n\n</details>\n";
    }
    if (omitted > 0)
        out += "\n> " + std::to_string(omitted) +
               " lines were left out to keep this comment under 60,000 characters; the JSON plan has everything.\n";
    stream << out;
}

}  // namespace authgate
