#pragma once
// Generated tenants for the benchmark: a seed snapshot for the sandbox tenant and the desired
// state that goes with it.
#include <filesystem>
#include <string>

namespace authgate::bench {

inline const std::string bench_tenant = "fabrikam.onmicrosoft.com";

struct TenantShape {
    std::string tenant = bench_tenant;
    int mailboxes = 1000;
    // Mailbox i has SMTP AUTH explicitly enabled (override false) when i % every == offset:
    int exception_every = 100, exception_offset = 0;  // ... and is a declared exception
    int unlisted_every = 100, unlisted_offset = 50;   // ... and is not: the plan reverts it
    int basic_auth_users = 10;                        // the first exceptions also need Basic auth
};

// Writes `folder`/seed.json (snapshot format) and `folder`/desired/tenant.toml (+ exceptions.toml).
// Expiry dates are 90 days after today, so the desired state validates on any day it is made.
void write_tenant(const std::filesystem::path& folder, const TenantShape& shape);

int unlisted_count(const TenantShape& shape);

// Writes `text` to `path`, replacing it; throws when it cannot.
void write_text(const std::filesystem::path& path, const std::string& text);
int exception_count(const TenantShape& shape);

}  // namespace authgate::bench
