// doctor: the first command to run against a real tenant. Read-only: it checks, one at a time,
// what plan and apply need (certificate, clock, sign-in, the token's tenant and role, the
// directory role, the cmdlets the app may run, every read, paging) and says how to fix each
// failure.
#include <cstdlib>
#include <ostream>

#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/json_output.h"
#include "agent/options.h"
#include "agent/render.h"
#include "connectors/credentials.h"
#include "connectors/exchange_client.h"
#include "connectors/exchange_online.h"
#include "connectors/token_client.h"
#include "connectors/workload_identity.h"
#include "policies/printable.h"

namespace authgate {
namespace {

enum class Status { ok, warning, failed, skipped };

}  // namespace

template <>
struct EnumNames<Status> {
    static constexpr std::array<std::pair<Status, std::string_view>, 4> table{
        {{Status::ok, "ok"}, {Status::warning, "warning"}, {Status::failed, "failed"}, {Status::skipped, "skipped"}}};
};

namespace {

struct Check {
    std::string name;
    Status status = Status::skipped;
    std::string detail;
    std::string fix;
    bool for_plan = true;  // plan needs it; otherwise apply alone does
};

// The cmdlets authgate runs: reads for plan, writes for apply.
const std::vector<std::string> plan_cmdlets{"Get-TransportConfig", "Get-OrganizationConfig", "Get-CASMailbox",
                                            "Get-AuthenticationPolicy", "Get-User"};
const std::vector<std::string> apply_cmdlets{"Set-TransportConfig",      "Set-OrganizationConfig",   "Set-CASMailbox",
                                             "New-AuthenticationPolicy", "Set-AuthenticationPolicy", "Set-User"};

// The first line of a message; what follows ("what to check: …") goes to the fix.
std::pair<std::string, std::string> split_advice(const std::string& message) {
    const std::string marker = "\n  what to check: ";
    const std::size_t at = message.find(marker);
    if (at == std::string::npos) return {message, ""};
    return {message.substr(0, at), message.substr(at + marker.size())};
}

class Doctor {
public:
    Doctor(CommandContext& context, const ConnectionSettings& settings, const Environment& environment,
           int certificate_warn_days)
        : context_(context),
          settings_(settings),
          environment_(environment),
          certificate_warn_days_(certificate_warn_days) {}

    std::vector<Check> run(std::optional<Check> desired) {
        if (desired) checks_.push_back(*desired);
        http_ = make_transport(settings_);
        if (!(certificate_kind() ? certificate() : credential())) return finish();
        tokens_.emplace(*source_, token_settings_of(settings_), [this] { return context_.clock.now(); });
        const bool signed_in = sign_in();
        clock();  // Entra's Date comes with a refusal too, and a wrong clock is a reason for one
        if (!signed_in) return finish();
        token();
        ExchangeClient exchange(*http_, *tokens_, exchange_settings_of(settings_));
        cmdlets(exchange);
        if (!reads(exchange)) return finish();
        paging();
        entra();
        return finish();
    }

private:
    void add(std::string name, Status status, std::string detail, std::string fix = "", bool for_plan = true) {
        checks_.push_back({std::move(name), status, std::move(detail), std::move(fix), for_plan});
    }

    std::vector<Check> finish() {
        // What could not be checked after a failure is listed, so that none looks passed.
        for (const char* name : {certificate_kind() ? "certificate" : "credential", "sign-in", "clock", "token",
                                 "cmdlets to plan", "cmdlets to apply", "reads", "paging"}) {
            bool present = false;
            for (const Check& check : checks_) present |= check.name == name;
            if (!present) add(name, Status::skipped, "not checked: an earlier check failed");
        }
        return checks_;
    }

    bool certificate() {
        const Instant now = context_.clock.now();
        try {
            credential_.emplace(
                Credential::load(settings_.certificate, environment_(settings_.certificate_password_env), now));
        } catch (const ConnectorError& error) {
            add("certificate", Status::failed, error.what(),
                "a PEM with the certificate and its key (mode 0600), or a PFX with its password in $" +
                    settings_.certificate_password_env + "; the certificate must be the one uploaded to app " +
                    settings_.app_id);
            return false;
        }
        const long days = whole_days(now, credential_->not_after());
        const std::string detail = "thumbprint " + credential_->portal_thumbprint() + ", valid until " +
                                   format_date(credential_->not_after()) + " (" + std::to_string(days) +
                                   " days); the key matches; the key file is readable by its owner only";
        if (days < certificate_warn_days_)
            add("certificate", Status::warning, detail,
                "renew it before it expires: upload the new certificate to the app, then point authgate at it");
        else add("certificate", Status::ok, detail);
        source_ = std::make_unique<CertificateAssertion>(*http_, *credential_);
        return true;
    }

    bool certificate_kind() const { return settings_.credential == CredentialKind::certificate; }

    // Workload identity or a managed identity: what signs in, found in the environment. For
    // workload identity the platform's token is fetched and its (unverified) issuer, subject and
    // audience shown: what the app's federated credential must name.
    bool credential() {
        try {
            source_ = make_token_source(settings_, *http_, environment_, context_.clock);
        } catch (const ConnectorError& error) {
            const auto [what, fix] = split_advice(error.what());
            add("credential", Status::failed, what,
                fix.empty() ? "run authgate where the platform provides its identity, or choose another --credential"
                            : fix);
            return false;
        }
        auto* federated = dynamic_cast<FederatedAssertion*>(source_.get());
        if (!federated) {
            add("credential", Status::ok, source_->description());
            return true;
        }
        TokenClaims claims;
        try {
            int requests = 0;
            claims = read_claims(federated->platform().fetch(requests));
        } catch (const ConnectorError& error) {
            const auto [what, fix] = split_advice(error.what());
            add("credential", Status::failed, what, fix);
            return false;
        }
        const auto shown = [](const std::string& claim) { return claim.empty() ? "(none)" : "'" + claim + "'"; };
        add("credential", Status::ok,
            source_->description() + ": issuer " + shown(claims.issuer) + ", subject " + shown(claims.subject) +
                ", audience " + shown(claims.audience) + "; a federated credential of app " + settings_.app_id +
                " must name this issuer and subject");
        return true;
    }

    std::string sign_in_fix() const {
        switch (settings_.credential) {
            case CredentialKind::workload_identity:
                return "check --login-endpoint, the tenant, the app id and the app's federated credential";
            case CredentialKind::managed_identity:
                return "check that this host's managed identity is on (or the user-assigned one attached) and that "
                       "the identity endpoint answers";
            case CredentialKind::certificate: break;
        }
        return "check --login-endpoint, the tenant, the app id and that the certificate is uploaded";
    }

    // Who the token is issued to, for messages.
    std::string signed_in_as() const {
        if (settings_.credential == CredentialKind::managed_identity) return source_->description();
        return "app " + settings_.app_id;
    }

    bool sign_in() {
        try {
            tokens_->bearer();
        } catch (const ConnectorError& error) {
            const auto [what, fix] = split_advice(error.what());
            add("sign-in", Status::failed, what, !fix.empty() ? fix : sign_in_fix());
            return false;
        }
        add("sign-in", Status::ok,
            "a token for " + trim_slash(settings_.exchange_endpoint) + " was issued to " + signed_in_as());
        return true;
    }

    void clock() {
        if (settings_.credential == CredentialKind::managed_identity) {
            add("clock", Status::skipped, "a managed identity signs no assertion: Entra does not judge this clock");
            return;
        }
        const auto server = tokens_->server_date();
        if (!server) {
            add("clock", Status::skipped, "the token endpoint sent no Date header to compare with");
            return;
        }
        const long long skew = std::llabs((context_.clock.now() - *server).count());
        const std::string detail = "this machine's clock is " + std::to_string(skew) + " s from the token endpoint's";
        if (skew > 300)
            add("clock", Status::failed, detail,
                "Entra refuses assertions outside its 5-minute window: synchronise this machine's clock (NTP)");
        else if (skew > 60) add("clock", Status::warning, detail, "synchronise this machine's clock (NTP)");
        else add("clock", Status::ok, detail);
    }

    void token() {
        const auto tid = tokens_->tenant_id();
        const auto roles = tokens_->roles();
        const bool manage = std::find(roles.begin(), roles.end(), "Exchange.ManageAsApp") != roles.end();
        std::string detail = "tenant " + tid.value_or("(the token names none)") + "; roles: ";
        for (std::size_t i = 0; i < roles.size(); ++i) detail += (i ? ", " : "") + roles[i];
        if (roles.empty()) detail += "none";
        if (!manage && settings_.credential == CredentialKind::managed_identity)
            add("token", Status::failed, detail,
                "assign the managed identity's service principal the app role Exchange.ManageAsApp of Office 365 "
                "Exchange Online (New-MgServicePrincipalAppRoleAssignment; role dc50a0fb-09a3-484d-be87-"
                "e023b12c6440)");
        else if (!manage)
            add("token", Status::failed, detail,
                "give the app the application permission Exchange.ManageAsApp (API permissions, Office 365 Exchange "
                "Online) and grant admin consent for it");
        else add("token", Status::ok, detail);
    }

    void cmdlets(ExchangeClient& exchange) {
        std::vector<std::string> allowed;
        try {
            allowed = exchange.allowed_cmdlets();
        } catch (const ConnectorError& error) {
            const auto [what, fix] = split_advice(error.what());
            add("cmdlets to plan", Status::warning, "the list of cmdlets the app may run could not be read: " + what,
                fix);
            add("cmdlets to apply", Status::warning, "not listed; the reads below show what plan can do", fix, false);
            return;
        }
        const auto missing = [&](const std::vector<std::string>& needed) {
            std::string names;
            for (const std::string& name : needed) {
                const bool found = std::any_of(allowed.begin(), allowed.end(),
                                               [&](const std::string& a) { return equals_ignoring_case(a, name); });
                if (!found) names += (names.empty() ? "" : ", ") + name;
            }
            return names;
        };
        const std::string role =
            "assign Exchange Administrator to the app's service principal (Global Reader is enough "
            "to plan)";
        if (const std::string names = missing(plan_cmdlets); !names.empty())
            add("cmdlets to plan", Status::failed, "the app's roles do not let it run " + names, role);
        else
            add("cmdlets to plan", Status::ok, "the app may run all " + std::to_string(plan_cmdlets.size()) + " reads");
        if (const std::string names = missing(apply_cmdlets); !names.empty())
            add("cmdlets to apply", Status::failed, "the app's roles do not let it run " + names, role, false);
        else
            add("cmdlets to apply", Status::ok,
                "the app may run all " + std::to_string(apply_cmdlets.size()) + " writes", "", false);
    }

    bool reads(ExchangeClient& exchange) {
        ExchangeOnlineConnector connector(exchange);
        LiveState live;
        try {
            live = connector.read_live_state();
        } catch (const ConnectorError& error) {
            const auto [what, fix] = split_advice(error.what());
            add("reads", Status::failed, what, fix.empty() ? "see the error; --trace DIR shows what was said" : fix);
            return false;
        }
        add("reads", Status::ok,
            "organisation SMTP AUTH " + std::string(*live.org_smtp_auth_disabled ? "off" : "on") + ", " +
                std::to_string(live.mailboxes->size()) + " mailboxes, " + std::to_string(live.policies->size()) +
                " authentication policies, " + std::to_string(live.users->size()) + " users with a policy");
        return true;
    }

    // Pages of one object each through the authentication policies: a continuation followed on
    // this tenant, or refused (and then the whole-list route tried).
    void paging() {
        ExchangeSettings one_per_page = exchange_settings_of(settings_);
        one_per_page.page_size = 1;
        ExchangeClient exchange(*http_, *tokens_, one_per_page);
        int objects = 0;
        try {
            exchange.read(
                {"Get-AuthenticationPolicy", {}}, {"Name"}, [&] { objects = 0; },
                [&](const simdjson::dom::element&) { ++objects; });
        } catch (const ConnectorError& error) {
            add("paging", Status::failed, split_advice(error.what()).first,
                "plan reads every list to its end or not at all; send a --trace of this run with the report");
            return;
        }
        const ExchangeCounters counters = exchange.counters();
        if (counters.refused_continuations > 0)
            add("paging", Status::warning,
                "the service refused to continue a list (" + std::to_string(counters.refused_continuations) +
                    " times); authgate read it whole in one answer instead",
                "nothing to do while each list fits one answer; a list that does not fails the plan, never half-read");
        else if (objects < 2)
            add("paging", Status::skipped, "fewer than two authentication policies: nothing to page through");
        else
            add("paging", Status::ok, std::to_string(counters.pages) + " pages of one policy each followed to the end");
    }

    // Entra beside Exchange (Graph, Policy.Read.All): whether security defaults are on and how many
    // Conditional Access policies refuse legacy clients, both of which make basic_auth exceptions
    // fail. Plan runs without it, so a failure is a warning; never "nothing blocks".
    void entra() {
        TokenClient graph_tokens(*source_, graph_token_settings(settings_), [this] { return context_.clock.now(); });
        GraphUsageLimits limits;
        limits.first_delay = exchange_settings_of(settings_).retry.first_delay;
        GraphUsageReader graph(
            *http_, graph_tokens, settings_.graph_endpoint, [this] { return context_.clock.now(); },
            GraphUsageReader::Sleep{}, 0, limits);
        const EntraPolicies policies = graph.entra_policies();
        std::string detail, fix;
        Status status = Status::ok;
        if (policies.security_defaults) {
            detail = std::string("security defaults ") + (*policies.security_defaults ? "on" : "off");
            if (*policies.security_defaults) {
                status = Status::warning;
                fix = "security defaults refuse Basic auth for every user: basic_auth exceptions cannot work while "
                      "they are on";
            }
        } else {
            status = Status::warning;
            detail = "security defaults not read: " + policies.security_defaults_why_not;
        }
        if (policies.conditional_access) {
            const int blocking = legacy_blocking_policies(*policies.conditional_access);
            detail += "; " + std::to_string(policies.conditional_access->size()) + " Conditional Access policies, " +
                      std::to_string(blocking) + " enabled that refuse legacy clients (Basic SMTP)";
            if (blocking > 0) {
                status = Status::warning;
                fix += std::string(fix.empty() ? "" : "; ") +
                       "a basic_auth exception works only for a user those policies exclude: authgate explain "
                       "MAILBOX names the policy and the exclusion";
            }
        } else {
            status = Status::warning;
            detail += "; Conditional Access not read: " + policies.conditional_access_why_not;
        }
        if (!policies.security_defaults || !policies.conditional_access)
            fix += std::string(fix.empty() ? "" : "; ") +
                   "grant the app the Graph application permission Policy.Read.All (and GroupMember.Read.All), with "
                   "admin consent, so that authgate can tell whether basic_auth exceptions can work";
        add("entra", status, detail, fix);
    }

    CommandContext& context_;
    const ConnectionSettings& settings_;
    const Environment& environment_;
    int certificate_warn_days_ = 30;
    std::optional<Credential> credential_;
    std::unique_ptr<HttpTransport> http_;
    std::unique_ptr<TokenSource> source_;
    std::optional<TokenClient> tokens_;
    std::vector<Check> checks_;
};

}  // namespace

int run_doctor(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("format", po::value<std::string>(), "text (default) or json")(
        "apply", "exit 1 unless everything apply needs holds too (by default: what plan needs)");
    add_connection_options(options);
    const auto values = parse_options(context, options, "authgate doctor [-c PATH...] [--apply] [--format text|json]");
    if (!values) return exit_ok;
    const ReportFormat format = report_format(*values);
    if (format == ReportFormat::markdown) throw UsageError("--format must be text or json");
    const Environment environment = process_environment();

    std::optional<Check> desired;
    DesiredState state;
    if (values->count("config")) {
        CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), context.clock.now());
        if (checked.diagnostics.has_errors()) {
            print_diagnostics(context.err, checked.diagnostics);
            return exit_error;
        }
        state = std::move(checked.state);
        desired = Check{"desired state", Status::ok,
                        std::to_string(state.files.size()) + " files, valid; the connection comes from it", "", true};
    }
    const ConnectionSettings settings = resolve_connection(*values, state, environment);
    const std::vector<Check> checks =
        Doctor(context, settings, environment, state.guardrails.certificate_warn_days).run(desired);

    bool plan_ready = true, apply_ready = true;
    for (const Check& check : checks) {
        const bool blocks = check.status == Status::failed ||
                            (check.status == Status::skipped && check.detail.rfind("not checked", 0) == 0);
        if (blocks && check.for_plan) plan_ready = false;
        if (blocks) apply_ready = false;
    }
    const bool ready = values->count("apply") ? apply_ready : plan_ready;

    if (format == ReportFormat::json) {
        using web::json::value;
        value report = value::object(true);
        report["tenant"] = value::string(settings.tenant);
        report["app_id"] = value::string(settings.app_id);
        report["credential"] = value::string(std::string(to_string(settings.credential)));
        report["exchange_endpoint"] = value::string(settings.exchange_endpoint);
        value list = value::array();
        std::size_t i = 0;
        for (const Check& check : checks) {
            value entry = value::object(true);
            entry["name"] = value::string(check.name);
            entry["status"] = value::string(std::string(to_string(check.status)));
            entry["detail"] = value::string(check.detail);
            entry["fix"] = check.fix.empty() ? value::null() : value::string(check.fix);
            entry["needed_for"] = value::string(check.for_plan ? "plan" : "apply");
            list[i++] = entry;
        }
        report["checks"] = list;
        report["plan_ready"] = value::boolean(plan_ready);
        report["apply_ready"] = value::boolean(apply_ready);
        write_json(context.out, report);
        return ready ? exit_ok : exit_error;
    }
    context.out << "authgate doctor: " << printable(settings.tenant) << ", "
                << (settings.credential == CredentialKind::managed_identity ? "managed identity"
                                                                            : "app " + printable(settings.app_id))
                << (settings.credential == CredentialKind::workload_identity ? " (workload identity)" : "") << ", "
                << printable(settings.exchange_endpoint) << "\n\n";
    for (const Check& check : checks) {
        const std::string status(to_string(check.status));
        context.out << "  " << status << std::string(9 - status.size(), ' ') << check.name
                    << std::string(check.name.size() < 18 ? 18 - check.name.size() : 1, ' ') << printable(check.detail)
                    << "\n";
        if (!check.fix.empty() && check.status != Status::ok)
            context.out << std::string(29, ' ') << "fix: " << printable(check.fix) << "\n";
    }
    context.out << "\nPlan: " << (plan_ready ? "ready" : "not ready")
                << ".  Apply: " << (apply_ready ? "ready" : "not ready") << ".\n";
    return ready ? exit_ok : exit_error;
}

}  // namespace authgate
