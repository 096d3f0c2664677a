#pragma once
// The tenant as read: each part is optional because a part that could not be read is
// unknown, and unknown is not absent (safety rule 3).
#include <optional>
#include <string>
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

struct LiveState {
    std::optional<bool> org_smtp_auth_disabled;     // Get-TransportConfig
    std::optional<std::vector<Mailbox>> mailboxes;  // Get-CASMailbox, all of them
    std::optional<std::vector<LivePolicy>> policies;
    std::optional<OrganizationConfig> organization;
    // Users with an authentication policy assigned (any user not listed has none).
    std::optional<std::vector<LiveUser>> users;
};

}  // namespace authgate
