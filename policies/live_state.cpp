#include "policies/live_state.h"

#include <cstring>

namespace authgate {

namespace {

// splitmix64's finaliser.
std::uint64_t mix(std::uint64_t h) {
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

// Eight bytes with their ASCII capitals in lower case, all at once: a byte gets 0x20 where its
// low seven bits are 'A'..'Z' and its high bit is clear. No addition carries into the next byte.
std::uint64_t fold_word(std::uint64_t word) {
    constexpr std::uint64_t ones = 0x0101010101010101u;
    constexpr std::uint64_t high = 0x8080808080808080u;
    const std::uint64_t low7 = word & ~high;
    const std::uint64_t from_a = low7 + (0x80 - 'A') * ones;     // high bit set where low7 >= 'A'
    const std::uint64_t past_z = low7 + (0x80 - 'Z' - 1) * ones;  // high bit set where low7 > 'Z'
    const std::uint64_t capitals = from_a & ~past_z & ~word & high;
    return word | capitals >> 2;  // 0x80 >> 2 == 0x20
}

}  // namespace

// Eight folded bytes at a time into the mixer: quick on addresses and GUIDs, and good enough for
// keys no attacker chooses the collisions of (a collision costs only a probe).
std::uint64_t hash_ignoring_case(std::string_view key) {
    std::uint64_t hash = 0x9e3779b97f4a7c15u ^ key.size();
    std::size_t at = 0;
    for (; at + 8 <= key.size(); at += 8) {
        std::uint64_t word;
        std::memcpy(&word, key.data() + at, 8);
        hash = mix(hash ^ fold_word(word));
    }
    std::uint64_t rest = 0;
    std::memcpy(&rest, key.data() + at, key.size() - at);
    return mix(hash ^ fold_word(rest));
}

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
        mailboxes_by_identity_.insert_all(*live_.mailboxes,
                                          [](const Mailbox& mailbox) -> const std::string& { return mailbox.identity; });
    });
}

void name_policy_references(LiveState& state) {
    if (!state.policies) return;
    const auto name_of = [&](std::optional<std::string>& reference) {
        if (!reference) return;
        for (const LivePolicy& policy : *state.policies)
            for (const std::string* form : {&policy.name, &policy.distinguished_name, &policy.guid, &policy.identity})
                if (!form->empty() && equals_ignoring_case(*form, *reference)) {
                    reference = policy.name;
                    return;
                }
    };
    if (state.organization) name_of(state.organization->default_authentication_policy);
    if (state.users)
        for (LiveUser& user : *state.users) name_of(user.authentication_policy);
}

}  // namespace authgate
