#include "connectors/exchange_objects.h"

#include <array>
#include <optional>

namespace authgate {

using web::json::value;

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

std::string Place::where() const {
    std::string text(path);
    if (index != no_index) text += "[" + std::to_string(index) + "]";
    return text;
}

void Place::fail(std::string_view problem) const {
    std::string text = file + ": " + where();
    if (!label.empty()) text.append(" (").append(label).append(")");
    throw ConnectorError(text.append(": ").append(problem));
}

// "transport_config.X must …" reads well on its own; after a label, a colon separates.
void Place::fail(std::string_view property, std::string_view problem) const {
    std::string text = file + ": ";
    const std::string at = where();
    if (!label.empty()) {
        text.append(at).append(" (").append(label).append("): ");
    } else if (!at.empty()) {
        text.append(at).append(".");
    }
    throw ConnectorError(text.append(property).append(" ").append(problem));
}

namespace {

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

}  // namespace

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

}  // namespace authgate
