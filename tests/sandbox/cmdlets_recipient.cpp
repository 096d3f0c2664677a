// Get-Recipient: the tenant's mailboxes as recipients, and the seed's other recipients (groups).
#include <algorithm>

#include "cmdlets.h"
#include "exchange_error.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr size_t kRecipientResultSize = 1000;  // Exchange's default for Get-Recipient

// The EmailAddresses of a recipient: as seeded, else its primary address alone.
value email_addresses(const value& object) {
    if (object.has_field("EmailAddresses") && object.at("EmailAddresses").is_array())
        return object.at("EmailAddresses");
    return value::array({value::string("SMTP:" + text_property(object, "PrimarySmtpAddress"))});
}

bool has_smtp_address(const value& object, std::string_view address) {
    if (iequals(text_property(object, "PrimarySmtpAddress"), address)) return true;
    const value addresses = email_addresses(object);
    for (const auto& entry : addresses.as_array()) {
        if (entry.is_string() && istarts_with(entry.as_string(), "smtp:") &&
            iequals(std::string_view(entry.as_string()).substr(5), address))
            return true;
    }
    return false;
}

std::string first_text(const value& object, std::initializer_list<const char*> names) {
    for (const char* name : names) {
        const std::string found = text_property(object, name);
        if (!found.empty()) return found;
    }
    return "";
}

// A mailbox as Get-Recipient shows it. Its RecipientTypeDetails is its own when seeded, else its
// user's when that names a kind of mailbox (SharedMailbox, RoomMailbox…), else UserMailbox.
SharedObject mailbox_recipient(const Tenant& tenant, const value& mailbox) {
    std::string details = text_property(mailbox, "RecipientTypeDetails");
    if (details.empty()) {
        const std::string directory_id = text_property(mailbox, "ExternalDirectoryObjectId");
        for (const auto& user : tenant.users()) {
            const std::string user_details = text_property(*user, "RecipientTypeDetails");
            if (!directory_id.empty() && iequals(text_property(*user, "ExternalDirectoryObjectId"), directory_id) &&
                user_details.ends_with("Mailbox"))
                details = user_details;
        }
    }
    if (details.empty()) details = "UserMailbox";
    value recipient = value::object(true);
    recipient["Identity"] = value::string(text_property(mailbox, "Identity"));
    recipient["Name"] = value::string(first_text(mailbox, {"Name", "Identity"}));
    recipient["DisplayName"] = value::string(first_text(mailbox, {"DisplayName", "Name", "Identity"}));
    recipient["PrimarySmtpAddress"] = value::string(text_property(mailbox, "PrimarySmtpAddress"));
    recipient["RecipientType"] = value::string("UserMailbox");
    recipient["RecipientTypeDetails"] = value::string(details);
    recipient["ExternalDirectoryObjectId"] =
        mailbox.has_field("ExternalDirectoryObjectId") ? mailbox.at("ExternalDirectoryObjectId") : value::null();
    recipient["EmailAddresses"] = email_addresses(mailbox);
    return std::make_shared<const value>(std::move(recipient));
}

// A seeded recipient with the properties Get-Recipient always shows filled in.
SharedObject other_recipient(const value& seeded) {
    const std::string primary = text_property(seeded, "PrimarySmtpAddress");
    const std::string local_part = primary.substr(0, primary.find('@'));
    value recipient = value::object(true);
    recipient["Identity"] = value::string(
        first_text(seeded, {"Identity", "Name"}).empty() ? local_part : first_text(seeded, {"Identity", "Name"}));
    recipient["Name"] = value::string(
        first_text(seeded, {"Name", "Identity"}).empty() ? local_part : first_text(seeded, {"Name", "Identity"}));
    recipient["DisplayName"] = value::string(first_text(seeded, {"DisplayName", "Name", "Identity"}).empty()
                                                 ? local_part
                                                 : first_text(seeded, {"DisplayName", "Name", "Identity"}));
    recipient["PrimarySmtpAddress"] = value::string(primary);
    const std::string details = first_text(seeded, {"RecipientTypeDetails"});
    recipient["RecipientType"] =
        value::string(first_text(seeded, {"RecipientType"}).empty()
                          ? (details == "GroupMailbox" || details.empty() ? "MailUniversalDistributionGroup" : details)
                          : first_text(seeded, {"RecipientType"}));
    recipient["RecipientTypeDetails"] = value::string(details.empty() ? "MailUniversalDistributionGroup" : details);
    recipient["ExternalDirectoryObjectId"] =
        seeded.has_field("ExternalDirectoryObjectId") ? seeded.at("ExternalDirectoryObjectId") : value::null();
    recipient["EmailAddresses"] = email_addresses(seeded);
    for (const auto& [name, property] : seeded.as_object()) {
        if (!recipient.has_field(name)) recipient[name] = property;
    }
    return std::make_shared<const value>(std::move(recipient));
}

}  // namespace

CmdletResult get_recipient(Tenant& tenant, const BoundParameters& parameters) {
    const auto identity = parameters.text("Identity");
    std::vector<SharedObject> found;
    const std::vector<size_t> by_identity = identity ? tenant.find_mailboxes(*identity) : std::vector<size_t>{};
    for (size_t i = 0; i < tenant.mailboxes().size(); ++i) {
        const value& mailbox = *tenant.mailboxes()[i];
        if (!identity || has_smtp_address(mailbox, *identity) ||
            std::find(by_identity.begin(), by_identity.end(), i) != by_identity.end())
            found.push_back(mailbox_recipient(tenant, mailbox));
    }
    for (const auto& seeded : tenant.recipients()) {
        if (!identity || has_smtp_address(*seeded, *identity) ||
            iequals(text_property(*seeded, "Identity"), *identity) ||
            iequals(text_property(*seeded, "ExternalDirectoryObjectId"), *identity))
            found.push_back(other_recipient(*seeded));
    }
    if (identity) {
        if (found.empty()) throw CmdletFailure(exchange::object_not_found(*identity));
        if (found.size() > 1) throw CmdletFailure(exchange::ambiguous_identity(*identity));
        CmdletResult result;
        result.objects = std::move(found);
        return result;
    }
    return limited(std::move(found), result_size(parameters, kRecipientResultSize), !parameters.has("ResultSize"));
}

}  // namespace sandbox
