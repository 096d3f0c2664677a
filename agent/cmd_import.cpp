// import: a desired state written from the live tenant, for migrating an existing tenant.
#include <unistd.h>

#include <filesystem>
#include <ostream>

#include "agent/commands.h"
#include "agent/connection.h"
#include "agent/files.h"
#include "agent/import.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/state_options.h"
#include "agent/usage_evidence.h"
#include "policies/loader.h"
#include "policies/printable.h"
#include "policies/validate.h"

namespace authgate {

int run_import(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("out", po::value<std::string>(), "the TOML file to write (never overwritten)")(
        "exception-days", po::value<int>()->default_value(30), "imported exceptions expire this many days from now")(
        "only-used", "propose exceptions only for mailboxes seen using SMTP AUTH (the usage sources, over --days)");
    add_usage_options(options, false);
    add_state_option(options);
    add_connection_options(options);
    const auto values = parse_options(context, options, "authgate import --out FILE [-c PATH] [--exception-days N]");
    if (!values) return exit_ok;
    Logger logger = make_logger(*values, context, context.clock);
    if (!values->count("out")) throw UsageError("say where to write the desired state: --out FILE");
    const std::string path = (*values)["out"].as<std::string>();
    const int days = (*values)["exception-days"].as<int>();
    if (days < 1 || days > 3649) throw UsageError("--exception-days must be from 1 to 3649");
    // Said before the tenant is read: why the file cannot be written.
    std::error_code error;
    if (std::filesystem::exists(path, error) || std::filesystem::is_symlink(path, error))
        throw UsageError("cannot write " + path + ": it exists; import writes a new file and never overwrites one");
    const std::filesystem::path folder = std::filesystem::path(path).has_parent_path()
                                             ? std::filesystem::path(path).parent_path()
                                             : std::filesystem::path(".");
    if (!std::filesystem::is_directory(folder, error))
        throw UsageError("cannot write " + path + ": the folder " + folder.string() + " does not exist");
    if (::access(folder.c_str(), W_OK) != 0)
        throw UsageError("cannot write " + path + ": no permission to write in " + folder.string());

    // The connection comes from -c when given (its [tenant] and [connection]), else from flags and environment.
    const Instant now = context.clock.now();
    DesiredState desired;
    if (values->count("config")) {
        CheckedDesiredState checked = load_and_validate(desired_state_paths(*values), now);
        if (checked.diagnostics.has_errors()) {
            print_diagnostics(context.err, checked.diagnostics);
            return exit_error;
        }
        desired = std::move(checked.state);
    }
    const Environment environment = process_environment();
    const ConnectionSettings settings = resolve_connection(*values, desired, environment);
    LiveState live;
    ImportOptions import{settings.tenant, desired.tenant ? desired.tenant->cloud : Cloud::global, now, days};
    try {
        const auto session = open_tenant(settings, environment, context.clock);
        live = read_tenant(*session, logger);
        if (values->count("only-used")) {
            // Unknown is not absent: a source that cannot be read proposes nothing less.
            const UsageOptions usage = usage_options(*values);
            auto journal = Journal::open_existing(state_path(*values));
            const std::string key = fold_case(session->tenant_id());
            const UsageEvidence evidence = gather_usage(session.get(), usage, now, journal ? &*journal : nullptr, key,
                                                        &logger);
            if (evidence.incomplete()) {
                for (const SourceReport& source : evidence.sources)
                    if (!source.read) context.err << "error: " << describe(source) << "\n";
                context.err << "--only-used needs every usage source read; nothing was written\n";
                return exit_error;
            }
            import.used = usage_by_sender(evidence, live, now - std::chrono::hours(24) * usage.days);
            import.used_days = usage.days;
        }
    } catch (const ConnectorError& error) {
        report_unreadable(context.err, error, "nothing was written");
        return exit_error;
    }
    // [connection] as signed in: what plan -c needs to read the same tenant (no secret).
    const auto absolute = [](const std::string& file) { return std::filesystem::absolute(file).string(); };
    if (!settings.app_id.empty()) import.connection.emplace_back("app_id", settings.app_id);
    import.connection.emplace_back("credential", std::string(to_string(settings.credential)));
    if (!settings.certificate.empty()) {
        import.connection.emplace_back("certificate", absolute(settings.certificate));
        import.connection.emplace_back("certificate_password_env", settings.certificate_password_env);
    }
    if (!settings.login_endpoint.empty()) import.connection.emplace_back("login_endpoint", settings.login_endpoint);
    if (!settings.exchange_endpoint.empty())
        import.connection.emplace_back("exchange_endpoint", settings.exchange_endpoint);
    if (settings.ca_bundle) import.connection.emplace_back("ca_bundle", absolute(*settings.ca_bundle));
    const std::string text = import_desired_state(live, import);
    // What is written must load and validate as plan will read it.
    const LoadResult written = load_desired_state_text(path, text);
    Diagnostics checks = written.diagnostics;
    checks.append(validate(written.state, now));
    if (checks.has_errors()) {
        print_diagnostics(context.err, checks);
        context.err << "error: the imported desired state does not validate; nothing was written\n";
        return exit_error;
    }
    write_file_atomically(path, [&](std::ostream& out) { out << text; });
    std::size_t overrides = 0;
    for (const auto& mailbox : *live.mailboxes) overrides += mailbox.smtp_auth_disabled.has_value();
    const std::size_t exceptions = written.state.smtp_auth ? written.state.smtp_auth->exceptions.size() : 0;
    const std::size_t denied = written.state.smtp_auth ? written.state.smtp_auth->deny.size() : 0;
    context.out << "Wrote " << path << " from " << settings.tenant << ": " << overrides
                << " explicit mailbox overrides to review, " << live.policies->size()
                << " authentication policies. It holds " << counted(exceptions, "exception") << ", "
                << counted(denied, "deny entry", "deny entries") << " and "
                << counted(written.state.policies.size(), "authentication policy", "authentication policies")
                << ". Run authgate plan -c " << path << " next.\n";
    return exit_ok;
}

}  // namespace authgate
