#include "mail.h"

#include <algorithm>
#include <set>
#include <variant>

#include "crypto.h"
#include "graph_api.h"
#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr const char* kAccessDenied = "Access is denied. Check credentials and try again.";
constexpr const char* kAccessPolicy =
    "Access to OData is disabled.: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.";
constexpr const char* kMailboxNotEnabled = "The mailbox is either inactive, soft-deleted, or is hosted on-premise.";
constexpr const char* kSmtpAuthFailed = "535 5.7.3 Authentication unsuccessful [sandbox.authgate.test]";
constexpr const char* kSmtpAuthDisabled =
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
    "https://aka.ms/smtp_auth_disabled for more information. [sandbox.authgate.test]";
constexpr const char* kSmtpBasicRefused =
    "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [sandbox.authgate.test]";

std::vector<std::string> mail_path_segments(std::string_view path) { return split(path, '/'); }

// The mailbox an address or ExternalDirectoryObjectId names (case-insensitive), or nullptr.
const value* mailbox_named(const Tenant& tenant, std::string_view name) {
    if (trim(name).empty()) return nullptr;
    for (const auto& mailbox : tenant.mailboxes()) {
        if (iequals(text_property(*mailbox, "PrimarySmtpAddress"), name) ||
            iequals(text_property(*mailbox, "ExternalDirectoryObjectId"), name))
            return mailbox.get();
    }
    return nullptr;
}

const value* mailbox_by_address(const Tenant& tenant, std::string_view address) {
    for (const auto& mailbox : tenant.mailboxes()) {
        if (iequals(text_property(*mailbox, "PrimarySmtpAddress"), address)) return mailbox.get();
    }
    return nullptr;
}

// Graph's 400 for a body it cannot take.
struct BodyProblem {
    std::string code;
    std::string message;
};

std::variant<std::vector<value>, BodyProblem> read_recipients(const value& message, const char* name, bool required) {
    std::vector<value> addresses;
    if (!message.has_field(name) || message.at(name).is_null()) {
        if (required)
            return BodyProblem{"ErrorInvalidRecipients",
                               "At least one recipient is not valid., A message can't be sent because it contains no "
                               "recipients."};
        return addresses;
    }
    const value& list = message.at(name);
    if (!list.is_array())
        return BodyProblem{"RequestBodyRead", "An unexpected 'StartObject' node was found for property named '" +
                                                  std::string(name) +
                                                  "' when reading from the JSON reader. A "
                                                  "'StartArray' node was expected."};
    for (const auto& entry : list.as_array()) {
        const value* address = nullptr;
        if (entry.is_object() && entry.has_field("emailAddress") && entry.at("emailAddress").is_object() &&
            entry.at("emailAddress").has_field("address") && entry.at("emailAddress").at("address").is_string())
            address = &entry.at("emailAddress").at("address");
        if (address == nullptr || address->as_string().find('@') == std::string::npos ||
            trim(address->as_string()).size() != address->as_string().size())
            return BodyProblem{"ErrorInvalidRecipients", "At least one recipient is not valid., Recipient '" +
                                                             (address ? address->as_string() : std::string()) +
                                                             "' is not resolved. All recipients must be resolved "
                                                             "before a message can be submitted."};
        addresses.push_back(value::string(address->as_string()));
    }
    if (required && addresses.empty())
        return BodyProblem{"ErrorInvalidRecipients",
                           "At least one recipient is not valid., A message can't be sent because it contains no "
                           "recipients."};
    return addresses;
}

BodyProblem unknown_property(const std::string& name, const char* type) {
    return BodyProblem{"RequestBodyRead",
                       "The property '" + name + "' does not exist on type '" + type +
                           "'. Make sure to only use property names that are defined by the type or mark the type as "
                           "open type."};
}

// The record of a sendMail body, or the 400 to answer.
std::variant<value, BodyProblem> read_send_mail_body(const std::string& body) {
    value document;
    try {
        document = value::parse(body);
    } catch (const web::json::json_exception&) {
        return BodyProblem{"RequestBodyRead", "Invalid JSON. The request body could not be read."};
    }
    if (!document.is_object() || !document.has_field("message") || !document.at("message").is_object())
        return BodyProblem{"RequestBodyRead", "The request body must be a JSON object with a 'message' object."};
    for (const auto& [name, ignored] : document.as_object()) {
        if (name != "message" && name != "saveToSentItems") return unknown_property(name, "Action.sendMail");
    }
    const value& message = document.at("message");
    static const std::set<std::string> known = {"subject",       "body",    "toRecipients", "ccRecipients",
                                                "bccRecipients", "replyTo", "importance",   "internetMessageHeaders"};
    for (const auto& [name, ignored] : message.as_object()) {
        if (!known.contains(name)) return unknown_property(name, "microsoft.graph.message");
    }
    value record = value::object(true);
    record["transport"] = value::string("graph");
    const auto recipients = [&](const char* name, bool required) -> std::variant<value, BodyProblem> {
        auto read = read_recipients(message, name, required);
        if (auto* problem = std::get_if<BodyProblem>(&read)) return *problem;
        return value::array(std::get<std::vector<value>>(read));
    };
    for (const auto& [name, field, required] :
         {std::tuple{"toRecipients", "to", true}, std::tuple{"ccRecipients", "cc", false},
          std::tuple{"bccRecipients", "bcc", false}}) {
        auto read = recipients(name, required);
        if (auto* problem = std::get_if<BodyProblem>(&read)) return *problem;
        record[field] = std::get<value>(read);
    }
    if (message.has_field("subject") && !message.at("subject").is_string() && !message.at("subject").is_null())
        return BodyProblem{"RequestBodyRead", "Cannot convert the literal to the expected type 'Edm.String'."};
    record["subject"] = value::string(message.has_field("subject") && message.at("subject").is_string()
                                          ? message.at("subject").as_string()
                                          : std::string());
    std::string content_type = "Text";
    std::string content;
    if (message.has_field("body") && !message.at("body").is_null()) {
        const value& mail_body = message.at("body");
        if (!mail_body.is_object())
            return BodyProblem{"RequestBodyRead", "The property 'body' must be an itemBody object."};
        for (const auto& [name, ignored] : mail_body.as_object()) {
            if (name != "contentType" && name != "content") return unknown_property(name, "microsoft.graph.itemBody");
        }
        if (mail_body.has_field("contentType")) {
            const value& type = mail_body.at("contentType");
            if (type.is_string() && iequals(type.as_string(), "text")) {
                content_type = "Text";
            } else if (type.is_string() && iequals(type.as_string(), "html")) {
                content_type = "HTML";
            } else {
                return BodyProblem{"RequestBodyRead", "Cannot convert a primitive value to the expected type "
                                                      "'microsoft.graph.bodyType'. Use 'Text' or 'HTML'."};
            }
        }
        if (mail_body.has_field("content")) {
            if (!mail_body.at("content").is_string())
                return BodyProblem{"RequestBodyRead", "Cannot convert the literal to the expected type 'Edm.String'."};
            content = mail_body.at("content").as_string();
        }
    }
    record["content_type"] = value::string(content_type);
    record["content"] = value::string(content);
    std::vector<value> headers;
    if (message.has_field("internetMessageHeaders") && !message.at("internetMessageHeaders").is_null()) {
        const value& list = message.at("internetMessageHeaders");
        if (!list.is_array())
            return BodyProblem{"RequestBodyRead", "The property 'internetMessageHeaders' must be an array."};
        for (const auto& header : list.as_array()) {
            if (!header.is_object() || !header.has_field("name") || !header.at("name").is_string() ||
                !header.has_field("value") || !header.at("value").is_string())
                return BodyProblem{"RequestBodyRead",
                                   "Each internet message header must be an object with a string 'name' and "
                                   "'value'."};
            const std::string& name = header.at("name").as_string();
            if (!istarts_with(name, "x-"))
                return BodyProblem{"InvalidInternetMessageHeader",
                                   "The internet message header name '" + name + "' should start with 'x-' or 'X-'."};
            value kept = value::object(true);
            kept["name"] = value::string(name);
            kept["value"] = header.at("value");
            headers.push_back(kept);
        }
    }
    record["headers"] = value::array(headers);
    bool save = true;
    if (document.has_field("saveToSentItems") && !document.at("saveToSentItems").is_null()) {
        if (!document.at("saveToSentItems").is_boolean())
            return BodyProblem{"RequestBodyRead", "Cannot convert the literal to the expected type 'Edm.Boolean'."};
        save = document.at("saveToSentItems").as_bool();
    }
    record["save_to_sent_items"] = value::boolean(save);
    return record;
}

HttpResponse send_mail_fault_answer(const SandboxState& state, const HttpRequest& request, const SendMailFault& fault,
                                    const std::string& sender) {
    switch (fault.answer) {
        case SendMailAnswer::access_policy:
            return graph_error_answer(state, request, 403, "ErrorAccessDenied", kAccessPolicy);
        case SendMailAnswer::access_denied:
            return graph_error_answer(state, request, 403, "ErrorAccessDenied", kAccessDenied);
        case SendMailAnswer::invalid_user:
            return graph_error_answer(state, request, 404, "ErrorInvalidUser",
                                      "The requested user '" + sender + "' is invalid.");
        case SendMailAnswer::mailbox_not_enabled:
            return graph_error_answer(state, request, 404, "MailboxNotEnabledForRESTAPI", kMailboxNotEnabled);
        case SendMailAnswer::throttled: {
            HttpResponse response = graph_error_answer(state, request, 429, "ApplicationThrottled",
                                                       "Application is over its MailboxConcurrency limit.");
            if (fault.retry_after) response.headers.set("Retry-After", *fault.retry_after);
            return response;
        }
        case SendMailAnswer::server_error: break;
    }
    return fault.status == 500
               ? graph_error_answer(state, request, 500, "ErrorInternalServerError",
                                    "An internal server error occurred. The operation failed.")
               : graph_error_answer(state, request, 503, "ServiceUnavailable", "Service unavailable. Try again later.");
}

// SMTP addresses of the tenant's domains: its mailboxes' and its onmicrosoft.com domain.
bool in_tenant_domains(const SandboxState& state, std::string_view address) {
    const size_t at = address.rfind('@');
    if (at == std::string_view::npos) return false;
    const std::string_view domain = address.substr(at + 1);
    if (iequals(domain, state.config.tenant)) return true;
    for (const auto& mailbox : state.tenant.mailboxes()) {
        const std::string primary = text_property(*mailbox, "PrimarySmtpAddress");
        const size_t mailbox_at = primary.rfind('@');
        if (mailbox_at != std::string::npos && iequals(std::string_view(primary).substr(mailbox_at + 1), domain))
            return true;
    }
    return false;
}

// The Message-ID header of a message's header section, or "".
std::string message_id_of(const std::string& message) {
    size_t start = 0;
    while (start < message.size()) {
        size_t end = message.find('\n', start);
        if (end == std::string::npos) end = message.size();
        std::string_view line(message.data() + start, end - start);
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (line.empty()) break;  // the end of the headers
        if (istarts_with(line, "Message-ID:")) return std::string(trim(line.substr(11)));
        start = end + 1;
    }
    return "";
}

}  // namespace

bool is_send_mail_path(std::string_view path) {
    const std::vector<std::string> segments = mail_path_segments(path);
    return segments.size() == 5 && segments[1] == "v1.0" && iequals(segments[2], "users") &&
           iequals(segments[4], "sendMail");
}

HttpResponse handle_send_mail(SandboxState& state, const HttpRequest& request) {
    ++state.mail.send_mail_calls;
    if (request.method != "POST")
        return graph_error_answer(state, request, 405, "Request_BadRequest",
                                  "The HTTP method '" + request.method + "' is not allowed for sendMail; use POST.");
    const auto bearer = check_graph_bearer(state, request);
    if (const auto* refusal = std::get_if<HttpResponse>(&bearer)) return *refusal;
    const TokenGrant& grant = *std::get<const TokenGrant*>(bearer);
    if (std::find(grant.roles.begin(), grant.roles.end(), "Mail.Send") == grant.roles.end())
        return graph_error_answer(state, request, 403, "ErrorAccessDenied", kAccessDenied);
    const std::string sender = mail_path_segments(request.path)[3];
    if (const auto fault = state.faults.take_send_mail()) return send_mail_fault_answer(state, request, *fault, sender);
    const value* mailbox = mailbox_named(state.tenant, sender);
    if (mailbox == nullptr)
        return graph_error_answer(state, request, 404, "ErrorInvalidUser",
                                  "The requested user '" + sender + "' is invalid.");
    auto read = read_send_mail_body(request.body);
    if (const auto* problem = std::get_if<BodyProblem>(&read))
        return graph_error_answer(state, request, 400, problem->code, problem->message);
    value record = value::object(true);
    record["transport"] = value::string("graph");
    record["sender"] = value::string(text_property(*mailbox, "PrimarySmtpAddress"));
    record["sender_as_addressed"] = value::string(sender);
    for (const auto& [name, field] : std::get<value>(read).as_object()) {
        if (name != "transport") record[name] = field;
    }
    const std::string request_id = random_guid();
    record["request_id"] = value::string(request_id);
    record["received"] = value::string(rfc3339(state.clock()));
    state.mail.messages.push_back(record);
    HttpResponse response;
    response.status = 202;
    response.headers.set("request-id", request_id);
    response.headers.set("client-request-id", request.headers.get("client-request-id").value_or(request_id));
    response.headers.set("Date", http_date(state.clock()));
    return response;
}

HttpResponse handle_mail_control(SandboxState& state, const HttpRequest& request) {
    if (request.method == "DELETE") {
        state.mail.messages.clear();
        state.mail.send_mail_calls = 0;
        state.mail.smtp_auth_attempts = 0;
    } else if (request.method != "GET") {
        value problem = value::object(true);
        problem["error"] = value::string("use GET or DELETE on /_sandbox/mail");
        return HttpResponse::json(405, problem);
    }
    value document = value::object(true);
    document["messages"] = value::array(state.mail.messages);
    document["send_mail_calls"] = value::number(state.mail.send_mail_calls);
    document["smtp_auth_attempts"] = value::number(state.mail.smtp_auth_attempts);
    if (state.mail.smtp_port != 0) document["smtp_port"] = value::number(state.mail.smtp_port);
    document["smtp_hve"] = value::boolean(state.mail.hve || state.faults.smtp_hve());
    return HttpResponse::json(200, document);
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string_view body = text;
    if (text.size() % 4 == 0) {
        while (body.ends_with('=') && text.size() - body.size() < 2) body.remove_suffix(1);
    }
    if (body.find('=') != std::string_view::npos) return std::nullopt;
    std::string url(body);
    for (char& c : url) {
        if (c == '-' || c == '_') return std::nullopt;
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return base64url_decode(url);
}

SmtpAuthOutcome smtp_authenticate(SandboxState& state, std::string_view response) {
    ++state.mail.smtp_auth_attempts;
    // user=<address>\x01auth=Bearer <token>\x01\x01
    const auto decoded = base64_decode(trim(response));
    if (!decoded || !decoded->ends_with("\x01\x01")) return {"501 5.5.2 Cannot Decode response", std::nullopt};
    const std::vector<std::string> fields = split(std::string_view(*decoded).substr(0, decoded->size() - 2), '\x01');
    if (fields.size() != 2 || !fields[0].starts_with("user=") ||
        !(fields[1].starts_with("auth=Bearer ") || fields[1].starts_with("Auth=Bearer ")))
        return {"501 5.5.2 Cannot Decode response", std::nullopt};
    const std::string user = fields[0].substr(5);
    const std::string_view token = trim(std::string_view(fields[1]).substr(12));
    if (user.empty() || token.empty()) return {"501 5.5.2 Cannot Decode response", std::nullopt};
    if (const auto fault = state.faults.take_smtp(SmtpStage::auth)) return {fault->reply, std::nullopt};

    // The bearer as Exchange's admin API takes it (issued here, not expired, for this tenant, for
    // the sandbox's own origin: Exchange's audience), with the SMTP.SendAsApp role.
    if (state.tokens.check(token, state.clock()) != AccessTokens::Check::valid) return {kSmtpAuthFailed, std::nullopt};
    const TokenGrant* grant = state.tokens.grant(token);
    const auto origins = state.origins();
    if (grant == nullptr || std::find(origins.begin(), origins.end(), grant->audience) == origins.end() ||
        std::find(grant->roles.begin(), grant->roles.end(), "SMTP.SendAsApp") == grant->roles.end())
        return {kSmtpAuthFailed, std::nullopt};
    const value* mailbox = mailbox_by_address(state.tenant, user);
    if (mailbox == nullptr) return {kSmtpAuthFailed, std::nullopt};
    if (!state.mail.hve && !state.faults.smtp_hve()) {
        const bool tenant_disabled =
            state.tenant.transport_config.has_field("SmtpClientAuthenticationDisabled") &&
            state.tenant.transport_config.at("SmtpClientAuthenticationDisabled").is_boolean() &&
            state.tenant.transport_config.at("SmtpClientAuthenticationDisabled").as_bool();
        bool disabled = tenant_disabled;
        if (mailbox->has_field("SmtpClientAuthenticationDisabled") &&
            mailbox->at("SmtpClientAuthenticationDisabled").is_boolean())
            disabled = mailbox->at("SmtpClientAuthenticationDisabled").as_bool();
        if (disabled) return {kSmtpAuthDisabled, std::nullopt};
    }
    return {"235 2.7.0 Authentication successful", user};
}

std::string smtp_refuse_mechanism(SandboxState& state, std::string_view mechanism) {
    ++state.mail.smtp_auth_attempts;
    if (iequals(mechanism, "LOGIN") || iequals(mechanism, "PLAIN")) return kSmtpBasicRefused;
    return "504 5.7.4 Unrecognized authentication type";
}

std::optional<std::string> smtp_refuse_recipient(const SandboxState& state, std::string_view address) {
    if (address.find('@') == std::string_view::npos) return "501 5.1.3 Invalid address";
    if ((state.mail.hve || state.faults.smtp_hve()) && !in_tenant_domains(state, address))
        return "550 5.5.105 External sending is not supported for High Volume Email accounts";
    return std::nullopt;
}

std::string smtp_accept_message(SandboxState& state, const std::string& user, const std::string& mail_from,
                                const std::vector<std::string>& recipients, const std::string& message) {
    if (const auto fault = state.faults.take_smtp(SmtpStage::data)) return fault->reply;
    std::string message_id = message_id_of(message);
    if (message_id.empty()) message_id = "<" + random_guid() + "@" + kSmtpHostname + ">";
    value record = value::object(true);
    record["transport"] = value::string("smtp");
    record["auth_user"] = value::string(user);
    record["mail_from"] = value::string(mail_from);
    std::vector<value> to;
    for (const auto& recipient : recipients) to.push_back(value::string(recipient));
    record["rcpt_to"] = value::array(to);
    record["message"] = value::string(message);
    record["message_id"] = value::string(message_id);
    record["hve"] = value::boolean(state.mail.hve || state.faults.smtp_hve());
    record["received"] = value::string(rfc3339(state.clock()));
    state.mail.messages.push_back(record);
    return "250 2.0.0 OK " + message_id + " [Hostname=" + kSmtpHostname + "]";
}

bool smtp_drops_connection(SandboxState& state) { return state.faults.take_smtp(SmtpStage::drop).has_value(); }

}  // namespace sandbox
