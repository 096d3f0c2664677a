#pragma once
// Exchange's objects (Get-CASMailbox, Get-AuthenticationPolicy, Get-User, Get-TransportConfig,
// Get-OrganizationConfig) read into the live-state model, for the snapshot file and the live
// API alike, both parsed with simdjson. Everything the planner relies on must be stated: a
// property left out is unknown, and unknown is not absent (safety rule 3).
#include <array>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "connectors/connector.h"
#include "policies/live_state.h"

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

// The properties of one object that a reader wants, found in a single pass over its members.
// A single pass also catches a property written twice, which has no one value to trust.
template <std::size_t N>
class Fields {
public:
    // `names` must outlive the Fields (a static array).
    Fields(const simdjson::dom::object& object, const std::array<std::string_view, N>& names) : names_(names) {
        for (const auto field : object) {
            for (std::size_t i = 0; i < N; ++i) {
                if (field.key != names_[i]) continue;
                if (present_[i] && duplicate_.empty()) duplicate_ = names_[i];
                found_[i] = field.value;
                present_[i] = true;
                break;
            }
        }
    }

    // Separate from the search so that the message can carry the object's label.
    void check(const Place& place) const {
        if (!duplicate_.empty()) place.fail(duplicate_, "appears more than once");
    }
    // The member, a view into the parse that lives as long as it does; nullptr when absent.
    const simdjson::dom::element* operator[](std::size_t i) const { return present_[i] ? &found_[i] : nullptr; }
    std::string_view name(std::size_t i) const { return names_[i]; }

private:
    const std::array<std::string_view, N>& names_;
    std::array<simdjson::dom::element, N> found_{};
    std::array<bool, N> present_{};
    std::string_view duplicate_;
};

std::string describe(const simdjson::dom::element& json);  // "a string", "null", …
simdjson::dom::object as_object(const simdjson::dom::element& json, const Place& place);

// The readers of Exchange's objects, as simdjson parsed them: a snapshot file, or a page of the
// admin API read without copying its objects.
Mailbox read_mailbox(const simdjson::dom::object& object, Place place);
LivePolicy read_policy(const simdjson::dom::object& object, Place place);
LiveUser read_user(const simdjson::dom::object& object, Place place);
bool read_transport_config(const simdjson::dom::object& object, const Place& place);
OrganizationConfig read_organization_config(const simdjson::dom::object& object, const Place& place);

}  // namespace authgate
