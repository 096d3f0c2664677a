// The sandbox tenant's directory: the five parts of a snapshot (README.md, "Snapshot format"),
// each object kept with every property it was seeded with, and the identity lookups Exchange's
// cmdlets resolve -Identity with.
#pragma once

#include <cpprest/json.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sandbox {

// Every problem of a seed at once, each naming the member it is about.
class SnapshotError : public std::runtime_error {
public:
    explicit SnapshotError(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const { return problems_; }

private:
    std::vector<std::string> problems_;
};

// An object of the tenant. A listing shares the stored objects instead of copying them, and a
// write copies an object first while a listing still holds it: a listing of 100,000 mailboxes
// copies no object, and its later pages still show what it listed.
using SharedObject = std::shared_ptr<const web::json::value>;

class Tenant {
public:
    // `domain` is the tenant's onmicrosoft.com name; new policies' DNs and the organisation's
    // Identity use it. Annotations ("…@odata.type") in the seed are dropped.
    static Tenant from_snapshot(const web::json::value& snapshot, std::string domain);
    web::json::value to_snapshot() const;

    const std::string& domain() const { return domain_; }

    web::json::value transport_config;
    web::json::value organization_config;

    using Objects = std::vector<std::shared_ptr<web::json::value>>;

    const Objects& mailboxes() const { return mailboxes_; }
    web::json::value& mailbox(size_t index) { return writable(mailboxes_[index]); }
    const Objects& users() const { return users_; }
    web::json::value& user(size_t index) { return writable(users_[index]); }
    const Objects& policies() const { return policies_; }
    // The seed's optional "recipients" (groups and others without a mailbox), for Get-Recipient.
    const Objects& recipients() const { return recipients_; }
    web::json::value& policy(size_t index) { return writable(policies_[index]); }
    void add_policy(web::json::value policy) {
        policies_.push_back(std::make_shared<web::json::value>(std::move(policy)));
    }

    // Indices of the objects an -Identity value names (case-insensitive): a mailbox by Identity,
    // Name, Alias, Guid, ExternalDirectoryObjectId, PrimarySmtpAddress, UserPrincipalName or
    // DistinguishedName; a user by its own Identity, Name, ExternalDirectoryObjectId,
    // UserPrincipalName, Guid or DistinguishedName, or by its mailbox's; a policy by Name,
    // Identity, Guid or DistinguishedName.
    std::vector<size_t> find_mailboxes(std::string_view identity) const;
    std::vector<size_t> find_users(std::string_view identity) const;
    std::vector<size_t> find_policies(std::string_view identity) const;

    // The DN a policy named `name` gets: the suffix the tenant's policies already use.
    std::string policy_distinguished_name(std::string_view name) const;

private:
    friend class SnapshotLoader;

    // The object to change: a copy of its own if a listing still shares it.
    static web::json::value& writable(std::shared_ptr<web::json::value>& object) {
        if (object.use_count() > 1) object = std::make_shared<web::json::value>(*object);
        return *object;
    }
    void index_mailbox(size_t index);
    void index_user(size_t index, const web::json::value* mailbox);

    std::string domain_;
    Objects mailboxes_;
    Objects users_;
    Objects policies_;
    Objects recipients_;
    std::multimap<std::string, size_t> mailbox_index_;  // lower-cased identity -> mailbox
    std::multimap<std::string, size_t> user_index_;     // lower-cased identity -> user
};

// A string property, or "" when it is absent or not a string.
std::string text_property(const web::json::value& object, const char* name);

// Sets a property; returns whether its value changed (a new property counts as a change).
bool assign_property(web::json::value& object, const std::string& name, const web::json::value& new_value);

}  // namespace sandbox
