// The snapshot connector. Exchange's property names are kept as they are so that a
// ConvertTo-Json export loads unchanged; everything the planner relies on must be stated,
// because a property left out is unknown, and unknown is not absent (safety rule 3).
#include "connectors/snapshot.h"

#include "connectors/exchange_objects.h"
#include "policies/files.h"

#include <array>
#include <optional>
#include <string_view>
#include <utility>

#include <cpprest/json.h>  // only to say where a text that is not JSON breaks
#include <simdjson.h>

namespace authgate {
namespace {

using simdjson::dom::element;

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

// A top-level member after PowerShell's ways of writing a collection are undone: an array,
// the lone object ConvertTo-Json writes for a one-element collection, or the array inside
// a {"value": […]} wrapper (the REST envelope, and Windows PowerShell's {"value", "Count"}).
struct Elements {
    std::string path;
    std::optional<simdjson::dom::array> array;
    std::optional<element> single;
};

Elements elements_of(const element& member, std::string_view name, std::string_view expected, const std::string& file) {
    simdjson::dom::array array;
    if (member.get_array().get(array) == simdjson::SUCCESS) return {std::string(name), array, std::nullopt};
    simdjson::dom::object object;
    if (member.get_object().get(object) != simdjson::SUCCESS) {
        throw ConnectorError(file + ": " + std::string(name) + " must be " + std::string(expected) + ", not " +
                             describe(member));
    }
    static const std::array<std::string_view, 1> names{"value"};
    const Fields envelope(object, names);
    if (envelope[0] != nullptr && envelope[0]->get_array().get(array) == simdjson::SUCCESS) {
        const Place place{file, name};
        envelope.check(place);
        return {std::string(name) + ".value", array, std::nullopt};
    }
    return {std::string(name), std::nullopt, member};
}

template <class T>
std::vector<T> read_list(const element& member, std::string_view name, const std::string& file,
                         T (*read)(const simdjson::dom::object&, Place)) {
    if (member.is_null()) {
        // What an empty pipeline gives in PowerShell, and also what a failed one gives.
        throw ConnectorError(file + ": " + std::string(name) +
                             " is null; write [] for none (in PowerShell, wrap the command in "
                             "@()), or leave the member out when it is unknown");
    }
    const Elements elements = elements_of(member, name, "an array", file);
    std::vector<T> list;
    if (elements.single) {
        const Place place{file, elements.path};
        list.push_back(read(as_object(*elements.single, place), place));
        return list;
    }
    list.reserve(elements.array->size());  // simdjson's count, which stops at 2^24 - 1
    for (const element item : *elements.array) {
        const Place place{file, elements.path, list.size()};
        list.push_back(read(as_object(item, place), place));
    }
    return list;
}

// Get-TransportConfig and Get-OrganizationConfig return one object, which REST still wraps
// in an array; two would leave no way to tell which one holds.
template <class T>
T read_single(const element& member, std::string_view name, const std::string& file,
              T (*read)(const simdjson::dom::object&, const Place&)) {
    if (member.is_null()) {
        throw ConnectorError(file + ": " + std::string(name) + " is null; leave the member out when it is unknown");
    }
    const Elements elements = elements_of(member, name, "an object", file);
    if (elements.single) {
        const Place place{file, elements.path};
        return read(as_object(*elements.single, place), place);
    }
    std::size_t count = 0;
    for ([[maybe_unused]] const element item : *elements.array) ++count;
    if (count != 1) {
        throw ConnectorError(file + ": " + elements.path + " must hold exactly one object, not " +
                             std::to_string(count));
    }
    const Place place{file, elements.path, 0};
    return read(as_object(*elements.array->begin(), place), place);
}

// The document's root, a view into `parser`. simdjson says why a text is not JSON but not where;
// cpprest's parser, which says where (line and column), is asked then, unless the text is only
// too deep (cpprest stops at 128 levels, simdjson at 1024) or is JSON to cpprest (which takes
// what is not UTF-8, or a number past 64 bits).
element parse_json(simdjson::dom::parser& parser, std::string_view text, const std::string& name) {
    // Windows PowerShell 5.1 starts its UTF-8 files with a byte order mark.
    if (text.starts_with(utf8_bom)) text.remove_prefix(utf8_bom.size());
    element root;
    const simdjson::error_code error = parser.parse(text.data(), text.size()).get(root);
    if (error == simdjson::SUCCESS) return root;
    std::string why = simdjson::error_message(error);
    if (error != simdjson::DEPTH_ERROR) {
        try {
            web::json::value::parse(std::string(text));
        } catch (const web::json::json_exception& located) {
            std::string_view message = located.what();
            if (message.starts_with("* ")) message.remove_prefix(2);
            why = message;
        }
    }
    throw ConnectorError(name + ": not valid JSON: " + why);
}

}  // namespace

LiveState parse_snapshot(const std::string& text, const std::string& name) {
    if (const auto problem = utf16_problem(text)) throw ConnectorError(name + ": " + *problem);
    simdjson::dom::parser parser;
    const element root = parse_json(parser, text, name);
    simdjson::dom::object top;
    if (root.get_object().get(top) != simdjson::SUCCESS) {
        throw ConnectorError(name + ": the top level must be an object, not " + describe(root));
    }

    enum { transport, mailboxes, policies, organization, users };
    static const std::array<std::string_view, 5> names{"transport_config", "cas_mailboxes", "authentication_policies",
                                                       "organization_config", "users"};
    const Fields fields(top, names);
    fields.check(Place{name, ""});

    LiveState state;
    if (const element* member = fields[transport]) {
        state.org_smtp_auth_disabled = read_single(*member, names[transport], name, read_transport_config);
    }
    if (const element* member = fields[mailboxes]) {
        state.mailboxes = read_list<Mailbox>(*member, names[mailboxes], name, read_mailbox);
    }
    if (const element* member = fields[policies]) {
        state.policies = read_list<LivePolicy>(*member, names[policies], name, read_policy);
    }
    if (const element* member = fields[organization]) {
        state.organization = read_single(*member, names[organization], name, read_organization_config);
    }
    if (const element* member = fields[users]) {
        state.users = read_list<LiveUser>(*member, names[users], name, read_user);
    }
    name_policy_references(state);
    return state;
}

std::vector<WriteOutcome> SnapshotConnector::write(const std::vector<Cmdlet>&) {
    throw ConnectorError("a snapshot is read-only: " + path_ +
                         " cannot be changed; apply reads and changes the tenant");
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
