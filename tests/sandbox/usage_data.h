// The usage evidence Microsoft Graph answers from: Entra sign-in rows, the email apps usage report
// and the tenant's concealed-names setting. Loaded from a compact document (POST /_sandbox/usage or
// the seed's "usage" member): each sign-in entry expands into rows spread over its time range, and
// a generator makes many realistic rows cheaply for benchmarks.
#pragma once

#include <cpprest/json.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "clock.h"

namespace sandbox {

class Tenant;

// Who signs in, and from where: shared by the rows of one entry (or one generated user).
struct SignInSource {
    std::string user_principal_name;
    std::string user_id;
    std::string display_name;
    std::string client_app_used = "Authenticated SMTP";
    std::string ip_address;
    std::string city;
    std::string state;
    std::string country;
    std::string failure_reason;  // for its failed rows; empty: the catalogue text of the error code
    std::string id_seed;         // the rows' ids and correlation ids are digests of it and the row's serial
};

// One sign-in, kept small (a hundred thousand cost a few MB): its id and JSON are made when answered.
struct SignInRow {
    Instant created;
    std::uint32_t source = 0;
    std::uint32_t serial = 0;
    std::int32_t error_code = 0;
};

// The columns of the email apps usage report that name apps, in the report's order.
inline constexpr std::array<const char*, 9> kEmailAppColumns = {
    "Mail For Mac",       "Outlook For Mac",  "Outlook For Windows",
    "Outlook For Mobile", "Other For Mobile", "Outlook For Web",
    "POP3 App",           "IMAP4 App",        "SMTP App"};

struct EmailAppRow {
    std::string user_principal_name;
    std::string display_name;
    bool is_deleted = false;
    std::string deleted_date;
    std::string last_activity;  // yyyy-MM-dd or empty
    std::array<std::string, kEmailAppColumns.size()> apps;
};

struct UsageData {
    std::vector<SignInSource> sources;
    std::vector<SignInRow> signins;  // newest first
    std::vector<EmailAppRow> email_app_usage;
    bool concealed = false;                                // displayConcealedNames
    web::json::value document = web::json::value::null();  // as loaded, for the state document

    // Throws std::invalid_argument naming the member that is wrong ("usage.signins[2].count: …");
    // unknown members are refused. Users are matched to the tenant's mailboxes for their ids and
    // names; `now` places a generator's rows when its document gives no range.
    static UsageData parse(const web::json::value& document, const Tenant& tenant, Instant now);

    // The signIn resource of Graph v1.0 for one row.
    web::json::value signin_json(const SignInRow& row) const;
};

// The text Entra's sign-in log gives a failure code, e.g. 50126.
std::string signin_failure_reason(int error_code);

// A GUID made from a digest (lower case, version 4 form): stable ids for generated objects.
std::string guid_from_digest(std::string_view digest);

}  // namespace sandbox
