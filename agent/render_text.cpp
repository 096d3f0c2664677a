#include "agent/render.h"

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

}  // namespace

std::string summary_line(const Plan& plan) {
    return "Plan: " + std::to_string(plan.change_count()) + " to change, " + std::to_string(plan.report_count()) +
           " to report, " + std::to_string(plan.skipped.size()) + " skipped.";
}

void render_text(std::ostream& out, const Plan& plan) { render_text(out, plan, TextStyle{}); }

void render_text(std::ostream& out, const Plan& plan, const TextStyle& style) {
    const Paint paint{style.color};
    // Text from the tenant and the desired state is shown inert (printable.h).
    out << "Plan for " << printable(plan.tenant) << " at " << format_instant(plan.evaluated_at) << "\n";
    if (plan.changes.empty()) out << "\nNo changes: the tenant matches the desired state.\n";

    // Grouped by resource, the groups in the order apply first reaches them.
    std::vector<Resource> order;
    for (const Change& change : plan.changes)
        if (std::find(order.begin(), order.end(), change.resource) == order.end()) order.push_back(change.resource);
    for (Resource resource : order) {
        out << "\n" << paint("1", std::string(to_string(resource)) + ":") << "\n";
        for (const Change& change : plan.changes) {
            if (change.resource != resource) continue;
            out << "  " << paint(symbol_color(change.action), std::string(1, symbol(change.action))) << " "
                << printable(change.target) << "  " << printable(change.attribute) << ": "
                << printable(describe(change.before, "\"")) << " -> " << printable(describe(change.after, "\""));
            if (change.action == Action::report) out << " (report only)";
            out << "\n      " << to_string(change.reason) << ": " << printable(change.detail) << "\n";
            if (!plan.usage) continue;
            if (const ChangeImpact* impact = plan.usage->of(static_cast<std::size_t>(&change - plan.changes.data()))) {
                if (impact->inheriting >= 0) out << "      " << describe(*impact, plan.usage->days) << "\n";
                for (const Cutoff& cutoff : impact->cutoffs)
                    out << "      " << paint(cutoff.accepted ? "33" : "31", describe(cutoff)) << "\n";
            }
        }
    }
    if (plan.usage) {
        out << "\nUsage evidence (last " << plan.usage->days << " days): " << plan.usage->cutoff_count()
            << (plan.usage->cutoff_count() == 1 ? " sender" : " senders") << " cut off\n";
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
}

}  // namespace authgate
