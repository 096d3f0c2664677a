#include "policies/validate.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "policies/lifecycle.h"
#include "policies/name.h"

namespace authgate {
namespace {

bool is_local_char(unsigned char c) {
    if (c >= 0x80) return true;  // internationalised addresses
    if (std::isalnum(c)) return true;
    return std::string_view("!#$%&'*+/=?^_`{|}~.-").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_domain_char(unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '-' || c == '.'; }

// Keys addresses case-insensitively and reports the second and later occurrences.
class Registry {
public:
    Registry(Diagnostics& diagnostics, std::string what) : diagnostics_(diagnostics), what_(std::move(what)) {}

    void add(const std::string& name, const SourceLocation& where) {
        const auto [it, inserted] = seen_.emplace(fold_case(name), where);
        if (!inserted)
            diagnostics_.error(where, "duplicate " + what_ + " '" + name + "' (first declared at " +
                                          to_string(it->second) + ")");
    }

    const SourceLocation* find(const std::string& name) const {
        const auto it = seen_.find(fold_case(name));
        return it == seen_.end() ? nullptr : &it->second;
    }

private:
    Diagnostics& diagnostics_;
    std::string what_;
    std::map<std::string, SourceLocation> seen_;
};

void check_basic_auth_policy(const DesiredState& state, Diagnostics& diagnostics) {
    const auto& exceptions = state.smtp_auth->exceptions;
    const auto needing = std::find_if(exceptions.begin(), exceptions.end(),
                                      [](const Exception& e) { return e.basic_auth; });
    if (needing == exceptions.end()) return;
    const auto& setting = state.exception_settings.basic_auth_policy;
    if (!setting) {
        diagnostics.error(needing->source,
                          "exception for '" + needing->mailbox +
                              "' has basic_auth = true, but [exceptions] basic_auth_policy is not set");
        return;
    }
    const AuthenticationPolicy* policy = state.find_policy(setting->value);
    if (!policy) {
        diagnostics.error(setting->source,
                          "basic_auth_policy '" + setting->value + "' is not declared as an [[authentication_policy]]");
    } else if (!policy->flags[smtp_flag]) {
        diagnostics.error(setting->source, "basic_auth_policy '" + setting->value +
                                               "' does not allow Basic SMTP; add allow_basic_auth_smtp = true to its "
                                               "[[authentication_policy]] at " +
                                               to_string(policy->source));
    }
}

void check_exception_times(const DesiredState& state, Instant now, Instant granted_at, Diagnostics& diagnostics) {
    const ExceptionSettings& settings = state.exception_settings;
    const Instant latest = granted_at + std::chrono::days{settings.max_days};
    for (const Exception& exception : state.smtp_auth->exceptions) {
        const std::string owner = "owner " + exception.owner;
        if (exception.expires > latest) {
            diagnostics.error(exception.expires_source,
                              "'expires' " + exception.expires_text +
                                  " is more than max_days = " + std::to_string(settings.max_days) + " days from now (" +
                                  format_date(granted_at) + "); shorten the exception or raise [exceptions] max_days");
        }
        switch (state_at(exception, settings, now)) {
            case ExceptionState::expired:
                diagnostics.warning(exception.source, "exception_expired",
                                    "exception for '" + exception.mailbox + "' expired " + exception.expires_text +
                                        " (" + owner + "); remove it or renew it");
                break;
            case ExceptionState::expiring: {
                const long days = days_left(exception, now);
                const std::string when = days == 0   ? "expires within a day"
                                         : days == 1 ? "expires in 1 day"
                                                     : "expires in " + std::to_string(days) + " days";
                diagnostics.warning(exception.source, "exception_expiring",
                                    "exception for '" + exception.mailbox + "' " + when + " (" +
                                        exception.expires_text + ", " + owner + ")");
                break;
            }
            default: break;
        }
        if (exception.owner == unknown_owner)
            diagnostics.warning(exception.source, "exception_without_owner",
                                "exception for '" + exception.mailbox +
                                    "' has no owner yet (owner = \"unknown\"); name who answers for it");
        if (!exception.ticket)
            diagnostics.warning(exception.source, "exception_without_ticket",
                                "exception for '" + exception.mailbox + "' has no ticket");
        if (!exception.replacement)
            diagnostics.warning(exception.source, "exception_without_replacement",
                                "exception for '" + exception.mailbox +
                                    "' has no replacement (oauth, hve, acs, relay, direct-send or retire)");
    }
}

// SMTP to smtp.office365.com signs the sender in with SMTP AUTH: with the organisation's switch
// off, only an exception of its own lets the notices through (High Volume Email and Graph need none).
void check_mail_sender(const DesiredState& state, Instant now, Diagnostics& diagnostics) {
    if (!state.notifications.email || state.notifications.email->transport != MailTransportKind::smtp) return;
    const EmailNotifications& email = *state.notifications.email;
    if (!equals_ignoring_case(email.smtp_host, "smtp.office365.com") || !state.smtp_auth ||
        !state.smtp_auth->org_disabled || !state.smtp_auth->org_disabled->value)
        return;
    const Exception* own = state.find_exception(email.sender);
    if (own && own->expires > now) return;
    diagnostics.warning(email.source, "mail_sender_without_smtp_auth",
                        "notices go by SMTP to smtp.office365.com as '" + email.sender +
                            "', but SMTP AUTH is off for the organisation and that mailbox has no exception: the "
                            "server will answer 535 5.7.139; use smtp_host = \"smtp.hve.mx.microsoft\" or "
                            "transport = \"graph\"");
}

}  // namespace

bool is_plausible_address(std::string_view text) {
    const std::size_t at = text.find('@');
    if (at == std::string_view::npos || at == 0 || text.find('@', at + 1) != std::string_view::npos) return false;
    const std::string_view local = text.substr(0, at);
    const std::string_view domain = text.substr(at + 1);
    if (local.size() > 64 || domain.size() > 255) return false;
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
    if (!std::all_of(local.begin(), local.end(), [](char c) { return is_local_char(static_cast<unsigned char>(c)); }))
        return false;
    if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string_view::npos || domain.front() == '-')
        return false;
    return std::all_of(domain.begin(), domain.end(),
                       [](char c) { return is_domain_char(static_cast<unsigned char>(c)); });
}

Diagnostics validate(const DesiredState& state, Instant now, std::optional<Instant> granted_at) {
    Diagnostics diagnostics;

    Registry policies(diagnostics, "authentication policy");
    for (const auto& policy : state.policies) policies.add(policy.name, policy.source);

    Registry protected_mailboxes(diagnostics, "protected mailbox");
    for (const auto& entry : state.guardrails.protected_mailboxes) protected_mailboxes.add(entry.value, entry.source);

    if (state.smtp_auth) {
        Registry exceptions(diagnostics, "exception for mailbox");
        for (const auto& exception : state.smtp_auth->exceptions) {
            exceptions.add(exception.mailbox, exception.source);
            if (const SourceLocation* guard = protected_mailboxes.find(exception.mailbox))
                diagnostics.error(exception.source, "mailbox '" + exception.mailbox + "' is protected (" +
                                                        to_string(*guard) + ") and cannot have an exception");
        }
        Registry deny(diagnostics, "deny entry");
        for (const auto& entry : state.smtp_auth->deny) {
            deny.add(entry.value, entry.source);
            if (const SourceLocation* exception = exceptions.find(entry.value))
                diagnostics.error(entry.source, "mailbox '" + entry.value +
                                                    "' is both denied and given an exception (" +
                                                    to_string(*exception) + ")");
            if (const SourceLocation* guard = protected_mailboxes.find(entry.value))
                diagnostics.error(entry.source, "mailbox '" + entry.value + "' is protected (" + to_string(*guard) +
                                                    ") and cannot be in deny");
        }
        check_basic_auth_policy(state, diagnostics);
        check_exception_times(state, now, granted_at.value_or(now), diagnostics);
    }
    check_mail_sender(state, now, diagnostics);

    diagnostics.sort();
    return diagnostics;
}

}  // namespace authgate
