#pragma once
// One interface for every way of reaching a tenant: a snapshot file, Exchange Online, or a
// test fake. A part that cannot be read is an error, never an empty list.
#include <optional>
#include <stdexcept>
#include <string>

#include <vector>

#include "policies/live_state.h"
#include "policies/plan.h"

namespace authgate {

class ConnectorError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What became of one write.
// What became of a write: made (Exchange accepted it), refused, or uncertain (it may or may not
// have been made: read before retrying).
enum class WriteResult { made, refused, uncertain };

struct WriteOutcome {
    WriteResult result = WriteResult::refused;
    std::string error;  // with cmdlet, status, text and client-request-id
    std::string client_request_id;
    std::vector<std::string> warnings;

    bool made() const { return result == WriteResult::made; }
    bool uncertain() const { return result == WriteResult::uncertain; }
};

// A recipient as Exchange knows it: a mailbox, a group, a mail user or contact.
struct Recipient {
    std::string address;  // PrimarySmtpAddress
    std::string display_name;
    std::string type;  // RecipientTypeDetails: UserMailbox, SharedMailbox, MailUniversalDistributionGroup, …
};

class TenantConnector {
public:
    virtual ~TenantConnector() = default;
    // Reads the whole live state the planner needs; throws ConnectorError when a read fails.
    virtual LiveState read_live_state() = 0;
    // Runs independent cmdlets (in any order, possibly at once); outcomes in the same order.
    // Never throws for a cmdlet that fails: that is its outcome.
    virtual std::vector<WriteOutcome> write(const std::vector<Cmdlet>& cmdlets) = 0;
    // A user's StsRefreshTokensValidFrom as the tenant shows it (the revocation of its refresh
    // tokens), for the user Set-User took as `identity`; nullopt when this connector cannot read
    // it. Throws ConnectorError when the read fails.
    virtual std::optional<std::string> read_tokens_valid_from(const std::string& identity) {
        (void)identity;
        return std::nullopt;
    }
    // The recipient with this address (primary or secondary), nullopt when the tenant has none.
    // Throws ConnectorError when the lookup fails or this connector cannot look.
    virtual std::optional<Recipient> find_recipient(const std::string& address) {
        (void)address;
        throw ConnectorError("this connection cannot look up recipients");
    }
};

}  // namespace authgate
