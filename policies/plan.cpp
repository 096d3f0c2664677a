#include "policies/plan.h"

#include <algorithm>

#include "policies/desired_state.h"
#include "policies/printable.h"

namespace authgate {

bool is_grant(Phase phase) { return phase == Phase::policy_loosen || phase == Phase::grant; }

bool is_enforcement(Phase phase) {
    return phase == Phase::org_switch || phase == Phase::policy_tighten || phase == Phase::org_default;
}

std::optional<std::string> ChangeDependencies::held_back(const Change& change) const {
    if (is_enforcement(change.phase) && failed_grant_)
        return "the exception grant for " + *failed_grant_ + " failed, and enforcing now would break it";
    if (change.requires_org_disabled && !org_switched_off_)
        return std::string("the organization switch is still on, and inherit would enable SMTP AUTH");
    if (change.attribute == "STSRefreshTokensValidFrom" &&
        std::any_of(failed_users_.begin(), failed_users_.end(),
                    [&](const std::string& user) { return equals_ignoring_case(user, change.target); }))
        return std::string("the policy change before it failed");
    return std::nullopt;
}

void ChangeDependencies::settled(const Change& change, bool made) {
    if (!made && is_grant(change.phase) && !failed_grant_) failed_grant_ = change.target;
    if (!made && change.resource == Resource::user) failed_users_.push_back(change.target);
    if (made && change.resource == Resource::transport_config && change.after == SettingValue{true})
        org_switched_off_ = true;
}

bool makes(ReconcileMode mode, const Change& change) {
    if (!change.changes_tenant()) return false;
    switch (mode) {
        case ReconcileMode::enforce: return true;
        case ReconcileMode::expiry: return change.reason == Reason::exception_expired;
        case ReconcileMode::report: return false;
    }
    return false;
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

std::string describe(const SettingValue& value, std::string_view quote) {
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

std::string cmdlet_identity(const Change& change) {
    for (const auto& [name, value] : change.cmdlet.parameters)
        if (name == "Identity")
            if (const std::string* text = std::get_if<std::string>(&value)) return *text;
    return {};
}

std::string_view phase_title(Phase phase) {
    switch (phase) {
        case Phase::policy_loosen: return "Policies created or loosened";
        case Phase::grant: return "Exception grants";
        case Phase::org_switch: return "Organization SMTP AUTH switch";
        case Phase::policy_tighten: return "Policies tightened";
        case Phase::org_default: return "Organization default policy";
        case Phase::enforce: return "Deny entries and reverts";
    }
    return "Changes";
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
        return "the saved plan has " + std::to_string(saved.size()) + (saved.size() == 1 ? " change" : " changes") +
               ", the plan made now " + std::to_string(now.size()) + "; change " + std::to_string(now.size() + 1) +
               " is " + change_text(*saved[now.size()]);
    if (now.size() > saved.size())
        return "the plan made now has " + std::to_string(now.size()) + (now.size() == 1 ? " change" : " changes") +
               ", the saved plan " + std::to_string(saved.size()) + "; change " + std::to_string(saved.size() + 1) +
               " is " + change_text(*now[saved.size()]);
    return std::nullopt;
}

}  // namespace authgate
