#include "sandbox_state.h"

#include "text.h"

namespace sandbox {

bool SandboxState::serves_tenant(std::string_view segment) const {
  return iequals(segment, config.tenant) || (config.tenant_id && iequals(segment, *config.tenant_id));
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
