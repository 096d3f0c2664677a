// Tenant::from_snapshot: a seed in authgate's snapshot format (README.md, "Snapshot format"), as
// authgate writes it or as PowerShell's ConvertTo-Json writes the cmdlets' output. Every problem
// is collected, each naming its member, and reported together.
#include <map>
#include <optional>

#include "crypto.h"
#include "tenant.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

// A copy of a seeded object without "@odata" annotations, keeping the property order.
value without_annotations(const value& object) {
    value copy = value::object(true);
    for (const auto& [name, property] : object.as_object()) {
        if (name.find('@') == std::string::npos) copy[name] = property;
    }
    return copy;
}

// PowerShell's ConvertTo-Json writes a one-element list as a bare object.
std::vector<value> as_list(const value& member) {
    if (member.is_array()) return {member.as_array().begin(), member.as_array().end()};
    if (member.is_object()) return {member};
    return {};
}

std::string where(const char* member_name, size_t position) {
    return std::string(member_name) + "[" + std::to_string(position) + "]";
}

}  // namespace

class SnapshotLoader {
public:
    SnapshotLoader(const value& snapshot, std::string domain) : snapshot_(snapshot) {
        tenant_.domain_ = std::move(domain);
    }

    // The organisation-wide objects; Exchange always prints an Identity, so a seed without one
    // gets Exchange's.
    void load_settings() {
        tenant_.transport_config = settings("transport_config");
        tenant_.organization_config = settings("organization_config");
        if (!tenant_.transport_config.has_field("Identity")) {
            tenant_.transport_config["Identity"] = value::string("Transport Settings");
        }
        if (!tenant_.organization_config.has_field("Identity")) {
            tenant_.organization_config["Identity"] = value::string(tenant_.domain_);
        }
        require_boolean(tenant_.transport_config, "transport_config", "SmtpClientAuthenticationDisabled", false);
    }

    void load_policies() {
        tenant_.policies_ = objects("authentication_policies", true);
        for (size_t i = 0; i < tenant_.policies_.size(); ++i) {
            value& policy = *tenant_.policies_[i];
            require_text(policy, where("authentication_policies", i), "Name");
            if (!policy.has_field("Identity")) policy["Identity"] = value::string(text_property(policy, "Name"));
            if (!policy.has_field("Guid")) policy["Guid"] = value::string(random_guid());
            for (const auto& [property, ignored] : policy.as_object()) {
                if (property.starts_with("AllowBasicAuth")) {
                    require_boolean(policy, where("authentication_policies", i), property.c_str(), false);
                }
            }
        }
        require_unique(tenant_.policies_, "authentication_policies", "Name");
        for (auto& stored : tenant_.policies_) {
            value& policy = *stored;
            if (!policy.has_field("DistinguishedName")) {
                policy["DistinguishedName"] =
                    value::string(tenant_.policy_distinguished_name(text_property(policy, "Name")));
            }
        }
        resolve_policy(tenant_.organization_config, "DefaultAuthenticationPolicy", "organization_config");
    }

    void load_mailboxes() {
        tenant_.mailboxes_ = objects("cas_mailboxes", true);
        for (size_t i = 0; i < tenant_.mailboxes_.size(); ++i) {
            value& mailbox = *tenant_.mailboxes_[i];
            for (const char* property : {"Identity", "Guid", "PrimarySmtpAddress"}) {
                require_text(mailbox, where("cas_mailboxes", i), property);
            }
            if (!mailbox.has_field("SmtpClientAuthenticationDisabled")) {
                mailbox["SmtpClientAuthenticationDisabled"] = value::null();
            }
            require_boolean(mailbox, where("cas_mailboxes", i), "SmtpClientAuthenticationDisabled", true);
            tenant_.index_mailbox(i);
        }
        require_unique(tenant_.mailboxes_, "cas_mailboxes", "Guid");
        require_unique(tenant_.mailboxes_, "cas_mailboxes", "PrimarySmtpAddress");
    }

    // The users listed, each linked to its mailbox (by ExternalDirectoryObjectId, else Identity),
    // then one for every mailbox without a user: those have no authentication policy.
    void load_users() {
        tenant_.users_ = objects("users", false);
        for (size_t m = 0; m < tenant_.mailboxes_.size(); ++m) {
            const std::string directory_id = text_property(*tenant_.mailboxes_[m], "ExternalDirectoryObjectId");
            if (!directory_id.empty()) mailbox_by_directory_id_.emplace(to_lower(directory_id), m);
            mailbox_by_identity_.emplace(to_lower(text_property(*tenant_.mailboxes_[m], "Identity")), m);
        }
        std::vector<bool> has_user(tenant_.mailboxes_.size(), false);
        for (size_t i = 0; i < tenant_.users_.size(); ++i) {
            value& user = *tenant_.users_[i];
            require_text(user, where("users", i), "Identity");
            resolve_policy(user, "AuthenticationPolicy", where("users", i));
            const std::optional<size_t> mailbox = mailbox_of(user);
            const bool linked = mailbox && !has_user[*mailbox];
            if (linked) has_user[*mailbox] = true;
            tenant_.index_user(i, linked ? tenant_.mailboxes_[*mailbox].get() : nullptr);
        }
        for (size_t m = 0; m < tenant_.mailboxes_.size(); ++m) {
            if (has_user[m]) continue;
            const value& mailbox = *tenant_.mailboxes_[m];
            value user = value::object(true);
            user["Identity"] = value::string(text_property(mailbox, "Identity"));
            user["ExternalDirectoryObjectId"] = mailbox.has_field("ExternalDirectoryObjectId")
                                                    ? mailbox.at("ExternalDirectoryObjectId")
                                                    : value::null();
            user["UserPrincipalName"] = value::string(text_property(mailbox, "PrimarySmtpAddress"));
            user["RecipientTypeDetails"] = value::string("UserMailbox");
            user["AuthenticationPolicy"] = value::null();
            tenant_.users_.push_back(std::make_shared<value>(std::move(user)));
            tenant_.index_user(tenant_.users_.size() - 1, &mailbox);
        }
    }

    // Optional: recipients other than the mailboxes (groups), each with a PrimarySmtpAddress.
    void load_recipients() {
        tenant_.recipients_ = objects("recipients", false);
        for (size_t i = 0; i < tenant_.recipients_.size(); ++i)
            require_text(*tenant_.recipients_[i], where("recipients", i), "PrimarySmtpAddress");
        require_unique(tenant_.recipients_, "recipients", "PrimarySmtpAddress");
    }

    Tenant finish() {
        if (!problems_.empty()) throw SnapshotError(std::move(problems_));
        return std::move(tenant_);
    }

private:
    const value* member(const char* name, bool required) {
        if (snapshot_.has_field(name) && !snapshot_.at(name).is_null()) return &snapshot_.at(name);
        if (required) problems_.push_back(std::string("missing member '") + name + "'");
        return nullptr;
    }

    value settings(const char* name) {
        const value* found = member(name, true);
        if (found != nullptr && !found->is_object())
            problems_.push_back(std::string("'") + name + "' must be an object");
        return found != nullptr && found->is_object() ? without_annotations(*found) : value::object(true);
    }

    Tenant::Objects objects(const char* name, bool required) {
        Tenant::Objects result;
        const value* list = member(name, required);
        if (list == nullptr) return result;
        if (!list->is_array() && !list->is_object()) {
            problems_.push_back(std::string("'") + name + "' must be a list of objects");
        }
        size_t position = 0;
        for (const value& entry : as_list(*list)) {
            if (entry.is_object()) {
                result.push_back(std::make_shared<value>(without_annotations(entry)));
            } else {
                problems_.push_back(where(name, position) + " is not an object");
            }
            ++position;
        }
        return result;
    }

    void require_text(const value& object, const std::string& where_it_is, const char* property) {
        if (text_property(object, property).empty()) {
            problems_.push_back(where_it_is + ": '" + property + "' must be a non-empty string");
        }
    }

    void require_boolean(const value& object, const std::string& where_it_is, const char* property, bool null_allowed) {
        if (!object.has_field(property)) return;
        const value& found = object.at(property);
        if (!found.is_boolean() && !(null_allowed && found.is_null())) {
            problems_.push_back(where_it_is + ": '" + property +
                                (null_allowed ? "' must be true, false or null" : "' must be true or false"));
        }
    }

    void require_unique(const Tenant::Objects& objects, const char* member_name, const char* property) {
        std::map<std::string, size_t> seen;
        for (size_t i = 0; i < objects.size(); ++i) {
            const std::string key = to_lower(text_property(*objects[i], property));
            if (key.empty()) continue;
            if (auto [existing, inserted] = seen.emplace(key, i); !inserted) {
                problems_.push_back(where(member_name, i) + ": " + property + " '" +
                                    text_property(*objects[i], property) + "' is also used by " +
                                    where(member_name, existing->second));
            }
        }
    }

    // Policy references are kept as the policy's name, as Exchange returns them; a seed may give
    // a name, Guid or DN, or (ConvertTo-Json) an object with a Name.
    void resolve_policy(value& holder, const char* property, const std::string& where_it_is) {
        if (!holder.has_field(property) || holder.at(property).is_null()) {
            holder[property] = value::null();
            return;
        }
        const value& reference = holder.at(property);
        const std::string named = reference.is_string() ? reference.as_string() : text_property(reference, "Name");
        const std::vector<size_t> found = tenant_.find_policies(named);
        if (found.size() == 1) {
            holder[property] = value::string(text_property(*tenant_.policies_[found.front()], "Name"));
        } else {
            problems_.push_back(where_it_is + ": '" + property + "' names no authentication policy of the snapshot ('" +
                                named + "')");
        }
    }

    std::optional<size_t> mailbox_of(const value& user) const {
        const auto by_directory_id =
            mailbox_by_directory_id_.find(to_lower(text_property(user, "ExternalDirectoryObjectId")));
        if (by_directory_id != mailbox_by_directory_id_.end()) return by_directory_id->second;
        const auto by_identity = mailbox_by_identity_.find(to_lower(text_property(user, "Identity")));
        if (by_identity != mailbox_by_identity_.end()) return by_identity->second;
        return std::nullopt;
    }

    const value& snapshot_;
    Tenant tenant_;
    std::vector<std::string> problems_;
    std::map<std::string, size_t> mailbox_by_directory_id_;  // lower case -> mailbox, for linking users
    std::map<std::string, size_t> mailbox_by_identity_;
};

Tenant Tenant::from_snapshot(const value& snapshot, std::string domain) {
    if (!snapshot.is_object()) throw SnapshotError({"the snapshot is not a JSON object"});
    SnapshotLoader loader(snapshot, std::move(domain));
    loader.load_settings();
    loader.load_policies();  // before anything that refers to a policy
    loader.load_mailboxes();
    loader.load_users();  // after the mailboxes they belong to
    loader.load_recipients();
    return loader.finish();
}

}  // namespace sandbox
