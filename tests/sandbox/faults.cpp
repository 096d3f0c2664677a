#include "faults.h"

#include <algorithm>

#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

bool filter_matches(const std::optional<std::string>& filter, FaultSite site) {
    if (site.batch_item) return filter && iequals(*filter, site.cmdlet);
    return !filter || (!site.cmdlet.empty() && iequals(*filter, site.cmdlet));
}

bool filter_allows(const std::optional<std::string>& filter, std::string_view cmdlet) {
    return !filter || iequals(*filter, cmdlet);
}

// A whole $batch fires a fault filtered on a cmdlet when any of its items runs that cmdlet.
bool filter_allows_any(const std::optional<std::string>& filter, std::span<const std::string> cmdlets) {
    return !filter || std::any_of(cmdlets.begin(), cmdlets.end(),
                                  [&](const std::string& cmdlet) { return iequals(*filter, cmdlet); });
}

const auto always = [](const auto&) { return true; };

}  // namespace

std::optional<ThrottleFault> Faults::take_throttle(FaultSite site) {
    return take(settings_.throttle, "throttle", [&](const auto& fault) { return filter_matches(fault.cmdlet, site); });
}

std::optional<ServerErrorFault> Faults::take_server_error(FaultSite site) {
    return take(settings_.server_error, "server_error",
                [&](const auto& fault) { return filter_matches(fault.cmdlet, site); });
}

std::optional<TransientExceptionFault> Faults::take_transient_exception(std::string_view cmdlet) {
    return take(settings_.transient_exception, "transient_exception",
                [&](const auto& fault) { return filter_allows(fault.cmdlet, cmdlet); });
}

std::optional<DropConnectionFault> Faults::take_drop_connection(std::span<const std::string> cmdlets) {
    return take(settings_.drop_connection, "drop_connection",
                [&](const auto& fault) { return filter_allows_any(fault.cmdlet, cmdlets); });
}

std::optional<SlowAnswerFault> Faults::take_slow_answer(std::span<const std::string> cmdlets) {
    return take(settings_.slow_answer, "slow_answer",
                [&](const auto& fault) { return filter_allows_any(fault.cmdlet, cmdlets); });
}

std::optional<FailPageFault> Faults::take_fail_page(std::string_view cmdlet, int page_number) {
    return take(settings_.fail_page, "fail_page",
                [&](const auto& fault) { return fault.page == page_number && iequals(fault.cmdlet, cmdlet); });
}

bool Faults::take_nul_403() { return take(settings_.nul_403, "nul_403", always).has_value(); }

bool Faults::take_expire_tokens() { return take(settings_.expire_tokens, "expire_tokens", always).has_value(); }

std::optional<TokenErrorFault> Faults::take_token_error() { return take(settings_.token_error, "token_error", always); }

// Fires only once `after` token requests have gone by untouched.
std::optional<TokenGarbageFault> Faults::take_token_garbage() {
    if (settings_.token_garbage && settings_.token_garbage->after > 0) {
        --settings_.token_garbage->after;
        return std::nullopt;
    }
    return take(settings_.token_garbage, "token_garbage", always);
}

bool Faults::forbidden(std::string_view cmdlet) const {
    const auto& names = settings_.forbidden_cmdlets;
    return std::any_of(names.begin(), names.end(), [&](const std::string& name) { return iequals(name, cmdlet); });
}

bool Faults::forbids(std::string_view cmdlet) {
    const auto& names = settings_.forbidden_cmdlets;
    if (std::none_of(names.begin(), names.end(), [&](const std::string& name) { return iequals(name, cmdlet); }))
        return false;
    fired("forbidden_cmdlets");
    return true;
}

bool Faults::expires_links() {
    if (!settings_.expire_links) return false;
    fired("expire_links");
    return true;
}

std::optional<std::string> Faults::foreign_next_link() {
    if (!settings_.foreign_next_link) return std::nullopt;
    fired("foreign_next_link");
    return settings_.foreign_next_link;
}

std::optional<GraphThrottleFault> Faults::take_graph_throttle(std::string_view endpoint) {
    return take(settings_.graph_throttle, "graph_throttle",
                [&](const auto& fault) { return !fault.endpoint || iequals(*fault.endpoint, endpoint); });
}

bool Faults::take_graph_no_premium() {
    return take(settings_.graph_no_premium, "graph_no_premium", always).has_value();
}

bool Faults::take_graph_permission_missing() {
    return take(settings_.graph_permission_missing, "graph_permission_missing", always).has_value();
}

bool Faults::take_graph_stale_skiptoken(int page_number) {
    return take(settings_.graph_stale_skiptoken, "graph_stale_skiptoken",
                [&](const auto& fault) { return fault.page == page_number; })
        .has_value();
}

bool Faults::take_federation_propagating() {
    return take(settings_.federation_propagating, "federation_propagating", always).has_value();
}

std::optional<PlatformErrorFault> Faults::take_platform_error(Platform platform) {
    return take(settings_.platform_error, "platform_error",
                [&](const auto& fault) { return !fault.platform || *fault.platform == platform; });
}

bool Faults::take_platform_token_expired(Platform platform) {
    return take(settings_.platform_token_expired, "platform_token_expired",
                [&](const auto& fault) { return !fault.platform || *fault.platform == platform; })
        .has_value();
}

std::optional<PlatformWrongAudienceFault> Faults::take_platform_wrong_audience(Platform platform) {
    return take(settings_.platform_wrong_audience, "platform_wrong_audience",
                [&](const auto& fault) { return !fault.platform || *fault.platform == platform; });
}

bool Faults::take_github_pull_request_subject() {
    return take(settings_.github_pull_request_subject, "github_pull_request_subject", always).has_value();
}

std::optional<ManagedIdentityErrorFault> Faults::take_managed_identity_error(IdentityEndpoint endpoint) {
    return take(settings_.managed_identity_error, "managed_identity_error",
                [&](const auto& fault) { return !fault.endpoint || *fault.endpoint == endpoint; });
}

bool Faults::refuses_managed_identity_role() {
    if (!settings_.managed_identity_no_role) return false;
    fired("managed_identity_no_role");
    return true;
}

std::vector<std::string> Faults::graph_roles() const {
    std::vector<std::string> roles;
    for (const auto& role : graph_application_roles()) {
        const auto& missing = settings_.graph_missing_roles;
        if (std::find(missing.begin(), missing.end(), role) == missing.end()) roles.push_back(role);
    }
    return roles;
}

value Faults::report() const {
    value fired = value::object(true);
    for (const auto& [name, count] : fired_) fired[name] = value::number(count);
    value report = value::object(true);
    report["active"] = settings_.to_json();
    report["fired"] = fired;
    return report;
}

}  // namespace sandbox
