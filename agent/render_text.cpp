#include "agent/render.h"

#include <algorithm>
#include <ostream>

#include "agent/terminal.h"
#include "policies/printable.h"

namespace authgate {
namespace {

// ANSI colours, only when the style asks for them.
struct Paint {
    bool on;
    std::string operator()(const char* code, const std::string& text) const {
        return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
    }
};

const char* symbol_color(Action action) {
    switch (action) {
        case Action::create: return "32";  // green
        case Action::update: return "33";  // yellow
        case Action::report: return "36";  // cyan
    }
    return "0";
}

char symbol(Action action) {
    switch (action) {
        case Action::create: return '+';
        case Action::update: return '~';
        case Action::report: return '!';
    }
    return '~';
}

// The mailbox's display name and the identity the cmdlet names it by, beside the target:
// ' "Scanner 3F" [9feb45ad-…]'.
std::string target_extra(const Change& change) {
    std::string extra;
    if (!change.display_name.empty()) extra += " \"" + printable(change.display_name) + "\"";
    const std::string identity = cmdlet_identity(change);
    if (!identity.empty() && !equals_ignoring_case(identity, change.target)) extra += " [" + printable(identity) + "]";
    return extra;
}

}  // namespace

std::string summary_line(const Plan& plan) {
    return "Plan: " + std::to_string(plan.change_count()) + " to change, " + std::to_string(plan.report_count()) +
           " to report, " + std::to_string(plan.skipped.size()) + " skipped.";
}

std::optional<std::string> guardrail_line(const Plan& plan) {
    if (!plan.exceeds_max_changes()) return std::nullopt;
    return "apply refuses this plan without --allow-large: it has " + counted(plan.change_count(), "change") +
           ", more than [guardrails] max_changes = " + std::to_string(plan.max_changes);
}

std::string run_command_line(const RunRecord& run) {
    std::string line(to_string(run.command));
    if (run.mode == RunMode::saved_plan) return line + " PLANFILE";
    if (run.mode != RunMode::none) line += " --mode " + std::string(to_string(run.mode));
    return line;
}

void render_text(std::ostream& out, const Plan& plan) { render_text(out, plan, TextStyle{}); }

void render_text(std::ostream& out, const Plan& plan, const TextStyle& style) {
    const Paint paint{style.color};
    // Text from the tenant and the desired state is shown inert (printable.h).
    out << "Plan for " << printable(plan.tenant) << " at " << format_instant(plan.evaluated_at) << "\n";
    if (plan.changes.empty()) out << "\nNo changes: the tenant matches the desired state.\n";

    // Grouped by step, in apply order: the same steps in the same order in every plan.
    for (Phase phase : phases_in_order) {
        const bool any = std::any_of(plan.changes.begin(), plan.changes.end(),
                                     [&](const Change& change) { return change.phase == phase; });
        if (!any) continue;
        out << "\n" << paint("1", std::string(phase_title(phase)) + ":") << "\n";
        for (const Change& change : plan.changes) {
            if (change.phase != phase) continue;
            out << "  " << paint(symbol_color(change.action), std::string(1, symbol(change.action))) << " "
                << to_string(change.resource) << " " << printable(change.target) << target_extra(change) << "  "
                << printable(change.attribute) << ": " << printable(describe(change.before, "\"")) << " -> "
                << printable(describe(change.after, "\""));
            if (change.action == Action::report) out << " (report only)";
            out << "\n      " << to_string(change.reason) << ": " << printable(change.detail) << "\n";
            if (change.source && change.source->known())
                out << "      from " << printable(change.source->file) << ":" << change.source->line << "\n";
            if (!plan.usage) continue;
            if (const ChangeImpact* impact = plan.usage->of(static_cast<std::size_t>(&change - plan.changes.data()))) {
                if (impact->inheriting >= 0) out << "      " << describe(*impact, plan.usage->days) << "\n";
                for (const Cutoff& cutoff : impact->cutoffs)
                    out << "      " << paint(cutoff.accepted ? "33" : "31", describe(cutoff)) << "\n";
            }
        }
    }
    if (plan.usage) {
        out << "\nUsage evidence (last " << counted(static_cast<std::size_t>(plan.usage->days), "day")
            << "): " << counted(plan.usage->cutoff_count(), "sender") << " cut off\n";
        for (const SourceReport& source : plan.usage->sources) out << "  - " << describe(source) << "\n";
        if (plan.usage->sources.empty()) out << "  - no source was read: nothing is known of who sends\n";
    }
    if (!plan.skipped.empty()) {
        out << "\nSkipped:\n";
        for (const Skipped& skipped : plan.skipped)
            out << "  - " << printable(skipped.target) << " (" << printable(skipped.reason)
                << "): " << printable(skipped.detail) << "\n";
    }
    if (!plan.warnings.empty()) {
        out << "\n" << paint("33", "Warnings:") << "\n";
        for (const Diagnostic& warning : plan.warnings) {
            out << "  - ";
            if (warning.source.known()) out << printable(warning.source.file) << ":" << warning.source.line << ": ";
            out << printable(warning.message) << "\n";
        }
    }
    out << "\n" << paint("1", summary_line(plan)) << "\n";
    if (const auto guardrail = guardrail_line(plan)) out << paint("31", "Guardrail: " + *guardrail + ".") << "\n";
}

}  // namespace authgate
