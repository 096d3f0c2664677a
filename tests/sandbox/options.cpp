#include "options.h"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <sstream>

namespace sandbox {

namespace {

namespace po = boost::program_options;

// Long options only, so negative numbers (--days -1) read as values.
constexpr int kStyle = po::command_line_style::unix_style ^ po::command_line_style::allow_short;

po::variables_map parse(const std::vector<std::string>& arguments, const po::options_description& description) {
    po::variables_map values;
    po::store(po::command_line_parser(arguments).options(description).style(kStyle).run(), values);
    po::notify(values);
    return values;
}

std::string usage(const po::options_description& description, const std::string& synopsis) {
    std::ostringstream text;
    text << synopsis << "\n\n" << description;
    return text.str();
}

void require_range(const char* option, long long value, long long minimum, long long maximum) {
    if (value < minimum || value > maximum) {
        throw std::invalid_argument(std::string("--") + option + " must be from " + std::to_string(minimum) + " to " +
                                    std::to_string(maximum));
    }
}

Command parse_serve(const std::vector<std::string>& arguments) {
    ServeOptions options;
    std::vector<std::string> app_certificates;
    std::string listen = "127.0.0.1";
    ServiceBehaviours behaviours;
    std::string empty_value = "array";
    std::string policy_references = "name";
    std::string federation_errors = "specific";
    po::options_description description("authgate-sandbox [serve] options");
    description.add_options()("help", "show this help")(
        "seed", po::value<std::filesystem::path>(&options.seed)->required(), "snapshot file the tenant starts from")(
        "tenant", po::value<std::string>(&options.tenant)->required(), "tenant domain, e.g. contoso.onmicrosoft.com")(
        "tenant-id", po::value<std::string>(),
        "tenant GUID, accepted wherever the domain is")("app-id", po::value<std::string>(&options.app_id)->required(),
                                                        "application (client) id of the app registration")(
        "app-cert", po::value<std::vector<std::string>>(&app_certificates)->required(),
        "PEM certificate registered on the app (repeatable)")(
        "tls-dir", po::value<std::filesystem::path>(&options.tls_dir)->required(),
        "directory of ca.pem/ca.key/server.pem/server.key, generated if missing")(
        "listen", po::value<std::string>(&listen), "127.0.0.1 (default) or localhost; nothing else is bound")(
        "port", po::value<int>(&options.port), "port on 127.0.0.1; 0 (default) picks a free one")(
        "port-file", po::value<std::filesystem::path>(), "write the port here once listening")(
        "state-file", po::value<std::filesystem::path>(),
        "keep the state document here (after each write and at exit)")("faults", po::value<std::filesystem::path>(),
                                                                       "fault document to start with")(
        "token-lifetime", po::value<int>(&options.token_lifetime), "access token lifetime in seconds (default 3599)")(
        "page-size-max", po::value<int>(&options.page_size_max), "largest page (default 1000)")(
        "link-expiry", po::value<int>(&options.link_expiry), "seconds a nextLink stays valid (default 1800)")(
        "batch-seed", po::value<unsigned>(&options.batch_seed), "seed of the $batch response shuffle (default 1)")(
        "reject-pss", po::bool_switch(&options.reject_pss), "answer AADSTS700027 to PS256 assertions (RS256 only)")(
        "empty-value", po::value<std::string>(&empty_value),
        "an answer with no rows: \"value\":[] (array, default), no value (absent) or \"value\":null (null)")(
        "refuse-continuations", po::bool_switch(&behaviours.refuse_continuations),
        "refuse every nextLink at once (Expired or Invalid pagination request)")(
        "whole-without-prefer", po::bool_switch(&behaviours.whole_without_prefer),
        "without Prefer: odata.maxpagesize, answer every row at once")(
        "batch-items-need-token", po::bool_switch(&behaviours.batch_items_need_token),
        "answer 401 to a $batch item without its own Authorization and X-AnchorMailbox")(
        "policy-references", po::value<std::string>(&policy_references),
        "name a policy in DefaultAuthenticationPolicy and AuthenticationPolicy by name (default), dn or guid")(
        "redirect-to", po::value<std::string>(), "answer every admin API request with a 302 to this origin")(
        "bind-continuations-to-anchor", po::bool_switch(&behaviours.bind_continuations_to_anchor),
        "refuse a nextLink sent with another X-AnchorMailbox than its first request's")(
        "tenant-guid-only", po::bool_switch(&behaviours.tenant_guid_only),
        "the admin API takes the tenant's GUID only, in its URL and X-AnchorMailbox")(
        "http-port", po::value<int>(),
        "also serve the managed identity endpoints over plain HTTP on this port (0: a free one)")(
        "http-port-file", po::value<std::filesystem::path>(),
        "write the plain-HTTP port here once listening (implies --http-port 0 if that is not given)")(
        "smtp-port", po::value<int>(), "also listen for SMTP with STARTTLS and XOAUTH2 on this port (0: a free one)")(
        "smtp-port-file", po::value<std::filesystem::path>(),
        "write the SMTP port here once listening (implies --smtp-port 0 if that is not given)")(
        "smtp-hve", po::bool_switch(&options.smtp_hve),
        "the SMTP listener plays High Volume Email: no SMTP AUTH setting checked, internal recipients only")(
        "arc-key-dir", po::value<std::filesystem::path>(),
        "directory of Azure Arc's challenge key files (default: TLS-DIR/azcmagent-tokens)")(
        "federation-errors", po::value<std::string>(&federation_errors),
        "federated mismatches answer AADSTS700211/700212/700213 (specific, default) or all 70021 (generic)")(
        "quiet", po::bool_switch(&options.quiet), "do not log requests on stderr");
    const std::string synopsis =
        "usage: authgate-sandbox [serve] --seed SNAPSHOT.json --tenant DOMAIN --app-id GUID --app-cert CERT.pem "
        "--tls-dir DIR [options]\n       authgate-sandbox make-client-cert --help";
    for (const auto& argument : arguments) {
        if (argument == "--help") return HelpRequest{usage(description, synopsis)};
    }
    po::variables_map values;
    try {
        values = parse(arguments, description);
    } catch (const po::error& error) {
        throw std::invalid_argument(std::string(error.what()) + " (see authgate-sandbox --help)");
    }
    if (listen == "::1" || listen == "[::1]") {
        throw std::invalid_argument("--listen ::1: cpprest's listener cannot bind an IPv6 literal; use 127.0.0.1");
    }
    if (listen != "127.0.0.1" && listen != "localhost") {
        throw std::invalid_argument("--listen " + listen +
                                    ": the sandbox listens on loopback only (127.0.0.1 or localhost)");
    }
    for (const auto& path : app_certificates) options.app_certificates.emplace_back(path);
    if (values.count("tenant-id")) options.tenant_id = values["tenant-id"].as<std::string>();
    if (values.count("port-file")) options.port_file = values["port-file"].as<std::filesystem::path>();
    if (values.count("state-file")) options.state_file = values["state-file"].as<std::filesystem::path>();
    if (values.count("faults")) options.faults_file = values["faults"].as<std::filesystem::path>();
    if (values.count("redirect-to")) behaviours.redirect_to = values["redirect-to"].as<std::string>();
    if (values.count("http-port")) options.http_port = values["http-port"].as<int>();
    if (values.count("http-port-file")) {
        options.http_port_file = values["http-port-file"].as<std::filesystem::path>();
        if (!options.http_port) options.http_port = 0;
    }
    if (values.count("smtp-port")) options.smtp_port = values["smtp-port"].as<int>();
    if (values.count("smtp-port-file")) {
        options.smtp_port_file = values["smtp-port-file"].as<std::filesystem::path>();
        if (!options.smtp_port) options.smtp_port = 0;
    }
    if (values.count("arc-key-dir")) options.arc_key_dir = values["arc-key-dir"].as<std::filesystem::path>();
    if (federation_errors == "generic") behaviours.generic_federation_errors = true;
    else if (federation_errors != "specific")
        throw std::invalid_argument("--federation-errors must be specific or generic (see authgate-sandbox --help)");
    using EmptyValue = ServiceBehaviours::EmptyValue;
    using PolicyReferences = ServiceBehaviours::PolicyReferences;
    if (empty_value == "absent") behaviours.empty_value = EmptyValue::absent;
    else if (empty_value == "null") behaviours.empty_value = EmptyValue::null;
    else if (empty_value != "array")
        throw std::invalid_argument("--empty-value must be array, absent or null (see authgate-sandbox --help)");
    if (policy_references == "dn") behaviours.policy_references = PolicyReferences::distinguished_name;
    else if (policy_references == "guid") behaviours.policy_references = PolicyReferences::guid;
    else if (policy_references != "name")
        throw std::invalid_argument("--policy-references must be name, dn or guid (see authgate-sandbox --help)");
    options.behaviours = behaviours;
    require_range("port", options.port, 0, 65535);
    if (options.http_port) require_range("http-port", *options.http_port, 0, 65535);
    if (options.smtp_port) require_range("smtp-port", *options.smtp_port, 0, 65535);
    require_range("token-lifetime", options.token_lifetime, 1, 86400);
    require_range("page-size-max", options.page_size_max, 1, 1000);
    require_range("link-expiry", options.link_expiry, 1, 86400);
    return options;
}

Command parse_client_certificate(const std::vector<std::string>& arguments) {
    ClientCertificateOptions options;
    int not_before_days = 0;
    std::string out_dir;
    po::options_description description("authgate-sandbox make-client-cert options");
    description.add_options()("help", "show this help")("out-dir", po::value<std::string>(&out_dir)->required(),
                                                        "where client.pem, client.crt and client.pfx go")(
        "days", po::value<int>(&options.days), "notAfter = now + N days (default 365; negative: expired)")(
        "not-before-days", po::value<int>(&not_before_days),
        "notBefore = now + N days (default now; positive: not yet valid)")(
        "rsa-bits", po::value<int>(&options.rsa_bits), "RSA key size (default 2048)")(
        "subject", po::value<std::string>(&options.common_name), "common name (default authgate-sandbox-client)");
    for (const auto& argument : arguments) {
        if (argument == "--help") {
            return HelpRequest{usage(description, "usage: authgate-sandbox make-client-cert --out-dir DIR [options]\n"
                                                  "The PKCS#12 password is $SANDBOX_PFX_PASSWORD, empty when unset.")};
        }
    }
    po::variables_map values;
    try {
        values = parse(arguments, description);
    } catch (const po::error& error) {
        throw std::invalid_argument(std::string(error.what()) + " (see authgate-sandbox make-client-cert --help)");
    }
    options.out_dir = out_dir;
    if (values.count("not-before-days")) options.not_before_days = not_before_days;
    if (const char* password = std::getenv("SANDBOX_PFX_PASSWORD")) options.pfx_password = password;
    return options;
}

}  // namespace

Command parse_command_line(int argc, const char* const argv[]) {
    std::vector<std::string> arguments(argv + 1, argv + argc);
    if (!arguments.empty() && arguments.front() == "make-client-cert") {
        arguments.erase(arguments.begin());
        return parse_client_certificate(arguments);
    }
    if (!arguments.empty() && arguments.front() == "serve") arguments.erase(arguments.begin());
    return parse_serve(arguments);
}

}  // namespace sandbox
