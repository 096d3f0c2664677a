#include "agent/render.h"

#include <ostream>

namespace authgate {
namespace {

std::string show(const Value& value) {
    if (std::holds_alternative<std::monostate>(value)) return "null";
    if (const bool* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
    return "\"" + std::get<std::string>(value) + "\"";
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

void render_text(std::ostream& out, const Plan& plan) {
    out << "Plan for " << plan.tenant << " at " << format_instant(plan.evaluated_at) << "\n";
    if (plan.changes.empty()) out << "\nNo changes: the tenant matches the desired state.\n";

    // Grouped by resource, the groups in the order apply first reaches them.
    std::vector<Resource> order;
    for (const Change& change : plan.changes)
        if (std::find(order.begin(), order.end(), change.resource) == order.end()) order.push_back(change.resource);
    for (Resource resource : order) {
        out << "\n" << to_string(resource) << ":\n";
        for (const Change& change : plan.changes) {
            if (change.resource != resource) continue;
            out << "  " << symbol(change.action) << " " << change.target << "  " << change.attribute << ": "
                << show(change.before) << " -> " << show(change.after);
            if (change.action == Action::report) out << " (report only)";
            out << "\n      " << to_string(change.reason) << ": " << change.detail << "\n";
        }
    }
    if (!plan.skipped.empty()) {
        out << "\nSkipped:\n";
        for (const Skipped& skipped : plan.skipped)
            out << "  - " << skipped.target << " (" << skipped.reason << "): " << skipped.detail << "\n";
    }
    if (!plan.warnings.empty()) {
        out << "\nWarnings:\n";
        for (const Diagnostic& warning : plan.warnings) {
            out << "  - ";
            if (warning.source.known()) out << warning.source.file << ":" << warning.source.line << ": ";
            out << warning.message << "\n";
        }
    }
    out << "\n" << summary_line(plan) << "\n";
}

}  // namespace authgate
