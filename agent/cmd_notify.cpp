// notify: the owner notices that are due now ([notifications.email]), sent and journalled as
// reconcile sends them; --dry-run shows who would get what; --to sends a test message.
#include <ostream>

#include "agent/apply_run.h"
#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/options.h"
#include "agent/owner_notices.h"
#include "agent/state_options.h"
#include "agent/usage_error.h"
#include "agent/usage_evidence.h"
#include "policies/printable.h"
#include "policies/validate.h"

namespace authgate {
namespace {

MailMessage test_message(const EmailNotifications& email, const std::string& to, const std::string& tenant,
                         MailTransport& transport) {
    MailMessage message;
    message.from = email.sender;
    message.to = {to};
    message.subject = "authgate test message";
    message.text = "This is a test message from authgate for the Exchange Online tenant " + printable(tenant) +
                   ".\n\nOwners of SMTP AUTH exceptions will get their notices the same way: sent as " +
                   printable(email.sender) + " through " + transport.name() + " (" + transport.where() +
                   "), with the app's own identity.\n";
    message.message_id = make_message_id(email.sender);
    return message;
}

}  // namespace

int run_notify(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("dry-run", "show who would get which notice now; send nothing and record nothing")(
        "to", po::value<std::string>(),
        "send one test message to ADDRESS through [notifications.email], and nothing else");
    add_connection_options(options);
    add_state_option(options);
    const auto values = parse_options(context, options, "authgate notify -c PATH... [--dry-run] [--to ADDRESS]");
    if (!values) return exit_ok;
    if (values->count("dry-run") && values->count("to")) throw UsageError("--dry-run and --to exclude each other");
    if (values->count("to") && !is_plausible_address((*values)["to"].as<std::string>()))
        throw UsageError("--to must be a mail address, not '" + printable((*values)["to"].as<std::string>()) + "'");
    const Instant now = context.clock.now();
    Logger logger = make_logger(*values, context, context.clock);

    CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), now);
    if (checked.diagnostics.has_errors()) {
        print_diagnostics(context.err, checked.diagnostics);
        return exit_error;
    }
    const DesiredState& desired = checked.state;
    if (!desired.notifications.email) {
        context.err << "error: the desired state has no [notifications.email]; owners are not mailed (README, "
                       "\"Mail to owners\")\n";
        return exit_error;
    }
    const EmailNotifications& email = *desired.notifications.email;
    const Environment environment = process_environment();
    const ConnectionSettings settings = resolve_connection(*values, desired, environment);
    std::unique_ptr<TenantSession> session;
    try {
        session = open_tenant(settings, environment, context.clock);
        if (values->count("to")) {
            MailTransport& transport = session->mail(email);
            const std::string to = (*values)["to"].as<std::string>();
            transport.send(test_message(email, to, settings.tenant, transport));
            context.out << "A test message was sent to " << printable(to) << " as " << printable(email.sender)
                        << " through " << transport.name() << " (" << transport.where() << ").\n";
            return exit_ok;
        }
    } catch (const ConnectorError& error) {
        if (values->count("to")) {
            context.err << "error: " << error.what() << "\n";
            return exit_error;
        }
        report_unreadable(context.err, error, "no notice was sent");
        return exit_error;
    }

    Journal journal = Journal::open(state_path(*values));
    std::vector<OwnerMessage> messages;
    RecipientCheck recipients;
    std::optional<NoticeRun> run;
    try {
        const std::string key = tenant_key(*session, desired.tenant ? desired.tenant->id : settings.tenant, journal);
        run.emplace(NoticeRun{desired, journal, key, settings.tenant, 0, now});
        // Unused exceptions are judged against the evidence, joined to the live mailboxes.
        LiveState live;
        const bool judge_unused = desired.exception_settings.unused_days.has_value();
        if (judge_unused) live = read_tenant(*session, logger);
        const std::optional<UsageEvidence> evidence = plan_evidence(desired, {}, session.get(), now, &journal, key,
                                                                    &logger);
        messages = due_messages(*run, notice_facts(*run, judge_unused ? &live : nullptr, evidence));
        recipients = check_recipients(messages, session->connector());
    } catch (const ConnectorError& error) {
        report_unreadable(context.err, error, "no notice was sent");
        return exit_error;
    }
    if (values->count("dry-run")) {
        const std::size_t sent = journal.sent_notices(run->tenant).size();
        render_due_messages(context.out, messages, recipients, email, sent);
        return exit_ok;
    }
    if (messages.empty()) {
        context.out << "No owner notice is due.\n";
        return exit_ok;
    }
    NoticeOutcome outcome;
    try {
        outcome = send_messages(*run, messages, recipients, session->mail(email), logger);
    } catch (const ConnectorError& error) {
        context.err << "error: " << error.what() << "\n";
        return exit_error;
    }
    context.out << counted(static_cast<std::size_t>(outcome.messages), "message") << " sent ("
                << counted(static_cast<std::size_t>(outcome.notices), "notice") << ")";
    if (outcome.failed > 0)
        context.out << ", " << outcome.failed << " not sent (see the warnings; tried again next run)";
    context.out << ".\n";
    return outcome.failed > 0 ? exit_error : exit_ok;
}

}  // namespace authgate
