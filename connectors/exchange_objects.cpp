#include "connectors/exchange_objects.h"

#include <array>
#include <optional>

namespace authgate {

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

std::string describe(const simdjson::dom::element& json) {
    switch (json.type()) {
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE: return "a number";
        case simdjson::dom::element_type::BOOL: return "a boolean";
        case simdjson::dom::element_type::STRING: return "a string";
        case simdjson::dom::element_type::OBJECT: return "an object";
        case simdjson::dom::element_type::ARRAY: return "an array";
        case simdjson::dom::element_type::NULL_VALUE: break;
    }
    return "null";
}

namespace {

using simdjson::dom::element;

// A string's text, a view into the parse; nullopt for anything else.
std::optional<std::string_view> text_of(const element& json) {
    std::string_view text;
    if (json.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
    return text;
}

std::optional<bool> flag_of(const element& json) {
    bool flag = false;
    if (json.get_bool().get(flag) != simdjson::SUCCESS) return std::nullopt;
    return flag;
}

std::string_view first_text(std::initializer_list<const element*> candidates) {
    for (const element* json : candidates) {
        if (json == nullptr) continue;
        if (const auto text = text_of(*json); text && !text->empty()) return *text;
    }
    return {};
}

// Descriptive properties: absent and null both leave them empty.
std::string optional_string(const element* json, std::string_view name, const Place& place) {
    if (json == nullptr || json->is_null()) return {};
    const auto text = text_of(*json);
    if (!text) place.fail(name, "must be a string, not " + describe(*json));
    return std::string(*text);
}

std::string required_string(const element* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing");
    const auto text = text_of(*json);
    if (!text) place.fail(name, "must be a string, not " + describe(*json));
    if (text->empty()) place.fail(name, "is empty");
    return std::string(*text);
}

bool required_bool(const element* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing; a snapshot must say true or false");
    const auto flag = flag_of(*json);
    if (!flag) place.fail(name, "must be a boolean, not " + describe(*json));
    return *flag;
}

// A mailbox override: null is a value (inherit the org switch), absence is not.
std::optional<bool> required_tristate(const element* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing; a snapshot must say true, false or null");
    if (json->is_null()) return std::nullopt;
    const auto flag = flag_of(*json);
    if (!flag) place.fail(name, "must be true, false or null, not " + describe(*json));
    return *flag;
}

// Exchange reports "no policy" as null or as an empty string, depending on the cmdlet.
std::optional<std::string> required_policy_reference(const element* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing; a snapshot must say a policy name or null");
    if (json->is_null()) return std::nullopt;
    const auto text = text_of(*json);
    if (!text) place.fail(name, "must be a policy name or null, not " + describe(*json));
    if (text->empty()) return std::nullopt;
    return std::string(*text);
}

// An absent flag is false, as it is in Exchange when a policy is created without it.
bool flag(const element* json, std::string_view name, const Place& place) {
    if (json == nullptr || json->is_null()) return false;
    const auto flag = flag_of(*json);
    if (!flag) place.fail(name, "must be a boolean, not " + describe(*json));
    return *flag;
}

const std::array<std::string_view, 6> mailbox_names{
    "Guid",       "Identity", "ExternalDirectoryObjectId", "PrimarySmtpAddress", "SmtpClientAuthenticationDisabled",
    "DisplayName"};
enum { policy_name, policy_identity, policy_guid, policy_distinguished_name, policy_first_flag };
// A function: the flags' names are another file's global, not yet made during static initialisation.
const std::array<std::string_view, policy_first_flag + basic_auth_flag_count>& policy_names() {
    static const auto names = [] {
        std::array<std::string_view, policy_first_flag + basic_auth_flag_count> all{"Name", "Identity", "Guid",
                                                                                    "DistinguishedName"};
        for (std::size_t i = 0; i < basic_auth_flag_count; ++i)
            all[policy_first_flag + i] = basic_auth_flags[i].exchange_name;
        return all;
    }();
    return names;
}

const std::array<std::string_view, 4> user_names{"Identity", "ExternalDirectoryObjectId", "UserPrincipalName",
                                                 "AuthenticationPolicy"};
const std::array<std::string_view, 1> transport_names{"SmtpClientAuthenticationDisabled"};
const std::array<std::string_view, 1> organization_names{"DefaultAuthenticationPolicy"};

}  // namespace

simdjson::dom::object as_object(const simdjson::dom::element& json, const Place& place) {
    simdjson::dom::object object;
    if (json.get_object().get(object) != simdjson::SUCCESS)
        throw ConnectorError(place.file + ": " + place.where() + " must be an object, not " + describe(json));
    return object;
}

Mailbox read_mailbox(const simdjson::dom::object& object, Place place) {
    enum { guid, identity, external_id, address, disabled, display_name };
    const Fields fields(object, mailbox_names);
    place.label = first_text({fields[address], fields[identity], fields[guid], fields[external_id]});
    fields.check(place);

    Mailbox mailbox;
    mailbox.guid = optional_string(fields[guid], fields.name(guid), place);
    mailbox.identity = optional_string(fields[identity], fields.name(identity), place);
    mailbox.external_directory_object_id = optional_string(fields[external_id], fields.name(external_id), place);
    mailbox.primary_smtp_address = required_string(fields[address], fields.name(address), place);
    // Identity and address can be reused by another mailbox; a change must name one for sure.
    if (mailbox.guid.empty() && mailbox.external_directory_object_id.empty()) {
        place.fail("has neither Guid nor ExternalDirectoryObjectId; one of them is needed to "
                   "address the mailbox without ambiguity");
    }
    mailbox.smtp_auth_disabled = required_tristate(fields[disabled], fields.name(disabled), place);
    // For people only: a display name that is not text is left out rather than failing the read.
    if (fields[display_name])
        if (const auto text = text_of(*fields[display_name])) mailbox.display_name = std::string(*text);
    return mailbox;
}

LivePolicy read_policy(const simdjson::dom::object& object, Place place) {
    const Fields fields(object, policy_names());
    place.label = first_text({fields[policy_name], fields[policy_identity]});
    fields.check(place);

    LivePolicy policy;
    policy.name = required_string(fields[policy_name], fields.name(policy_name), place);
    policy.identity = optional_string(fields[policy_identity], fields.name(policy_identity), place);
    policy.guid = optional_string(fields[policy_guid], fields.name(policy_guid), place);
    policy.distinguished_name = optional_string(fields[policy_distinguished_name],
                                                fields.name(policy_distinguished_name), place);
    for (std::size_t i = 0; i < basic_auth_flag_count; ++i) {
        const std::size_t at = policy_first_flag + i;
        policy.flags[i] = flag(fields[at], fields.name(at), place);
    }
    return policy;
}

LiveUser read_user(const simdjson::dom::object& object, Place place) {
    enum { identity, external_id, principal_name, policy };
    const Fields fields(object, user_names);
    place.label = first_text({fields[principal_name], fields[identity], fields[external_id]});
    fields.check(place);

    LiveUser user;
    user.identity = optional_string(fields[identity], fields.name(identity), place);
    user.external_directory_object_id = optional_string(fields[external_id], fields.name(external_id), place);
    user.user_principal_name = optional_string(fields[principal_name], fields.name(principal_name), place);
    // A user is matched to its mailbox, and changed, by one of these.
    if (user.identity.empty() && user.external_directory_object_id.empty()) {
        place.fail("has neither Identity nor ExternalDirectoryObjectId; one of them is needed to "
                   "match the user to its mailbox");
    }
    user.authentication_policy = required_policy_reference(fields[policy], fields.name(policy), place);
    return user;
}

bool read_transport_config(const simdjson::dom::object& object, const Place& place) {
    const Fields fields(object, transport_names);
    fields.check(place);
    return required_bool(fields[0], fields.name(0), place);
}

OrganizationConfig read_organization_config(const simdjson::dom::object& object, const Place& place) {
    const Fields fields(object, organization_names);
    fields.check(place);
    return {required_policy_reference(fields[0], fields.name(0), place)};
}

}  // namespace authgate
