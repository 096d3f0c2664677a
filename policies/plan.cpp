#include "policies/plan.h"

#include <algorithm>

#include "policies/printable.h"

namespace authgate {

std::string_view to_string(Resource resource) {
    switch (resource) {
        case Resource::transport_config: return "transport_config";
        case Resource::mailbox: return "mailbox";
        case Resource::authentication_policy: return "authentication_policy";
        case Resource::user: return "user";
        case Resource::organization_config: return "organization_config";
    }
    return "mailbox";
}

std::string_view to_string(Action action) {
    switch (action) {
        case Action::update: return "update";
        case Action::create: return "create";
        case Action::report: return "report";
    }
    return "update";
}

std::string_view to_string(Reason reason) {
    switch (reason) {
        case Reason::declared: return "declared";
        case Reason::exception_active: return "exception_active";
        case Reason::exception_expired: return "exception_expired";
        case Reason::unlisted_override: return "unlisted_override";
    }
    return "declared";
}

std::string_view to_string(ExceptionState state) {
    switch (state) {
        case ExceptionState::active: return "active";
        case ExceptionState::expiring: return "expiring";
        case ExceptionState::expired: return "expired";
        case ExceptionState::missing: return "missing";
    }
    return "active";
}

namespace {

// The length of the PowerShell single quote at `i`: ' or one of the typographic quotes U+2018 to
// U+201B (E2 80 98 to E2 80 9B in UTF-8), which PowerShell takes for ' as well; else 0.
std::size_t single_quote_at(const std::string& text, std::size_t i) {
    if (text[i] == '\'') return 1;
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    if (i + 2 < text.size() && byte(i) == 0xE2 && byte(i + 1) == 0x80 && byte(i + 2) >= 0x98 && byte(i + 2) <= 0x9B)
        return 3;
    return 0;
}

// PowerShell single-quoted string: only a quote needs doubling, so no value can break out of
// it (the cmdlets themselves are sent as JSON, never as script).
std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::size_t length = single_quote_at(text, i);
        if (length == 0) {
            quoted += text[i];
            continue;
        }
        quoted.append(text, i, length).append(text, i, length);
        i += length - 1;
    }
    return quoted + "'";
}

}  // namespace

std::string describe(const Value& value, std::string_view quote) {
    if (const bool* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
    if (const std::string* text = std::get_if<std::string>(&value))
        return std::string(quote).append(*text).append(quote);
    return "null";
}

std::string powershell_line(const Cmdlet& cmdlet) {
    std::string line = cmdlet.name;
    for (const auto& [name, value] : cmdlet.parameters) {
        line += " -" + name;
        if (std::holds_alternative<std::monostate>(value)) line += " $null";
        else if (const bool* flag = std::get_if<bool>(&value)) line += *flag ? " $true" : " $false";
        else line += " " + quote(std::get<std::string>(value));
    }
    return line;
}

std::string describe(const Change& change) {
    return std::string(to_string(change.resource)) + " " + printable(change.target) + " " + printable(change.attribute);
}

std::size_t Plan::change_count() const {
    return std::count_if(changes.begin(), changes.end(), [](const Change& c) { return c.changes_tenant(); });
}

std::size_t Plan::report_count() const { return changes.size() - change_count(); }

namespace {

std::vector<const Change*> tenant_changes(const Plan& plan) {
    std::vector<const Change*> changes;
    for (const Change& change : plan.changes)
        if (change.changes_tenant()) changes.push_back(&change);
    return changes;
}

bool same_change(const Change& a, const Change& b) {
    const bool revocation = a.attribute == "STSRefreshTokensValidFrom";
    return a.resource == b.resource && a.target == b.target && a.attribute == b.attribute && a.action == b.action &&
           a.before == b.before && (revocation || a.after == b.after);
}

std::string change_text(const Change& change) {
    return describe(change) + " " + printable(describe(change.before)) + " -> " + printable(describe(change.after)) +
           (change.action == Action::create ? " (create)" : "");
}

}  // namespace

std::optional<std::string> first_difference(const Plan& reviewed, const Plan& made) {
    const auto saved = tenant_changes(reviewed);
    const auto now = tenant_changes(made);
    for (std::size_t i = 0; i < std::min(saved.size(), now.size()); ++i)
        if (!same_change(*saved[i], *now[i]))
            return "change " + std::to_string(i + 1) + " is " + change_text(*saved[i]) + " in the saved plan, but " +
                   change_text(*now[i]) + " in the plan made now";
    if (saved.size() > now.size())
        return "the saved plan has " + std::to_string(saved.size()) + " changes, the plan made now " +
               std::to_string(now.size()) + "; change " + std::to_string(now.size() + 1) + " is " +
               change_text(*saved[now.size()]);
    if (now.size() > saved.size())
        return "the plan made now has " + std::to_string(now.size()) + " changes, the saved plan " +
               std::to_string(saved.size()) + "; change " + std::to_string(saved.size() + 1) + " is " +
               change_text(*now[saved.size()]);
    return std::nullopt;
}

}  // namespace authgate
