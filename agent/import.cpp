#include "agent/import.h"

#include "policies/exception_edit.h"
#include "policies/printable.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

namespace authgate {
namespace {

// The policy to name as basic_auth_policy: the one allowing Basic SMTP with the most users.
std::optional<std::string> basic_auth_policy(const LiveState& live) {
    std::map<Name, int> users_of;
    for (const auto& user : *live.users)
        if (user.authentication_policy) ++users_of[*user.authentication_policy];
    std::optional<std::string> best;
    int most = 0;
    for (const auto& policy : *live.policies) {
        if (!policy.flags[smtp_flag] || policy.name == legacy_pseudo_policy) continue;
        const int count = users_of[policy.name];
        if (count > most) {
            best = policy.name;
            most = count;
        }
    }
    return best;
}

}  // namespace

int imported_max_days(int exception_days) { return std::max(180, exception_days + 1); }

std::string import_desired_state(const LiveState& live, const ImportOptions& options) {
    const std::string today = format_date(options.now);
    const std::string expires = format_date(options.now + std::chrono::days{options.exception_days});
    const std::optional<std::string> basic_policy = basic_auth_policy(live);

    // Mailboxes whose user is on the basic-auth policy, by directory id and by identity.
    std::set<std::string> on_basic_policy;
    if (basic_policy)
        for (const auto& user : *live.users)
            if (user.authentication_policy && *user.authentication_policy == *basic_policy) {
                if (!user.external_directory_object_id.empty())
                    on_basic_policy.insert(fold_case(user.external_directory_object_id));
                on_basic_policy.insert(fold_case(user.identity));
            }

    const auto on_basic = [&](const Mailbox& mailbox) {
        return on_basic_policy.count(fold_case(mailbox.external_directory_object_id)) ||
               on_basic_policy.count(fold_case(mailbox.identity));
    };
    std::vector<const Mailbox*> enabled, disabled, basic_inheriting;
    for (const auto& mailbox : *live.mailboxes) {
        if (mailbox.smtp_auth_disabled == false) enabled.push_back(&mailbox);
        if (mailbox.smtp_auth_disabled == true) disabled.push_back(&mailbox);
        // A user on the basic-auth policy whose mailbox inherits SMTP AUTH from an organization that
        // has it on: an exception too (basic_auth), which needs no override while the switch stays on.
        if (!mailbox.smtp_auth_disabled && !*live.org_smtp_auth_disabled && on_basic(mailbox))
            basic_inheriting.push_back(&mailbox);
    }
    const auto by_address = [](const Mailbox* a, const Mailbox* b) {
        return a->primary_smtp_address < b->primary_smtp_address;
    };
    std::sort(enabled.begin(), enabled.end(), by_address);
    std::sort(disabled.begin(), disabled.end(), by_address);
    std::sort(basic_inheriting.begin(), basic_inheriting.end(), by_address);

    std::ostringstream out;
    // Comments hold tenant text as inert escapes: a newline in a name must not write a TOML line.
    out << "# authgate desired state, imported from " << printable(options.tenant) << " on " << today << ".\n"
        << "# It describes the tenant as it is: a plan made now shows no change. Before you enforce it,\n"
        << "# give every exception a real owner, reason, ticket and expiry (or delete it), and decide\n"
        << "# org_disabled. Exceptions imported here expire " << expires << ".\n"
        << "version = 1\n\n"
        << "[tenant]\nid = " << toml_string(options.tenant)
        << "\ncloud = " << toml_string(std::string(to_string(options.cloud))) << "\n\n";
    if (!options.connection.empty()) {
        out << "[connection]                           # as the import signed in; flags and environment override\n";
        for (const auto& [key, value] : options.connection) out << key << " = " << toml_string(value) << "\n";
        out << "\n";
    }
    out << "[smtp_auth]\n"
        << "org_disabled = " << (*live.org_smtp_auth_disabled ? "true" : "false")
        << "                 # as the tenant has it today; the goal is true\n"
        << "unlisted_overrides = \"report\"       # report what is not declared here; \"revert\" once reviewed\n";
    if (!disabled.empty()) {
        out << "# Mailboxes with SMTP AUTH explicitly disabled.\ndeny = [\n";
        for (const Mailbox* mailbox : disabled) out << "  " << toml_string(mailbox->primary_smtp_address) << ",\n";
        out << "]\n";
    }
    out << "\n[exceptions]\nmax_days = " << imported_max_days(options.exception_days) << "\n";
    if (basic_policy) out << "basic_auth_policy = " << toml_string(*basic_policy) << "\n";

    std::unordered_map<Name, const MailboxUsage*> seen;
    if (options.used)
        for (const MailboxUsage& sender : *options.used)
            if (sender.matched) seen[sender.mailbox] = &sender;
    if (options.used) {
        // Enabled but not seen: no exception proposed (unlisted, so reported, never changed yet).
        std::vector<const Mailbox*> unused;
        for (const Mailbox* mailbox : enabled)
            if (!seen.count(mailbox->primary_smtp_address)) unused.push_back(mailbox);
        if (!unused.empty()) {
            out << "\n# Explicitly enabled, but not seen using SMTP AUTH in " << options.used_days
                << " days: no exception proposed.\n";
            for (const Mailbox* mailbox : unused) out << "#   " << printable(mailbox->primary_smtp_address) << "\n";
        }
        std::erase_if(enabled, [&](const Mailbox* mailbox) { return !seen.count(mailbox->primary_smtp_address); });
        // Seen sending while inheriting the org switch: cut off when it goes off.
        std::vector<std::string> inheriting;
        for (const auto& mailbox : *live.mailboxes)
            if (!mailbox.smtp_auth_disabled && seen.count(mailbox.primary_smtp_address))
                inheriting.push_back(printable(mailbox.primary_smtp_address) + ": " +
                                     printable(describe(*seen.at(mailbox.primary_smtp_address), options.now)));
        std::sort(inheriting.begin(), inheriting.end());
        if (!inheriting.empty()) {
            out << "\n# Seen using SMTP AUTH while inheriting the org switch: each is cut off when\n"
                << "# org_disabled = true, unless it gets an exception first.\n";
            for (const std::string& line : inheriting) out << "#   " << line << "\n";
        }
    }
    const auto write_exception = [&](const Mailbox& mailbox) {
        out << "\n[[smtp_auth.exception]]\n"
            << "mailbox = " << toml_string(mailbox.primary_smtp_address) << "\n"
            << "owner = \"unknown\"                    # who answers for it: a person or team address\n"
            << "reason = " << toml_string("imported from the tenant on " + today + "; say why it still needs SMTP AUTH")
            << "\n"
            << "expires = " << expires << "\n";
        if (on_basic(mailbox))
            out << "basic_auth = true                    # its user is on " << printable(*basic_policy) << "\n";
    };
    if (!enabled.empty())
        out << "\n# Mailboxes with SMTP AUTH explicitly enabled (SmtpClientAuthenticationDisabled = false).\n";
    for (const Mailbox* mailbox : enabled) write_exception(*mailbox);
    if (!basic_inheriting.empty())
        out << "\n# Users on the basic-auth policy whose mailboxes inherit SMTP AUTH from the organization.\n";
    for (const Mailbox* mailbox : basic_inheriting) write_exception(*mailbox);

    for (const auto& policy : *live.policies) {
        if (policy.name == legacy_pseudo_policy) continue;
        out << "\n[[authentication_policy]]\nname = " << toml_string(policy.name) << "\n";
        for (std::size_t i = 0; i < basic_auth_flag_count; ++i)
            if (policy.flags[i]) out << basic_auth_flags[i].toml_key << " = true\n";
    }
    out << "\n[organization]\ndefault_authentication_policy = "
        << toml_string(live.organization->default_authentication_policy.value_or("")) << "\n";
    return out.str();
}

}  // namespace authgate
