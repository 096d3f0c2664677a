#include "policies/live_state.h"

namespace authgate {

// Eight folded bytes at a time into splitmix64's finaliser: quick on addresses and GUIDs, and
// good enough for keys no attacker chooses the collisions of (a collision costs only a probe).
std::uint64_t hash_ignoring_case(std::string_view key) {
    const auto mix = [](std::uint64_t h) {
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9u;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebu;
        return h ^ (h >> 31);
    };
    std::uint64_t hash = 0x9e3779b97f4a7c15u ^ key.size();
    std::uint64_t word = 0;
    std::size_t filled = 0;
    for (const char c : key) {
        const auto byte = static_cast<unsigned char>(c);
        word = word << 8 | (byte - 'A' < 26u ? byte | 0x20u : byte);
        if (++filled == 8) {
            hash = mix(hash ^ word);
            word = 0;
            filled = 0;
        }
    }
    return mix(hash ^ word);
}

LiveIndex::LiveIndex(const LiveState& live) {
    if (live.mailboxes) {
        for (auto* index : {&mailboxes_, &mailboxes_by_directory_id_, &mailboxes_by_identity_})
            index->reserve(live.mailboxes->size());
        for (const auto& mailbox : *live.mailboxes) {
            mailboxes_.insert(mailbox.primary_smtp_address, &mailbox);
            mailboxes_by_directory_id_.insert(mailbox.external_directory_object_id, &mailbox);
            mailboxes_by_identity_.insert(mailbox.identity, &mailbox);
        }
    }
    if (live.policies)
        for (const auto& policy : *live.policies) policies_.insert(policy.name, &policy);
    if (live.users) {
        for (const auto& user : *live.users) {
            users_by_directory_id_.insert(user.external_directory_object_id, &user);
            users_by_identity_.insert(user.identity, &user);
        }
    }
}

}  // namespace authgate
