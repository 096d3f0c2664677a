#pragma once
// Whether a mailbox can use SMTP AUTH, with OAuth and with Basic auth, and which setting decides
// each: the mailbox's override else the organization's switch; then the user's authentication
// policy else the organization's default policy (no policy at all does not block Basic auth).
#include <optional>
#include <string>

#include "live_state.h"

namespace authgate {

struct SmtpAuthAccess {
    bool smtp_auth = false;  // SMTP AUTH at all, which OAuth (XOAUTH2) needs
    std::string smtp_auth_why;
    bool basic = false;  // Basic auth over SMTP AUTH
    std::string basic_why;
    std::optional<std::string> user_policy;     // the user's AuthenticationPolicy
    std::optional<std::string> default_policy;  // the organization's DefaultAuthenticationPolicy
};

// Needs the organization's switch, its configuration, the policies and the users read.
SmtpAuthAccess smtp_auth_access(const LiveState& live, const LiveIndex& index, const Mailbox& mailbox);

}  // namespace authgate
