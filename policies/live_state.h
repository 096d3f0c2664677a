#pragma once
// The tenant as read: each part is optional because a part that could not be read is
// unknown, and unknown is not absent (safety rule 3).
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "desired_state.h"

namespace authgate {

struct Mailbox {
    std::string guid;
    std::string identity;
    std::string external_directory_object_id;
    Name primary_smtp_address;
    std::optional<bool> smtp_auth_disabled;  // the override: true, false, or null (inherit)
    std::string display_name{};              // for people only; "" when the tenant gave none

    bool operator==(const Mailbox&) const = default;
};

struct LivePolicy {
    Name name;
    std::string identity;
    std::string guid;
    std::string distinguished_name;
    BasicAuthFlags flags{};

    bool operator==(const LivePolicy&) const = default;
};

struct LiveUser {
    std::string identity;
    std::string external_directory_object_id;
    std::string user_principal_name;
    std::optional<Name> authentication_policy;  // a policy name, or null

    bool operator==(const LiveUser&) const = default;
};

struct OrganizationConfig {
    std::optional<Name> default_authentication_policy;  // a policy name, or null

    bool operator==(const OrganizationConfig&) const = default;
};

// The org-wide pseudo policy Get-AuthenticationPolicy lists beside real ones; never managed.
inline constexpr std::string_view legacy_pseudo_policy = "LegacyExchangeTokens";

struct LiveState {
    std::optional<bool> org_smtp_auth_disabled;     // Get-TransportConfig
    std::optional<std::vector<Mailbox>> mailboxes;  // Get-CASMailbox, all of them
    std::optional<std::vector<LivePolicy>> policies;
    std::optional<OrganizationConfig> organization;
    // Users with an authentication policy assigned (any user not listed has none).
    std::optional<std::vector<LiveUser>> users;

    bool operator==(const LiveState&) const = default;  // part by part, unknown equal only to unknown
};

// Exchange may name a policy in a reference (the org's DefaultAuthenticationPolicy, a user's
// AuthenticationPolicy) by its name, its DistinguishedName or its Guid (or Identity). Turns each
// reference that names a policy of `state` in any of those forms into that policy's name, so that
// references compare with the desired state's names; one that names none is left as it is.
void name_policy_references(LiveState& state);

// Objects by a case-insensitive key, in one open-addressed array: no node, no folded copy of a
// key, and no more than one other memory access per probe. Keys point into the objects, which
// must outlive it. The first object with a key wins, as Exchange would name only one; empty keys
// are neither indexed nor found.
template <class T>
class KeyIndex {
public:
    void reserve(std::size_t count) {
        entries_.reserve(count);
        if (slots_.size() < 2 * count) rehash(capacity_for(count));
    }
    void insert(std::string_view key, const T* object) { insert(key, object, hash_ignoring_case(key)); }

    // Every object of a list under the key `key_of` gives it, the same as inserting them in turn.
    // Memory bound at 100,000 keys, so it reads ahead: the key bytes before they are hashed,
    // then the slot before it is probed.
    template <class KeyOf>
    void insert_all(const std::vector<T>& objects, KeyOf key_of) {
        constexpr std::size_t ahead = 8;
        reserve(entries_.size() + objects.size());
        std::vector<std::uint64_t> hashes(objects.size());
        for (std::size_t i = 0; i < objects.size(); ++i) {
            if (i + ahead < objects.size()) __builtin_prefetch(std::string_view(key_of(objects[i + ahead])).data());
            hashes[i] = hash_ignoring_case(key_of(objects[i]));
        }
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = 0; i < objects.size(); ++i) {
            if (i + ahead < objects.size()) __builtin_prefetch(&slots_[hashes[i + ahead] & mask]);
            insert(key_of(objects[i]), &objects[i], hashes[i]);
        }
    }
    const T* find(std::string_view key) const {
        if (key.empty() || slots_.empty()) return nullptr;
        const std::uint64_t slot = slots_[probe(key, hash_ignoring_case(key))];
        return slot == 0 ? nullptr : entries_[(slot & index_mask) - 1].object;
    }

private:
    void insert(std::string_view key, const T* object, std::uint64_t hash) {
        if (key.empty()) return;
        if (2 * (entries_.size() + 1) > slots_.size()) rehash(capacity_for(entries_.size() + 1));
        const std::size_t at = probe(key, hash);
        if (slots_[at] != 0) return;
        entries_.push_back({key, object});
        slots_[at] = tag(hash) | entries_.size();
    }

    struct Entry {
        std::string_view key;
        const T* object;
    };
    // A slot holds the hash's high half and the entry's index + 1; 0 is empty.
    static constexpr std::uint64_t index_mask = 0xffffffffu;
    static std::uint64_t tag(std::uint64_t hash) { return hash & ~index_mask; }
    static std::size_t capacity_for(std::size_t count) {
        std::size_t capacity = 16;
        while (capacity < 2 * count) capacity *= 2;
        return capacity;
    }
    // The slot holding `key`, or the empty slot where it would go.
    std::size_t probe(std::string_view key, std::uint64_t hash) const {
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
            const std::uint64_t slot = slots_[at];
            if (slot == 0) return at;
            if (tag(slot) == tag(hash) && equals_ignoring_case(entries_[(slot & index_mask) - 1].key, key)) return at;
        }
    }
    void rehash(std::size_t capacity) {
        slots_.assign(capacity, 0);
        const std::size_t mask = capacity - 1;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            const std::uint64_t hash = hash_ignoring_case(entries_[i].key);
            std::size_t at = hash & mask;
            while (slots_[at] != 0) at = (at + 1) & mask;
            slots_[at] = tag(hash) | (i + 1);
        }
    }

    std::vector<Entry> entries_;
    std::vector<std::uint64_t> slots_;
};

// The live state indexed by the keys plans and changes use, case-insensitively, so that no lookup
// scans 100,000 mailboxes. Points into the LiveState, which must outlive it. Mailboxes by
// directory id and identity, which only users' changes look up, are indexed on first use.
class LiveIndex {
public:
    explicit LiveIndex(const LiveState& live);

    const Mailbox* mailbox(std::string_view primary_address) const { return mailboxes_.find(primary_address); }
    const Mailbox* mailbox_of_directory_id(std::string_view id) const {
        index_mailbox_ids();
        return mailboxes_by_directory_id_.find(id);
    }
    const Mailbox* mailbox_of_identity(std::string_view identity) const {
        index_mailbox_ids();
        return mailboxes_by_identity_.find(identity);
    }
    const LivePolicy* policy(std::string_view name) const { return policies_.find(name); }
    const LiveUser* user_of_directory_id(std::string_view id) const { return users_by_directory_id_.find(id); }
    const LiveUser* user_of_identity(std::string_view identity) const { return users_by_identity_.find(identity); }
    // A user named by its directory id, else by its identity.
    const LiveUser* user(std::string_view id_or_identity) const {
        const LiveUser* found = user_of_directory_id(id_or_identity);
        return found ? found : user_of_identity(id_or_identity);
    }
    // A mailbox's user (only users with a policy are listed): by directory id, else by identity.
    const LiveUser* user_of(const Mailbox& mailbox) const {
        const LiveUser* found = user_of_directory_id(mailbox.external_directory_object_id);
        return found ? found : user_of_identity(mailbox.identity);
    }
    // A user's mailbox, matched the same way.
    const Mailbox* mailbox_of(const LiveUser& user) const {
        const Mailbox* found = mailbox_of_directory_id(user.external_directory_object_id);
        return found ? found : mailbox_of_identity(user.identity);
    }

private:
    void index_mailbox_ids() const;

    const LiveState& live_;
    KeyIndex<Mailbox> mailboxes_;
    mutable std::once_flag mailbox_ids_indexed_;
    mutable KeyIndex<Mailbox> mailboxes_by_directory_id_, mailboxes_by_identity_;
    KeyIndex<LivePolicy> policies_;
    KeyIndex<LiveUser> users_by_directory_id_, users_by_identity_;
};

}  // namespace authgate
