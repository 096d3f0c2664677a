#include "fake_tenant.h"

#include <algorithm>
#include <stdexcept>

namespace authgate::testing {
namespace {

std::optional<bool> tri(const SettingValue& v) {
    if (const bool* b = std::get_if<bool>(&v)) return *b;
    return std::nullopt;
}
std::optional<std::string> text(const SettingValue& v) {
    if (const std::string* s = std::get_if<std::string>(&v)) return *s;
    return std::nullopt;
}
const SettingValue& param(const Cmdlet& cmdlet, const std::string& name) {
    for (const auto& [key, value] : cmdlet.parameters)
        if (key == name) return value;
    throw std::runtime_error("no parameter " + name);
}
std::string key_of(const Cmdlet& cmdlet) {
    for (const auto& [key, value] : cmdlet.parameters)
        if (key == "Identity" && std::holds_alternative<std::string>(value))
            return cmdlet.name + ":" + std::get<std::string>(value);
    return cmdlet.name;
}

}  // namespace

LiveState FakeTenant::read_live_state() {
    if (fail_reads) throw ConnectorError("Get-CASMailbox failed: HTTP 500: the fake is down");
    return state_;
}

std::vector<WriteOutcome> FakeTenant::write(const std::vector<Cmdlet>& cmdlets) {
    calls.push_back(cmdlets);
    std::vector<WriteOutcome> outcomes;
    for (const Cmdlet& cmdlet : cmdlets) {
        const std::string key = key_of(cmdlet);
        if (refuse.count(cmdlet.name) || refuse.count(key)) {
            outcomes.push_back({WriteResult::refused,
                                cmdlet.name + " failed: HTTP 401: User is not allowed to call " + cmdlet.name,
                                "req",
                                {}});
            continue;
        }
        if (!ignore.count(key)) run(cmdlet);
        if (uncertain.count(key))
            outcomes.push_back({WriteResult::uncertain, cmdlet.name + " failed: connection reset", "req", {}});
        else outcomes.push_back({WriteResult::made, "", "req", {}});
    }
    return outcomes;
}

void FakeTenant::run(const Cmdlet& cmdlet) {
    if (cmdlet.name == "Set-TransportConfig") {
        state_.org_smtp_auth_disabled = tri(param(cmdlet, "SmtpClientAuthenticationDisabled"));
    } else if (cmdlet.name == "Set-CASMailbox") {
        const std::string identity = *text(param(cmdlet, "Identity"));
        for (auto& mailbox : *state_.mailboxes)
            if (mailbox.guid == identity)
                mailbox.smtp_auth_disabled = tri(param(cmdlet, "SmtpClientAuthenticationDisabled"));
    } else if (cmdlet.name == "New-AuthenticationPolicy") {
        LivePolicy policy{*text(param(cmdlet, "Name")), *text(param(cmdlet, "Name")), "g", "CN=x", {}};
        for (std::size_t i = 0; i < basic_auth_flag_count; ++i)
            for (const auto& [key, value] : cmdlet.parameters)
                if (key == basic_auth_flags[i].exchange_name) policy.flags[i] = value == SettingValue{true};
        state_.policies->push_back(policy);
    } else if (cmdlet.name == "Set-AuthenticationPolicy") {
        for (auto& policy : *state_.policies) {
            if (policy.name != *text(param(cmdlet, "Identity"))) continue;
            for (std::size_t i = 0; i < basic_auth_flag_count; ++i)
                for (const auto& [key, value] : cmdlet.parameters)
                    if (key == basic_auth_flags[i].exchange_name) policy.flags[i] = value == SettingValue{true};
        }
    } else if (cmdlet.name == "Set-OrganizationConfig") {
        state_.organization->default_authentication_policy = text(param(cmdlet, "DefaultAuthenticationPolicy"));
    } else if (cmdlet.name == "Set-User") {
        const std::string identity = *text(param(cmdlet, "Identity"));
        for (const auto& [key, value] : cmdlet.parameters) {
            if (key != "AuthenticationPolicy") continue;
            auto& users = *state_.users;
            auto it = std::find_if(users.begin(), users.end(), [&](const LiveUser& u) {
                return u.external_directory_object_id == identity || u.identity == identity;
            });
            if (it == users.end()) it = users.insert(users.end(), LiveUser{identity, identity, "", std::nullopt});
            it->authentication_policy = text(value);
            if (!it->authentication_policy) users.erase(it);  // only users with a policy are listed
        }
    }
}

}  // namespace authgate::testing
