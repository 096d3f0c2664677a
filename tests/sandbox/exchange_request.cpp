#include "exchange_request.h"

#include <limits>
#include <variant>

#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr const char* kExchangeAppId = "00000002-0000-0ff1-ce00-000000000000";
constexpr std::string_view kSystemMailbox = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@";

HttpResponse unauthorized(const std::string& reason, const std::string& diagnostic = "2000001",
                          const std::string& category = "invalid_token") {
    HttpResponse response;
    response.status = 401;
    response.headers.set(
        "WWW-Authenticate",
        "Bearer client_id=\"" + std::string(kExchangeAppId) +
            "\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", token_types=\"app_asserted_user_v1 "
            "service_asserted_app_v1\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/"
            "authorize\", error=\"invalid_token\"");
    response.headers.set("x-ms-diagnostics",
                         diagnostic + ";reason=\"" + reason + "\";error_category=\"" + category + "\"");
    return response;
}

std::vector<std::string> preferences(const Headers& headers) {
    std::vector<std::string> found;
    if (const auto prefer = headers.get("Prefer")) {
        for (const auto& part : split(*prefer, ',')) found.emplace_back(trim(part));
    }
    return found;
}

// odata.maxpagesize: a positive number; one above the server's maximum is lowered to it.
std::variant<size_t, ExchangeError> page_size(const Headers& headers, size_t maximum) {
    constexpr std::string_view kPreference = "odata.maxpagesize=";
    for (const auto& preference : preferences(headers)) {
        if (!istarts_with(preference, kPreference)) continue;
        const std::string number = preference.substr(kPreference.size());
        if (number.empty() || number.size() > 9 || number.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(number) == 0) {
            return exchange::request_error(400, "BadRequest",
                                           "The preference odata.maxpagesize=" + number +
                                               " is not valid: it must be a "
                                               "positive number (pages hold at most " +
                                               std::to_string(maximum) + ").");
        }
        return std::min<size_t>(std::stoul(number), maximum);
    }
    return maximum;
}

std::vector<std::string> select_list(const QueryParameters& query) {
    std::vector<std::string> names;
    for (const auto& [key, content] : query) {
        if (key != "$select") continue;
        for (const auto& name : split(content, ',')) {
            if (!trim(name).empty()) names.emplace_back(trim(name));
        }
    }
    return names;
}

ExchangeError bad_body(const std::string& what) {
    return exchange::request_error(400, "BadRequest",
                                   "The request body is not a valid InvokeCommand body: " + what +
                                       " Expected {\"CmdletInput\":{\"CmdletName\":\"…\",\"Parameters\":{…}}}.");
}

}  // namespace

std::optional<HttpResponse> check_bearer(SandboxState& state, const HttpRequest& request) {
    const auto authorization = request.headers.get("Authorization");
    if (!authorization || !istarts_with(*authorization, "Bearer ")) {
        return unauthorized("The Authorization header is missing or is not a Bearer token.");
    }
    if (state.faults.take_expire_tokens()) state.tokens.expire_all(state.clock());
    const std::string_view token = trim(std::string_view(*authorization).substr(7));
    switch (state.tokens.check(token, state.clock())) {
        case AccessTokens::Check::valid: {
            // A token for Microsoft Graph is not one for Exchange.
            const TokenGrant* grant = state.tokens.grant(token);
            if (grant != nullptr && grant->audience == kGraphResource)
                return unauthorized("The audience claim value is invalid '" + grant->audience + "'.", "2000003",
                                    "invalid_resource");
            return std::nullopt;
        }
        case AccessTokens::Check::expired: return unauthorized("The token has expired.");
        case AccessTokens::Check::unknown: break;
    }
    return unauthorized("The token is not one this tenant's token endpoint issued.");
}

std::optional<ExchangeError> check_anchor_mailbox(const SandboxState& state, const HttpRequest& request) {
    const auto anchor = request.headers.get("X-AnchorMailbox");
    const std::string expected = "APP:" + std::string(kSystemMailbox) + state.config.tenant;
    if (!anchor) {
        return exchange::request_error(
            400, "BadRequest", "The X-AnchorMailbox header is missing. Send X-AnchorMailbox: " + expected + ".");
    }
    if (istarts_with(*anchor, "APP:")) {
        const std::string_view rest = std::string_view(*anchor).substr(4);
        const std::string_view tenant = rest.substr(std::min(rest.size(), kSystemMailbox.size()));
        if (istarts_with(rest, kSystemMailbox) && state.serves_tenant(tenant) &&
            (!state.config.behaviours.tenant_guid_only || iequals(tenant, state.tenant_guid())))
            return std::nullopt;
    } else if (istarts_with(*anchor, "UPN:")) {
        const size_t at = anchor->find('@');
        if (at != std::string::npos && at > 4 && at + 1 < anchor->size()) return std::nullopt;
    }
    return exchange::request_error(400, "BadRequest",
                                   "The X-AnchorMailbox header '" + *anchor +
                                       "' is not valid for this tenant. Send X-AnchorMailbox: " + expected + ".");
}

bool prefers(const Headers& headers, std::string_view preference) {
    for (const auto& found : preferences(headers)) {
        if (iequals(found, preference)) return true;
    }
    return false;
}

std::variant<CmdletCall, ExchangeError> read_cmdlet_call(const SandboxState& state, const Headers& headers,
                                                         const QueryParameters& query, const std::string& body,
                                                         bool require_content_type) {
    const auto content_type = headers.get("Content-Type");
    if ((content_type || require_content_type) && !(content_type && istarts_with(*content_type, "application/json"))) {
        return exchange::request_error(415, "UnsupportedMediaType",
                                       "The request Content-Type must be application/json.");
    }
    if (const auto format = headers.get("X-ResponseFormat"); format && !iequals(*format, "json")) {
        return exchange::request_error(400, "BadRequest",
                                       "X-ResponseFormat '" + *format + "' is not served by the sandbox; send json.");
    }
    const auto size = page_size(headers, state.config.page_size_max);
    if (const auto* error = std::get_if<ExchangeError>(&size)) return *error;
    CmdletCall call;
    call.page_size = std::get<size_t>(size);
    // Asked for no page size: --whole-without-prefer answers every row at once.
    if (state.config.behaviours.whole_without_prefer &&
        std::get<size_t>(page_size(headers, std::numeric_limits<size_t>::max())) == std::numeric_limits<size_t>::max())
        call.page_size = std::numeric_limits<size_t>::max();
    call.select = select_list(query);
    call.skiptoken = query_value(query, "$skiptoken");
    call.anchor = headers.get("X-AnchorMailbox").value_or("");

    value parsed;
    try {
        parsed = value::parse(body);
    } catch (const web::json::json_exception& problem) {
        return bad_body(std::string("it is not JSON (") + problem.what() + ").");
    }
    if (!parsed.is_object() || !parsed.has_field("CmdletInput") || !parsed.at("CmdletInput").is_object()) {
        return bad_body("CmdletInput is missing or not an object.");
    }
    const value& input = parsed.at("CmdletInput");
    if (!input.has_field("CmdletName") || !input.at("CmdletName").is_string() ||
        input.at("CmdletName").as_string().empty()) {
        return bad_body("CmdletInput.CmdletName is missing or not a string.");
    }
    call.cmdlet = input.at("CmdletName").as_string();
    if (input.has_field("Parameters") && !input.at("Parameters").is_null()) {
        if (!input.at("Parameters").is_object()) return bad_body("CmdletInput.Parameters is not an object.");
        call.parameters = input.at("Parameters");
    }
    const auto named = headers.get("X-CmdletName");
    if (!named || !iequals(*named, call.cmdlet)) {
        return exchange::request_error(400, "BadRequest",
                                       "The X-CmdletName header ('" + named.value_or("") +
                                           "') must name the cmdlet of the body ('" + call.cmdlet + "').");
    }
    call.client_request_id = headers.get("client-request-id").value_or("");
    return call;
}

}  // namespace sandbox
