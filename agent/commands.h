#pragma once
// One handler per command; each parses its own options.
#include "agent/cli.h"
#include "policies/desired_state.h"
#include "policies/diagnostics.h"

namespace authgate {

int run_validate(CommandContext& context);
int run_plan(CommandContext& context);
int run_apply(CommandContext& context);
int run_reconcile(CommandContext& context);
int run_status(CommandContext& context);
int run_report(CommandContext& context);
int run_history(CommandContext& context);
int run_state(CommandContext& context);
int run_usage(CommandContext& context);
int run_notify(CommandContext& context);
int run_explain(CommandContext& context);
int run_snapshot(CommandContext& context);
int run_import(CommandContext& context);
int run_version(CommandContext& context);
int run_doctor(CommandContext& context);
int run_exception(CommandContext& context);

// The first phase of every command that reads a desired state: load, then validate at `now`
// (max_days from `granted_at` when given; see validate()).
struct CheckedDesiredState {
    DesiredState state;
    Diagnostics diagnostics;  // errors and warnings of both steps
};
CheckedDesiredState load_and_validate(const std::vector<std::string>& paths, Instant now,
                                      std::optional<Instant> granted_at = std::nullopt);

}  // namespace authgate
