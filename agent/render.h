#pragma once
// How a plan is shown; what it is lives in policies/plan.h.
#include <iosfwd>

#include <cpprest/json.h>

#include "agent/report_format.h"
#include "policies/live_state.h"
#include "policies/plan.h"
#include "state/journal.h"

namespace authgate {

web::json::value plan_to_json(const Plan& plan);
// What one usage source could see, for the plan's and usage's JSON.
web::json::value source_to_json(const SourceReport& source);
// A journal run, for status and history.
web::json::value run_to_json(const RunRecord& run);
// The live state in the snapshot format that connectors/snapshot.h reads, with Exchange's
// property names; parts that are unknown are left out (so they stay unknown when read back).
web::json::value snapshot_json(const LiveState& live);
// Where the desired state's files can be read on the web (the repository at the commit under
// review), so that a Markdown plan links each change to the line that causes it.
struct SourceLinks {
    std::string base;  // "https://github.com/contoso/policies/blob/<sha>"; empty: no links
    std::string root;  // the absolute folder the repository's paths are relative to

    // The address of a line of a file, or nullopt when the file is not inside `root`.
    std::optional<std::string> url(const SourceLocation& where) const;
};

struct TextStyle;
void render_text(std::ostream& out, const Plan& plan);
void render_text(std::ostream& out, const Plan& plan, const TextStyle& style);
void render_markdown(std::ostream& out, const Plan& plan, const SourceLinks& links = {});
void render_plan(std::ostream& out, const Plan& plan, ReportFormat format);
void render_plan(std::ostream& out, const Plan& plan, ReportFormat format, const TextStyle& style,
                 const SourceLinks& links = {});

// "Plan: 2 to change, 1 to report, 0 skipped." shared by the text and markdown reports.
std::string summary_line(const Plan& plan);
// The max_changes guardrail, said before merge: "apply refuses this plan without --allow-large:
// it has 150 changes, more than [guardrails] max_changes = 100", or nullopt.
std::optional<std::string> guardrail_line(const Plan& plan);
// A run as the command line that made it: "apply", "apply PLANFILE", "reconcile --mode expiry".
std::string run_command_line(const RunRecord& run);

}  // namespace authgate
