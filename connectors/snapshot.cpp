// The snapshot connector. Exchange's property names are kept as they are so that a
// ConvertTo-Json export loads unchanged; everything the planner relies on must be stated,
// because a property left out is unknown, and unknown is not absent (safety rule 3).
#include "connectors/snapshot.h"

#include "connectors/exchange_objects.h"
#include "policies/files.h"

#include <array>
#include <string_view>
#include <utility>

#include <cpprest/json.h>

namespace authgate {
namespace {

using web::json::value;

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

// A top-level member after PowerShell's ways of writing a collection are undone: an array,
// the lone object ConvertTo-Json writes for a one-element collection, or the array inside
// a {"value": […]} wrapper (the REST envelope, and Windows PowerShell's {"value", "Count"}).
struct Elements {
    std::string path;
    const web::json::array* array = nullptr;
    const value* single = nullptr;
};

Elements elements_of(const value& member, std::string_view name, std::string_view expected,
                     const std::string& file) {
    if (member.is_array()) return {std::string(name), &member.as_array(), nullptr};
    if (!member.is_object()) {
        throw ConnectorError(file + ": " + std::string(name) + " must be " +
                             std::string(expected) + ", not " + describe(member));
    }
    static const std::array<std::string_view, 1> names{"value"};
    const Fields envelope(member.as_object(), names);
    if (envelope[0] != nullptr && envelope[0]->is_array()) {
        const Place place{file, name};
        envelope.check(place);
        return {std::string(name) + ".value", &envelope[0]->as_array(), nullptr};
    }
    return {std::string(name), nullptr, &member};
}

template <class T>
std::vector<T> read_list(const value& member, std::string_view name, const std::string& file,
                         T (*read)(const web::json::object&, Place)) {
    if (member.is_null()) {
        // What an empty pipeline gives in PowerShell, and also what a failed one gives.
        throw ConnectorError(file + ": " + std::string(name) +
                             " is null; write [] for none (in PowerShell, wrap the command in "
                             "@()), or leave the member out when it is unknown");
    }
    const Elements elements = elements_of(member, name, "an array", file);
    std::vector<T> list;
    if (elements.single != nullptr) {
        const Place place{file, elements.path};
        list.push_back(read(as_object(*elements.single, place), place));
        return list;
    }
    list.reserve(elements.array->size());
    for (std::size_t i = 0; i < elements.array->size(); ++i) {
        const Place place{file, elements.path, i};
        list.push_back(read(as_object(elements.array->at(i), place), place));
    }
    return list;
}

// Get-TransportConfig and Get-OrganizationConfig return one object, which REST still wraps
// in an array; two would leave no way to tell which one holds.
template <class T>
T read_single(const value& member, std::string_view name, const std::string& file,
              T (*read)(const web::json::object&, const Place&)) {
    if (member.is_null()) {
        throw ConnectorError(file + ": " + std::string(name) +
                             " is null; leave the member out when it is unknown");
    }
    const Elements elements = elements_of(member, name, "an object", file);
    if (elements.single != nullptr) {
        const Place place{file, elements.path};
        return read(as_object(*elements.single, place), place);
    }
    if (elements.array->size() != 1) {
        throw ConnectorError(file + ": " + elements.path + " must hold exactly one object, not " +
                             std::to_string(elements.array->size()));
    }
    const Place place{file, elements.path, 0};
    return read(as_object(elements.array->at(0), place), place);
}

value parse_json(const std::string& text, const std::string& name) {
    try {
        // Windows PowerShell 5.1 starts its UTF-8 files with a byte order mark.
        if (std::string_view(text).starts_with(utf8_bom)) {
            return value::parse(text.substr(utf8_bom.size()));
        }
        return value::parse(text);
    } catch (const web::json::json_exception& error) {
        std::string_view message = error.what();
        if (message.starts_with("* ")) message.remove_prefix(2);
        throw ConnectorError(name + ": not valid JSON: " + std::string(message));
    }
}

}  // namespace

LiveState parse_snapshot(const std::string& text, const std::string& name) {
    if (const auto problem = utf16_problem(text)) throw ConnectorError(name + ": " + *problem);
    const value root = parse_json(text, name);
    if (!root.is_object()) {
        throw ConnectorError(name + ": the top level must be an object, not " + describe(root));
    }

    enum { transport, mailboxes, policies, organization, users };
    static const std::array<std::string_view, 5> names{
        "transport_config", "cas_mailboxes", "authentication_policies", "organization_config",
        "users"};
    const Fields fields(root.as_object(), names);
    fields.check(Place{name, ""});

    LiveState state;
    if (const value* member = fields[transport]) {
        state.org_smtp_auth_disabled =
            read_single(*member, names[transport], name, read_transport_config);
    }
    if (const value* member = fields[mailboxes]) {
        state.mailboxes = read_list<Mailbox>(*member, names[mailboxes], name, read_mailbox);
    }
    if (const value* member = fields[policies]) {
        state.policies = read_list<LivePolicy>(*member, names[policies], name, read_policy);
    }
    if (const value* member = fields[organization]) {
        state.organization =
            read_single(*member, names[organization], name, read_organization_config);
    }
    if (const value* member = fields[users]) {
        state.users = read_list<LiveUser>(*member, names[users], name, read_user);
    }
    name_policy_references(state);
    return state;
}

std::vector<WriteOutcome> SnapshotConnector::write(const std::vector<Cmdlet>&) {
    throw ConnectorError("a snapshot is read-only: " + path_ + " cannot be changed; apply reads and changes the tenant");
}

namespace {

value text_or_null(const std::optional<std::string>& text) { return text ? value::string(*text) : value::null(); }

}  // namespace

web::json::value snapshot_json(const LiveState& live) {
    value snapshot = value::object(true);
    if (live.org_smtp_auth_disabled) {
        value transport = value::object(true);
        transport["SmtpClientAuthenticationDisabled"] = value::boolean(*live.org_smtp_auth_disabled);
        snapshot["transport_config"] = transport;
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
            m["SmtpClientAuthenticationDisabled"] =
                mailbox.smtp_auth_disabled ? value::boolean(*mailbox.smtp_auth_disabled) : value::null();
            list[i] = m;
        }
        snapshot["cas_mailboxes"] = list;
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
            list[i] = p;
        }
        snapshot["authentication_policies"] = list;
    }
    if (live.organization) {
        value organization = value::object(true);
        organization["DefaultAuthenticationPolicy"] = text_or_null(live.organization->default_authentication_policy);
        snapshot["organization_config"] = organization;
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
            list[i] = u;
        }
        snapshot["users"] = list;
    }
    return snapshot;
}

LiveState SnapshotConnector::read_live_state() {
    std::string text;
    try {
        text = read_file(path_);
    } catch (const FileError& error) {
        throw ConnectorError("cannot read snapshot " + path_ + ": " + error.reason());
    }
    return parse_snapshot(text, path_);
}

}  // namespace authgate
