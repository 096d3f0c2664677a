// The snapshot connector. Exchange's property names are kept as they are so that a
// ConvertTo-Json export loads unchanged; everything the planner relies on must be stated,
// because a property left out is unknown, and unknown is not absent (safety rule 3).
#include "connectors/snapshot.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include <cpprest/json.h>

namespace authgate {
namespace {

using web::json::value;

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
constexpr std::size_t no_index = static_cast<std::size_t>(-1);

std::string describe(const value& json) {
    switch (json.type()) {
    case value::Number: return "a number";
    case value::Boolean: return "a boolean";
    case value::String: return "a string";
    case value::Object: return "an object";
    case value::Array: return "an array";
    case value::Null: break;
    }
    return "null";
}

// Where an object sits in the snapshot. It becomes text only when a message needs it, so
// that 100,000 mailboxes do not cost 100,000 path strings.
struct Place {
    Place(const std::string& file, std::string_view path, std::size_t index = no_index)
        : file(file), path(path), index(index) {}

    const std::string& file;
    std::string_view path;   // "cas_mailboxes", "cas_mailboxes.value", or "" for the top
    std::size_t index;       // the position in the array, when the object came in one
    std::string_view label;  // the address or name that lets a reader find the object

    std::string where() const {
        std::string text(path);
        if (index != no_index) text += "[" + std::to_string(index) + "]";
        return text;
    }

    [[noreturn]] void fail(std::string_view problem) const {
        std::string text = file + ": " + where();
        if (!label.empty()) text.append(" (").append(label).append(")");
        throw ConnectorError(text.append(": ").append(problem));
    }

    // "transport_config.X must …" reads well on its own; after a label, a colon separates.
    [[noreturn]] void fail(std::string_view property, std::string_view problem) const {
        std::string text = file + ": ";
        const std::string at = where();
        if (!label.empty()) {
            text.append(at).append(" (").append(label).append("): ");
        } else if (!at.empty()) {
            text.append(at).append(".");
        }
        throw ConnectorError(text.append(property).append(" ").append(problem));
    }
};

// The properties of one object that a reader wants, found in a single pass over its
// members. A single pass also catches a property written twice whatever member order
// cpprest keeps, and a property written twice has no one value to trust.
template <std::size_t N>
struct Fields {
    std::array<const value*, N> found{};
    std::string_view duplicate;

    Fields(const web::json::object& object, const std::array<std::string_view, N>& names) {
        for (const auto& [key, json] : object) {
            for (std::size_t i = 0; i < N; ++i) {
                if (key != names[i]) continue;
                if (found[i] != nullptr && duplicate.empty()) duplicate = names[i];
                found[i] = &json;
                break;
            }
        }
    }

    // Separate from the search so that the message can carry the object's label.
    void check(const Place& place) const {
        if (!duplicate.empty()) place.fail(duplicate, "appears more than once");
    }

    const value* operator[](std::size_t i) const { return found[i]; }
};

std::string_view first_text(std::initializer_list<const value*> candidates) {
    for (const value* json : candidates) {
        if (json != nullptr && json->is_string() && !json->as_string().empty()) {
            return json->as_string();
        }
    }
    return {};
}

// Descriptive properties: absent and null both leave them empty.
std::string optional_string(const value* json, std::string_view name, const Place& place) {
    if (json == nullptr || json->is_null()) return {};
    if (!json->is_string()) place.fail(name, "must be a string, not " + describe(*json));
    return json->as_string();
}

std::string required_string(const value* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing");
    if (!json->is_string()) place.fail(name, "must be a string, not " + describe(*json));
    if (json->as_string().empty()) place.fail(name, "is empty");
    return json->as_string();
}

bool required_bool(const value* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing; a snapshot must say true or false");
    if (!json->is_boolean()) place.fail(name, "must be a boolean, not " + describe(*json));
    return json->as_bool();
}

// A mailbox override: null is a value (inherit the org switch), absence is not.
std::optional<bool> required_tristate(const value* json, std::string_view name,
                                      const Place& place) {
    if (json == nullptr) {
        place.fail(name, "is missing; a snapshot must say true, false or null");
    }
    if (json->is_null()) return std::nullopt;
    if (!json->is_boolean()) {
        place.fail(name, "must be true, false or null, not " + describe(*json));
    }
    return json->as_bool();
}

// Exchange reports "no policy" as null or as an empty string, depending on the cmdlet.
std::optional<std::string> required_policy_reference(const value* json, std::string_view name,
                                                     const Place& place) {
    if (json == nullptr) {
        place.fail(name, "is missing; a snapshot must say a policy name or null");
    }
    if (json->is_null()) return std::nullopt;
    if (!json->is_string()) {
        place.fail(name, "must be a policy name or null, not " + describe(*json));
    }
    if (json->as_string().empty()) return std::nullopt;
    return json->as_string();
}

// An absent flag is false, as it is in Exchange when a policy is created without it.
bool flag(const value* json, std::string_view name, const Place& place) {
    if (json == nullptr || json->is_null()) return false;
    if (!json->is_boolean()) place.fail(name, "must be a boolean, not " + describe(*json));
    return json->as_bool();
}

const web::json::object& as_object(const value& json, const Place& place) {
    if (!json.is_object()) {
        throw ConnectorError(place.file + ": " + place.where() + " must be an object, not " +
                             describe(json));
    }
    return json.as_object();
}

Mailbox read_mailbox(const web::json::object& object, Place place) {
    enum { guid, identity, external_id, address, disabled };
    static const std::array<std::string_view, 5> names{
        "Guid", "Identity", "ExternalDirectoryObjectId", "PrimarySmtpAddress",
        "SmtpClientAuthenticationDisabled"};
    const Fields fields(object, names);
    place.label = first_text({fields[address], fields[identity], fields[guid], fields[external_id]});
    fields.check(place);

    Mailbox mailbox;
    mailbox.guid = optional_string(fields[guid], names[guid], place);
    mailbox.identity = optional_string(fields[identity], names[identity], place);
    mailbox.external_directory_object_id =
        optional_string(fields[external_id], names[external_id], place);
    mailbox.primary_smtp_address = required_string(fields[address], names[address], place);
    // Identity and address can be reused by another mailbox; a change must name one for sure.
    if (mailbox.guid.empty() && mailbox.external_directory_object_id.empty()) {
        place.fail("has neither Guid nor ExternalDirectoryObjectId; one of them is needed to "
                   "address the mailbox without ambiguity");
    }
    mailbox.smtp_auth_disabled = required_tristate(fields[disabled], names[disabled], place);
    return mailbox;
}

LivePolicy read_policy(const web::json::object& object, Place place) {
    enum { name, identity, guid, distinguished_name, first_flag };
    static const auto names = [] {
        std::array<std::string_view, first_flag + basic_auth_flag_count> all{
            "Name", "Identity", "Guid", "DistinguishedName"};
        for (std::size_t i = 0; i < basic_auth_flag_count; ++i) {
            all[first_flag + i] = basic_auth_flags[i].exchange_name;
        }
        return all;
    }();
    const Fields fields(object, names);
    place.label = first_text({fields[name], fields[identity]});
    fields.check(place);

    LivePolicy policy;
    policy.name = required_string(fields[name], names[name], place);
    policy.identity = optional_string(fields[identity], names[identity], place);
    policy.guid = optional_string(fields[guid], names[guid], place);
    policy.distinguished_name =
        optional_string(fields[distinguished_name], names[distinguished_name], place);
    for (std::size_t i = 0; i < basic_auth_flag_count; ++i) {
        policy.flags[i] = flag(fields[first_flag + i], names[first_flag + i], place);
    }
    return policy;
}

LiveUser read_user(const web::json::object& object, Place place) {
    enum { identity, external_id, principal_name, policy };
    static const std::array<std::string_view, 4> names{
        "Identity", "ExternalDirectoryObjectId", "UserPrincipalName", "AuthenticationPolicy"};
    const Fields fields(object, names);
    place.label = first_text({fields[principal_name], fields[identity], fields[external_id]});
    fields.check(place);

    LiveUser user;
    user.identity = optional_string(fields[identity], names[identity], place);
    user.external_directory_object_id =
        optional_string(fields[external_id], names[external_id], place);
    user.user_principal_name = optional_string(fields[principal_name], names[principal_name], place);
    // A user is matched to its mailbox, and changed, by one of these.
    if (user.identity.empty() && user.external_directory_object_id.empty()) {
        place.fail("has neither Identity nor ExternalDirectoryObjectId; one of them is needed to "
                   "match the user to its mailbox");
    }
    user.authentication_policy = required_policy_reference(fields[policy], names[policy], place);
    return user;
}

bool read_transport_config(const web::json::object& object, const Place& place) {
    static const std::array<std::string_view, 1> names{"SmtpClientAuthenticationDisabled"};
    const Fields fields(object, names);
    fields.check(place);
    return required_bool(fields[0], names[0], place);
}

OrganizationConfig read_organization_config(const web::json::object& object,
                                            const Place& place) {
    static const std::array<std::string_view, 1> names{"DefaultAuthenticationPolicy"};
    const Fields fields(object, names);
    fields.check(place);
    return {required_policy_reference(fields[0], names[0], place)};
}

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

template <class T, class Read>
std::vector<T> read_list(const value& member, std::string_view name, const std::string& file,
                         Read read) {
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
template <class Read>
auto read_single(const value& member, std::string_view name, const std::string& file, Read read) {
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
    // Out-File and ">" in Windows PowerShell 5.1 write UTF-16, the usual way to get here.
    if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) {
        throw ConnectorError(name + ": the file is UTF-16; save it as UTF-8 (in Windows "
                                    "PowerShell: Out-File -Encoding utf8)");
    }
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
    return state;
}

LiveState SnapshotConnector::read_live_state() {
    const auto cannot_read = [this](int error) {
        return ConnectorError("cannot read snapshot " + path_ + ": " + std::strerror(error));
    };
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path_.c_str(), "rb"),
                                                               &std::fclose);
    if (!file) throw cannot_read(errno);

    std::string text;
    std::array<char, 1 << 16> buffer;
    std::size_t count = 0;
    while ((count = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
        text.append(buffer.data(), count);
    }
    if (std::ferror(file.get())) throw cannot_read(errno);
    return parse_snapshot(text, path_);
}

}  // namespace authgate
