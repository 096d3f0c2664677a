// The fault document of POST /_sandbox/faults and --faults: read strictly (a misspelt member is
// refused rather than ignored) and written back with the counts that remain.
#include <algorithm>
#include <set>

#include "faults.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

[[noreturn]] void refuse(const std::string& member, const std::string& expectation) {
    throw std::invalid_argument("fault '" + member + "': " + expectation);
}

const value& object_member(const value& document, const char* name) {
    const value& member = document.at(name);
    if (!member.is_object()) refuse(name, "must be an object");
    return member;
}

void check_members(const value& object, const std::string& where, const std::set<std::string>& allowed) {
    for (const auto& [name, ignored] : object.as_object()) {
        if (!allowed.contains(name)) refuse(where, "has no member '" + name + "'");
    }
}

int integer(const value& object, const std::string& where, const char* name, int fallback, int minimum) {
    if (!object.has_field(name)) return fallback;
    const value& member = object.at(name);
    if (!member.is_integer() || member.as_integer() < minimum) {
        refuse(where + "." + name, "must be an integer of at least " + std::to_string(minimum));
    }
    return member.as_integer();
}

std::optional<std::string> cmdlet_filter(const value& object, const std::string& where) {
    if (!object.has_field("cmdlet") || object.at("cmdlet").is_null()) return std::nullopt;
    if (!object.at("cmdlet").is_string()) refuse(where + ".cmdlet", "must be a cmdlet name or null");
    return object.at("cmdlet").as_string();
}

// One of a few names, as its enumerator; `fallback` when the member is absent. The expectation
// lists the names in the order given.
template <typename Choice>
Choice choice(const value& object, const std::string& where, const char* name, Choice fallback,
              std::initializer_list<std::pair<const char*, Choice>> names) {
    if (!object.has_field(name)) return fallback;
    const value& member = object.at(name);
    std::string expectation = "must be ";
    std::size_t listed = 0;
    for (const auto& [text, chosen] : names) {
        if (member.is_string() && member.as_string() == text) return chosen;
        if (listed > 0) expectation += listed + 1 == names.size() ? " or " : ", ";
        expectation += "\"" + std::string(text) + "\"";
        ++listed;
    }
    refuse(where + "." + name, expectation);
}

bool flag(const value& document, const char* name) {
    if (!document.has_field(name)) return false;
    if (!document.at(name).is_boolean()) refuse(name, "must be true or false");
    return document.at(name).as_bool();
}

value optional_text(const std::optional<std::string>& text) { return text ? value::string(*text) : value::null(); }

// A Retry-After value: a string as sent ("0.5"), a number, or null for no header.
std::optional<std::string> retry_after_member(const value& object, const std::string& where,
                                              std::optional<std::string> fallback) {
    if (!object.has_field("retry_after")) return fallback;
    const value& retry_after = object.at("retry_after");
    if (retry_after.is_null()) return std::nullopt;
    if (retry_after.is_string()) return retry_after.as_string();
    if (retry_after.is_number()) return retry_after.serialize();
    refuse(where + ".retry_after", "must be a string such as \"0.5\", or null to send no Retry-After");
}

// The platform a platform_* fault is limited to: "github", "azure-devops", or null for either.
std::optional<Platform> platform_filter(const value& object, const std::string& where) {
    if (!object.has_field("platform") || object.at("platform").is_null()) return std::nullopt;
    return choice(object, where, "platform", Platform::github,
                  {{"github", Platform::github}, {"azure-devops", Platform::azure_devops}});
}

const char* platform_text(Platform platform) { return platform == Platform::github ? "github" : "azure-devops"; }

value optional_platform(const std::optional<Platform>& platform) {
    return platform ? value::string(platform_text(*platform)) : value::null();
}

// The Graph endpoints a graph_throttle can be limited to, as they are spelled in the fault.
const std::vector<std::string> kGraphEndpoints = {
    "signIns",          "getEmailAppUsageUserDetail", "reportSettings",
    "securityDefaults", "conditionalAccessPolicies",  "transitiveMemberOf"};

}  // namespace

FaultSettings FaultSettings::parse(const value& document) {
    if (!document.is_object()) throw std::invalid_argument("the fault document must be a JSON object");
    check_members(document, "document",
                  {"latency_ms",
                   "read_latency_ms",
                   "write_latency_ms",
                   "tls_resumption",
                   "throttle",
                   "server_error",
                   "transient_exception",
                   "drop_connection",
                   "fail_page",
                   "expire_links",
                   "foreign_next_link",
                   "forbidden_cmdlets",
                   "nul_403",
                   "expire_tokens",
                   "token_error",
                   "slow_answer",
                   "token_garbage",
                   "graph_throttle",
                   "graph_no_premium",
                   "graph_permission_missing",
                   "graph_stale_skiptoken",
                   "graph_missing_roles",
                   "federation_propagating",
                   "platform_error",
                   "platform_token_expired",
                   "platform_wrong_audience",
                   "github_pull_request_subject",
                   "managed_identity_error",
                   "managed_identity_no_role",
                   "send_mail",
                   "smtp",
                   "smtp_send_as_app",
                   "smtp_hve"});
    FaultSettings settings;
    settings.latency_ms = integer(document, "document", "latency_ms", 0, 0);
    for (auto [name, latency] : {std::pair{"read_latency_ms", &settings.read_latency_ms},
                                 std::pair{"write_latency_ms", &settings.write_latency_ms}}) {
        if (document.has_field(name) && !document.at(name).is_null())
            *latency = integer(document, "document", name, 0, 0);
    }
    if (document.has_field("tls_resumption")) {
        if (!document.at("tls_resumption").is_boolean()) refuse("tls_resumption", "must be true or false");
        settings.tls_resumption = document.at("tls_resumption").as_bool();
    }
    if (document.has_field("throttle")) {
        const value& member = object_member(document, "throttle");
        check_members(member, "throttle", {"count", "retry_after", "cmdlet"});
        settings.throttle = ThrottleFault{integer(member, "throttle", "count", 1, 0),
                                          retry_after_member(member, "throttle", "1"),
                                          cmdlet_filter(member, "throttle")};
    }
    if (document.has_field("server_error")) {
        const value& member = object_member(document, "server_error");
        check_members(member, "server_error", {"count", "status", "cmdlet"});
        ServerErrorFault fault{integer(member, "server_error", "count", 1, 0),
                               integer(member, "server_error", "status", 503, 0),
                               cmdlet_filter(member, "server_error")};
        if (fault.status != 500 && fault.status != 502 && fault.status != 503 && fault.status != 504)
            refuse("server_error.status", "must be 500, 502, 503 or 504");
        settings.server_error = fault;
    }
    if (document.has_field("transient_exception")) {
        const value& member = object_member(document, "transient_exception");
        check_members(member, "transient_exception", {"count", "name", "cmdlet"});
        TransientExceptionFault fault{integer(member, "transient_exception", "count", 1, 0), "DCOverloadedException",
                                      cmdlet_filter(member, "transient_exception")};
        if (member.has_field("name")) {
            if (!member.at("name").is_string() || member.at("name").as_string().empty()) {
                refuse("transient_exception.name", "must be an exception name such as \"DCOverloadedException\"");
            }
            fault.name = member.at("name").as_string();
        }
        settings.transient_exception = fault;
    }
    if (document.has_field("drop_connection")) {
        const value& member = object_member(document, "drop_connection");
        check_members(member, "drop_connection", {"count", "when", "cmdlet", "answer"});
        DropConnectionFault fault{integer(member, "drop_connection", "count", 1, 0), DropMoment::before_response,
                                  cmdlet_filter(member, "drop_connection")};
        fault.when = choice(member, "drop_connection", "when", fault.when,
                            {{"before_response", DropMoment::before_response},
                             {"before_processing", DropMoment::before_processing}});
        fault.answer = choice(member, "drop_connection", "answer", fault.answer,
                              {{"headers", DropAnswer::headers},
                               {"partial_body", DropAnswer::partial_body},
                               {"nothing", DropAnswer::nothing}});
        settings.drop_connection = fault;
    }
    if (document.has_field("slow_answer")) {
        const value& member = object_member(document, "slow_answer");
        check_members(member, "slow_answer", {"count", "delay_ms", "cmdlet"});
        settings.slow_answer = SlowAnswerFault{integer(member, "slow_answer", "count", 1, 0),
                                               integer(member, "slow_answer", "delay_ms", 5000, 0),
                                               cmdlet_filter(member, "slow_answer")};
        if (settings.slow_answer->delay_ms > 600000) refuse("slow_answer.delay_ms", "must be at most 600000");
    }
    if (document.has_field("fail_page")) {
        const value& member = object_member(document, "fail_page");
        check_members(member, "fail_page", {"count", "page", "status", "cmdlet"});
        FailPageFault fault{integer(member, "fail_page", "count", 1, 0), integer(member, "fail_page", "page", 2, 1),
                            integer(member, "fail_page", "status", 500, 400), "Get-CASMailbox"};
        if (fault.status > 599) refuse("fail_page.status", "must be an HTTP error status (400 to 599)");
        if (const auto cmdlet = cmdlet_filter(member, "fail_page")) fault.cmdlet = *cmdlet;
        settings.fail_page = fault;
    }
    settings.expire_links = flag(document, "expire_links");
    if (document.has_field("foreign_next_link")) {
        // true puts nextLinks on an origin nobody answers; a listener's origin lets a test see
        // whether anything is sent there.
        const value& member = document.at("foreign_next_link");
        if (member.is_boolean()) {
            if (member.as_bool()) settings.foreign_next_link = "https://attacker.invalid";
        } else if (member.is_string() && member.as_string().starts_with("https://") &&
                   member.as_string().find('/', 8) == std::string::npos) {
            settings.foreign_next_link = member.as_string();
        } else {
            refuse("foreign_next_link", "must be true, false or an origin such as \"https://127.0.0.1:8443\"");
        }
    }
    if (document.has_field("forbidden_cmdlets")) {
        const value& member = document.at("forbidden_cmdlets");
        if (!member.is_array()) refuse("forbidden_cmdlets", "must be a list of cmdlet names");
        for (const value& name : member.as_array()) {
            if (!name.is_string()) refuse("forbidden_cmdlets", "must be a list of cmdlet names");
            settings.forbidden_cmdlets.push_back(name.as_string());
        }
    }
    if (document.has_field("expire_tokens")) {
        const value& member = object_member(document, "expire_tokens");
        check_members(member, "expire_tokens", {"count"});
        settings.expire_tokens = ExpireTokensFault{integer(member, "expire_tokens", "count", 1, 0)};
    }
    if (document.has_field("nul_403")) {
        const value& member = object_member(document, "nul_403");
        check_members(member, "nul_403", {"count"});
        settings.nul_403 = Nul403Fault{integer(member, "nul_403", "count", 1, 0)};
    }
    if (document.has_field("token_error")) {
        const value& member = object_member(document, "token_error");
        check_members(member, "token_error", {"count", "code"});
        settings.token_error = TokenErrorFault{integer(member, "token_error", "count", 1, 0),
                                               integer(member, "token_error", "code", 700027, 1)};
    }
    if (document.has_field("token_garbage")) {
        const value& member = object_member(document, "token_garbage");
        check_members(member, "token_garbage", {"count", "kind", "after"});
        TokenGarbageFault fault{integer(member, "token_garbage", "count", 1, 0), TokenGarbage::html,
                                integer(member, "token_garbage", "after", 0, 0)};
        fault.kind = choice(member, "token_garbage", "kind", fault.kind,
                            {{"not_json", TokenGarbage::not_json},
                             {"html", TokenGarbage::html},
                             {"no_access_token", TokenGarbage::no_access_token}});
        settings.token_garbage = fault;
    }
    if (document.has_field("graph_throttle")) {
        const value& member = object_member(document, "graph_throttle");
        check_members(member, "graph_throttle", {"count", "retry_after", "endpoint"});
        GraphThrottleFault fault{integer(member, "graph_throttle", "count", 1, 0),
                                 retry_after_member(member, "graph_throttle", "10"), std::nullopt};
        if (member.has_field("endpoint") && !member.at("endpoint").is_null()) {
            const value& endpoint = member.at("endpoint");
            for (const auto& name : kGraphEndpoints) {
                if (endpoint.is_string() && iequals(endpoint.as_string(), name)) fault.endpoint = name;
            }
            if (!fault.endpoint)
                refuse("graph_throttle.endpoint",
                       "must be \"signIns\", \"getEmailAppUsageUserDetail\", \"reportSettings\", "
                       "\"securityDefaults\", \"conditionalAccessPolicies\", \"transitiveMemberOf\" or null");
        }
        settings.graph_throttle = fault;
    }
    for (const char* name : {"graph_no_premium", "graph_permission_missing"}) {
        if (!document.has_field(name)) continue;
        const value& member = object_member(document, name);
        check_members(member, name, {"count"});
        (std::string(name) == "graph_no_premium" ? settings.graph_no_premium : settings.graph_permission_missing) =
            GraphForbiddenFault{integer(member, name, "count", 1, 0)};
    }
    if (document.has_field("graph_stale_skiptoken")) {
        const value& member = object_member(document, "graph_stale_skiptoken");
        check_members(member, "graph_stale_skiptoken", {"count", "page"});
        settings.graph_stale_skiptoken =
            GraphStaleSkiptokenFault{integer(member, "graph_stale_skiptoken", "count", 1, 0),
                                     integer(member, "graph_stale_skiptoken", "page", 2, 2)};
    }
    if (document.has_field("graph_missing_roles")) {
        const value& member = document.at("graph_missing_roles");
        const std::string expectation =
            "must be a list of Graph roles among AuditLog.Read.All, Directory.Read.All, Reports.Read.All, "
            "ReportSettings.Read.All, Policy.Read.All and GroupMember.Read.All";
        if (!member.is_array()) refuse("graph_missing_roles", expectation);
        for (const value& name : member.as_array()) {
            const auto& roles = graph_application_roles();
            const auto role = std::find_if(roles.begin(), roles.end(), [&](const std::string& known) {
                return name.is_string() && iequals(known, name.as_string());
            });
            if (role == roles.end()) refuse("graph_missing_roles", expectation);
            settings.graph_missing_roles.push_back(*role);
        }
    }
    for (const char* name : {"federation_propagating", "github_pull_request_subject"}) {
        if (!document.has_field(name)) continue;
        const value& member = object_member(document, name);
        check_members(member, name, {"count"});
        const int count = integer(member, name, "count", 1, 0);
        if (std::string(name) == "federation_propagating") {
            settings.federation_propagating = FederationPropagatingFault{count};
        } else {
            settings.github_pull_request_subject = GithubPullRequestSubjectFault{count};
        }
    }
    if (document.has_field("platform_error")) {
        const value& member = object_member(document, "platform_error");
        check_members(member, "platform_error", {"count", "platform", "status"});
        settings.platform_error = PlatformErrorFault{integer(member, "platform_error", "count", 1, 0),
                                                     platform_filter(member, "platform_error"),
                                                     integer(member, "platform_error", "status", 500, 400)};
        if (settings.platform_error->status > 599)
            refuse("platform_error.status", "must be an HTTP error status (400 to 599)");
    }
    if (document.has_field("platform_token_expired")) {
        const value& member = object_member(document, "platform_token_expired");
        check_members(member, "platform_token_expired", {"count", "platform"});
        settings.platform_token_expired =
            PlatformTokenExpiredFault{integer(member, "platform_token_expired", "count", 1, 0),
                                      platform_filter(member, "platform_token_expired")};
    }
    if (document.has_field("platform_wrong_audience")) {
        const value& member = object_member(document, "platform_wrong_audience");
        check_members(member, "platform_wrong_audience", {"count", "platform", "audience"});
        PlatformWrongAudienceFault fault{integer(member, "platform_wrong_audience", "count", 1, 0),
                                         platform_filter(member, "platform_wrong_audience"), std::nullopt};
        if (member.has_field("audience") && !member.at("audience").is_null()) {
            if (!member.at("audience").is_string() || member.at("audience").as_string().empty())
                refuse("platform_wrong_audience.audience", "must be an audience such as \"api://other\" or null");
            fault.audience = member.at("audience").as_string();
        }
        settings.platform_wrong_audience = fault;
    }
    if (document.has_field("managed_identity_error")) {
        const value& member = object_member(document, "managed_identity_error");
        check_members(member, "managed_identity_error", {"count", "status", "endpoint", "retry_after"});
        ManagedIdentityErrorFault fault{integer(member, "managed_identity_error", "count", 1, 0),
                                        integer(member, "managed_identity_error", "status", 500, 400), std::nullopt,
                                        retry_after_member(member, "managed_identity_error", std::nullopt)};
        if (fault.status > 599) refuse("managed_identity_error.status", "must be an HTTP error status (400 to 599)");
        if (member.has_field("endpoint") && !member.at("endpoint").is_null()) {
            fault.endpoint = choice(member, "managed_identity_error", "endpoint", IdentityEndpoint::imds,
                                    {{"imds", IdentityEndpoint::imds},
                                     {"app_service", IdentityEndpoint::app_service},
                                     {"arc", IdentityEndpoint::arc}});
        }
        settings.managed_identity_error = fault;
    }
    settings.managed_identity_no_role = flag(document, "managed_identity_no_role");
    settings.mail = MailFaults::parse(document);
    return settings;
}

value FaultSettings::to_json() const {
    value document = value::object(true);
    document["latency_ms"] = value::number(latency_ms);
    if (read_latency_ms) document["read_latency_ms"] = value::number(*read_latency_ms);
    if (write_latency_ms) document["write_latency_ms"] = value::number(*write_latency_ms);
    if (!tls_resumption) document["tls_resumption"] = value::boolean(false);
    if (throttle) {
        value member = value::object(true);
        member["count"] = value::number(throttle->count);
        member["retry_after"] = optional_text(throttle->retry_after);
        member["cmdlet"] = optional_text(throttle->cmdlet);
        document["throttle"] = member;
    }
    if (server_error) {
        value member = value::object(true);
        member["count"] = value::number(server_error->count);
        member["status"] = value::number(server_error->status);
        member["cmdlet"] = optional_text(server_error->cmdlet);
        document["server_error"] = member;
    }
    if (transient_exception) {
        value member = value::object(true);
        member["count"] = value::number(transient_exception->count);
        member["name"] = value::string(transient_exception->name);
        member["cmdlet"] = optional_text(transient_exception->cmdlet);
        document["transient_exception"] = member;
    }
    if (drop_connection) {
        value member = value::object(true);
        member["count"] = value::number(drop_connection->count);
        member["when"] = value::string(drop_connection->when == DropMoment::before_processing ? "before_processing"
                                                                                              : "before_response");
        member["cmdlet"] = optional_text(drop_connection->cmdlet);
        member["answer"] = value::string(drop_connection->answer == DropAnswer::partial_body ? "partial_body"
                                         : drop_connection->answer == DropAnswer::nothing    ? "nothing"
                                                                                             : "headers");
        document["drop_connection"] = member;
    }
    if (slow_answer) {
        value member = value::object(true);
        member["count"] = value::number(slow_answer->count);
        member["delay_ms"] = value::number(slow_answer->delay_ms);
        member["cmdlet"] = optional_text(slow_answer->cmdlet);
        document["slow_answer"] = member;
    }
    if (fail_page) {
        value member = value::object(true);
        member["count"] = value::number(fail_page->count);
        member["page"] = value::number(fail_page->page);
        member["status"] = value::number(fail_page->status);
        member["cmdlet"] = value::string(fail_page->cmdlet);
        document["fail_page"] = member;
    }
    document["expire_links"] = value::boolean(expire_links);
    document["foreign_next_link"] = foreign_next_link ? value::string(*foreign_next_link) : value::boolean(false);
    std::vector<value> forbidden;
    for (const auto& name : forbidden_cmdlets) forbidden.push_back(value::string(name));
    document["forbidden_cmdlets"] = value::array(forbidden);
    if (nul_403) {
        value member = value::object(true);
        member["count"] = value::number(nul_403->count);
        document["nul_403"] = member;
    }
    if (expire_tokens) {
        value member = value::object(true);
        member["count"] = value::number(expire_tokens->count);
        document["expire_tokens"] = member;
    }
    if (token_error) {
        value member = value::object(true);
        member["count"] = value::number(token_error->count);
        member["code"] = value::number(token_error->code);
        document["token_error"] = member;
    }
    if (token_garbage) {
        value member = value::object(true);
        member["count"] = value::number(token_garbage->count);
        member["kind"] = value::string(token_garbage->kind == TokenGarbage::not_json          ? "not_json"
                                       : token_garbage->kind == TokenGarbage::no_access_token ? "no_access_token"
                                                                                              : "html");
        member["after"] = value::number(token_garbage->after);
        document["token_garbage"] = member;
    }
    if (graph_throttle) {
        value member = value::object(true);
        member["count"] = value::number(graph_throttle->count);
        member["retry_after"] = optional_text(graph_throttle->retry_after);
        member["endpoint"] = optional_text(graph_throttle->endpoint);
        document["graph_throttle"] = member;
    }
    for (const auto& [name, fault] : {std::pair{"graph_no_premium", &graph_no_premium},
                                      std::pair{"graph_permission_missing", &graph_permission_missing}}) {
        if (!*fault) continue;
        value member = value::object(true);
        member["count"] = value::number((*fault)->count);
        document[name] = member;
    }
    if (graph_stale_skiptoken) {
        value member = value::object(true);
        member["count"] = value::number(graph_stale_skiptoken->count);
        member["page"] = value::number(graph_stale_skiptoken->page);
        document["graph_stale_skiptoken"] = member;
    }
    if (!graph_missing_roles.empty()) {
        std::vector<value> roles;
        for (const auto& role : graph_missing_roles) roles.push_back(value::string(role));
        document["graph_missing_roles"] = value::array(roles);
    }
    for (const auto& [name, count] :
         {std::pair{"federation_propagating", federation_propagating ? federation_propagating->count : -1},
          std::pair{"github_pull_request_subject",
                    github_pull_request_subject ? github_pull_request_subject->count : -1}}) {
        if (count < 0) continue;
        value member = value::object(true);
        member["count"] = value::number(count);
        document[name] = member;
    }
    if (platform_error) {
        value member = value::object(true);
        member["count"] = value::number(platform_error->count);
        member["platform"] = optional_platform(platform_error->platform);
        member["status"] = value::number(platform_error->status);
        document["platform_error"] = member;
    }
    if (platform_token_expired) {
        value member = value::object(true);
        member["count"] = value::number(platform_token_expired->count);
        member["platform"] = optional_platform(platform_token_expired->platform);
        document["platform_token_expired"] = member;
    }
    if (platform_wrong_audience) {
        value member = value::object(true);
        member["count"] = value::number(platform_wrong_audience->count);
        member["platform"] = optional_platform(platform_wrong_audience->platform);
        member["audience"] = optional_text(platform_wrong_audience->audience);
        document["platform_wrong_audience"] = member;
    }
    if (managed_identity_error) {
        value member = value::object(true);
        member["count"] = value::number(managed_identity_error->count);
        member["status"] = value::number(managed_identity_error->status);
        const auto endpoint = managed_identity_error->endpoint;
        member["endpoint"] = !endpoint                                    ? value::null()
                             : *endpoint == IdentityEndpoint::imds        ? value::string("imds")
                             : *endpoint == IdentityEndpoint::app_service ? value::string("app_service")
                                                                          : value::string("arc");
        member["retry_after"] = optional_text(managed_identity_error->retry_after);
        document["managed_identity_error"] = member;
    }
    if (managed_identity_no_role) document["managed_identity_no_role"] = value::boolean(true);
    mail.add_to(document);
    return document;
}

int FaultSettings::latency_ms_for(AdminRequestKind kind) const {
    if (kind == AdminRequestKind::read && read_latency_ms) return *read_latency_ms;
    if (kind == AdminRequestKind::write && write_latency_ms) return *write_latency_ms;
    return latency_ms;
}

}  // namespace sandbox
