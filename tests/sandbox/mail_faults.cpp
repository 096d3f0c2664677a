// The mail faults of the fault document (mail_faults.h), and the Faults that take them.
#include "mail_faults.h"

#include <set>

#include "faults.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

[[noreturn]] void refuse_mail_fault(const std::string& member, const std::string& expectation) {
    throw std::invalid_argument("fault '" + member + "': " + expectation);
}

const value& mail_fault_object(const value& document, const char* name, const std::set<std::string>& allowed) {
    const value& member = document.at(name);
    if (!member.is_object()) refuse_mail_fault(name, "must be an object");
    for (const auto& [field, ignored] : member.as_object()) {
        if (!allowed.contains(field)) refuse_mail_fault(name, "has no member '" + field + "'");
    }
    return member;
}

int mail_fault_integer(const value& object, const std::string& where, const char* name, int fallback, int minimum) {
    if (!object.has_field(name)) return fallback;
    const value& member = object.at(name);
    if (!member.is_integer() || member.as_integer() < minimum)
        refuse_mail_fault(where + "." + name, "must be an integer of at least " + std::to_string(minimum));
    return member.as_integer();
}

bool mail_fault_flag(const value& document, const char* name, bool fallback) {
    if (!document.has_field(name)) return fallback;
    if (!document.at(name).is_boolean()) refuse_mail_fault(name, "must be true or false");
    return document.at(name).as_bool();
}

struct SendMailAnswerName {
    const char* name;
    SendMailAnswer answer;
};

constexpr SendMailAnswerName kSendMailAnswers[] = {
    {"access_policy", SendMailAnswer::access_policy}, {"access_denied", SendMailAnswer::access_denied},
    {"invalid_user", SendMailAnswer::invalid_user},   {"mailbox_not_enabled", SendMailAnswer::mailbox_not_enabled},
    {"throttled", SendMailAnswer::throttled},         {"server_error", SendMailAnswer::server_error},
};

const char* send_mail_answer_name(SendMailAnswer answer) {
    for (const auto& named : kSendMailAnswers) {
        if (named.answer == answer) return named.name;
    }
    return "server_error";
}

const char* smtp_stage_name(SmtpStage stage) {
    switch (stage) {
        case SmtpStage::auth: return "auth";
        case SmtpStage::data: return "data";
        case SmtpStage::drop: return "drop";
    }
    return "auth";
}

// A reply line: three digits, then a space or the end; no line breaks.
bool is_reply_line(const std::string& text) {
    if (text.size() < 3 || text.find_first_of("\r\n") != std::string::npos) return false;
    for (size_t i = 0; i < 3; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
    }
    return text.size() == 3 || text[3] == ' ';
}

}  // namespace

MailFaults MailFaults::parse(const value& document) {
    MailFaults faults;
    if (document.has_field("send_mail")) {
        const value& member = mail_fault_object(document, "send_mail", {"count", "answer", "status", "retry_after"});
        SendMailFault fault;
        fault.count = mail_fault_integer(member, "send_mail", "count", 1, 0);
        if (member.has_field("answer")) {
            const value& answer = member.at("answer");
            bool known = false;
            for (const auto& named : kSendMailAnswers) {
                if (answer.is_string() && answer.as_string() == named.name) {
                    fault.answer = named.answer;
                    known = true;
                }
            }
            if (!known)
                refuse_mail_fault("send_mail.answer", "must be \"access_policy\", \"access_denied\", \"invalid_user\", "
                                                      "\"mailbox_not_enabled\", \"throttled\" or \"server_error\"");
        }
        fault.status = mail_fault_integer(member, "send_mail", "status", 503, 500);
        if (fault.status != 500 && fault.status != 503) refuse_mail_fault("send_mail.status", "must be 500 or 503");
        if (member.has_field("retry_after")) {
            const value& retry_after = member.at("retry_after");
            if (retry_after.is_null()) {
                fault.retry_after = std::nullopt;
            } else if (retry_after.is_string()) {
                fault.retry_after = retry_after.as_string();
            } else if (retry_after.is_number()) {
                fault.retry_after = retry_after.serialize();
            } else {
                refuse_mail_fault("send_mail.retry_after", "must be a string such as \"1\", or null to send none");
            }
        }
        faults.send_mail = fault;
    }
    if (document.has_field("smtp")) {
        const value& member = mail_fault_object(document, "smtp", {"count", "stage", "reply"});
        SmtpFault fault;
        fault.count = mail_fault_integer(member, "smtp", "count", 1, 0);
        const std::string stage =
            member.has_field("stage") && member.at("stage").is_string() ? member.at("stage").as_string() : "";
        if (stage == "auth") {
            fault.stage = SmtpStage::auth;
        } else if (stage == "data") {
            fault.stage = SmtpStage::data;
        } else if (stage == "drop") {
            fault.stage = SmtpStage::drop;
        } else {
            refuse_mail_fault("smtp.stage", "must be \"auth\", \"data\" or \"drop\"");
        }
        if (fault.stage != SmtpStage::drop) {
            if (!member.has_field("reply") || !member.at("reply").is_string() ||
                !is_reply_line(member.at("reply").as_string()))
                refuse_mail_fault("smtp.reply",
                                  "must be one SMTP reply line, e.g. \"451 4.3.0 Temporary server error\"");
            fault.reply = member.at("reply").as_string();
        }
        faults.smtp = fault;
    }
    faults.smtp_send_as_app = mail_fault_flag(document, "smtp_send_as_app", true);
    faults.smtp_hve = mail_fault_flag(document, "smtp_hve", false);
    return faults;
}

void MailFaults::add_to(value& document) const {
    if (send_mail) {
        value member = value::object(true);
        member["count"] = value::number(send_mail->count);
        member["answer"] = value::string(send_mail_answer_name(send_mail->answer));
        member["status"] = value::number(send_mail->status);
        member["retry_after"] = send_mail->retry_after ? value::string(*send_mail->retry_after) : value::null();
        document["send_mail"] = member;
    }
    if (smtp) {
        value member = value::object(true);
        member["count"] = value::number(smtp->count);
        member["stage"] = value::string(smtp_stage_name(smtp->stage));
        if (smtp->stage != SmtpStage::drop) member["reply"] = value::string(smtp->reply);
        document["smtp"] = member;
    }
    if (!smtp_send_as_app) document["smtp_send_as_app"] = value::boolean(false);
    if (smtp_hve) document["smtp_hve"] = value::boolean(true);
}

std::optional<SendMailFault> Faults::take_send_mail() {
    return take(settings_.mail.send_mail, "send_mail", [](const auto&) { return true; });
}

std::optional<SmtpFault> Faults::take_smtp(SmtpStage stage) {
    return take(settings_.mail.smtp, "smtp", [stage](const auto& fault) { return fault.stage == stage; });
}

}  // namespace sandbox
