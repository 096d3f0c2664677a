// The real-service behaviours the sandbox can be switched to (README "Real-service behaviours").
#pragma once

#include <optional>
#include <string>

namespace sandbox {

// Where live tenants have been seen to answer in more than one way (README "Real-service
// behaviours"): each can be switched on, so that a client is tested under every one.
struct ServiceBehaviours {
    enum class EmptyValue { array, absent, null };
    enum class PolicyReferences { name, distinguished_name, guid };
    EmptyValue empty_value = EmptyValue::array;  // how an answer with no rows carries "value"
    bool refuse_continuations = false;           // every $skiptoken request: "Expired or Invalid pagination request"
    bool whole_without_prefer = false;           // no Prefer: odata.maxpagesize: every row in one answer
    bool batch_items_need_token = false;         // a $batch item without its own bearer and anchor: 401
    PolicyReferences policy_references = PolicyReferences::name;  // how a policy is named in a reference
    std::optional<std::string> redirect_to;     // every admin API request: 302 to this origin, same path
    bool tenant_guid_only = false;              // the admin API takes the tenant's GUID only, in URL and anchor
    bool bind_continuations_to_anchor = false;  // a continuation must repeat the first request's X-AnchorMailbox
    bool generic_federation_errors = false;     // every federated mismatch is AADSTS70021 (700211/700212/700213 else)
};

}  // namespace sandbox
