#include "agent/github.h"

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <string>

#include "agent/render.h"

namespace authgate {
namespace {

// Workflow-command escaping: data escapes %, CR and LF; properties also : and ,.
std::string escape(const std::string& text, bool property) {
    std::string out;
    for (char c : text) {
        if (c == '%') out += "%25";
        else if (c == '\r') out += "%0D";
        else if (c == '\n') out += "%0A";
        else if (property && c == ':') out += "%3A";
        else if (property && c == ',') out += "%2C";
        else out += c;
    }
    return out;
}

}  // namespace

void add_github_option(po::options_description& options) {
    options.add_options()("github", "GitHub Actions annotations and job summary (also when GITHUB_ACTIONS=true)");
}

bool github_enabled(const po::variables_map& values) {
    if (values.count("github")) return true;
    const char* actions = std::getenv("GITHUB_ACTIONS");
    return actions && std::string(actions) == "true";
}

void annotate(std::ostream& err, const std::vector<Diagnostic>& diagnostics) {
    for (const Diagnostic& diagnostic : diagnostics) {
        err << "::" << (diagnostic.severity == Severity::error ? "error" : "warning") << " ";
        if (diagnostic.source.known()) {
            err << "file=" << escape(diagnostic.source.file, true);
            if (diagnostic.source.line > 0) err << ",line=" << diagnostic.source.line;
            if (diagnostic.source.column > 0) err << ",col=" << diagnostic.source.column;
            err << ",";
        }
        err << "title=authgate::" << escape(diagnostic.message, false) << "\n";
    }
}

void append_step_summary(const Plan& plan) {
    const char* path = std::getenv("GITHUB_STEP_SUMMARY");
    if (!path || !*path) return;
    std::ofstream summary(path, std::ios::app);
    render_markdown(summary, plan);
    summary << "\n";
}

}  // namespace authgate
