#include "connectors/exchange_objects.h"

#include <array>
#include <optional>

#include <simdjson.h>

namespace authgate {

using web::json::value;

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

std::string describe(const JsonScalar& json) {
    switch (json.kind) {
    case JsonScalar::Kind::number: return "a number";
    case JsonScalar::Kind::boolean: return "a boolean";
    case JsonScalar::Kind::string: return "a string";
    case JsonScalar::Kind::object: return "an object";
    case JsonScalar::Kind::array: return "an array";
    case JsonScalar::Kind::null: break;
    }
    return "null";
}

namespace {

using Kind = JsonScalar::Kind;

JsonScalar scalar_of(const value& json) {
    switch (json.type()) {
    case value::Number: return JsonScalar(Kind::number);
    case value::Boolean: return JsonScalar(Kind::boolean, json.as_bool());
    case value::String: return JsonScalar(Kind::string, false, json.as_string());
    case value::Object: return JsonScalar(Kind::object);
    case value::Array: return JsonScalar(Kind::array);
    case value::Null: break;
    }
    return {};
}

JsonScalar scalar_of(simdjson::dom::element json) {
    switch (json.type()) {
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return JsonScalar(Kind::number);
    case simdjson::dom::element_type::BOOL: return JsonScalar(Kind::boolean, json.get_bool().value_unsafe());
    case simdjson::dom::element_type::STRING: return JsonScalar(Kind::string, false, json.get_string().value_unsafe());
    case simdjson::dom::element_type::OBJECT: return JsonScalar(Kind::object);
    case simdjson::dom::element_type::ARRAY: return JsonScalar(Kind::array);
    case simdjson::dom::element_type::NULL_VALUE: break;
    }
    return {};
}

// The properties of one object that a reader wants, found in a single pass over its members,
// whichever parser read it. A single pass also catches a property written twice, which has no
// one value to trust.
template <std::size_t N>
class Wanted {
public:
    Wanted(const web::json::object& object, const std::array<std::string_view, N>& names) : names_(names) {
        for (const auto& [key, json] : object) see(key, [&] { return scalar_of(json); });
    }
    Wanted(const simdjson::dom::object& object, const std::array<std::string_view, N>& names) : names_(names) {
        for (const auto field : object) see(field.key, [&] { return scalar_of(field.value); });
    }

    // Separate from the search so that the message can carry the object's label.
    void check(const Place& place) const {
        if (!duplicate_.empty()) place.fail(duplicate_, "appears more than once");
    }
    const JsonScalar* operator[](std::size_t i) const { return present_[i] ? &found_[i] : nullptr; }
    std::string_view name(std::size_t i) const { return names_[i]; }

private:
    template <class Scalar>
    void see(std::string_view key, const Scalar& scalar) {
        for (std::size_t i = 0; i < N; ++i) {
            if (key != names_[i]) continue;
            if (present_[i] && duplicate_.empty()) duplicate_ = names_[i];
            found_[i] = scalar();
            present_[i] = true;
            return;
        }
    }

    const std::array<std::string_view, N>& names_;
    std::array<JsonScalar, N> found_{};
    std::array<bool, N> present_{};
    std::string_view duplicate_;
};

std::string_view first_text(std::initializer_list<const JsonScalar*> candidates) {
    for (const JsonScalar* json : candidates) {
        if (json != nullptr && json->kind == Kind::string && !json->text.empty()) return json->text;
    }
    return {};
}

// Descriptive properties: absent and null both leave them empty.
std::string optional_string(const JsonScalar* json, std::string_view name, const Place& place) {
    if (json == nullptr || json->kind == Kind::null) return {};
    if (json->kind != Kind::string) place.fail(name, "must be a string, not " + describe(*json));
    return std::string(json->text);
}

std::string required_string(const JsonScalar* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing");
    if (json->kind != Kind::string) place.fail(name, "must be a string, not " + describe(*json));
    if (json->text.empty()) place.fail(name, "is empty");
    return std::string(json->text);
}

bool required_bool(const JsonScalar* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing; a snapshot must say true or false");
    if (json->kind != Kind::boolean) place.fail(name, "must be a boolean, not " + describe(*json));
    return json->flag;
}

// A mailbox override: null is a value (inherit the org switch), absence is not.
std::optional<bool> required_tristate(const JsonScalar* json, std::string_view name, const Place& place) {
    if (json == nullptr) place.fail(name, "is missing; a snapshot must say true, false or null");
    if (json->kind == Kind::null) return std::nullopt;
    if (json->kind != Kind::boolean) place.fail(name, "must be true, false or null, not " + describe(*json));
    return json->flag;
}

// Exchange reports "no policy" as null or as an empty string, depending on the cmdlet.
std::optional<std::string> required_policy_reference(const JsonScalar* json, std::string_view name,
                                                     const Place& place) {
    if (json == nullptr) place.fail(name, "is missing; a snapshot must say a policy name or null");
    if (json->kind == Kind::null) return std::nullopt;
    if (json->kind != Kind::string) place.fail(name, "must be a policy name or null, not " + describe(*json));
    if (json->text.empty()) return std::nullopt;
    return std::string(json->text);
}

// An absent flag is false, as it is in Exchange when a policy is created without it.
bool flag(const JsonScalar* json, std::string_view name, const Place& place) {
    if (json == nullptr || json->kind == Kind::null) return false;
    if (json->kind != Kind::boolean) place.fail(name, "must be a boolean, not " + describe(*json));
    return json->flag;
}

const std::array<std::string_view, 5> mailbox_names{"Guid", "Identity", "ExternalDirectoryObjectId",
                                                    "PrimarySmtpAddress", "SmtpClientAuthenticationDisabled"};

template <class Object>
Mailbox mailbox_from(const Object& object, Place place) {
    enum { guid, identity, external_id, address, disabled };
    const Wanted fields(object, mailbox_names);
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
    return mailbox;
}

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

template <class Object>
LivePolicy policy_from(const Object& object, Place place) {
    const Wanted fields(object, policy_names());
    place.label = first_text({fields[policy_name], fields[policy_identity]});
    fields.check(place);

    LivePolicy policy;
    policy.name = required_string(fields[policy_name], fields.name(policy_name), place);
    policy.identity = optional_string(fields[policy_identity], fields.name(policy_identity), place);
    policy.guid = optional_string(fields[policy_guid], fields.name(policy_guid), place);
    policy.distinguished_name =
        optional_string(fields[policy_distinguished_name], fields.name(policy_distinguished_name), place);
    for (std::size_t i = 0; i < basic_auth_flag_count; ++i) {
        const std::size_t at = policy_first_flag + i;
        policy.flags[i] = flag(fields[at], fields.name(at), place);
    }
    return policy;
}

const std::array<std::string_view, 4> user_names{"Identity", "ExternalDirectoryObjectId", "UserPrincipalName",
                                                 "AuthenticationPolicy"};

template <class Object>
LiveUser user_from(const Object& object, Place place) {
    enum { identity, external_id, principal_name, policy };
    const Wanted fields(object, user_names);
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

const std::array<std::string_view, 1> transport_names{"SmtpClientAuthenticationDisabled"};

template <class Object>
bool transport_config_from(const Object& object, const Place& place) {
    const Wanted fields(object, transport_names);
    fields.check(place);
    return required_bool(fields[0], fields.name(0), place);
}

const std::array<std::string_view, 1> organization_names{"DefaultAuthenticationPolicy"};

template <class Object>
OrganizationConfig organization_config_from(const Object& object, const Place& place) {
    const Wanted fields(object, organization_names);
    fields.check(place);
    return {required_policy_reference(fields[0], fields.name(0), place)};
}

}  // namespace

std::string describe(const value& json) { return describe(scalar_of(json)); }

namespace {

[[noreturn]] void not_an_object(const Place& place, const JsonScalar& json) {
    throw ConnectorError(place.file + ": " + place.where() + " must be an object, not " + describe(json));
}

}  // namespace

const web::json::object& as_object(const value& json, const Place& place) {
    if (!json.is_object()) not_an_object(place, scalar_of(json));
    return json.as_object();
}

simdjson::dom::object as_object(const simdjson::dom::element& json, const Place& place) {
    simdjson::dom::object object;
    if (json.get_object().get(object) != simdjson::SUCCESS) not_an_object(place, scalar_of(json));
    return object;
}

Mailbox read_mailbox(const web::json::object& object, Place place) { return mailbox_from(object, place); }
Mailbox read_mailbox(const simdjson::dom::object& object, Place place) { return mailbox_from(object, place); }
LivePolicy read_policy(const web::json::object& object, Place place) { return policy_from(object, place); }
LivePolicy read_policy(const simdjson::dom::object& object, Place place) { return policy_from(object, place); }
LiveUser read_user(const web::json::object& object, Place place) { return user_from(object, place); }
LiveUser read_user(const simdjson::dom::object& object, Place place) { return user_from(object, place); }
bool read_transport_config(const web::json::object& object, const Place& place) {
    return transport_config_from(object, place);
}
bool read_transport_config(const simdjson::dom::object& object, const Place& place) {
    return transport_config_from(object, place);
}
OrganizationConfig read_organization_config(const web::json::object& object, const Place& place) {
    return organization_config_from(object, place);
}
OrganizationConfig read_organization_config(const simdjson::dom::object& object, const Place& place) {
    return organization_config_from(object, place);
}

}  // namespace authgate
