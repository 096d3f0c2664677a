#include "connectors/exchange_online.h"

#include <atomic>
#include <exception>
#include <future>

#include <simdjson.h>

#include "connectors/exchange_objects.h"

namespace authgate {
namespace {

// OPATH string literals are single-quoted; a quote inside is doubled.
std::string opath_quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        quoted += c;
        if (c == '\'') quoted += '\'';
    }
    return quoted + "'";
}

using Progress = std::function<void(const std::string&)>;

// `read` is the simdjson overload of a reader of exchange_objects.h (they take Place by value or
// by reference).
// `stop`, when it turns true, ends the read at its next object (another read beside it failed).
template <class T, class PlaceArgument>
std::vector<T> read_all(ExchangeClient& client, const Cmdlet& cmdlet, const std::vector<std::string>& select,
                        T (*read)(const simdjson::dom::object&, PlaceArgument), const Progress& progress = {},
                        const std::atomic<bool>* stop = nullptr) {
    std::vector<T> objects;
    const std::string& source = cmdlet.name;
    if (progress) progress(source + ": reading");
    client.read(
        cmdlet, select, [&] { objects.clear(); },
        [&](const simdjson::dom::element& json) {
            if (stop && *stop) throw ConnectorError(source + ": not read to its end, as a read beside it failed");
            const Place place{source, "value", objects.size()};
            objects.push_back(read(as_object(json, place), place));
            if (progress && objects.size() % 1000 == 0)
                progress(source + ": " + std::to_string(objects.size()) + " read");
        });
    return objects;
}

template <class T, class PlaceArgument>
T read_one(ExchangeClient& client, const std::string& cmdlet, const std::vector<std::string>& select,
           T (*read)(const simdjson::dom::object&, PlaceArgument)) {
    std::vector<T> objects = read_all<T>(client, {cmdlet, {}}, select, read);
    if (objects.size() != 1)
        throw ConnectorError(cmdlet + " returned " + std::to_string(objects.size()) +
                             " objects where one was expected");
    return objects.front();
}

}  // namespace

std::vector<WriteOutcome> ExchangeOnlineConnector::write(const std::vector<Cmdlet>& cmdlets) {
    return client_.write_many(cmdlets);
}

std::optional<std::string> ExchangeOnlineConnector::read_tokens_valid_from(const std::string& identity) {
    std::optional<std::string> found;
    int objects = 0;
    client_.read(
        {"Get-User", {{"Identity", identity}}}, {"Identity", "StsRefreshTokensValidFrom"}, [&] { objects = 0; },
        [&](const simdjson::dom::element& json) {
            ++objects;
            simdjson::dom::object object;
            if (json.get_object().get(object) != simdjson::SUCCESS) return;
            for (const auto field : object) {
                std::string_view text;
                // Property names compare without regard to case (STSRefreshTokensValidFrom is the parameter's
                // spelling).
                if (equals_ignoring_case(field.key, "StsRefreshTokensValidFrom") &&
                    field.value.get_string().get(text) == simdjson::SUCCESS)
                    found = std::string(text);
            }
        });
    if (objects != 1)
        throw ConnectorError("Get-User -Identity " + identity + " returned " + std::to_string(objects) +
                             " objects where one was expected");
    return found;
}

std::optional<Recipient> ExchangeOnlineConnector::find_recipient(const std::string& address) {
    std::vector<Recipient> found;
    try {
        client_.read(
            {"Get-Recipient", {{"Identity", address}}}, {"PrimarySmtpAddress", "DisplayName", "RecipientTypeDetails"},
            [&] { found.clear(); },
            [&](const simdjson::dom::element& json) {
                simdjson::dom::object object;
                if (json.get_object().get(object) != simdjson::SUCCESS) return;
                Recipient recipient;
                for (const auto field : object) {
                    std::string_view text;
                    if (field.value.get_string().get(text) != simdjson::SUCCESS) continue;
                    if (equals_ignoring_case(field.key, "PrimarySmtpAddress")) recipient.address = std::string(text);
                    else if (equals_ignoring_case(field.key, "DisplayName")) recipient.display_name = std::string(text);
                    else if (equals_ignoring_case(field.key, "RecipientTypeDetails"))
                        recipient.type = std::string(text);
                }
                found.push_back(std::move(recipient));
            });
    } catch (const ExchangeError& error) {
        // Exchange's answer for an identity it does not know; anything else is a failed lookup.
        if (error.text().find("ManagementObjectNotFoundException") != std::string::npos ||
            error.text().find("couldn't be found") != std::string::npos)
            return std::nullopt;
        throw;
    }
    if (found.size() > 1)
        throw ConnectorError("Get-Recipient -Identity " + address + " returned " + std::to_string(found.size()) +
                             " recipients where one was expected");
    if (found.empty()) return std::nullopt;
    return found.front();
}

LiveState ExchangeOnlineConnector::read_live_state() {
    // Signed in first, so that the two reads below share one token.
    client_.tenant();
    // The mailboxes are most of the read, page after page. The organisation's settings and the
    // authentication policies with their users are read beside them, on a second connection:
    // their round trips (a second each on a real tenant) add nothing to the run. Any part failing
    // fails the whole, with the error a read in turn would have met first (settings, mailboxes,
    // policies): a part whose error would not be the one reported stops at its next object.
    struct Beside {
        LiveState state;
        std::exception_ptr settings_error, policies_error;
    };
    std::atomic<bool> stop_mailboxes{false}, stop_policies{false};
    auto beside = std::async(std::launch::async, [this, &stop_mailboxes, &stop_policies] {
        Beside read;
        try {
            read_settings(read.state);
        } catch (...) {
            stop_mailboxes = true;
            read.settings_error = std::current_exception();
            return read;
        }
        try {
            read_policies(read.state, &stop_policies);
        } catch (...) {
            read.policies_error = std::current_exception();
        }
        return read;
    });
    std::optional<std::vector<Mailbox>> mailboxes;
    std::exception_ptr mailbox_error;
    try {
        // SmtpClientAuthenticationDisabled cannot be filtered on: read every mailbox, only the
        // properties the plan needs.
        mailboxes = read_all<Mailbox>(client_, {"Get-CASMailbox", {{"ResultSize", std::string("Unlimited")}}},
                                      {"Guid", "Identity", "ExternalDirectoryObjectId", "PrimarySmtpAddress",
                                       "SmtpClientAuthenticationDisabled", "DisplayName"},
                                      read_mailbox, progress_, &stop_mailboxes);
    } catch (...) {
        stop_policies = true;
        mailbox_error = std::current_exception();
    }
    Beside read = beside.get();
    for (const std::exception_ptr& error : {read.settings_error, mailbox_error, read.policies_error})
        if (error) std::rethrow_exception(error);
    read.state.mailboxes = std::move(mailboxes);
    return std::move(read.state);
}

void ExchangeOnlineConnector::read_settings(LiveState& state) {
    state.org_smtp_auth_disabled = read_one<bool>(client_, "Get-TransportConfig", {"SmtpClientAuthenticationDisabled"},
                                                  read_transport_config);
    state.organization = read_one<OrganizationConfig>(client_, "Get-OrganizationConfig",
                                                      {"DefaultAuthenticationPolicy"}, read_organization_config);
}

void ExchangeOnlineConnector::read_policies(LiveState& state, const std::atomic<bool>* stop) {
    state.policies = read_all<LivePolicy>(client_, {"Get-AuthenticationPolicy", {}}, {}, read_policy, {}, stop);

    std::vector<LiveUser> users;
    for (const LivePolicy& policy : *state.policies) {
        if (policy.name == legacy_pseudo_policy) continue;
        if (policy.distinguished_name.empty())
            throw ConnectorError("Get-AuthenticationPolicy: policy '" + policy.name +
                                 "' has no DistinguishedName, so its users cannot be listed");
        const Cmdlet input{"Get-User",
                           {{"Filter", "AuthenticationPolicy -eq " + opath_quote(policy.distinguished_name)},
                            {"ResultSize", std::string("Unlimited")}}};
        auto assigned = read_all<LiveUser>(
            client_, input, {"Identity", "ExternalDirectoryObjectId", "UserPrincipalName", "AuthenticationPolicy"},
            read_user, {}, stop);
        // Listed by this policy's filter: on this policy, whatever form the user's own reference
        // takes (a name, a DN or a Guid).
        for (LiveUser& user : assigned) user.authentication_policy = policy.name;
        users.insert(users.end(), std::make_move_iterator(assigned.begin()), std::make_move_iterator(assigned.end()));
    }
    state.users = std::move(users);
    name_policy_references(state);
}

}  // namespace authgate
