#include "agent/saved_plan.h"

#include <utility>

#include "agent/json_output.h"
#include "agent/render.h"
#include "agent/usage_error.h"
#include "policies/files.h"

namespace authgate {
namespace {

using web::json::value;

class Reader {
public:
    explicit Reader(std::string path) : path_(std::move(path)) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw UsageError(path_ + " is not a usable saved plan: " + what);
    }
    const value& member(const value& object, const std::string& name, const std::string& where) const {
        if (!object.is_object() || !object.has_field(name)) fail(where + " has no \"" + name + "\"");
        return object.at(name);
    }
    std::string text(const value& object, const std::string& name, const std::string& where) const {
        const value& v = member(object, name, where);
        if (!v.is_string()) fail(where + "." + name + " must be a string");
        return v.as_string();
    }
    SettingValue plan_value(const value& v, const std::string& where) const {
        if (v.is_null()) return SettingValue{};
        if (v.is_boolean()) return SettingValue{v.as_bool()};
        if (v.is_string()) return SettingValue{v.as_string()};
        fail(where + " must be null, a boolean or a string");
    }
    template <NamedEnum Enum>
    Enum choice(const std::string& name, const std::string& where) const {
        if (const auto value = parse_name<Enum>(name)) return *value;
        fail(where + " has an unknown value \"" + name + "\"");
    }

private:
    std::string path_;
};

value optional_text(const std::optional<std::string>& text) { return text ? value::string(*text) : value::null(); }

}  // namespace

void write_saved_plan(std::ostream& out, const SavedPlan& saved) {
    value json = plan_to_json(saved.plan);
    value& changes = json["changes"];
    for (std::size_t i = 0; i < saved.plan.changes.size(); ++i) {
        value apply = value::object(true);
        apply["phase"] = value::number(static_cast<int>(saved.plan.changes[i].phase));
        apply["requires_org_disabled"] = value::boolean(saved.plan.changes[i].requires_org_disabled);
        changes[i]["apply"] = std::move(apply);
    }
    value connection = value::object(true);
    connection["tenant"] = value::string(saved.connection.tenant);
    connection["app_id"] = value::string(saved.connection.app_id);
    connection["certificate"] = value::string(saved.connection.certificate);
    connection["certificate_password_env"] = value::string(saved.connection.certificate_password_env);
    connection["login_endpoint"] = value::string(saved.connection.login_endpoint);
    connection["exchange_endpoint"] = value::string(saved.connection.exchange_endpoint);
    connection["ca_bundle"] = optional_text(saved.connection.ca_bundle);
    value extra = value::object(true);
    extra["connection"] = std::move(connection);
    extra["max_changes"] = value::number(saved.max_changes);
    value paths = value::array(saved.desired_paths.size());
    for (std::size_t i = 0; i < saved.desired_paths.size(); ++i) paths[i] = value::string(saved.desired_paths[i]);
    extra["desired_paths"] = std::move(paths);
    json["saved"] = std::move(extra);
    write_json(out, json);
}

SavedPlan read_saved_plan(const std::string& path) {
    std::string content;
    try {
        content = read_file(path);
    } catch (const FileError& error) {
        throw FileError("cannot read the saved plan", path, error.reason());
    }
    const Reader r(path);
    value json;
    try {
        web::json::keep_object_element_order(true);  // cmdlet parameters keep their order
        json = value::parse(content);
    } catch (const web::json::json_exception& error) {
        r.fail(std::string("not valid JSON: ") + error.what());
    }
    if (!json.is_object() || !json.has_field("saved"))
        r.fail("it has no \"saved\" section; make saved plans with authgate plan --out");
    if (!json.has_number_field("format_version") || json.at("format_version").as_integer() != 1)
        r.fail("format_version must be 1");

    SavedPlan saved;
    Plan& plan = saved.plan;
    plan.tenant = r.text(json, "tenant", "the plan");
    const auto evaluated = parse_instant(r.text(json, "evaluated_at", "the plan"));
    if (!evaluated) r.fail("evaluated_at is not a time");
    plan.evaluated_at = *evaluated;
    plan.desired_digest = r.text(json, "desired_digest", "the plan");

    const value& changes = r.member(json, "changes", "the plan");
    if (!changes.is_array()) r.fail("changes must be an array");
    for (std::size_t i = 0; i < changes.size(); ++i) {
        const value& c = changes.at(i);
        const std::string where = "changes[" + std::to_string(i) + "]";
        Change change;
        change.resource = r.choice<Resource>(r.text(c, "resource", where), where + ".resource");
        change.target = r.text(c, "target", where);
        change.attribute = r.text(c, "attribute", where);
        change.action = r.choice<Action>(r.text(c, "action", where), where + ".action");
        change.before = r.plan_value(r.member(c, "before", where), where + ".before");
        change.after = r.plan_value(r.member(c, "after", where), where + ".after");
        change.reason = r.choice<Reason>(r.text(c, "reason", where), where + ".reason");
        change.detail = r.text(c, "detail", where);
        if (c.has_string_field("display_name")) change.display_name = c.at("display_name").as_string();
        const value& cmdlet = r.member(c, "cmdlet", where);
        change.cmdlet.name = r.text(cmdlet, "name", where + ".cmdlet");
        const value& parameters = r.member(cmdlet, "parameters", where + ".cmdlet");
        if (!parameters.is_object()) r.fail(where + ".cmdlet.parameters must be an object");
        for (const auto& [name, parameter] : parameters.as_object())
            change.cmdlet.parameters.emplace_back(name, r.plan_value(parameter, where + ".cmdlet.parameters." + name));
        const value& source = r.member(c, "source", where);
        if (source.is_object() && source.has_string_field("file") && source.has_number_field("line"))
            change.source = SourceLocation{source.at("file").as_string(), source.at("line").as_integer(), 0};
        const value& apply = r.member(c, "apply", where);
        if (!apply.has_number_field("phase") || apply.at("phase").as_integer() < 0 ||
            apply.at("phase").as_integer() > 5)
            r.fail(where + ".apply.phase must be a number from 0 to 5");
        change.phase = static_cast<Phase>(apply.at("phase").as_integer());
        change.requires_org_disabled = apply.has_boolean_field("requires_org_disabled") &&
                                       apply.at("requires_org_disabled").as_bool();
        plan.changes.push_back(std::move(change));
    }
    if (json.has_array_field("exceptions")) {
        for (const value& e : json.at("exceptions").as_array()) {
            ExceptionStatus status;
            status.mailbox = r.text(e, "mailbox", "an exception");
            status.owner = r.text(e, "owner", "an exception");
            status.expires = r.text(e, "expires", "an exception");
            status.state = r.choice<ExceptionState>(r.text(e, "state", "an exception"), "an exception's state");
            if (e.has_number_field("days_left"))
                status.days_left = static_cast<long>(e.at("days_left").as_number().to_int64());
            plan.exceptions.push_back(status);
        }
    }
    if (json.has_array_field("warnings"))
        for (const value& w : json.at("warnings").as_array())
            plan.warnings.push_back(
                {Severity::warning, r.text(w, "code", "a warning"), r.text(w, "message", "a warning"), {}});
    if (json.has_array_field("skipped"))
        for (const value& s : json.at("skipped").as_array())
            plan.skipped.push_back({r.text(s, "target", "a skipped entry"), r.text(s, "reason", "a skipped entry"),
                                    s.has_string_field("detail") ? s.at("detail").as_string() : ""});

    const value& extra = json.at("saved");
    const value& connection = r.member(extra, "connection", "saved");
    ConnectionSettings& settings = saved.connection;
    settings.tenant = r.text(connection, "tenant", "saved.connection");
    settings.app_id = r.text(connection, "app_id", "saved.connection");
    settings.certificate = r.text(connection, "certificate", "saved.connection");
    settings.certificate_password_env = r.text(connection, "certificate_password_env", "saved.connection");
    settings.login_endpoint = r.text(connection, "login_endpoint", "saved.connection");
    settings.exchange_endpoint = r.text(connection, "exchange_endpoint", "saved.connection");
    if (connection.has_string_field("ca_bundle")) settings.ca_bundle = connection.at("ca_bundle").as_string();
    if (extra.has_number_field("max_changes")) saved.max_changes = extra.at("max_changes").as_integer();
    saved.plan.max_changes = saved.max_changes;
    if (extra.has_array_field("desired_paths"))
        for (const value& path : extra.at("desired_paths").as_array()) {
            if (!path.is_string()) r.fail("saved.desired_paths must hold strings");
            saved.desired_paths.push_back(path.as_string());
        }
    return saved;
}

}  // namespace authgate
