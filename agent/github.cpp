#include "agent/github.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>

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

std::string variable(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

// An https:// address with nothing that could end a Markdown link or hide in one.
bool plain_https(const std::string& url) {
    if (url.rfind("https://", 0) != 0 || url.size() <= 8) return false;
    return std::all_of(url.begin(), url.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte < 0x7f && std::string_view("<>()[]\"'`\\ {}|^").find(c) == std::string_view::npos;
    });
}

}  // namespace

void add_link_base_option(po::options_description& options) {
    options.add_options()("link-base", po::value<std::string>(),
                          "link each change of a Markdown plan to its TOML line under this address, e.g. "
                          "https://github.com/OWNER/REPO/blob/COMMIT (default: from GITHUB_SERVER_URL, "
                          "GITHUB_REPOSITORY and GITHUB_SHA)");
}

SourceLinks source_links(const po::variables_map& values) {
    SourceLinks links;
    std::error_code error;
    const std::string here = std::filesystem::current_path(error).string();
    if (values.count("link-base")) {
        links.base = values["link-base"].as<std::string>();
        links.root = here;
    } else {
        const std::string server = variable("GITHUB_SERVER_URL"), repository = variable("GITHUB_REPOSITORY"),
                          sha = variable("GITHUB_SHA");
        if (server.empty() || repository.empty() || sha.empty()) return {};
        links.base = server + "/" + repository + "/blob/" + sha;
        const std::string workspace = variable("GITHUB_WORKSPACE");
        links.root = workspace.empty() ? here : workspace;
    }
    while (!links.base.empty() && links.base.back() == '/') links.base.pop_back();
    if (!plain_https(links.base) || links.root.empty()) return {};
    return links;
}

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

void append_step_summary(const Plan& plan, const SourceLinks& links) {
    const char* path = std::getenv("GITHUB_STEP_SUMMARY");
    if (!path || !*path) return;
    std::ofstream summary(path, std::ios::app);
    render_markdown(summary, plan, links);
    summary << "\n";
}

}  // namespace authgate
