#include "policies/live_state.h"

namespace authgate {
namespace {

// The first object with a key wins, as Exchange would name only one.
template <class Map, class T>
void put(Map& map, const std::string& key, const T* object) {
    if (!key.empty()) map.emplace(fold_case(key), object);
}

}  // namespace

LiveIndex::LiveIndex(const LiveState& live) {
    if (live.mailboxes) {
        for (auto* map : {&mailboxes_, &mailboxes_by_directory_id_, &mailboxes_by_identity_})
            map->reserve(live.mailboxes->size());
        for (const auto& mailbox : *live.mailboxes) {
            put(mailboxes_, mailbox.primary_smtp_address, &mailbox);
            put(mailboxes_by_directory_id_, mailbox.external_directory_object_id, &mailbox);
            put(mailboxes_by_identity_, mailbox.identity, &mailbox);
        }
    }
    if (live.policies)
        for (const auto& policy : *live.policies) put(policies_, policy.name, &policy);
    if (live.users) {
        for (const auto& user : *live.users) {
            put(users_by_directory_id_, user.external_directory_object_id, &user);
            put(users_by_identity_, user.identity, &user);
        }
    }
}

}  // namespace authgate
