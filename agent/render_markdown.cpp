#include "agent/render.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
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

// Said where a list was cut: "360 of 4,016 changes shown", and where the rest is.
std::string truncation_note(std::size_t shown, std::size_t total, std::string_view noun, std::string_view plural = {}) {
    return "\n> **" + grouped(shown) + " of " + counted(total, noun, plural) +
           " shown**: the rest did not fit in a comment (60,000 characters). The full plan is the JSON plan: "
           "the saved plan artifact (`authgate plan --out`), or `authgate plan --format json`.\n";
}

// "`policies/it.toml:12`", linked to that line in the repository when links are known.
std::string source_cell(const std::optional<SourceLocation>& source, const SourceLinks& links) {
    if (!source || !source->known()) return "";
    const std::string text = code(source->file + ":" + std::to_string(source->line));
    const auto url = links.url(*source);
    return url ? "[" + text + "](" + *url + ")" : text;
}

// The mailbox's address, its display name, and the identity the cmdlet names it by.
std::string target_cell(const Change& change) {
    std::string cell = code(change.target);
    if (!change.display_name.empty()) cell += " (" + code(change.display_name) + ")";
    const std::string identity = cmdlet_identity(change);
    if (!identity.empty() && !equals_ignoring_case(identity, change.target)) cell += "<br>Identity " + code(identity);
    return cell;
}

}  // namespace

std::optional<std::string> SourceLinks::url(const SourceLocation& where) const {
    if (base.empty() || root.empty() || !where.known()) return std::nullopt;
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::path file = fs::absolute(where.file, error).lexically_normal();
    if (error) return std::nullopt;
    const fs::path relative = file.lexically_relative(fs::path(root).lexically_normal());
    if (relative.empty() || *relative.begin() == "..") return std::nullopt;
    return base + "/" + percent_encode(relative.generic_string(), "/") + "#L" + std::to_string(where.line);
}

void render_markdown(std::ostream& stream, const Plan& plan, const SourceLinks& links) {
    std::string out;
    out += "### authgate plan for " + code(plan.tenant) + "\n\n";
    out += "**" + summary_line(plan) + "** Evaluated at " + format_instant(plan.evaluated_at) + ".\n\n";
    if (plan.exceeds_max_changes())
        out += "> **apply refuses this plan without `--allow-large`**: it has " +
               counted(plan.change_count(), "change") +
               ", more than `[guardrails] max_changes` = " + std::to_string(plan.max_changes) + ".\n\n";
    // For reviewers, first: who this plan cuts off, and what the evidence could see.
    if (plan.usage) {
        out += "#### Impact on senders (last " + counted(static_cast<std::size_t>(plan.usage->days), "day") + ")\n\n";
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

    // The summary table, in apply order: the same steps in the same order in every plan.
    if (!plan.changes.empty()) {
        out += "| step | resource | reason | to change | to report |\n|---|---|---|---:|---:|\n";
        for (std::size_t i = 0; i < plan.changes.size();) {
            const Change& first = plan.changes[i];
            std::size_t changed = 0, reported = 0;
            for (; i < plan.changes.size() && plan.changes[i].phase == first.phase &&
                   plan.changes[i].resource == first.resource && plan.changes[i].reason == first.reason;
                 ++i)
                (plan.changes[i].action == Action::report ? reported : changed)++;
            out += "| " + std::string(phase_title(first.phase)) + " | " + std::string(to_string(first.resource)) +
                   " | " + std::string(to_string(first.reason)) + " | " + std::to_string(changed) + " | " +
                   std::to_string(reported) + " |\n";
        }
        out += "\n";
    }

    std::vector<std::string> warning_lines;
    for (const Diagnostic& warning : plan.warnings) {
        std::string line = "- ";
        if (warning.source.known()) line += source_cell(warning.source, links) + " ";
        warning_lines.push_back(line + code(warning.message) + "\n");
    }
    const auto exception_row = [&](const ExceptionStatus& status) {
        const long days = status.state == ExceptionState::expired ? -status.days_left : status.days_left;
        return "| " + code(status.mailbox) + " | " + code(status.owner) + " | " + code(status.expires) + " | " +
               std::to_string(days) + " | " + source_cell(status.source, links) + " |\n";
    };
    // Expiring: still in force, and not for long. Expired ones are a list of their own.
    std::vector<std::string> expiring_lines, expired_lines;
    for (const ExceptionStatus& status : plan.exceptions) {
        if (status.state == ExceptionState::expired) expired_lines.push_back(exception_row(status));
        else if (status.state != ExceptionState::missing && status.days_left < 30)
            expiring_lines.push_back(exception_row(status));
    }

    const std::size_t budget = report_limit - reserve_for_tail;
    if (!plan.changes.empty()) {
        out += "<details open><summary>" + counted(plan.changes.size(), "change") + ", in apply order</summary>\n\n";
        std::size_t shown = 0;
        bool full = false;
        for (Phase phase : phases_in_order) {
            std::vector<std::string> rows;
            for (const Change& change : plan.changes) {
                if (change.phase != phase) continue;
                rows.push_back("| " + std::string(to_string(change.action)) + " | " +
                               std::string(to_string(change.resource)) + " | " + target_cell(change) + " | " +
                               code(change.attribute) + " | " + code(describe(change.before, "")) + " → " +
                               code(describe(change.after, "")) + " | " + code(change.detail) + " | " +
                               source_cell(change.source, links) + " |\n");
            }
            if (rows.empty() || full) continue;
            out += "**" + std::string(phase_title(phase)) + "** (" + std::to_string(rows.size()) +
                   ")\n\n| action | resource | target | attribute | before → after | why | from |\n"
                   "|---|---|---|---|---|---|---|\n";
            const std::size_t left = append_lines(out, rows, budget);
            shown += rows.size() - left;
            full = left > 0;
            if (!full) out += "\n";
        }
        if (shown < plan.changes.size()) out += truncation_note(shown, plan.changes.size(), "change");
        out += "\n</details>\n\n";
    }
    const auto section = [&](const std::string& title, const std::string& head, const std::vector<std::string>& lines,
                             std::string_view noun, std::string_view plural = {}) {
        if (lines.empty()) return;
        out += "<details><summary>" + title + " (" + std::to_string(lines.size()) + ")</summary>\n\n" + head;
        const std::size_t left = append_lines(out, lines, budget);
        if (left > 0) out += truncation_note(lines.size() - left, lines.size(), noun, plural);
        out += "\n</details>\n\n";
    };
    section("Warnings", "", warning_lines, "warning");
    const std::string exception_head = "| mailbox | owner | expires | days left | from |\n|---|---|---|---:|---|\n";
    section("Exceptions expiring within 30 days", exception_head, expiring_lines, "exception");
    section("Expired exceptions still listed",
            "| mailbox | owner | expired | days ago | from |\n|---|---|---|---:|---|\n", expired_lines, "exception");
    std::vector<std::string> skipped_lines;
    for (const Skipped& skipped : plan.skipped)
        skipped_lines.push_back("- " + code(skipped.target) + " (" + code(skipped.reason) +
                                "): " + code(skipped.detail) + "\n");
    section("Skipped", "", skipped_lines, "skipped entry", "skipped entries");
    std::vector<std::string> commands;
    for (const Change& change : plan.changes)
        if (change.action != Action::report) commands.push_back(powershell_line(change.cmdlet) + "\n");
    if (!commands.empty()) {
        const std::string fence = fence_for(commands);
        out += "<details><summary>Equivalent PowerShell</summary>\n\n" + fence + "powershell\n";
        const std::size_t left = append_lines(out, commands, budget);
        out += fence + "\n";
        if (left > 0) out += truncation_note(commands.size() - left, commands.size(), "command");
        out += "\n</details>\n";
    }
    stream << out;
}

}  // namespace authgate
