#include "tenant_generator.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace authgate::bench {
namespace {

constexpr const char* block_policy = "Block Basic Auth";
constexpr const char* allow_policy = "Allow Basic SMTP";

std::string guid(unsigned kind, unsigned index) {
    char text[40];
    std::snprintf(text, sizeof text, "%08x-%04x-4000-8000-%012x", index * 2654435761u, kind, index);
    return text;
}

std::string name_of(int index) {
    char text[16];
    std::snprintf(text, sizeof text, "user%06d", index);
    return text;
}

bool is_exception(const TenantShape& shape, int i) {
    return shape.exception_every > 0 && i % shape.exception_every == shape.exception_offset;
}

bool is_unlisted(const TenantShape& shape, int i) {
    return shape.unlisted_every > 0 && i % shape.unlisted_every == shape.unlisted_offset && !is_exception(shape, i);
}

std::string distinguished_name(const std::string& tenant, const std::string& policy) {
    return "CN=" + policy + ",CN=Auth Policies,CN=Configuration,CN=" + tenant +
           ",CN=ConfigurationUnits,DC=EURPR01A001,DC=prod,DC=outlook,DC=com";
}

std::string policy_json(const std::string& tenant, const std::string& name, unsigned index, bool smtp) {
    std::string json = R"({"Name":")" + name + R"(","Identity":")" + name + R"(","Guid@odata.type":"#Guid","Guid":")" +
                       guid(3, index) + R"(","DistinguishedName":")" + distinguished_name(tenant, name) + "\"";
    for (const char* protocol : {"ActiveSync", "Autodiscover", "Imap", "Mapi", "OfflineAddressBook", "OutlookService",
                                 "Pop", "Powershell", "ReportingWebServices", "Rpc", "Smtp", "WebServices"})
        json += std::string(",\"AllowBasicAuth") + protocol +
                "\":" + (smtp && std::string(protocol) == "Smtp" ? "true" : "false");
    return json + "}";
}

std::string today_plus(int days) {
    const auto day = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) + std::chrono::days(days);
    const std::chrono::year_month_day date{day};
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return text;
}

}  // namespace

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

int unlisted_count(const TenantShape& shape) {
    int count = 0;
    for (int i = 0; i < shape.mailboxes; ++i) count += is_unlisted(shape, i);
    return count;
}

int exception_count(const TenantShape& shape) {
    int count = 0;
    for (int i = 0; i < shape.mailboxes; ++i) count += is_exception(shape, i);
    return count;
}

void write_tenant(const std::filesystem::path& folder, const TenantShape& shape) {
    std::filesystem::create_directories(folder / "desired");

    std::string seed;
    seed.reserve(static_cast<std::size_t>(shape.mailboxes) * 420 + 4096);
    seed += R"({"transport_config":{"Identity":"Transport Settings","SmtpClientAuthenticationDisabled":true},)";
    seed += R"("organization_config":{"Identity":")" + shape.tenant + R"(","DefaultAuthenticationPolicy":")" +
            block_policy + "\"},";
    seed += "\"authentication_policies\":[" + policy_json(shape.tenant, block_policy, 1, false) + "," +
            policy_json(shape.tenant, allow_policy, 2, true) + "],";
    seed += "\"cas_mailboxes\":[";
    std::string users = "\"users\":[";
    std::string exceptions;
    const std::string expires = today_plus(90);
    int basic_auth_left = shape.basic_auth_users;
    for (int i = 0; i < shape.mailboxes; ++i) {
        const std::string name = name_of(i);
        const std::string address = name + "@fabrikam.com";
        const char* override_value = is_exception(shape, i) || is_unlisted(shape, i) ? "false" : "null";
        if (i) seed += ",";
        seed +=
            R"({"Identity":")" + name + R"(","Name":")" + name + R"(","Guid@odata.type":"#Guid","Guid":")" +
            guid(1, i) + R"(","ExternalDirectoryObjectId":")" + guid(2, i) + R"(","PrimarySmtpAddress":")" + address +
            R"(","ActiveSyncEnabled":true,"OWAEnabled":true,"PopEnabled":false,"ImapEnabled":false,"MAPIEnabled":true,)"
            R"("SmtpClientAuthenticationDisabled":)" +
            override_value + "}";
        if (!is_exception(shape, i)) continue;
        const bool basic_auth = basic_auth_left-- > 0;
        exceptions += "\n[[smtp_auth.exception]]\nmailbox = \"" + address +
                      "\"\nowner = \"devices@fabrikam.com\"\nreason = \"Device without OAuth support\"\nexpires = " +
                      expires + "\nticket = \"CHG" + std::to_string(100000 + i) + "\"\nreplacement = \"relay\"\n" +
                      (basic_auth ? "basic_auth = true\n" : "");
        if (basic_auth) {
            if (users.back() != '[') users += ",";
            users += R"({"Identity":")" + name + R"(","ExternalDirectoryObjectId":")" + guid(2, i) +
                     R"(","UserPrincipalName":")" + address +
                     R"(","RecipientTypeDetails":"UserMailbox","AuthenticationPolicy":")" + allow_policy + "\"}";
        }
    }
    seed += "]," + users + "]}";
    write_text(folder / "seed.json", seed);

    write_text(folder / "desired" / "tenant.toml",
               "version = 1\n\n[tenant]\nid = \"" + shape.tenant +
                   "\"\n\n[smtp_auth]\norg_disabled = true\nunlisted_overrides = \"revert\"\n\n"
                   "[exceptions]\nmax_days = 180\nwarn_days = [14, 7, 1]\nbasic_auth_policy = \"" +
                   allow_policy + "\"\n\n[organization]\ndefault_authentication_policy = \"" + block_policy +
                   "\"\n\n[guardrails]\nmax_changes = 1000000\n\n[[authentication_policy]]\nname = \"" + block_policy +
                   "\"\n\n[[authentication_policy]]\nname = \"" + allow_policy + "\"\nallow_basic_auth_smtp = true\n");
    write_text(folder / "desired" / "exceptions.toml",
               "# Generated: devices that still need SMTP AUTH.\n" + exceptions);
}

}  // namespace authgate::bench
