// Mail sent through the sandbox tenant: Graph's sendMail (POST /v1.0/users/{sender}/sendMail),
// the decisions of the SMTP listener (smtp_server.h) that need the tenant, and the record both
// leave behind for tests (GET and DELETE /_sandbox/mail). Never a token or an AUTH string is kept.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_message.h"

namespace sandbox {

struct SandboxState;

struct MailState {
    std::vector<web::json::value> messages;  // every message accepted, in order (README, "Mail")
    int send_mail_calls = 0;                 // every request to a sendMail path, refused ones too
    int smtp_auth_attempts = 0;              // every AUTH command of the SMTP listener
    int smtp_port = 0;                       // the SMTP listener's, when there is one
    bool hve = false;                        // --smtp-hve: the listener plays High Volume Email
};

// The server name in SMTP replies and greetings.
inline constexpr const char* kSmtpHostname = "sandbox.authgate.test";

// /v1.0/users/{id}/sendMail (any case).
bool is_send_mail_path(std::string_view path);
HttpResponse handle_send_mail(SandboxState& state, const HttpRequest& request);

// GET /_sandbox/mail: {"messages","send_mail_calls","smtp_auth_attempts"}; DELETE clears all three.
HttpResponse handle_mail_control(SandboxState& state, const HttpRequest& request);

// The SMTP listener's decisions, made under the sandbox's lock.
struct SmtpAuthOutcome {
    std::string reply;                // the whole reply line
    std::optional<std::string> user;  // the authenticated mailbox, on success
};
// AUTH XOAUTH2 with this (base64) response: decoded, the bearer checked as Exchange checks it
// plus the SMTP.SendAsApp role, the user a mailbox of the tenant with SMTP AUTH on (unless HVE).
SmtpAuthOutcome smtp_authenticate(SandboxState& state, std::string_view response);
// AUTH with any other mechanism: counted, and Basic refused.
std::string smtp_refuse_mechanism(SandboxState& state, std::string_view mechanism);
// The refusal of RCPT TO:<address>, or nullopt when it is accepted.
std::optional<std::string> smtp_refuse_recipient(const SandboxState& state, std::string_view address);
// A message at the end of DATA: the data fault's reply, or "250 2.0.0 OK <id> […]" and the record.
std::string smtp_accept_message(SandboxState& state, const std::string& user, const std::string& mail_from,
                                const std::vector<std::string>& recipients, const std::string& message);
// Whether the smtp fault drops this connection after the greeting.
bool smtp_drops_connection(SandboxState& state);

// Standard base64 (with '=' padding optional); nullopt when it is not.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sandbox
