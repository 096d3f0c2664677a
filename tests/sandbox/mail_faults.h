// The faults of the mail endpoints (Graph's sendMail and the SMTP listener), part of the fault
// document of POST /_sandbox/faults and --faults: send_mail, smtp, smtp_send_as_app, smtp_hve.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>

namespace sandbox {

// What the next `count` sendMail calls answer in place of 202.
enum class SendMailAnswer {
    access_policy,        // 403 ErrorAccessDenied "Access to OData is disabled.: [RAOP] : …"
    access_denied,        // 403 ErrorAccessDenied "Access is denied. …"
    invalid_user,         // 404 ErrorInvalidUser
    mailbox_not_enabled,  // 404 MailboxNotEnabledForRESTAPI
    throttled,            // 429 with Retry-After
    server_error,         // `status` (500 or 503)
};

struct SendMailFault {
    int count = 1;
    SendMailAnswer answer = SendMailAnswer::server_error;
    int status = 503;                              // server_error only
    std::optional<std::string> retry_after = "1";  // throttled only; nullopt sends no Retry-After
};

// Where the next `count` SMTP transactions fail: the AUTH command or the end of DATA answers
// `reply`; or the connection is closed right after the greeting.
enum class SmtpStage { auth, data, drop };

struct SmtpFault {
    int count = 1;
    SmtpStage stage = SmtpStage::auth;
    std::string reply;  // a whole reply line, e.g. "451 4.3.0 Temporary server error"
};

struct MailFaults {
    std::optional<SendMailFault> send_mail;
    std::optional<SmtpFault> smtp;
    bool smtp_send_as_app = true;  // false: Exchange tokens issued from now on lack SMTP.SendAsApp
    bool smtp_hve = false;         // the SMTP listener plays High Volume Email

    // Reads the members above from a fault document (absent members keep the defaults); throws
    // std::invalid_argument naming the member that is wrong.
    static MailFaults parse(const web::json::value& document);
    // Adds the members that differ from the defaults to `document`.
    void add_to(web::json::value& document) const;
};

}  // namespace sandbox
