// Fuzz target: a desired state as `authgate validate` reads it (the TOML loader, then the
// cross-element rules), and, when it is valid, its plan against a tenant that has every mailbox
// it names, with their addresses as identities. Properties: every problem names
// file:line:column, and every PowerShell line of the plan reads back as the cmdlet it shows.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "policies/loader.h"
#include "policies/planner.h"
#include "policies/validate.h"
#include "powershell_tokens.h"

namespace {

using namespace authgate;

void require_located(const Diagnostics& diagnostics) {
    for (const Diagnostic& diagnostic : diagnostics.all()) {
        const SourceLocation& where = diagnostic.source;
        fuzz::require(where.file == "fuzz.toml" && where.line >= 1 && where.column >= 1,
                      "every problem names file:line:column");
        fuzz::require(!diagnostic.message.empty(), "every problem says what is wrong");
    }
}

// Mailboxes for every address the desired state names, each with an explicit override so that
// the plan has something to change, and the address itself as Guid: text that reaches the
// PowerShell lines from the tenant's side.
LiveState tenant_for(const DesiredState& desired) {
    LiveState live{false, std::vector<Mailbox>{}, std::vector<LivePolicy>{}, OrganizationConfig{},
                   std::vector<LiveUser>{}};
    const auto add = [&](const std::string& address, std::optional<bool> disabled) {
        live.mailboxes->push_back({address, address, "", address, disabled});
    };
    if (desired.smtp_auth) {
        for (const Exception& exception : desired.smtp_auth->exceptions) add(exception.mailbox, true);
        for (const auto& entry : desired.smtp_auth->deny) add(entry.value, false);
    }
    for (const auto& entry : desired.guardrails.protected_mailboxes) add(entry.value, false);
    return live;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const LoadResult loaded = load_desired_state_text("fuzz.toml", text);
    require_located(loaded.diagnostics);
    if (loaded.diagnostics.has_errors()) return 0;

    const Instant now = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 22} + std::chrono::hours{10}};
    const Diagnostics checked = validate(loaded.state, now);
    require_located(checked);
    if (checked.has_errors()) return 0;

    const LiveState live = tenant_for(loaded.state);
    const PlanResult result = make_plan(loaded.state, live, now);
    for (const Change& change : result.plan.changes)
        fuzz::require(fuzz::reads_back(change.cmdlet), "a PowerShell line reads back as the cmdlet it shows");
    return 0;
}
