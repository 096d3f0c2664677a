#include "agent/render.h"

#include <utility>

#include "agent/json_output.h"
#include "agent/terminal.h"

namespace authgate {
namespace {

using web::json::value;

value text_or_null(const std::optional<std::string>& text) { return text ? value::string(*text) : value::null(); }

value to_json(const std::optional<SourceLocation>& source) {
    if (!source || !source->known()) return value::null();
    value json = value::object(true);
    json["file"] = value::string(source->file);
    json["line"] = value::number(source->line);
    return json;
}

value to_json(const Change& change) {
    value json = value::object(true);
    json["resource"] = value::string(std::string(to_string(change.resource)));
    json["target"] = value::string(change.target);
    const std::string identity = cmdlet_identity(change);
    json["identity"] = identity.empty() ? value::null() : value::string(identity);
    json["display_name"] = change.display_name.empty() ? value::null() : value::string(change.display_name);
    json["attribute"] = value::string(change.attribute);
    json["action"] = value::string(std::string(to_string(change.action)));
    json["before"] = authgate::to_json<value>(change.before);
    json["after"] = authgate::to_json<value>(change.after);
    json["reason"] = value::string(std::string(to_string(change.reason)));
    json["detail"] = value::string(change.detail);
    value parameters = value::object(true);
    for (const auto& [name, parameter] : change.cmdlet.parameters)
        parameters[name] = authgate::to_json<value>(parameter);
    value cmdlet = value::object(true);
    cmdlet["name"] = value::string(change.cmdlet.name);
    cmdlet["parameters"] = std::move(parameters);
    json["cmdlet"] = std::move(cmdlet);
    json["powershell"] = value::string(powershell_line(change.cmdlet));
    json["source"] = to_json(change.source);
    return json;
}

}  // namespace

value source_to_json(const SourceReport& source) {
    value entry = value::object(true);
    entry["source"] = value::string(std::string(to_string(source.source)));
    entry["read"] = value::boolean(source.read);
    entry["why_not"] = value::string(source.why_not);
    entry["from"] = value::string(format_instant(source.from));
    entry["to"] = value::string(format_instant(source.to));
    entry["senders"] = value::number(static_cast<int64_t>(source.rows));
    value notes = value::array();
    for (std::size_t n = 0; n < source.notes.size(); ++n) notes[n] = value::string(source.notes[n]);
    entry["notes"] = std::move(notes);
    return entry;
}

value plan_to_json(const Plan& plan) {
    value json = value::object(true);
    json["format_version"] = value::number(plan.format_version);
    json["tenant"] = value::string(plan.tenant);
    json["evaluated_at"] = value::string(format_instant(plan.evaluated_at));
    json["desired_digest"] = value::string(plan.desired_digest);
    value summary = value::object(true);
    summary["change"] = value::number(static_cast<uint64_t>(plan.change_count()));
    summary["report"] = value::number(static_cast<uint64_t>(plan.report_count()));
    summary["skipped"] = value::number(static_cast<uint64_t>(plan.skipped.size()));
    summary["warnings"] = value::number(static_cast<uint64_t>(plan.warnings.size()));
    if (plan.max_changes > 0) {
        summary["max_changes"] = value::number(plan.max_changes);
        summary["exceeds_max_changes"] = value::boolean(plan.exceeds_max_changes());
    }
    json["summary"] = std::move(summary);

    value changes = value::array(plan.changes.size());
    for (std::size_t i = 0; i < plan.changes.size(); ++i) changes[i] = to_json(plan.changes[i]);
    json["changes"] = std::move(changes);

    value exceptions = value::array(plan.exceptions.size());
    for (std::size_t i = 0; i < plan.exceptions.size(); ++i) {
        const ExceptionStatus& status = plan.exceptions[i];
        value entry = value::object(true);
        entry["mailbox"] = value::string(status.mailbox);
        entry["owner"] = value::string(status.owner);
        entry["expires"] = value::string(status.expires);
        entry["state"] = value::string(std::string(to_string(status.state)));
        entry["days_left"] = value::number(static_cast<int64_t>(status.days_left));
        entry["source"] = to_json(std::optional<SourceLocation>(status.source));
        exceptions[i] = std::move(entry);
    }
    json["exceptions"] = std::move(exceptions);

    value warnings = value::array(plan.warnings.size());
    for (std::size_t i = 0; i < plan.warnings.size(); ++i) {
        value entry = value::object(true);
        entry["code"] = value::string(plan.warnings[i].code);
        entry["message"] = value::string(plan.warnings[i].message);
        entry["source"] = to_json(std::optional<SourceLocation>(plan.warnings[i].source));
        warnings[i] = std::move(entry);
    }
    json["warnings"] = std::move(warnings);
    if (plan.usage) {
        value usage = value::object(true);
        usage["days"] = value::number(plan.usage->days);
        usage["complete"] = value::boolean(!plan.usage->incomplete() && !plan.usage->sources.empty());
        value sources = value::array();
        for (std::size_t i = 0; i < plan.usage->sources.size(); ++i)
            sources[i] = source_to_json(plan.usage->sources[i]);
        usage["sources"] = std::move(sources);
        value impacts = value::array();
        for (std::size_t i = 0; i < plan.usage->impacts.size(); ++i) {
            const ChangeImpact& impact = plan.usage->impacts[i];
            const Change& change = plan.changes.at(impact.change);
            value entry = value::object(true);
            entry["change"] = value::number(static_cast<uint64_t>(impact.change));
            entry["resource"] = value::string(std::string(to_string(change.resource)));
            entry["target"] = value::string(change.target);
            entry["attribute"] = value::string(change.attribute);
            if (impact.inheriting >= 0) {
                entry["inheriting"] = value::number(static_cast<int64_t>(impact.inheriting));
                entry["inheriting_seen"] = value::number(static_cast<int64_t>(impact.inheriting_seen));
            }
            value cutoffs = value::array();
            for (std::size_t c = 0; c < impact.cutoffs.size(); ++c) {
                const Cutoff& cutoff = impact.cutoffs[c];
                value item = value::object(true);
                item["mailbox"] = value::string(cutoff.mailbox);
                item["use"] = value::string(cutoff.use);
                item["last_seen"] = cutoff.last_seen ? value::string(format_instant(*cutoff.last_seen)) : value::null();
                item["basic_only"] = value::boolean(cutoff.basic_only);
                item["recent"] = value::boolean(cutoff.recent);
                item["accepted"] = cutoff.accepted ? value::string(*cutoff.accepted) : value::null();
                cutoffs[c] = std::move(item);
            }
            entry["cutoffs"] = std::move(cutoffs);
            impacts[i] = std::move(entry);
        }
        usage["impacts"] = std::move(impacts);
        json["usage"] = std::move(usage);
    }

    value skipped = value::array(plan.skipped.size());
    for (std::size_t i = 0; i < plan.skipped.size(); ++i) {
        value entry = value::object(true);
        entry["target"] = value::string(plan.skipped[i].target);
        entry["reason"] = value::string(plan.skipped[i].reason);
        entry["detail"] = value::string(plan.skipped[i].detail);
        skipped[i] = std::move(entry);
    }
    json["skipped"] = std::move(skipped);
    return json;
}

value run_to_json(const RunRecord& run) {
    value entry = value::object(true);
    entry["id"] = value::number(static_cast<int64_t>(run.id));
    entry["command"] = value::string(std::string(to_string(run.command)));
    entry["mode"] = value::string(std::string(to_string(run.mode)));
    entry["tenant"] = value::string(run.display_tenant());
    entry["tenant_id"] = value::string(run.tenant);
    entry["desired_digest"] = value::string(run.desired_digest);
    entry["started_at"] = value::string(format_instant(run.started_at));
    entry["finished_at"] = run.finished_at ? value::string(format_instant(*run.finished_at)) : value::null();
    entry["outcome"] = value::string(std::string(to_string(run.outcome)));
    entry["planned"] = value::number(run.planned);
    entry["applied"] = value::number(run.applied);
    entry["failed"] = value::number(run.failed);
    entry["reported"] = value::number(run.reported);
    entry["warnings"] = value::number(run.warnings);
    entry["error"] = value::string(run.error);
    return entry;
}

value snapshot_json(const LiveState& live) {
    value snapshot = value::object(true);
    if (live.org_smtp_auth_disabled) {
        value transport = value::object(true);
        transport["SmtpClientAuthenticationDisabled"] = value::boolean(*live.org_smtp_auth_disabled);
        snapshot["transport_config"] = std::move(transport);
    }
    if (live.mailboxes) {
        value list = value::array(live.mailboxes->size());
        for (std::size_t i = 0; i < live.mailboxes->size(); ++i) {
            const Mailbox& mailbox = (*live.mailboxes)[i];
            value m = value::object(true);
            m["Identity"] = value::string(mailbox.identity);
            m["Guid"] = value::string(mailbox.guid);
            m["ExternalDirectoryObjectId"] = value::string(mailbox.external_directory_object_id);
            m["PrimarySmtpAddress"] = value::string(mailbox.primary_smtp_address);
            if (!mailbox.display_name.empty()) m["DisplayName"] = value::string(mailbox.display_name);
            m["SmtpClientAuthenticationDisabled"] =
                mailbox.smtp_auth_disabled ? value::boolean(*mailbox.smtp_auth_disabled) : value::null();
            list[i] = std::move(m);
        }
        snapshot["cas_mailboxes"] = std::move(list);
    }
    if (live.policies) {
        value list = value::array(live.policies->size());
        for (std::size_t i = 0; i < live.policies->size(); ++i) {
            const LivePolicy& policy = (*live.policies)[i];
            value p = value::object(true);
            p["Name"] = value::string(policy.name);
            p["Identity"] = value::string(policy.identity);
            p["Guid"] = value::string(policy.guid);
            p["DistinguishedName"] = value::string(policy.distinguished_name);
            for (std::size_t f = 0; f < basic_auth_flag_count; ++f)
                p[std::string(basic_auth_flags[f].exchange_name)] = value::boolean(policy.flags[f]);
            list[i] = std::move(p);
        }
        snapshot["authentication_policies"] = std::move(list);
    }
    if (live.organization) {
        value organization = value::object(true);
        organization["DefaultAuthenticationPolicy"] = text_or_null(live.organization->default_authentication_policy);
        snapshot["organization_config"] = std::move(organization);
    }
    if (live.users) {
        value list = value::array(live.users->size());
        for (std::size_t i = 0; i < live.users->size(); ++i) {
            const LiveUser& user = (*live.users)[i];
            value u = value::object(true);
            u["Identity"] = value::string(user.identity);
            u["ExternalDirectoryObjectId"] = value::string(user.external_directory_object_id);
            u["UserPrincipalName"] = value::string(user.user_principal_name);
            u["AuthenticationPolicy"] = text_or_null(user.authentication_policy);
            list[i] = std::move(u);
        }
        snapshot["users"] = std::move(list);
    }
    return snapshot;
}

void render_plan(std::ostream& out, const Plan& plan, ReportFormat format) {
    render_plan(out, plan, format, TextStyle{});
}

void render_plan(std::ostream& out, const Plan& plan, ReportFormat format, const TextStyle& style,
                 const SourceLinks& links) {
    switch (format) {
        case ReportFormat::json: write_json(out, plan_to_json(plan)); break;
        case ReportFormat::markdown: render_markdown(out, plan, links); break;
        case ReportFormat::text: render_text(out, plan, style); break;
    }
}

}  // namespace authgate
