#include "serve.h"

#include <pthread.h>

#include <csignal>
#include <iostream>

#include "client_certificate.h"
#include "files.h"
#include "https_server.h"
#include "sandbox.h"
#include "smtp_server.h"
#include "tls_directory.h"

namespace sandbox {

namespace {

sigset_t termination_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    return signals;
}

// Every --app-cert, reporting all that fail to load at once.
std::vector<RegisteredCertificate> load_app_certificates(const std::vector<std::filesystem::path>& paths) {
    std::vector<RegisteredCertificate> certificates;
    std::string problems;
    for (const auto& path : paths) {
        try {
            certificates.push_back(load_registered_certificate(path));
        } catch (const std::exception& error) {
            problems += std::string(problems.empty() ? "" : "\n") + "--app-cert " + path.string() + ": " + error.what();
        }
    }
    if (!problems.empty()) throw std::runtime_error(problems);
    return certificates;
}

Tenant load_seed(const ServeOptions& options, const web::json::value& seed) {
    try {
        return Tenant::from_snapshot(seed, options.tenant);
    } catch (const SnapshotError& error) {
        std::string message = "seed " + options.seed.string() + ":";
        for (const auto& problem : error.problems()) message += "\n  " + problem;
        throw std::runtime_error(message);
    }
}

}  // namespace

void block_termination_signals() {
    const sigset_t signals = termination_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

web::json::value read_json_file(const std::filesystem::path& path) {
    std::string text = read_file(path);
    if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
    try {
        return web::json::value::parse(text);
    } catch (const web::json::json_exception& error) {
        throw std::runtime_error(path.string() + " is not valid JSON: " + error.what());
    }
}

int serve(const ServeOptions& options) {
    // The tenant, the app registration and the fault settings, from the files given.
    const web::json::value seed = read_json_file(options.seed);
    Tenant tenant = load_seed(options, seed);
    std::vector<RegisteredCertificate> app_certificates = load_app_certificates(options.app_certificates);
    std::optional<FaultSettings> faults;
    if (options.faults_file) {
        try {
            faults = FaultSettings::parse(read_json_file(*options.faults_file));
        } catch (const std::invalid_argument& error) {
            throw std::runtime_error("--faults " + options.faults_file->string() + ": " + error.what());
        }
    }

    SandboxConfig config;
    config.tenant = options.tenant;
    config.tenant_id = options.tenant_id;
    config.app_id = options.app_id;
    config.token_lifetime = std::chrono::seconds(options.token_lifetime);
    config.page_size_max = static_cast<size_t>(options.page_size_max);
    config.link_expiry = std::chrono::seconds(options.link_expiry);
    config.batch_seed = options.batch_seed;
    config.behaviours = options.behaviours;
    config.arc_key_directory =
        std::filesystem::absolute(options.arc_key_dir.value_or(options.tls_dir / "azcmagent-tokens"));
    Sandbox sandbox(std::move(config), std::move(tenant), std::move(app_certificates),
                    options.reject_pss ? PssPolicy::rs256_only : PssPolicy::accept);
    if (faults) sandbox.set_faults(std::move(*faults));
    // The usage evidence Graph answers from, when the seed has some.
    if (seed.is_object() && seed.has_field("usage") && !seed.at("usage").is_null()) {
        try {
            sandbox.load_usage(seed.at("usage"));
        } catch (const std::invalid_argument& error) {
            throw std::runtime_error("seed " + options.seed.string() + ":\n  " + error.what());
        }
    }
    if (options.state_file) sandbox.keep_state_file(*options.state_file);

    // TLS identity, then the listener; the port is published only once it accepts connections.
    ServerCredential credential = prepare_tls_directory(options.tls_dir, std::chrono::system_clock::now());
    // The SMTP listener (mail), with the same certificate; its port file is written before --port-file.
    std::optional<SmtpServer> smtp;
    if (options.smtp_port) smtp.emplace(sandbox, credential, options.smtp_hve);
    HttpsServer server(sandbox, std::move(credential), options.quiet ? RequestLog::off : RequestLog::on);
    const int port = server.open(options.port);
    int smtp_port = 0;
    if (smtp) {
        smtp_port = smtp->open(*options.smtp_port);
        if (options.smtp_port_file) write_file_atomically(*options.smtp_port_file, std::to_string(smtp_port) + "\n");
    }
    // The managed identity endpoints over plain HTTP too, as the platforms serve them.
    std::optional<HttpsServer> plain;
    int http_port = 0;
    if (options.http_port) {
        plain.emplace(sandbox, std::nullopt, options.quiet ? RequestLog::off : RequestLog::on);
        http_port = plain->open(*options.http_port);
        if (options.http_port_file) write_file_atomically(*options.http_port_file, std::to_string(http_port) + "\n");
    }
    if (options.port_file) write_file_atomically(*options.port_file, std::to_string(port) + "\n");
    sandbox.write_state_file();
    std::cout << "listening on https://127.0.0.1:" << port << std::endl;
    if (plain)
        std::cout << "listening on http://127.0.0.1:" << http_port << " (managed identity endpoints)" << std::endl;
    if (smtp) std::cout << "listening on smtp://127.0.0.1:" << smtp_port << " (STARTTLS)" << std::endl;

    // Until SIGTERM or SIGINT; then stop listening and leave the final state behind.
    const sigset_t signals = termination_signals();
    int received = 0;
    sigwait(&signals, &received);
    if (smtp) smtp->close();
    if (plain) plain->close();
    server.close();
    sandbox.write_state_file();
    return 0;
}

int make_client_certificate_files(const ClientCertificateOptions& options) {
    const ClientCertificateFiles files = make_client_certificate(options, std::chrono::system_clock::now());
    std::cout << "wrote " << files.pem.string() << " (certificate and PKCS#8 private key, mode 0600)\n"
              << "wrote " << files.crt.string() << " (certificate)\n"
              << "wrote " << files.pfx.string() << " (PKCS#12; password from SANDBOX_PFX_PASSWORD, empty if unset)\n"
              << "thumbprint (SHA-1): " << files.sha1_hex << "\n"
              << "x5t: " << files.x5t << "\n"
              << "x5t#S256: " << files.x5t_s256 << "\n"
              << "valid from " << rfc3339(files.not_before) << " to " << rfc3339(files.not_after) << "\n";
    return 0;
}

}  // namespace sandbox
