#include "policies/live_state.h"

namespace authgate {
// The first object with a key wins, as Exchange would name only one.
template <class T>
void LiveIndex::put(Map<T>& map, const std::string& key, const T* object) {
    if (key.empty()) return;
    if (!has_upper_case(key)) {
        map.emplace(key, object);
        return;
    }
    std::string folded = fold_case(key);
    if (map.count(folded)) return;
    map.emplace(folded_.emplace_back(std::move(folded)), object);
}

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
