#include "tenant.h"

#include <set>

#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr const char* kDefaultPolicyContainer =
    ",CN=Auth Policies,CN=Configuration,CN={tenant},CN=ConfigurationUnits,DC=EURPR01A001,DC=prod,DC=outlook,DC=com";

std::vector<size_t> lookup(const std::multimap<std::string, size_t>& index, std::string_view identity) {
    std::set<size_t> found;
    const auto [first, last] = index.equal_range(to_lower(identity));
    for (auto it = first; it != last; ++it) found.insert(it->second);
    return {found.begin(), found.end()};
}

}  // namespace

SnapshotError::SnapshotError(std::vector<std::string> problems)
    : std::runtime_error("the seed snapshot has " + std::to_string(problems.size()) + " problem(s)"),
      problems_(std::move(problems)) {}

std::string text_property(const value& object, const char* name) {
    if (!object.is_object() || !object.has_field(name) || !object.at(name).is_string()) return "";
    return object.at(name).as_string();
}

bool assign_property(value& object, const std::string& name, const value& new_value) {
    if (object.has_field(name) && object.at(name) == new_value) return false;
    object[name] = new_value;
    return true;
}

void Tenant::index_mailbox(size_t index) {
    for (const char* property : {"Identity", "Name", "Alias", "Guid", "ExternalDirectoryObjectId", "PrimarySmtpAddress",
                                 "UserPrincipalName", "DistinguishedName"}) {
        const std::string key = text_property(*mailboxes_[index], property);
        if (!key.empty()) mailbox_index_.emplace(to_lower(key), index);
    }
}

void Tenant::index_user(size_t index, const value* mailbox) {
    for (const char* property :
         {"Identity", "Name", "ExternalDirectoryObjectId", "UserPrincipalName", "Guid", "DistinguishedName"}) {
        const std::string key = text_property(*users_[index], property);
        if (!key.empty()) user_index_.emplace(to_lower(key), index);
    }
    if (mailbox == nullptr) return;
    for (const char* property : {"Identity", "Guid", "PrimarySmtpAddress"}) {
        const std::string key = text_property(*mailbox, property);
        if (!key.empty()) user_index_.emplace(to_lower(key), index);
    }
}

std::vector<size_t> Tenant::find_mailboxes(std::string_view identity) const { return lookup(mailbox_index_, identity); }
std::vector<size_t> Tenant::find_users(std::string_view identity) const { return lookup(user_index_, identity); }

std::vector<size_t> Tenant::find_policies(std::string_view identity) const {
    std::vector<size_t> found;
    for (size_t i = 0; i < policies_.size(); ++i) {
        for (const char* property : {"Name", "Identity", "Guid", "DistinguishedName"}) {
            if (iequals(text_property(*policies_[i], property), identity)) {
                found.push_back(i);
                break;
            }
        }
    }
    return found;
}

std::string Tenant::policy_distinguished_name(std::string_view name) const {
    for (const auto& policy : policies_) {
        const std::string dn = text_property(*policy, "DistinguishedName");
        const size_t container = dn.find(",CN=Auth Policies,");
        if (container != std::string::npos) return "CN=" + std::string(name) + dn.substr(container);
    }
    std::string container = kDefaultPolicyContainer;
    container.replace(container.find("{tenant}"), 8, domain_);
    return "CN=" + std::string(name) + container;
}

value Tenant::to_snapshot() const {
    const auto copied = [](const Objects& objects) {
        std::vector<value> copies;
        copies.reserve(objects.size());
        for (const auto& object : objects) copies.push_back(*object);
        return value::array(std::move(copies));
    };
    value snapshot = value::object(true);
    snapshot["transport_config"] = transport_config;
    snapshot["cas_mailboxes"] = copied(mailboxes_);
    snapshot["authentication_policies"] = copied(policies_);
    snapshot["organization_config"] = organization_config;
    snapshot["users"] = copied(users_);
    if (!recipients_.empty()) snapshot["recipients"] = copied(recipients_);
    return snapshot;
}

}  // namespace sandbox
