// explain MAILBOX: whether a mailbox can use SMTP AUTH, with OAuth and with Basic auth, and
// which setting decides it (the rule is policies/access.h).
#include <ostream>

#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/entra_evidence.h"
#include "agent/json_output.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/state_options.h"
#include "agent/usage_error.h"
#include "connectors/snapshot.h"
#include "policies/access.h"
#include "policies/lifecycle.h"
#include "policies/printable.h"
#include "policies/usage.h"
#include "state/journal.h"

namespace authgate {
namespace {

constexpr const char* outside_exchange =
    "Exchange cannot tell: Microsoft Entra security defaults and Conditional Access policies that block legacy "
    "authentication can still refuse Basic auth, and Conditional Access can refuse the OAuth sign-in; check them in "
    "Entra.";

// The use the journal recorded for `mailbox`, from every source and time; nullopt when none.
std::optional<MailboxUsage> recorded_use(const po::variables_map& values, const DesiredState& desired,
                                         const std::optional<std::string>& tenant_id, const LiveState& live,
                                         const Name& mailbox) {
    const auto journal = Journal::open_existing(state_path(values));
    if (!journal) return std::nullopt;
    const std::string key = tenant_id ? *tenant_id : journal->key_of(desired.tenant ? desired.tenant->id : "");
    UsageEvidence evidence;
    evidence.observations = journal->usage(key);
    for (MailboxUsage& sender : usage_by_sender(evidence, live, Instant{}))
        if (sender.mailbox == mailbox) return std::move(sender);
    return std::nullopt;
}

// Entra's answers for the mailbox's user, and the effective answers with Exchange's.
struct EntraView {
    EntraPolicies policies;
    DirectoryMembership membership;
    EntraAnswer basic, oauth;
    EntraOutcome basic_effective = EntraOutcome::unknown, oauth_effective = EntraOutcome::unknown;
};

EntraView read_entra_view(TenantSession& session, const std::string& user_id, const SmtpAuthAccess& verdict,
                          Logger& logger) {
    EntraView view;
    view.policies = read_entra(session, &logger);
    view.membership = read_membership(session, view.policies, user_id);
    view.basic = entra_answer(view.policies, SmtpAuthKind::basic, user_id, view.membership);
    view.oauth = entra_answer(view.policies, SmtpAuthKind::oauth, user_id, view.membership);
    view.basic_effective = effective_outcome(verdict.basic, view.basic);
    view.oauth_effective = effective_outcome(verdict.smtp_auth, view.oauth);
    return view;
}

web::json::value answer_json(const EntraAnswer& answer) {
    using web::json::value;
    value json = value::object(true);
    json["outcome"] = value::string(outcome_text(answer.outcome, answer));
    std::vector<value> reasons;
    for (const std::string& reason : answer.reasons) reasons.push_back(value::string(reason));
    json["reasons"] = value::array(reasons);
    return json;
}

web::json::value entra_json(const EntraView& entra, const std::string& user_id) {
    using web::json::value;
    value json = value::object(true);
    json["security_defaults"] = entra.policies.security_defaults ? value::boolean(*entra.policies.security_defaults)
                                                                 : value::null();
    json["security_defaults_not_read"] =
        entra.policies.security_defaults ? value::null() : value::string(entra.policies.security_defaults_why_not);
    json["conditional_access_policies"] =
        entra.policies.conditional_access
            ? value::number(static_cast<int64_t>(entra.policies.conditional_access->size()))
            : value::null();
    json["conditional_access_not_read"] =
        entra.policies.conditional_access ? value::null() : value::string(entra.policies.conditional_access_why_not);
    json["basic"] = answer_json(entra.basic);
    json["oauth"] = answer_json(entra.oauth);
    std::vector<value> fixes;
    for (const auto& [policy, judgement] : entra.basic.policies)
        if (judgement.verdict == PolicyVerdict::blocks || judgement.verdict == PolicyVerdict::depends ||
            judgement.verdict == PolicyVerdict::report_only)
            fixes.push_back(value::string(exclusion_advice(*policy, user_id)));
    json["basic_fixes"] = value::array(fixes);
    return json;
}

void print_entra(std::ostream& out, const EntraView& entra, const SmtpAuthAccess& verdict, const std::string& user_id) {
    out << "Entra (beside Exchange):\n";
    out << "  Basic auth: " << outcome_text(entra.basic.outcome, entra.basic) << " by Entra\n";
    for (const std::string& reason : entra.basic.reasons) out << "    " << printable(reason) << "\n";
    for (const auto& [policy, judgement] : entra.basic.policies) {
        if (judgement.verdict == PolicyVerdict::blocks || judgement.verdict == PolicyVerdict::depends)
            out << "    to let Basic auth through: " << printable(exclusion_advice(*policy, user_id)) << "\n";
        else if (judgement.verdict == PolicyVerdict::report_only)
            out << "    before that policy is enforced: " << printable(exclusion_advice(*policy, user_id)) << "\n";
    }
    out << "  OAuth: " << outcome_text(entra.oauth.outcome, entra.oauth) << " by Entra\n";
    for (const std::string& reason : entra.oauth.reasons) out << "    " << printable(reason) << "\n";
    out << "  Effective: OAuth " << outcome_text(entra.oauth_effective, entra.oauth) << ", Basic auth "
        << outcome_text(entra.basic_effective, entra.basic);
    if (!verdict.basic) out << " (Exchange refuses Basic auth before Entra is asked)";
    else if (entra.basic_effective == EntraOutcome::unknown)
        out << " (Exchange allows it; what Entra decides could not be read)";
    out << ".\n\n";
}

std::string policy_text(const std::optional<std::string>& name) { return name ? "'" + printable(*name) + "'" : "none"; }

}  // namespace

int run_explain(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("mailbox", po::value<std::string>(), "the mailbox's primary SMTP address")(
        "snapshot", po::value<std::string>(), "read the live state from this snapshot file instead of the tenant")(
        "at", po::value<std::string>(), "judge the exception as at this time (RFC 3339), not now")(
        "format", po::value<std::string>(), "text (default) or json");
    add_connection_options(options);
    add_state_option(options);
    po::positional_options_description positional;
    positional.add("mailbox", 1);
    const auto values = parse_options(context, options, "authgate explain MAILBOX -c PATH... [--snapshot FILE]",
                                      &positional);
    if (!values) return exit_ok;
    const CommandClock clock(*values, context.clock);
    Logger logger = make_logger(*values, context, clock);
    if (!values->count("mailbox")) throw UsageError("name the mailbox: authgate explain MAILBOX -c PATH");
    const std::string address = (*values)["mailbox"].as<std::string>();
    const ReportFormat format = report_format(*values);
    if (format == ReportFormat::markdown) throw UsageError("--format must be text or json");
    const Instant now = clock.now();

    CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), now);
    if (checked.diagnostics.has_errors()) {
        print_diagnostics(context.err, checked.diagnostics);
        return exit_error;
    }
    LiveState live;
    std::optional<std::string> tenant_id;
    std::unique_ptr<TenantSession> session;
    try {
        if (values->count("snapshot")) {
            live = SnapshotConnector((*values)["snapshot"].as<std::string>()).read_live_state();
        } else {
            const Environment environment = process_environment();
            session = open_tenant(resolve_connection(*values, checked.state, environment), environment, context.clock);
            live = read_tenant(*session, logger);
            tenant_id = fold_case(session->tenant_id());
        }
    } catch (const ConnectorError& error) {
        report_unreadable(context.err, error, "nothing is explained");
        return exit_error;
    }
    if (!live.org_smtp_auth_disabled || !live.mailboxes || !live.policies || !live.organization || !live.users) {
        context.err
            << "error: the live state is incomplete; explain needs the organization, mailboxes, policies and users\n";
        return exit_error;
    }
    const LiveIndex index(live);
    const Mailbox* mailbox = index.mailbox(address);
    if (!mailbox) {
        context.err << "error: no mailbox has the primary address '" << address << "'\n";
        return exit_error;
    }
    const SmtpAuthAccess verdict = smtp_auth_access(live, index, *mailbox);
    const Exception* exception = checked.state.find_exception(address);
    const std::optional<MailboxUsage> last_use = recorded_use(*values, checked.state, tenant_id, live,
                                                              mailbox->primary_smtp_address);
    // Entra's layer, when there is a tenant to ask (a snapshot holds none of it).
    std::optional<EntraView> entra;
    if (session) entra = read_entra_view(*session, mailbox->external_directory_object_id, verdict, logger);

    if (format == ReportFormat::json) {
        using web::json::value;
        value report = value::object(true);
        report["mailbox"] = value::string(mailbox->primary_smtp_address);
        report["guid"] = value::string(mailbox->guid);
        report["smtp_auth_oauth"] = value::boolean(verdict.smtp_auth);
        report["smtp_auth_basic"] = value::boolean(verdict.basic);
        report["smtp_auth_because"] = value::string(verdict.smtp_auth_why);
        report["basic_because"] = value::string(verdict.basic_why);
        report["organization_smtp_auth_disabled"] = value::boolean(*live.org_smtp_auth_disabled);
        report["mailbox_smtp_auth_disabled"] =
            mailbox->smtp_auth_disabled ? value::boolean(*mailbox->smtp_auth_disabled) : value::null();
        report["user_authentication_policy"] = verdict.user_policy ? value::string(*verdict.user_policy)
                                                                   : value::null();
        report["default_authentication_policy"] = verdict.default_policy ? value::string(*verdict.default_policy)
                                                                         : value::null();
        if (exception) {
            value e = value::object(true);
            e["owner"] = value::string(exception->owner);
            e["expires"] = value::string(exception->expires_text);
            e["state"] =
                value::string(std::string(to_string(state_at(*exception, checked.state.exception_settings, now))));
            e["days_left"] = value::number(static_cast<int64_t>(days_left(*exception, now)));
            e["basic_auth"] = value::boolean(exception->basic_auth);
            report["exception"] = e;
        } else {
            report["exception"] = value::null();
        }
        if (last_use) {
            value use = value::object(true);
            use["last_seen"] = last_use->last_seen ? value::string(format_instant(*last_use->last_seen))
                                                   : value::null();
            use["source"] = last_use->last_source ? value::string(std::string(to_string(*last_use->last_source)))
                                                  : value::null();
            use["basic"] = value::boolean(last_use->basic);
            use["oauth"] = value::boolean(last_use->oauth);
            use["messages"] = value::number(static_cast<int64_t>(last_use->messages));
            use["text"] = value::string(describe(*last_use, now));
            report["last_use"] = use;
        } else {
            report["last_use"] = value::null();
        }
        if (entra) {
            report["effective_oauth"] = value::string(outcome_text(entra->oauth_effective, entra->oauth));
            report["effective_basic"] = value::string(outcome_text(entra->basic_effective, entra->basic));
            report["entra"] = entra_json(*entra, mailbox->external_directory_object_id);
        } else {
            report["outside_exchange"] = value::string(outside_exchange);
        }
        write_json(context.out, report);
        return exit_ok;
    }

    std::ostream& out = context.out;
    out << printable(mailbox->primary_smtp_address) << "\n";
    out << "  SMTP AUTH with OAuth (XOAUTH2): "
        << (entra               ? outcome_text(entra->oauth_effective, entra->oauth)
            : verdict.smtp_auth ? "allowed"
                                : "refused")
        << "\n";
    out << "  SMTP AUTH with Basic auth:      "
        << (entra           ? outcome_text(entra->basic_effective, entra->basic)
            : verdict.basic ? "allowed"
                            : "refused")
        << "\n\n";
    out << "Why:\n";
    out << "  SMTP AUTH: " << printable(verdict.smtp_auth_why) << ".\n";
    out << "  Basic auth: " << printable(verdict.basic_why) << ".\n\n";
    if (entra) print_entra(out, *entra, verdict, mailbox->external_directory_object_id);
    out << "Settings:\n";
    out << "  organization  SmtpClientAuthenticationDisabled = " << (*live.org_smtp_auth_disabled ? "true" : "false")
        << "\n";
    out << "  mailbox       SmtpClientAuthenticationDisabled = "
        << (mailbox->smtp_auth_disabled ? (*mailbox->smtp_auth_disabled ? "true" : "false") : "null (inherit)") << "\n";
    out << "  user          AuthenticationPolicy = " << policy_text(verdict.user_policy) << "\n";
    out << "  organization  DefaultAuthenticationPolicy = " << policy_text(verdict.default_policy) << "\n\n";
    if (exception) {
        const long left = days_left(*exception, now);
        const ExceptionState state = state_at(*exception, checked.state.exception_settings, now);
        // Said one way: an expired exception "expired" so many days ago, never "expires" with days left below 0.
        if (state == ExceptionState::expired)
            out << "Exception: expired " << exception->expires_text << " ("
                << counted(static_cast<std::size_t>(-left), "day") << " ago), owner ";
        else
            out << "Exception: " << to_string(state) << ", expires " << exception->expires_text << " ("
                << counted(static_cast<std::size_t>(left), "day") << " left), owner ";
        out << printable(exception->owner) << (exception->ticket ? ", " + printable(*exception->ticket) : "") << " ("
            << to_string(exception->source) << ")\n\n";
    } else {
        out << "Exception: none in the desired state.\n\n";
    }
    if (last_use) out << "Last use: " << printable(describe(*last_use, now)) << "\n";
    else out << "Last use: none recorded in the journal (authgate usage reads the sign-in logs and reports).\n";
    if (!entra) out << "\n" << outside_exchange << "\n";
    return exit_ok;
}

}  // namespace authgate
