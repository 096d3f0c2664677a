#include "sandbox_state.h"

#include <cctype>

#include "crypto.h"
#include "text.h"

namespace sandbox {

bool SandboxState::serves_tenant(std::string_view segment) const {
    return iequals(segment, config.tenant) || iequals(segment, tenant_guid());
}

std::string SandboxState::tenant_guid() const {
    if (config.tenant_id) return *config.tenant_id;
    // Derived from the domain, so that every run of one tenant has the same GUID.
    const std::string hex = hex_upper(sha256(config.tenant)).substr(0, 32);
    std::string guid;
    for (size_t i = 0; i < hex.size(); ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) guid += '-';
        guid += static_cast<char>(std::tolower(static_cast<unsigned char>(i == 12 ? '5' : hex[i])));
    }
    return guid;
}

std::vector<std::string> SandboxState::origins() const {
    const std::string port_suffix = ":" + std::to_string(port);
    return {"https://127.0.0.1" + port_suffix, "https://localhost" + port_suffix};
}

std::string SandboxState::origin_for(const std::optional<std::string>& host) const {
    for (const auto& origin : origins()) {
        if (host && iequals(origin, "https://" + *host)) return origin;
    }
    return origins().front();
}

}  // namespace sandbox
