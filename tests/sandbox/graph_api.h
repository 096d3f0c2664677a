// Microsoft Graph's usage sources, as the sandbox answers them:
//   GET /v1.0/auditLogs/signIns                                   sign-in rows, newest first, paged
//   GET /v1.0/reports/getEmailAppUsageUserDetail(period='D7')     302 to a one-time CSV download
//   GET /_reports/download/{token}                                that download (no Authorization needed)
//   GET /v1.0/admin/reportSettings                                displayConcealedNames
// with Graph's bearer checks (audience, roles), its error body and the Graph faults.
#pragma once

#include <cpprest/json.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "clock.h"
#include "entra_policies.h"
#include "http_message.h"
#include "usage_data.h"

namespace sandbox {

struct SandboxState;

// The rows a sign-in query matched, kept for its later pages (the data it was answered from
// stays as it was, even if usage is loaded again meanwhile).
struct SignInCursor {
    std::shared_ptr<const UsageData> data;
    std::vector<std::uint32_t> rows;  // indices into data->signins, in answer order
    size_t page_size = 1000;
    std::string link_query;  // "$filter=…&$top=…&" as the first request gave them, repeated in nextLinks
};

struct SignInPage {
    std::shared_ptr<const SignInCursor> cursor;
    size_t offset = 0;
    int page_number = 2;  // the first nextLink leads to page 2
    Instant issued{};
};

// A report made when its redirect was answered, waiting at its download link.
struct ReportDownload {
    std::string csv;
    std::string etag;
    Instant expires{};
};

struct GraphState {
    std::shared_ptr<const UsageData> usage = std::make_shared<const UsageData>();  // empty until loaded
    std::map<std::string, SignInPage> signin_pages;                                // by $skiptoken
    std::map<std::string, ReportDownload> report_links;  // by the last segment of the download path
    std::vector<web::json::value> report_downloads;      // every request to a download link, in order
    std::map<std::string, int> requests;                 // by endpoint
    EntraData entra;  // security defaults, Conditional Access, groups and roles (POST /_sandbox/entra)
};

// How long a sign-in $skiptoken and a report's download link stay valid.
inline constexpr std::chrono::seconds kSignInLinkLifetime{600};
inline constexpr std::chrono::seconds kReportLinkLifetime{300};

bool is_graph_path(std::string_view path);            // /v1.0/…
bool is_report_download_path(std::string_view path);  // /_reports/download/…

HttpResponse handle_graph(SandboxState& state, const HttpRequest& request);

// Graph's error body ({"error":{"code","message","innerError":{…}}}) and a success, with Graph's headers.
HttpResponse graph_error(const SandboxState& state, const HttpRequest& request, int status, const std::string& code,
                         const std::string& message);
HttpResponse graph_success(const SandboxState& state, const HttpRequest& request, const web::json::value& body);
HttpResponse handle_report_download(SandboxState& state, const HttpRequest& request);

// The email apps usage report as CSV (with a UTF-8 byte order mark, CRLF line ends), for a
// period of `days`; user names are hashed when concealed.
std::string email_app_usage_csv(const UsageData& usage, Instant now, int days);

// {"signin_rows": …, "email_app_usage_rows": …, "concealed": …, "document": …}: the answer of
// /_sandbox/usage.
web::json::value usage_summary(const GraphState& graph);

// For Graph endpoints served elsewhere (mail.cpp): Graph's bearer check (the token's grant, or
// the 401 to answer) and Graph's error answer with its headers.
struct TokenGrant;
std::variant<const TokenGrant*, HttpResponse> check_graph_bearer(SandboxState& state, const HttpRequest& request);
HttpResponse graph_error_answer(const SandboxState& state, const HttpRequest& request, int status,
                                const std::string& code, const std::string& message);

}  // namespace sandbox
