// Fuzz target: the snapshot loader (plan --snapshot). Properties: bad input is a
// ConnectorError and nothing else, and a snapshot authgate writes of what it read reads back
// as the same live state.
#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/snapshot.h"
#include "fuzz_check.h"

namespace {

using namespace authgate;

bool same_mailboxes(const std::vector<Mailbox>& a, const std::vector<Mailbox>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].guid != b[i].guid || a[i].identity != b[i].identity ||
            a[i].external_directory_object_id != b[i].external_directory_object_id ||
            a[i].primary_smtp_address != b[i].primary_smtp_address || a[i].smtp_auth_disabled != b[i].smtp_auth_disabled)
            return false;
    return true;
}

bool same_policies(const std::vector<LivePolicy>& a, const std::vector<LivePolicy>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].identity != b[i].identity || a[i].guid != b[i].guid ||
            a[i].distinguished_name != b[i].distinguished_name || a[i].flags != b[i].flags)
            return false;
    return true;
}

bool same_users(const std::vector<LiveUser>& a, const std::vector<LiveUser>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].identity != b[i].identity || a[i].external_directory_object_id != b[i].external_directory_object_id ||
            a[i].user_principal_name != b[i].user_principal_name || a[i].authentication_policy != b[i].authentication_policy)
            return false;
    return true;
}

template <class T, class Same>
bool same_part(const std::optional<T>& a, const std::optional<T>& b, Same same) {
    return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    LiveState live;
    try {
        live = parse_snapshot(text, "fuzz.json");
    } catch (const ConnectorError&) {
        return 0;
    }
    const LiveState again = parse_snapshot(snapshot_json(live).serialize(), "again.json");
    fuzz::require(live.org_smtp_auth_disabled == again.org_smtp_auth_disabled &&
                      same_part(live.mailboxes, again.mailboxes, same_mailboxes) &&
                      same_part(live.policies, again.policies, same_policies) &&
                      same_part(live.users, again.users, same_users) &&
                      same_part(live.organization, again.organization,
                                [](const OrganizationConfig& a, const OrganizationConfig& b) {
                                    return a.default_authentication_policy == b.default_authentication_policy;
                                }),
                  "a snapshot written from what was read reads back the same");
    return 0;
}
