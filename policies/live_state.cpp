#include "policies/live_state.h"

#include <cstring>

namespace authgate {

LiveIndex::LiveIndex(const LiveState& live) : live_(live) {
    if (live.mailboxes)
        mailboxes_.insert_all(*live.mailboxes, [](const Mailbox& mailbox) -> const std::string& {
            return mailbox.primary_smtp_address;
        });
    if (live.policies)
        for (const auto& policy : *live.policies) policies_.insert(policy.name, &policy);
    if (live.users) {
        for (const auto& user : *live.users) {
            users_by_directory_id_.insert(user.external_directory_object_id, &user);
            users_by_identity_.insert(user.identity, &user);
        }
    }
}

void LiveIndex::index_mailbox_ids() const {
    std::call_once(mailbox_ids_indexed_, [this] {
        if (!live_.mailboxes) return;
        mailboxes_by_directory_id_.insert_all(*live_.mailboxes, [](const Mailbox& mailbox) -> const std::string& {
            return mailbox.external_directory_object_id;
        });
        mailboxes_by_identity_.insert_all(*live_.mailboxes, [](const Mailbox& mailbox) -> const std::string& {
            return mailbox.identity;
        });
    });
}

void name_policy_references(LiveState& state) {
    if (!state.policies) return;
    const auto name_of = [&](std::optional<Name>& reference) {
        if (!reference) return;
        for (const LivePolicy& policy : *state.policies)
            for (const std::string* form :
                 {&policy.name.text(), &policy.distinguished_name, &policy.guid, &policy.identity})
                if (!form->empty() && equals_ignoring_case(*form, *reference)) {
                    reference = policy.name.text();
                    return;
                }
    };
    if (state.organization) name_of(state.organization->default_authentication_policy);
    if (state.users)
        for (LiveUser& user : *state.users) name_of(user.authentication_policy);
}

}  // namespace authgate
