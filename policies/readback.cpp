#include "policies/readback.h"

#include <map>
#include <tuple>

namespace authgate {
namespace {

bool same(const SettingValue& a, const SettingValue& b) {
    const auto* x = std::get_if<std::string>(&a);
    const auto* y = std::get_if<std::string>(&b);
    if (x && y) return equals_ignoring_case(*x, *y);  // policy names compare as Exchange does
    return a == b;
}

const SettingValue* parameter(const Cmdlet& cmdlet, std::string_view name) {
    for (const auto& [key, value] : cmdlet.parameters)
        if (key == name) return &value;
    return nullptr;
}

// A created policy holds exactly the flags its New-AuthenticationPolicy set.
bool created_as_planned(const Change& change, const LiveIndex& live) {
    const LivePolicy* policy = live.policy(change.target);
    if (!policy) return false;
    for (std::size_t i = 0; i < basic_auth_flag_count; ++i) {
        const SettingValue* wanted = parameter(change.cmdlet, basic_auth_flags[i].exchange_name);
        if (policy->flags[i] != (wanted && *wanted == SettingValue{true})) return false;
    }
    return true;
}

}  // namespace

std::string identity_of(const Change& change) {
    const SettingValue* identity = parameter(change.cmdlet, "Identity");
    return identity && std::holds_alternative<std::string>(*identity) ? std::get<std::string>(*identity)
                                                                      : change.target.text();
}

std::optional<SettingValue> live_value(const Change& change, const LiveState& live, const LiveIndex& index) {
    switch (change.resource) {
        case Resource::transport_config:
            if (!live.org_smtp_auth_disabled) return std::nullopt;
            return SettingValue{*live.org_smtp_auth_disabled};
        case Resource::mailbox: {
            const Mailbox* mailbox = index.mailbox(change.target);
            if (!mailbox) return std::nullopt;
            return mailbox->smtp_auth_disabled ? SettingValue{*mailbox->smtp_auth_disabled} : SettingValue{};
        }
        case Resource::authentication_policy: {
            if (!live.policies) return std::nullopt;
            const LivePolicy* policy = index.policy(change.target);
            if (change.action == Action::create) return policy ? SettingValue{policy->name} : SettingValue{};
            if (!policy) return std::nullopt;
            for (std::size_t i = 0; i < basic_auth_flag_count; ++i)
                if (basic_auth_flags[i].exchange_name == change.attribute) return SettingValue{policy->flags[i]};
            return std::nullopt;
        }
        case Resource::organization_config:
            if (!live.organization) return std::nullopt;
            return live.organization->default_authentication_policy
                       ? SettingValue{*live.organization->default_authentication_policy}
                       : SettingValue{};
        case Resource::user: {
            if (change.attribute != "AuthenticationPolicy" || !live.users) return std::nullopt;
            const LiveUser* user = index.user(identity_of(change));
            if (!user) return SettingValue{};  // only users with a policy are listed
            return user->authentication_policy ? SettingValue{*user->authentication_policy} : SettingValue{};
        }
    }
    return std::nullopt;
}

bool shows(const Change& change, const LiveState& live, const LiveIndex& index) {
    if (change.action == Action::create) return created_as_planned(change, index);
    const std::optional<SettingValue> now_value = live_value(change, live, index);
    return now_value && same(*now_value, change.after);
}

std::vector<StaleValue> stale_values(const Plan& saved, const Plan& made, const LiveState& live) {
    std::vector<StaleValue> stale;
    const LiveIndex index(live);
    std::map<std::tuple<Resource, std::string, std::string>, const Cmdlet*> cmdlets;
    for (const Change& now : made.changes) cmdlets[{now.resource, now.target, now.attribute}] = &now.cmdlet;
    for (const Change& change : saved.changes) {
        if (!change.changes_tenant()) continue;
        Change probe = change;
        const auto own = cmdlets.find({change.resource, change.target, change.attribute});
        probe.cmdlet = own == cmdlets.end() ? Cmdlet{} : *own->second;
        const std::optional<SettingValue> now = live_value(probe, live, index);
        if (!now || *now == change.before) continue;  // not readable back (a timestamp), or as expected
        stale.push_back({&change, *now});
    }
    return stale;
}

}  // namespace authgate
