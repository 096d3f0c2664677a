#include "policies/loader.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "policies/digest.h"
#include "policies/file_list.h"
#include "policies/files.h"
#include "policies/table_reader.h"
#include "policies/text_checks.h"
#include "policies/validate.h"

namespace authgate {
namespace {

namespace fs = std::filesystem;

// Whether `text`, written without quotes, is a TOML date or a date-time with an offset.
bool is_expiry_literal(const std::string& text) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) ||
                   std::string_view("-:+.TtZz ").find(c) != std::string_view::npos;
        }))
        return false;
    try {
        const toml::table parsed = toml::parse("expires = " + text);
        const toml::node* node = parsed.get("expires");
        return node && (node->is_date() || (node->is_date_time() && node->as_date_time()->get().offset));
    } catch (const toml::parse_error&) {
        return false;
    }
}

// State carried across files while merging.
class Merger {
public:
    explicit Merger(LoadResult& result) : state_(result.state), diagnostics_(result.diagnostics) {}

    // Whether some file wrote a `tenant` key. Only when none did is "no [tenant]" worth saying:
    // a `tenant` of the wrong type, or a second [tenant], has its own error already.
    bool tenant_written() const { return tenant_written_; }

    void merge(const toml::table& root, const std::string& file) {
        TableReader top(root, "the desired state", file, diagnostics_);
        top.allow_keys({"version", "tenant", "connection", "smtp_auth", "exceptions", "authentication_policy",
                        "organization", "guardrails", "notifications"});
        const bool has_version = read_version(top);
        if (top.find("tenant")) tenant_written_ = true;

        if (const toml::table* tenant = table_member(top, "tenant")) {
            read_tenant(*tenant, file);
            if (!has_version)
                diagnostics_.error(where(tenant->source(), file),
                                   "missing required key 'version' in the file with [tenant] (add version = 1)");
        }
        if (const toml::table* connection = table_member(top, "connection")) read_connection(*connection, file);
        if (const toml::table* smtp_auth = table_member(top, "smtp_auth")) read_smtp_auth(*smtp_auth, file);
        if (const toml::table* exceptions = table_member(top, "exceptions")) read_exception_settings(*exceptions, file);
        if (const toml::node* policies = top.find("authentication_policy")) read_policies(*policies, top, file);
        if (const toml::table* organization = table_member(top, "organization")) read_organization(*organization, file);
        if (const toml::table* guardrails = table_member(top, "guardrails")) read_guardrails(*guardrails, file);
        if (const toml::table* notifications = table_member(top, "notifications"))
            read_notifications(*notifications, file);
    }

private:
    const toml::table* table_member(TableReader& top, std::string_view key) {
        const toml::node* node = top.find(key);
        if (!node) return nullptr;
        if (const toml::table* table = node->as_table()) return table;
        diagnostics_.error(top.at(*node), "'" + std::string(key) + "' must be a table ([" + std::string(key) +
                                              "]), not " + std::string(type_name(node->type())));
        return nullptr;
    }

    bool read_version(TableReader& top) {
        const toml::node* node = top.find("version");
        if (!node) return false;
        const auto* value = node->as_integer();
        if (!value) {
            diagnostics_.error(top.at(*node),
                               "'version' must be an integer, not " + std::string(type_name(node->type())));
        } else if (value->get() != 1) {
            diagnostics_.error(top.at(*node), "unsupported version " + std::to_string(value->get()) +
                                                  "; this authgate reads version 1");
        }
        return true;
    }

    // [tenant], [connection], ... may each be declared in one file only.
    bool claim(const std::string& section, const SourceLocation& here) {
        const auto [it, inserted] = owners_.emplace(section, here);
        if (inserted) return true;
        const std::string first = to_string(it->second);
        // [smtp_auth] itself may be in many files; only its settings may not, so say which part.
        diagnostics_.error(
            here, section == smtp_settings
                      ? "[smtp_auth] settings (org_disabled, unlisted_overrides, deny, accept_cutoff) are already "
                        "declared in " +
                            first + "; only [[smtp_auth.exception]] may be split across files"
                      : section + " is already declared in " + first + "; it may appear in one file only");
        return false;
    }

    void read_tenant(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[tenant]", file, diagnostics_);
        if (!claim("[tenant]", reader.location())) return;
        reader.allow_keys({"id", "cloud"});
        Tenant tenant;
        tenant.source = reader.location();
        if (auto id = reader.string("id", true)) {
            if (!is_tenant_id(id->value))
                diagnostics_.error(id->source,
                                   "'id' must be the tenant GUID or its initial *.onmicrosoft.com domain, not \"" +
                                       shown(id->value) + "\"");
            tenant.id = id->value;
        }
        if (auto cloud = reader.choice<Cloud>("cloud")) tenant.cloud = cloud->value;
        state_.tenant = tenant;
    }

    std::string resolve(const std::string& path, const std::string& file) {
        const fs::path given(path);
        if (given.is_absolute()) return path;
        return (fs::path(file).parent_path() / given).lexically_normal().string();
    }

    void read_connection(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[connection]", file, diagnostics_);
        if (!claim("[connection]", reader.location())) return;
        for (std::string_view secret : {"certificate_password", "password", "client_secret", "private_key"}) {
            if (const toml::node* node = reader.find(secret))
                diagnostics_.error(reader.at(*node), "'" + std::string(secret) +
                                                         "': secrets do not belong in the desired state; put the "
                                                         "password in an environment variable and name it with "
                                                         "certificate_password_env");
        }
        reader.allow_keys({"app_id", "certificate", "certificate_password_env", "login_endpoint", "exchange_endpoint",
                           "ca_bundle", "credential", "certificate_password", "password", "client_secret",
                           "private_key"});
        Connection& connection = state_.connection;
        if (auto app_id = reader.string("app_id", false)) {
            if (!is_guid(app_id->value))
                diagnostics_.error(app_id->source, "'app_id' must be the application (client) id, a GUID; not \"" +
                                                       shown(app_id->value) + "\"");
            connection.app_id = app_id->value;
        }
        if (auto certificate = reader.string("certificate", false))
            connection.certificate = resolve(certificate->value, file);
        if (auto env = reader.string("certificate_password_env", false)) {
            if (!is_env_name(env->value))
                diagnostics_.error(env->source, "'certificate_password_env' must name an environment variable "
                                                "(letters, digits, _), not \"" +
                                                    shown(env->value) + "\"");
            connection.certificate_password_env = env->value;
        }
        for (auto [key, target] : {std::pair{"login_endpoint", &connection.login_endpoint},
                                   std::pair{"exchange_endpoint", &connection.exchange_endpoint}}) {
            if (auto url = reader.string(key, false)) {
                if (url->value.rfind("https://", 0) != 0 || url->value.size() <= 8)
                    diagnostics_.error(url->source, "'" + std::string(key) +
                                                        "' must be an https:// URL (TLS is "
                                                        "always verified), not \"" +
                                                        shown(url->value) + "\"");
                *target = url->value;
            }
        }
        if (auto bundle = reader.string("ca_bundle", false)) connection.ca_bundle = resolve(bundle->value, file);
        if (auto credential = reader.string("credential", false)) {
            if (credential->value != "certificate" && credential->value != "workload-identity" &&
                credential->value != "managed-identity")
                diagnostics_.error(
                    credential->source,
                    "'credential' must be one of certificate, workload-identity, managed-identity; not \"" +
                        shown(credential->value) + "\"");
            connection.credential = credential->value;
        }
    }

    void read_smtp_auth(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[smtp_auth]", file, diagnostics_);
        reader.allow_keys({"org_disabled", "unlisted_overrides", "deny", "accept_cutoff", "exception"});
        SmtpAuth& smtp = state_.smtp_auth ? *state_.smtp_auth : state_.smtp_auth.emplace();

        // The settings keys may be written in one file only; exceptions may come from any.
        const toml::node* first_setting = nullptr;
        for (std::string_view key : {"org_disabled", "unlisted_overrides", "deny", "accept_cutoff"})
            if (const toml::node* node = reader.find(key); node && !first_setting) first_setting = node;
        if (first_setting && claim(smtp_settings, reader.location())) {
            if (auto org = reader.boolean("org_disabled")) smtp.org_disabled = org;
            if (auto mode = reader.choice<UnlistedOverrides>("unlisted_overrides")) {
                smtp.unlisted_overrides = mode->value;
                smtp.unlisted_overrides_source = mode->source;
            }
            if (auto deny = reader.addresses("deny")) smtp.deny = std::move(*deny);
            read_accept_cutoff(reader, file, smtp);
        }

        const toml::node* exceptions = reader.find("exception");
        if (!exceptions) return;
        const toml::array* array = exceptions->as_array();
        if (!array || !array->is_array_of_tables()) {
            diagnostics_.error(reader.at(*exceptions),
                               "'exception' must be an array of tables ([[smtp_auth.exception]]), not " +
                                   std::string(type_name(exceptions->type())));
            return;
        }
        for (const toml::node& element : *array) read_exception(*element.as_table(), file, smtp);
    }

    // accept_cutoff = [{ mailbox = "...", reason = "..." }, ...]
    void read_accept_cutoff(TableReader& reader, const std::string& file, SmtpAuth& smtp) {
        const toml::node* node = reader.find("accept_cutoff");
        if (!node) return;
        const toml::array* array = node->as_array();
        if (!array || !array->is_array_of_tables()) {
            diagnostics_.error(reader.at(*node), "'accept_cutoff' must be an array of tables, e.g. accept_cutoff = "
                                                 "[{ mailbox = \"old-app@contoso.com\", reason = \"retired\" }]; not " +
                                                     std::string(type_name(node->type())));
            return;
        }
        for (const toml::node& element : *array) {
            TableReader entry(*element.as_table(), "accept_cutoff entry", file, diagnostics_);
            entry.allow_keys({"mailbox", "reason"});
            const auto mailbox = entry.string("mailbox", true);
            const auto reason = entry.string("reason", true);
            if (mailbox && !is_plausible_address(mailbox->value)) {
                diagnostics_.error(mailbox->source,
                                   "'mailbox' is not a plausible mail address: \"" + shown(mailbox->value) + "\"");
                continue;
            }
            if (mailbox && reason) smtp.accept_cutoff.push_back({mailbox->value, reason->value, mailbox->source});
        }
    }

    void read_exception(const toml::table& table, const std::string& file, SmtpAuth& smtp) {
        TableReader reader(table, "[[smtp_auth.exception]]", file, diagnostics_);
        reader.allow_keys({"mailbox", "owner", "reason", "expires", "ticket", "replacement", "basic_auth", "notify"});
        Exception exception;
        exception.source = reader.location();
        bool complete = true;
        std::string mailbox;
        for (auto [key, target] : {std::pair{"mailbox", &mailbox}, std::pair{"owner", &exception.owner}}) {
            if (auto address = reader.string(key, true)) {
                // "unknown" is the placeholder import writes; validation warns until someone owns it.
                const bool placeholder = std::string_view(key) == "owner" && address->value == unknown_owner;
                if (!placeholder && !is_plausible_address(address->value)) {
                    diagnostics_.error(address->source, "'" + std::string(key) +
                                                            "' is not a plausible mail address: \"" +
                                                            shown(address->value) + "\"");
                    complete = false;
                }
                *target = address->value;
            } else {
                complete = false;
            }
        }
        exception.mailbox = std::move(mailbox);
        if (auto reason = reader.string("reason", true)) exception.reason = reason->value;
        else complete = false;
        complete = read_expiry(reader, exception) && complete;
        if (auto ticket = reader.string("ticket", false)) exception.ticket = ticket->value;
        if (auto replacement = reader.choice<Replacement>("replacement")) exception.replacement = replacement->value;
        if (auto basic = reader.boolean("basic_auth")) exception.basic_auth = basic->value;
        if (auto notify = reader.addresses("notify"))
            for (auto& address : *notify) exception.notify.push_back(std::move(address.value));
        // An incomplete exception is reported above; keeping it would only cause follow-on noise.
        if (complete) smtp.exceptions.push_back(std::move(exception));
    }

    bool read_expiry(TableReader& reader, Exception& exception) {
        const toml::node* node = reader.require("expires");
        if (!node) return false;
        exception.expires_source = reader.at(*node);
        using namespace std::chrono;
        if (const auto* date = node->as_date()) {
            const toml::date& d = date->get();
            const year_month_day ymd{year{d.year}, month{d.month}, day{d.day}};
            // A date holds through that whole day in UTC.
            exception.expires = Instant{sys_days{ymd} + days{1}};
            std::ostringstream text;
            text << d;
            exception.expires_text = text.str();
            return true;
        }
        if (const auto* stamp = node->as_date_time()) {
            const toml::date_time& dt = stamp->get();
            if (!dt.offset) {
                diagnostics_.error(exception.expires_source,
                                   "'expires' is a local date-time without offset; add a UTC offset, e.g. Z");
                return false;
            }
            const year_month_day ymd{year{dt.date.year}, month{dt.date.month}, day{dt.date.day}};
            exception.expires = Instant{sys_days{ymd}} + hours{dt.time.hour} + minutes{dt.time.minute} +
                                seconds{dt.time.second} - minutes{dt.offset->minutes};
            std::ostringstream text;
            text << dt;
            exception.expires_text = text.str();
            return true;
        }
        if (const auto* text = node->as_string()) {
            // Echo the user's own value when unquoting it is the whole fix; anything else would
            // only be cut into a misleading example ("next friday" → "next frida").
            const std::string example = is_expiry_literal(text->get()) ? shown(text->get()) : "2027-03-31";
            diagnostics_.error(exception.expires_source,
                               "'expires' must be a TOML date or date-time, written without quotes, e.g. expires = " +
                                   example);
            return false;
        }
        diagnostics_.error(exception.expires_source, "'expires' must be a date or a date-time with a UTC offset, not " +
                                                         std::string(type_name(node->type())));
        return false;
    }

    void read_exception_settings(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[exceptions]", file, diagnostics_);
        if (!claim("[exceptions]", reader.location())) return;
        reader.allow_keys({"max_days", "warn_days", "basic_auth_policy", "unused_days"});
        ExceptionSettings& settings = state_.exception_settings;
        settings.source = reader.location();
        if (auto max_days = reader.integer("max_days", 1, 3650)) settings.max_days = max_days->value;
        if (auto unused = reader.integer("unused_days", 1, 3650)) settings.unused_days = unused;
        if (const toml::node* node = reader.find("warn_days")) {
            const toml::array* array = node->as_array();
            if (!array) {
                diagnostics_.error(reader.at(*node), "'warn_days' must be an array of whole days, not " +
                                                         std::string(type_name(node->type())));
            } else {
                settings.warn_days.clear();
                for (const toml::node& element : *array) {
                    const auto* days = element.as_integer();
                    if (!days || days->get() < 0 || days->get() > 3650) {
                        diagnostics_.error(reader.at(element), "'warn_days' entries must be whole days from 0 to 3650");
                        continue;
                    }
                    settings.warn_days.push_back(static_cast<int>(days->get()));
                }
            }
        }
        if (auto policy = reader.string("basic_auth_policy", false)) settings.basic_auth_policy = policy;
    }

    void read_policies(const toml::node& node, TableReader& top, const std::string& file) {
        const toml::array* array = node.as_array();
        if (!array || !array->is_array_of_tables()) {
            diagnostics_.error(top.at(node), "'authentication_policy' must be an array of tables "
                                             "([[authentication_policy]]), not " +
                                                 std::string(type_name(node.type())));
            return;
        }
        std::vector<std::string_view> keys{"name"};
        for (const auto& flag : basic_auth_flags) keys.push_back(flag.toml_key);
        for (const toml::node& element : *array) {
            TableReader reader(*element.as_table(), "[[authentication_policy]]", file, diagnostics_);
            reader.allow_keys(keys);
            AuthenticationPolicy policy;
            policy.source = reader.location();
            auto name = reader.string("name", true);
            if (name && character_count(name->value) > 64)
                diagnostics_.error(name->source, "policy name is " + std::to_string(character_count(name->value)) +
                                                     " characters long; Exchange allows at most 64");
            for (std::size_t i = 0; i < basic_auth_flag_count; ++i)
                if (auto flag = reader.boolean(basic_auth_flags[i].toml_key)) policy.flags[i] = flag->value;
            if (!name) continue;
            policy.name = name->value;
            state_.policies.push_back(std::move(policy));
        }
    }

    void read_organization(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[organization]", file, diagnostics_);
        if (!claim("[organization]", reader.location())) return;
        reader.allow_keys({"default_authentication_policy"});
        Organization organization;
        organization.default_authentication_policy = reader.string("default_authentication_policy", false, true);
        state_.organization = organization;
    }

    void read_guardrails(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[guardrails]", file, diagnostics_);
        if (!claim("[guardrails]", reader.location())) return;
        reader.allow_keys({"max_changes", "protected", "missing_mailbox", "recent_use_days", "certificate_warn_days"});
        if (auto max_changes = reader.integer("max_changes", 0, 1000000))
            state_.guardrails.max_changes = max_changes->value;
        if (auto protected_mailboxes = reader.addresses("protected"))
            state_.guardrails.protected_mailboxes = std::move(*protected_mailboxes);
        if (auto missing = reader.choice<MissingMailbox>("missing_mailbox"))
            state_.guardrails.missing_mailbox = missing->value;
        if (auto recent = reader.integer("recent_use_days", 1, 3650)) state_.guardrails.recent_use_days = recent;
        if (auto warn = reader.integer("certificate_warn_days", 0, 3650))
            state_.guardrails.certificate_warn_days = warn->value;
    }

    static constexpr const char* smtp_settings = "[smtp_auth] settings";

    void read_notifications(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[notifications]", file, diagnostics_);
        if (!claim("[notifications]", reader.location())) return;
        reader.allow_keys({"webhook_url", "webhook_url_env", "webhook_format", "email"});
        Notifications& notifications = state_.notifications;
        if (auto format = reader.choice<WebhookFormat>("webhook_format")) notifications.webhook_format = format->value;
        if (const toml::node* email = reader.find("email")) {
            if (const toml::table* table = email->as_table()) read_email(*table, file);
            else diagnostics_.error(reader.at(*email), "'email' must be a table: [notifications.email]");
        }
        if (auto url = reader.string("webhook_url", false)) {
            if (url->value.rfind("https://", 0) != 0 || url->value.size() <= 8)
                diagnostics_.error(url->source, "'webhook_url' must be an https:// URL");
            notifications.webhook_url = url->value;
        }
        if (auto env = reader.string("webhook_url_env", false)) {
            if (!is_env_name(env->value))
                diagnostics_.error(env->source, "'webhook_url_env' must name an environment variable (letters, "
                                                "digits, _), not \"" +
                                                    shown(env->value) + "\"");
            notifications.webhook_url_env = env->value;
        }
    }

    void read_email(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[notifications.email]", file, diagnostics_);
        reader.allow_keys({"transport", "sender", "smtp_host", "smtp_port", "cc"});
        EmailNotifications email;
        email.source = reader.location();
        if (auto transport = reader.choice<MailTransportKind>("transport")) email.transport = transport->value;
        if (auto sender = reader.string("sender", true)) {
            if (!is_plausible_address(sender->value))
                diagnostics_.error(sender->source,
                                   "'sender' is not a plausible mail address: \"" + shown(sender->value) + "\"");
            email.sender = sender->value;
        }
        if (auto host = reader.string("smtp_host", false)) {
            if (!is_host_name(host->value))
                diagnostics_.error(host->source,
                                   "'smtp_host' must be a host name such as smtp.hve.mx.microsoft, not \"" +
                                       shown(host->value) + "\"");
            email.smtp_host = host->value;
        }
        if (auto port = reader.integer("smtp_port", 1, 65535)) email.smtp_port = port->value;
        if (auto cc = reader.addresses("cc"))
            for (auto& address : *cc) email.cc.push_back(std::move(address.value));
        state_.notifications.email = std::move(email);
    }

    // Letters, digits, '-' and '.', as a DNS name (or an IPv4 address) is written.
    static bool is_host_name(std::string_view text) {
        if (text.empty() || text.size() > 253 || text.front() == '.' || text.back() == '.') return false;
        return std::all_of(text.begin(), text.end(),
                           [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; });
    }

    DesiredState& state_;
    Diagnostics& diagnostics_;
    std::map<std::string, SourceLocation> owners_;
    bool tenant_written_ = false;
};

// toml++ writes "Error while parsing key-value pair: cannot redefine existing boolean 'x'",
// which after our own "error: " reads as an error twice; a repeated key or table is common
// enough in hand-edited files to deserve plain words.
std::string describe_parse_error(std::string_view description) {
    constexpr std::string_view prefix = "Error while parsing ";
    constexpr std::string_view redefine = "cannot redefine existing ";
    const std::size_t colon = description.find(": ");
    if (description.rfind(prefix, 0) != 0 || colon == std::string_view::npos)
        return "invalid TOML: " + shown(description, 300);
    const std::string_view scope = description.substr(prefix.size(), colon - prefix.size());
    const std::string_view detail = description.substr(colon + 2);
    const std::size_t quote = detail.find('\'');
    if (detail.rfind(redefine, 0) == 0 && quote != std::string_view::npos && detail.back() == '\'' &&
        quote + 1 < detail.size() - 1) {
        const std::string_view name = detail.substr(quote + 1, detail.size() - quote - 2);
        if (scope == "key-value pair")
            return "duplicate key '" + shown(name) + "'; a key may be set only once in a table";
        if (scope == "table header" && detail.substr(redefine.size(), 6) == "table ")
            return "duplicate table [" + shown(name) + "]; a table may be declared only once in a file";
    }
    return "invalid TOML in " + std::string(scope) + ": " + shown(detail, 300);
}

// False when the text is not TOML.
bool parse_into(const std::string& display, const std::string& text, Merger& merger, Diagnostics& diagnostics) {
    if (auto problem = utf16_problem(text)) {
        diagnostics.error({display, 1, 1}, std::move(*problem));
        return false;
    }
    if (const auto bad = invalid_utf8(text)) {
        static const char digits[] = "0123456789ABCDEF";
        const auto c = static_cast<unsigned char>(text[*bad]);
        diagnostics.error(location_of(text, *bad, display), std::string("not UTF-8 (byte 0x") + digits[c >> 4] +
                                                                digits[c & 15] + "); save the file as UTF-8");
        return false;
    }
    if (const auto deep = too_deep(text, display)) {
        diagnostics.error(*deep, "nested more than " + std::to_string(max_nesting) +
                                     " levels deep (tables, dotted keys, arrays); a desired state needs a few");
        return false;
    }
    try {
        const toml::table root = toml::parse(text, display);
        merger.merge(root, display);
        return true;
    } catch (const toml::parse_error& error) {
        diagnostics.error(where(error.source(), display), describe_parse_error(error.description()));
        return false;
    }
}

// `every_file_read`: every path existed and every file parsed, so a missing [tenant] is not
// merely in a file we could not see.
void finish(LoadResult& result, const Merger& merger, bool every_file_read) {
    if (every_file_read && !merger.tenant_written()) {
        const std::string first = result.state.files.empty() ? std::string("desired state")
                                                             : result.state.files.front();
        result.diagnostics.error({first, 1, 1}, "no [tenant] table: the desired state must name its tenant "
                                                "([tenant] id = \"contoso.onmicrosoft.com\")");
    }
    result.diagnostics.sort();
}

}  // namespace

LoadResult load_desired_state(const std::vector<std::string>& paths) { return load_desired_state(paths, {}); }

LoadResult load_desired_state(const std::vector<std::string>& paths, const EditedFile& edited) {
    LoadResult result;
    Merger merger(result);
    Digest digest;
    const std::vector<SourceFile> files = list_files(paths, result.diagnostics);
    bool every_file_read = !result.diagnostics.has_errors();
    for (const SourceFile& file : files) {
        std::string text;
        try {
            text = !edited.path.empty() && file.display == edited.path ? edited.text : read_file(file.display);
        } catch (const FileError&) {
            result.diagnostics.error({file.display, 0, 0}, "cannot read file");
            every_file_read = false;
            continue;
        }
        digest.add(file.relative);
        digest.add(text);
        result.state.files.push_back(file.display);
        every_file_read = parse_into(file.display, text, merger, result.diagnostics) && every_file_read;
    }
    result.state.digest = digest.hex();
    finish(result, merger, every_file_read);
    return result;
}

LoadResult load_desired_state_text(const std::string& name, const std::string& text) {
    LoadResult result;
    Merger merger(result);
    Digest digest;
    digest.add(name);
    digest.add(text);
    result.state.files.push_back(name);
    const bool parsed = parse_into(name, text, merger, result.diagnostics);
    result.state.digest = digest.hex();
    finish(result, merger, parsed);
    return result;
}

}  // namespace authgate
