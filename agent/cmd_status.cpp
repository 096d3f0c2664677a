// status: what an auditor asks first. Exceptions in force with their days left, the last runs,
// and open drift, from the journal alone (no network); with -c the desired state's exceptions, and
// with --snapshot those the tenant grants.
#include <algorithm>
#include <ostream>

#include "agent/commands.h"
#include "agent/json_output.h"
#include "agent/options.h"
#include "agent/render.h"
#include "agent/state_options.h"
#include "agent/usage_error.h"
#include "connectors/snapshot.h"
#include "policies/lifecycle.h"
#include "policies/printable.h"
#include "policies/usage.h"
#include "state/journal.h"

namespace authgate {

int run_status(CommandContext& context) {
    po::options_description options("Options");
    options.add_options()("format", po::value<std::string>(), "text (default) or json")(
        "at", po::value<std::string>(), "count days left as at this time (RFC 3339), not now");
    add_state_option(options);
    add_tenant_filter_option(options);
    options.add_options()("config,c", po::value<std::vector<std::string>>()->composing()->multitoken(),
                          "also list the exceptions the desired state declares, in force or not, with their use")(
        "snapshot", po::value<std::string>(),
        "also list the exceptions in force in the tenant as this snapshot shows it (authgate snapshot --out FILE)");
    const auto values = parse_options(
        context, options,
        "authgate status [-c PATH...] [--snapshot FILE] [--format text|json] [--state PATH|URI] [--tenant TENANT] "
        "[--at TIME]");
    if (!values) return exit_ok;
    const ReportFormat format = report_format(*values);
    if (format == ReportFormat::markdown) throw UsageError("--format must be text or json");
    // A read-only command creates no journal: none yet means nothing has been done here.
    const auto opened = open_existing_journal(*values, context.out);
    if (!opened) return exit_ok;
    const Journal& journal = *opened;
    const Instant now = CommandClock(*values, context.clock).now();
    const auto tenant = tenant_filter(journal, *values);
    const auto exceptions = journal.granted_exceptions(tenant);
    // The desired state's exceptions (-c), judged now, with the use the journal recorded of each.
    struct Declared {
        const Exception* exception;
        ExceptionState state;
        long days_left;
        long long messages = 0;
        std::optional<Instant> last_seen = std::nullopt;
    };
    std::vector<Declared> declared;
    CheckedDesiredState desired;
    if (values->count("config")) {
        desired = load_and_validate(desired_state_paths(*values), now);
        if (desired.diagnostics.has_errors()) {
            print_diagnostics(context.err, desired.diagnostics);
            return exit_error;
        }
        const std::string key = tenant ? *tenant : journal.key_of(desired.state.tenant ? desired.state.tenant->id : "");
        const auto observed = journal.usage(key);
        if (desired.state.smtp_auth)
            for (const Exception& exception : desired.state.smtp_auth->exceptions) {
                Declared entry{&exception, state_at(exception, desired.state.exception_settings, now),
                               days_left(exception, now), 0, std::nullopt};
                for (const UsageObservation& use : observed)
                    if (equals_ignoring_case(use.address, exception.mailbox)) {
                        entry.messages += use.messages;
                        if (!entry.last_seen || use.last_seen > *entry.last_seen) entry.last_seen = use.last_seen;
                    }
                declared.push_back(entry);
            }
    }
    // What the tenant grants (--snapshot): every mailbox whose own setting turns SMTP AUTH on, and
    // whether the desired state declares it and authgate granted it.
    struct InForce {
        const Mailbox* mailbox;
        const Exception* declared = nullptr;
        bool granted = false;
    };
    std::vector<InForce> in_tenant;
    LiveState live;
    if (values->count("snapshot")) {
        live = SnapshotConnector((*values)["snapshot"].as<std::string>()).read_live_state();
        if (!live.mailboxes) throw ConnectorError("the snapshot holds no mailboxes");
        for (const Mailbox& mailbox : *live.mailboxes) {
            if (mailbox.smtp_auth_disabled != false) continue;
            InForce entry{&mailbox};
            if (desired.state.smtp_auth) entry.declared = desired.state.find_exception(mailbox.primary_smtp_address);
            entry.granted = std::any_of(exceptions.begin(), exceptions.end(), [&](const ExceptionEventRecord& granted) {
                return mailbox.primary_smtp_address == granted.mailbox;
            });
            in_tenant.push_back(entry);
        }
    }
    const auto runs = journal.runs(10, tenant);
    const auto tenants = tenant ? std::vector<std::string>{*tenant} : journal.tenants();
    // The journal keys tenants by GUID; people know them by the name they gave.
    const auto names = journal.tenant_names();
    const auto name_of = [&](const std::string& key) -> const std::string& {
        const auto found = names.find(key);
        return found == names.end() ? key : found->second;
    };

    if (format == ReportFormat::json) {
        using web::json::value;
        value report = value::object(true);
        value list = value::array();
        std::size_t i = 0;
        for (const auto& exception : exceptions) {
            value entry = value::object(true);
            entry["tenant"] = value::string(name_of(exception.tenant));
            entry["mailbox"] = value::string(exception.mailbox);
            entry["owner"] = value::string(exception.owner);
            entry["expires"] = value::string(exception.expires);
            const auto expiry = expiry_of(exception.expires);
            entry["days_left"] = expiry ? value::number(static_cast<int64_t>(whole_days(now, *expiry))) : value::null();
            entry["granted_at"] = value::string(format_instant(exception.at));
            list[i++] = entry;
        }
        report["exceptions"] = list;
        if (values->count("snapshot")) {
            value tenant_list = value::array();
            i = 0;
            for (const InForce& entry : in_tenant) {
                value item = value::object(true);
                item["mailbox"] = value::string(entry.mailbox->primary_smtp_address);
                item["declared"] = entry.declared ? value::string(entry.declared->source.file + ":" +
                                                                  std::to_string(entry.declared->source.line))
                                                  : value::null();
                item["granted_by_authgate"] = value::boolean(entry.granted);
                tenant_list[i++] = item;
            }
            report["tenant_exceptions"] = tenant_list;
        }
        if (values->count("config")) {
            value desired_list = value::array();
            i = 0;
            for (const Declared& entry : declared) {
                value item = value::object(true);
                item["mailbox"] = value::string(entry.exception->mailbox);
                item["owner"] = value::string(entry.exception->owner);
                item["expires"] = value::string(entry.exception->expires_text);
                item["state"] = value::string(std::string(to_string(entry.state)));
                item["days_left"] = value::number(static_cast<int64_t>(entry.days_left));
                item["file"] = value::string(entry.exception->source.file);
                item["line"] = value::number(entry.exception->source.line);
                item["messages"] = value::number(static_cast<int64_t>(entry.messages));
                item["last_seen"] = entry.last_seen ? value::string(format_instant(*entry.last_seen)) : value::null();
                desired_list[i++] = item;
            }
            report["desired_exceptions"] = desired_list;
        }
        value run_list = value::array();
        i = 0;
        for (const auto& run : runs) {
            run_list[i++] = run_to_json(run);
        }
        report["runs"] = run_list;
        value drift_list = value::array();
        i = 0;
        for (const auto& key : tenants) {
            for (const auto& drift : journal.open_drift(key)) {
                value entry = value::object(true);
                entry["tenant"] = value::string(name_of(drift.tenant));
                entry["resource"] = value::string(drift.resource);
                entry["target"] = value::string(drift.target);
                entry["attribute"] = value::string(drift.attribute);
                entry["expected"] = value::string(drift.expected);
                entry["actual"] = value::string(drift.actual);
                entry["first_seen"] = value::string(format_instant(drift.first_seen));
                entry["last_seen"] = value::string(format_instant(drift.last_seen));
                drift_list[i++] = entry;
            }
        }
        report["open_drift"] = drift_list;
        value lock_list = value::array();
        i = 0;
        for (const auto& [key, holder] : journal.locks(tenant)) {
            value entry = value::object(true);
            entry["tenant"] = value::string(name_of(key));
            entry["holder"] = value::string(holder.holder);
            entry["acquired_at"] = value::string(format_instant(holder.acquired_at));
            entry["lease_until"] = value::string(format_instant(holder.lease_until));
            lock_list[i++] = entry;
        }
        report["locks"] = lock_list;
        write_json(context.out, report);
        return exit_ok;
    }

    std::ostream& out = context.out;
    if (values->count("config")) {
        out << "Exceptions in the desired state (" << declared.size() << "):\n";
        if (declared.empty()) out << "  none\n";
        for (const Declared& entry : declared) {
            out << "  " << printable(entry.exception->mailbox) << "  owner " << printable(entry.exception->owner)
                << "  expires " << printable(entry.exception->expires_text) << "  " << to_string(entry.state);
            if (entry.state == ExceptionState::expired) out << " " << counted(-entry.days_left, "day") << " ago";
            else out << ", " << counted(entry.days_left, "day") << " left";
            out << "  ";
            if (entry.last_seen)
                out << "used: " << counted(entry.messages, "message") << ", last " << format_instant(*entry.last_seen);
            else out << "no use recorded";
            out << "  (" << printable(entry.exception->source.file) << ":" << entry.exception->source.line << ")\n";
        }
        out << "\n";
    }
    if (values->count("snapshot")) {
        out << "SMTP AUTH on by the mailbox's own setting in the tenant (" << in_tenant.size() << "):\n";
        if (in_tenant.empty()) out << "  none\n";
        for (const InForce& entry : in_tenant) {
            out << "  " << printable(entry.mailbox->primary_smtp_address.text()) << "  ";
            if (entry.declared)
                out << "declared (" << printable(entry.declared->source.file) << ":" << entry.declared->source.line
                    << ")";
            else if (values->count("config")) out << "not declared: an unlisted override";
            else out << "(give -c to compare with the desired state)";
            out << (entry.granted ? ", granted by authgate" : "") << "\n";
        }
        out << "\n";
    }
    out << "Exceptions in force (" << exceptions.size() << "):\n";
    if (exceptions.empty()) out << "  none granted by authgate\n";
    for (const auto& exception : exceptions) {
        const auto expiry = expiry_of(exception.expires);
        out << "  " << printable(exception.mailbox) << "  owner " << printable(exception.owner) << "  expires "
            << printable(exception.expires);
        if (expiry) {
            const auto left = whole_days(now, *expiry);
            out << "  (" << left << (left == 1 ? " day left)" : " days left)");
        }
        out << "  [" << printable(name_of(exception.tenant)) << "]\n";
    }
    out << "\nLast runs:\n";
    if (runs.empty()) out << "  none\n";
    for (const auto& run : runs)
        out << "  #" << run.id << "  " << format_instant(run.started_at) << "  " << run_command_line(run) << "  "
            << printable(run.display_tenant()) << "  " << to_string(run.outcome) << "  (" << run.applied << " applied, "
            << run.failed << " failed)\n";
    out << "\nOpen drift:\n";
    bool any = false;
    for (const auto& key : tenants) {
        for (const auto& drift : journal.open_drift(key)) {
            any = true;
            out << "  " << drift.resource << " " << printable(drift.target) << " " << printable(drift.attribute)
                << " is " << printable(drift.actual) << ", desired " << printable(drift.expected) << "  (since "
                << format_instant(drift.first_seen) << ")  [" << printable(name_of(drift.tenant)) << "]\n";
        }
    }
    if (!any) out << "  none\n";
    // A run in progress (or one that died, until its lock is taken over).
    const auto locks = journal.locks(tenant);
    if (!locks.empty()) out << "\nLocks held:\n";
    for (const auto& [key, holder] : locks)
        out << "  " << printable(name_of(key)) << "  by " << printable(holder.holder) << " since "
            << format_instant(holder.acquired_at) << ", lease until " << format_instant(holder.lease_until) << "\n";
    return exit_ok;
}

}  // namespace authgate
