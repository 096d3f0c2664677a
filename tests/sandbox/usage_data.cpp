#include "usage_data.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>

#include "crypto.h"
#include "tenant.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr const char* kExchangeOnlineAppId = "00000002-0000-0ff1-ce00-000000000000";
constexpr long long kMaximumRows = 10'000'000;

[[noreturn]] void refuse_usage(const std::string& where, const std::string& expectation) {
    throw std::invalid_argument(where + ": " + expectation);
}

void check_usage_members(const value& object, const std::string& where, const std::set<std::string>& allowed) {
    if (!object.is_object()) refuse_usage(where, "must be an object");
    for (const auto& [name, ignored] : object.as_object()) {
        if (!allowed.contains(name)) refuse_usage(where, "has no member '" + name + "'");
    }
}

std::string usage_text(const value& object, const std::string& where, const char* name, std::string fallback) {
    if (!object.has_field(name) || object.at(name).is_null()) return fallback;
    if (!object.at(name).is_string()) refuse_usage(where + "." + name, "must be a string");
    return object.at(name).as_string();
}

long long usage_integer(const value& object, const std::string& where, const char* name, long long fallback,
                        long long minimum, long long maximum) {
    if (!object.has_field(name)) return fallback;
    const value& member = object.at(name);
    if (!member.is_integer() || member.as_number().to_int64() < minimum || member.as_number().to_int64() > maximum)
        refuse_usage(where + "." + name,
                     "must be an integer from " + std::to_string(minimum) + " to " + std::to_string(maximum));
    return member.as_number().to_int64();
}

Instant usage_time(const value& object, const std::string& where, const char* name, Instant fallback) {
    if (!object.has_field(name) || object.at(name).is_null()) return fallback;
    const value& member = object.at(name);
    const auto parsed = member.is_string() ? parse_datetime(member.as_string()) : std::nullopt;
    if (!parsed) refuse_usage(where + "." + name, "must be an ISO 8601 date-time such as \"2026-11-20T08:00:00Z\"");
    return *parsed;
}

std::string local_part(const std::string& address) { return address.substr(0, address.find('@')); }

std::uint64_t digest_number(std::string_view text) {
    const std::string digest = sha256(text);
    std::uint64_t number = 0;
    for (int i = 0; i < 8; ++i) number = (number << 8) | static_cast<unsigned char>(digest[i]);
    return number;
}

std::string documentation_address(std::string_view key) {
    // 203.0.113.0/24 and 198.51.100.0/24: addresses reserved for documentation.
    const std::uint64_t number = digest_number(key);
    return std::string(number % 2 ? "203.0.113." : "198.51.100.") + std::to_string(1 + (number >> 8) % 254);
}

// The tenant's knowledge of a user: the Entra object id (the mailbox's ExternalDirectoryObjectId)
// and a display name.
struct KnownUser {
    std::string user_id;
    std::string display_name;
};

KnownUser known_user(const Tenant& tenant, const std::string& address) {
    KnownUser known;
    const auto mailboxes = tenant.find_mailboxes(address);
    const auto users = tenant.find_users(address);
    const value* mailbox = mailboxes.size() == 1 ? tenant.mailboxes()[mailboxes.front()].get() : nullptr;
    const value* user = users.size() == 1 ? tenant.users()[users.front()].get() : nullptr;
    for (const value* object : {mailbox, user}) {
        if (object == nullptr) continue;
        if (known.user_id.empty()) known.user_id = text_property(*object, "ExternalDirectoryObjectId");
        if (known.display_name.empty()) known.display_name = text_property(*object, "DisplayName");
    }
    if (known.display_name.empty() && mailbox != nullptr) known.display_name = text_property(*mailbox, "Name");
    if (known.display_name.empty()) known.display_name = local_part(address);
    if (known.user_id.empty()) known.user_id = guid_from_digest(sha256("user:" + to_lower(address)));
    return known;
}

SignInSource source_for(const Tenant& tenant, const std::string& address, const std::string& id_seed) {
    const KnownUser known = known_user(tenant, address);
    SignInSource source;
    source.user_principal_name = address;
    source.user_id = known.user_id;
    source.display_name = known.display_name;
    source.ip_address = documentation_address(to_lower(address));
    source.city = "Berlin";
    source.state = "Berlin";
    source.country = "DE";
    source.id_seed = id_seed;
    return source;
}

// "usage.signins[3]": an entry that expands into `count` successes and `failures` failures
// spread evenly from `first` to `last`, both included.
void expand_signin_entry(UsageData& data, const value& entry, const std::string& where, size_t position,
                         const Tenant& tenant, Instant now) {
    check_usage_members(entry, where,
                        {"user", "userId", "displayName", "count", "failures", "errorCode", "failureReason", "first",
                         "last", "clientAppUsed", "ipAddress", "location"});
    const std::string user = usage_text(entry, where, "user", "");
    if (user.empty()) refuse_usage(where + ".user", "must be a non-empty string (the user principal name)");
    SignInSource source = source_for(tenant, user, "entry:" + std::to_string(position) + ":" + to_lower(user));
    source.user_id = usage_text(entry, where, "userId", source.user_id);
    source.display_name = usage_text(entry, where, "displayName", source.display_name);
    source.client_app_used = usage_text(entry, where, "clientAppUsed", source.client_app_used);
    source.ip_address = usage_text(entry, where, "ipAddress", source.ip_address);
    source.failure_reason = usage_text(entry, where, "failureReason", "");
    if (entry.has_field("location")) {
        const value& location = entry.at("location");
        check_usage_members(location, where + ".location", {"city", "state", "countryOrRegion"});
        source.city = usage_text(location, where + ".location", "city", "");
        source.state = usage_text(location, where + ".location", "state", "");
        source.country = usage_text(location, where + ".location", "countryOrRegion", "");
    }
    const long long successes = usage_integer(entry, where, "count", 1, 0, kMaximumRows);
    const long long failures = usage_integer(entry, where, "failures", 0, 0, kMaximumRows);
    const long long error_code = usage_integer(entry, where, "errorCode", 50126, 1, 999999);
    const Instant last = usage_time(entry, where, "last", now - std::chrono::hours(1));
    const Instant first = usage_time(entry, where, "first", last);
    if (first > last) refuse_usage(where + ".first", "must not be after 'last'");
    const long long total = successes + failures;
    if (static_cast<long long>(data.signins.size()) + total > kMaximumRows)
        refuse_usage(where, "makes more than " + std::to_string(kMaximumRows) + " sign-in rows");

    const auto source_index = static_cast<std::uint32_t>(data.sources.size());
    data.sources.push_back(std::move(source));
    const auto span = std::chrono::duration_cast<std::chrono::microseconds>(last - first);
    for (long long i = 0; i < total; ++i) {
        SignInRow row;
        if (i + 1 == total) {
            row.created = last;
        } else if (i > 0) {
            row.created = first + std::chrono::microseconds(static_cast<long long>(
                                      static_cast<long double>(span.count()) * static_cast<long double>(i) /
                                      static_cast<long double>(total - 1)));
        } else {
            row.created = first;
        }
        row.source = source_index;
        row.serial = static_cast<std::uint32_t>(i);
        // The failures spread among the successes rather than bunched at one end.
        const bool failed = (i + 1) * failures / total > i * failures / total;
        row.error_code = failed ? static_cast<std::int32_t>(error_code) : 0;
        data.signins.push_back(row);
    }
}

// The app columns of an email apps report entry, by the names a usage document gives them.
const std::vector<std::pair<const char*, size_t>> kEmailAppMembers = {{"mailForMac", 0},
                                                                      {"outlookForMac", 1},
                                                                      {"outlookForWindows", 2},
                                                                      {"outlookForMobile", 3},
                                                                      {"otherForMobile", 4},
                                                                      {"outlookForWeb", 5},
                                                                      {"pop3", 6},
                                                                      {"imap4", 7},
                                                                      {"smtp", 8}};

EmailAppRow email_app_row(const value& entry, const std::string& where, const Tenant& tenant) {
    std::set<std::string> allowed = {"user", "displayName", "lastActivity", "isDeleted", "deletedDate"};
    for (const auto& [name, column] : kEmailAppMembers) allowed.insert(name);
    check_usage_members(entry, where, allowed);
    EmailAppRow row;
    row.user_principal_name = usage_text(entry, where, "user", "");
    if (row.user_principal_name.empty())
        refuse_usage(where + ".user", "must be a non-empty string (the user principal name)");
    row.display_name = usage_text(entry, where, "displayName",
                                  known_user(tenant, row.user_principal_name).display_name);
    row.last_activity = usage_text(entry, where, "lastActivity", "");
    if (!row.last_activity.empty() && (row.last_activity.size() != 10 || !parse_datetime(row.last_activity)))
        refuse_usage(where + ".lastActivity", "must be a date such as \"2026-11-28\"");
    if (entry.has_field("isDeleted")) {
        if (!entry.at("isDeleted").is_boolean()) refuse_usage(where + ".isDeleted", "must be true or false");
        row.is_deleted = entry.at("isDeleted").as_bool();
    }
    row.deleted_date = usage_text(entry, where, "deletedDate", "");
    for (const auto& [name, column] : kEmailAppMembers) {
        if (!entry.has_field(name) || entry.at(name).is_null()) continue;
        const value& cell = entry.at(name);
        if (cell.is_boolean()) {
            row.apps[column] = cell.as_bool() ? "Yes" : "No";
        } else if (cell.is_string()) {
            row.apps[column] = cell.as_string();
        } else {
            refuse_usage(where + "." + name, "must be a string (e.g. \"Yes\") or true/false");
        }
    }
    return row;
}

// {"generate_signins": N, "users": U, …}: N rows among U users, the tenant's mailboxes first, a few
// heavy senders and many light ones, a share of failures; and a report row for each user who signed in.
void generate_signins(UsageData& data, const value& document, const Tenant& tenant, Instant now) {
    const long long count = usage_integer(document, "usage", "generate_signins", 0, 0, kMaximumRows);
    const long long users = usage_integer(document, "usage", "users", 100, 1, 1'000'000);
    const Instant to = usage_time(document, "usage", "to", now);
    const Instant from = usage_time(document, "usage", "from", to - std::chrono::days(7));
    if (from > to) refuse_usage("usage.from", "must not be after 'to'");
    double failure_rate = 0.02;
    if (document.has_field("failure_rate")) {
        const value& rate = document.at("failure_rate");
        if (!rate.is_number() || rate.as_double() < 0 || rate.as_double() > 1)
            refuse_usage("usage.failure_rate", "must be a number from 0 to 1");
        failure_rate = rate.as_double();
    }
    const long long seed = usage_integer(document, "usage", "seed", 1, 0, 1LL << 62);
    if (count == 0) return;
    if (static_cast<long long>(data.signins.size()) + count > kMaximumRows)
        refuse_usage("usage.generate_signins", "makes more than " + std::to_string(kMaximumRows) + " sign-in rows");

    const auto& mailboxes = tenant.mailboxes();
    std::string domain = tenant.domain();
    if (!mailboxes.empty()) {
        const std::string address = text_property(*mailboxes.front(), "PrimarySmtpAddress");
        if (address.find('@') != std::string::npos) domain = address.substr(address.find('@') + 1);
    }
    const auto first_source = static_cast<std::uint32_t>(data.sources.size());
    for (long long i = 0; i < users; ++i) {
        const bool real = i < static_cast<long long>(mailboxes.size());
        char invented[32];
        std::snprintf(invented, sizeof invented, "sender-%05lld@", i + 1);
        const std::string address = real ? text_property(*mailboxes[i], "PrimarySmtpAddress")
                                         : std::string(invented) + domain;
        data.sources.push_back(
            source_for(tenant, address, "generated:" + std::to_string(seed) + ":" + std::to_string(i)));
    }

    std::mt19937_64 random(static_cast<std::uint64_t>(seed));
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto span = std::chrono::duration_cast<std::chrono::microseconds>(to - from);
    const std::array<std::pair<double, int>, 4> failure_codes = {
        {{0.6, 50126}, {0.75, 50053}, {0.85, 50057}, {1.0, 53003}}};
    std::vector<std::optional<Instant>> last_success(static_cast<size_t>(users));
    data.signins.reserve(data.signins.size() + static_cast<size_t>(count));
    for (long long k = 0; k < count; ++k) {
        const double pick = unit(random);
        const auto user = std::min<long long>(users - 1, static_cast<long long>(pick * pick * users));
        SignInRow row;
        row.created = from + std::chrono::microseconds(static_cast<long long>(unit(random) * span.count()));
        row.source = first_source + static_cast<std::uint32_t>(user);
        row.serial = static_cast<std::uint32_t>(k);
        if (unit(random) < failure_rate) {
            const double which = unit(random);
            row.error_code = std::find_if(failure_codes.begin(), failure_codes.end(), [&](const auto& code) {
                                 return which < code.first;
                             })->second;
        } else {
            auto& last = last_success[static_cast<size_t>(user)];
            if (!last || *last < row.created) last = row.created;
        }
        data.signins.push_back(row);
    }
    for (long long i = 0; i < users; ++i) {
        const auto& last = last_success[static_cast<size_t>(i)];
        if (!last) continue;
        const SignInSource& source = data.sources[first_source + static_cast<size_t>(i)];
        EmailAppRow row;
        row.user_principal_name = source.user_principal_name;
        row.display_name = source.display_name;
        row.last_activity = rfc3339(*last).substr(0, 10);
        row.apps[8] = "Yes";
        data.email_app_usage.push_back(std::move(row));
    }
}

}  // namespace

std::string guid_from_digest(std::string_view digest) {
    std::string hex = to_lower(hex_upper(digest.substr(0, 16)));
    hex[12] = '4';
    hex[16] = "89ab"[(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0') % 4];
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
           hex.substr(20, 12);
}

std::string signin_failure_reason(int error_code) {
    static const std::map<int, std::string> reasons = {
        {50126, "Error validating credentials due to invalid username or password."},
        {50053, "The account is locked, you've tried to sign in too many times with an incorrect user ID or password."},
        {50057, "The user account is disabled."},
        {50076,
         "Due to a configuration change made by your administrator, or because you moved to a new location, you must "
         "use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'."},
        {53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token "
                "issuance."},
    };
    const auto found = reasons.find(error_code);
    return found != reasons.end() ? found->second : "Other.";
}

UsageData UsageData::parse(const value& document, const Tenant& tenant, Instant now) {
    check_usage_members(document, "usage",
                        {"signins", "email_app_usage", "concealed", "generate_signins", "users", "from", "to",
                         "failure_rate", "seed"});
    UsageData data;
    data.document = document;
    if (document.has_field("signins")) {
        const value& entries = document.at("signins");
        if (!entries.is_array()) refuse_usage("usage.signins", "must be a list of objects");
        for (size_t i = 0; i < entries.size(); ++i)
            expand_signin_entry(data, entries.at(i), "usage.signins[" + std::to_string(i) + "]", i, tenant, now);
    }
    if (document.has_field("email_app_usage")) {
        const value& entries = document.at("email_app_usage");
        if (!entries.is_array()) refuse_usage("usage.email_app_usage", "must be a list of objects");
        for (size_t i = 0; i < entries.size(); ++i)
            data.email_app_usage.push_back(
                email_app_row(entries.at(i), "usage.email_app_usage[" + std::to_string(i) + "]", tenant));
    }
    if (document.has_field("concealed")) {
        if (!document.at("concealed").is_boolean()) refuse_usage("usage.concealed", "must be true or false");
        data.concealed = document.at("concealed").as_bool();
    }
    for (const char* generator_only : {"users", "from", "to", "failure_rate", "seed"}) {
        if (document.has_field(generator_only) && !document.has_field("generate_signins"))
            refuse_usage(std::string("usage.") + generator_only, "is a setting of generate_signins, which is missing");
    }
    generate_signins(data, document, tenant, now);
    // Newest first, as Graph lists sign-ins; ties in a stable order.
    std::sort(data.signins.begin(), data.signins.end(), [](const SignInRow& a, const SignInRow& b) {
        if (a.created != b.created) return a.created > b.created;
        if (a.source != b.source) return a.source < b.source;
        return a.serial > b.serial;
    });
    return data;
}

value UsageData::signin_json(const SignInRow& row) const {
    const SignInSource& source = sources[row.source];
    const std::string key = source.id_seed + "#" + std::to_string(row.serial);
    const auto text_or_null = [](const std::string& text) {
        return text.empty() ? value::null() : value::string(text);
    };
    value json = value::object(true);
    json["id"] = value::string(guid_from_digest(sha256("id:" + key)));
    json["createdDateTime"] = value::string(rfc3339_precise(row.created));
    json["userDisplayName"] = value::string(source.display_name);
    json["userPrincipalName"] = value::string(source.user_principal_name);
    json["userId"] = value::string(source.user_id);
    json["appId"] = value::string(kExchangeOnlineAppId);
    json["appDisplayName"] = value::string("Office 365 Exchange Online");
    json["ipAddress"] = value::string(source.ip_address);
    json["clientAppUsed"] = value::string(source.client_app_used);
    json["correlationId"] = value::string(guid_from_digest(sha256("correlation:" + key)));
    json["conditionalAccessStatus"] = value::string(row.error_code == 53003 ? "failure" : "notApplied");
    json["isInteractive"] = value::boolean(true);
    json["riskDetail"] = value::string("none");
    json["riskLevelAggregated"] = value::string("none");
    json["riskLevelDuringSignIn"] = value::string("none");
    json["riskState"] = value::string("none");
    json["riskEventTypes_v2"] = value::array();
    json["resourceDisplayName"] = value::string("Office 365 Exchange Online");
    json["resourceId"] = value::string(kExchangeOnlineAppId);
    value status = value::object(true);
    status["errorCode"] = value::number(row.error_code);
    status["failureReason"] = row.error_code == 0
                                  ? value::null()
                                  : value::string(source.failure_reason.empty() ? signin_failure_reason(row.error_code)
                                                                                : source.failure_reason);
    status["additionalDetails"] = value::null();
    json["status"] = status;
    value device = value::object(true);
    device["deviceId"] = value::string("");
    device["displayName"] = value::null();
    device["operatingSystem"] = value::null();
    device["browser"] = value::null();
    device["isCompliant"] = value::boolean(false);
    device["isManaged"] = value::boolean(false);
    device["trustType"] = value::null();
    json["deviceDetail"] = device;
    value location = value::object(true);
    location["city"] = text_or_null(source.city);
    location["state"] = text_or_null(source.state);
    location["countryOrRegion"] = text_or_null(source.country);
    json["location"] = location;
    json["appliedConditionalAccessPolicies"] = value::array();
    return json;
}

}  // namespace sandbox
