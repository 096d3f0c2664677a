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
struct TextStyle;
void render_text(std::ostream& out, const Plan& plan);
void render_text(std::ostream& out, const Plan& plan, const TextStyle& style);
void render_markdown(std::ostream& out, const Plan& plan);
void render_plan(std::ostream& out, const Plan& plan, ReportFormat format);
void render_plan(std::ostream& out, const Plan& plan, ReportFormat format, const TextStyle& style);

// "2 to change" style summary line shared by the text and markdown reports.
std::string summary_line(const Plan& plan);

}  // namespace authgate
