#pragma once
// The tenant as read: each part is optional because a part that could not be read is
// unknown, and unknown is not absent (safety rule 3).
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "desired_state.h"

namespace authgate {

struct Mailbox {
    std::string guid;
    std::string identity;
    std::string external_directory_object_id;
    std::string primary_smtp_address;
    std::optional<bool> smtp_auth_disabled;  // the override: true, false, or null (inherit)
};

struct LivePolicy {
    std::string name;
    std::string identity;
    std::string guid;
    std::string distinguished_name;
    BasicAuthFlags flags{};
};

struct LiveUser {
    std::string identity;
    std::string external_directory_object_id;
    std::string user_principal_name;
    std::optional<std::string> authentication_policy;  // a policy name, or null
};

struct OrganizationConfig {
    std::optional<std::string> default_authentication_policy;  // a policy name, or null
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
};

// The live state indexed by the keys plans and changes use, case-insensitively, so that no lookup
// scans 100,000 mailboxes. Points into the LiveState, which must outlive it. Empty keys find nothing.
class LiveIndex {
public:
    explicit LiveIndex(const LiveState& live);
    LiveIndex(const LiveIndex&) = delete;  // keys point into its own folded copies
    LiveIndex& operator=(const LiveIndex&) = delete;

    const Mailbox* mailbox(std::string_view primary_address) const { return find(mailboxes_, primary_address); }
    const Mailbox* mailbox_of_directory_id(std::string_view id) const { return find(mailboxes_by_directory_id_, id); }
    const Mailbox* mailbox_of_identity(std::string_view identity) const { return find(mailboxes_by_identity_, identity); }
    const LivePolicy* policy(std::string_view name) const { return find(policies_, name); }
    const LiveUser* user_of_directory_id(std::string_view id) const { return find(users_by_directory_id_, id); }
    const LiveUser* user_of_identity(std::string_view identity) const { return find(users_by_identity_, identity); }

private:
    // Keys are lower case; most already are in the live state, and point there. Only keys with
    // an upper-case letter are copied, folded, into folded_.
    template <class T>
    using Map = std::unordered_map<std::string_view, const T*>;
    template <class T>
    static const T* find(const Map<T>& map, std::string_view key) {
        if (key.empty()) return nullptr;
        const auto it = has_upper_case(key) ? map.find(fold_case(key)) : map.find(key);
        return it == map.end() ? nullptr : it->second;
    }
    static bool has_upper_case(std::string_view text) {
        for (char c : text)
            if (c >= 'A' && c <= 'Z') return true;
        return false;
    }
    template <class T>
    void put(Map<T>& map, const std::string& key, const T* object);

    std::deque<std::string> folded_;
    Map<Mailbox> mailboxes_, mailboxes_by_directory_id_, mailboxes_by_identity_;
    Map<LivePolicy> policies_;
    Map<LiveUser> users_by_directory_id_, users_by_identity_;
};

}  // namespace authgate
