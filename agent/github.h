#pragma once
// GitHub Actions: workflow-command annotations for validation errors and plan warnings, and the
// markdown report appended to the job summary. Annotations go to standard error, which the
// runner reads for workflow commands too, so that standard output stays the report.
#include <iosfwd>
#include <vector>

#include "agent/options.h"
#include "agent/render.h"
#include "policies/diagnostics.h"
#include "policies/plan.h"

namespace authgate {

void add_github_option(po::options_description& options);
// --github, or GITHUB_ACTIONS=true in the environment.
bool github_enabled(const po::variables_map& values);

// "::warning file=F,line=L,col=C,title=authgate::message" for each diagnostic.
void annotate(std::ostream& err, const std::vector<Diagnostic>& diagnostics);
// Appends the markdown report to $GITHUB_STEP_SUMMARY when it is set.
void append_step_summary(const Plan& plan, const SourceLinks& links = {});

// --link-base URL: where the Markdown plan links each change's TOML line.
void add_link_base_option(po::options_description& options);
// --link-base, else the commit under review from GitHub's GITHUB_SERVER_URL, GITHUB_REPOSITORY
// and GITHUB_SHA (paths relative to GITHUB_WORKSPACE, else to the current folder); else none.
// A base that is not a plain https:// address is not used (no link rather than a broken one).
SourceLinks source_links(const po::variables_map& values);

}  // namespace authgate
