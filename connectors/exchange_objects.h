#pragma once
// Exchange's objects (Get-CASMailbox, Get-AuthenticationPolicy, Get-User, Get-TransportConfig,
// Get-OrganizationConfig) read into the live-state model, for the snapshot file and the live
// API alike. Everything the planner relies on must be stated: a property left out is unknown,
// and unknown is not absent (safety rule 3).
#include <array>
#include <string>
#include <string_view>

#include <cpprest/json.h>

#include "connectors/connector.h"
#include "policies/live_state.h"

namespace simdjson::dom {
class element;
class object;
}

namespace authgate {

inline constexpr std::size_t no_index = static_cast<std::size_t>(-1);

// Where an object sits, e.g. "live.json: cas_mailboxes[3]" or "Get-CASMailbox: value[3]". It
// becomes text only when a message needs it, so that 100,000 mailboxes do not cost 100,000
// path strings.
struct Place {
    Place(const std::string& file, std::string_view path, std::size_t index = no_index)
        : file(file), path(path), index(index) {}

    const std::string& file;
    std::string_view path;   // "cas_mailboxes", "cas_mailboxes.value", or "" for the top
    std::size_t index;       // the position in the array, when the object came in one
    std::string_view label;  // the address or name that lets a reader find the object

    std::string where() const;
    [[noreturn]] void fail(std::string_view problem) const;
    [[noreturn]] void fail(std::string_view property, std::string_view problem) const;
};

// The properties of one object that a reader wants, found in a single pass over its
// members. A single pass also catches a property written twice whatever member order
// cpprest keeps, and a property written twice has no one value to trust.
template <std::size_t N>
struct Fields {
    std::array<const web::json::value*, N> found{};
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

    const web::json::value* operator[](std::size_t i) const { return found[i]; }
};

std::string describe(const web::json::value& json);  // "a string", "null", …
const web::json::object& as_object(const web::json::value& json, const Place& place);

// A member's value as the object readers see it, whichever parser read it. `text` points into
// the parser's buffer (or the cpprest value), and lives as long as it does.
struct JsonScalar {
    enum class Kind { null, boolean, number, string, object, array };
    JsonScalar() = default;
    explicit JsonScalar(Kind kind, bool flag = false, std::string_view text = {}) : kind(kind), flag(flag), text(text) {}

    Kind kind = Kind::null;
    bool flag = false;      // a boolean's value
    std::string_view text;  // a string's value
};
std::string describe(const JsonScalar& json);
simdjson::dom::object as_object(const simdjson::dom::element& json, const Place& place);

// The readers of Exchange's objects, for a cpprest object (snapshot files) and for a simdjson
// object (pages of the admin API, read without making a cpprest value of each object).
Mailbox read_mailbox(const web::json::object& object, Place place);
Mailbox read_mailbox(const simdjson::dom::object& object, Place place);
LivePolicy read_policy(const web::json::object& object, Place place);
LivePolicy read_policy(const simdjson::dom::object& object, Place place);
LiveUser read_user(const web::json::object& object, Place place);
LiveUser read_user(const simdjson::dom::object& object, Place place);
bool read_transport_config(const web::json::object& object, const Place& place);
bool read_transport_config(const simdjson::dom::object& object, const Place& place);
OrganizationConfig read_organization_config(const web::json::object& object, const Place& place);
OrganizationConfig read_organization_config(const simdjson::dom::object& object, const Place& place);

}  // namespace authgate
