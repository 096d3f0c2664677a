// The command line of authgate-sandbox: `serve` (the default) and `make-client-cert`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "client_certificate.h"
#include "service_behaviours.h"

namespace sandbox {

struct ServeOptions {
    std::filesystem::path seed;
    std::string tenant;
    std::optional<std::string> tenant_id;
    std::string app_id;
    std::vector<std::filesystem::path> app_certificates;
    std::filesystem::path tls_dir;
    int port = 0;
    std::optional<std::filesystem::path> port_file;
    std::optional<std::filesystem::path> state_file;
    std::optional<std::filesystem::path> faults_file;
    std::optional<int> http_port;  // plain HTTP for the managed identity endpoints (0: a free port)
    std::optional<std::filesystem::path> http_port_file;
    std::optional<int> smtp_port;  // the SMTP listener (0: a free port)
    std::optional<std::filesystem::path> smtp_port_file;
    bool smtp_hve = false;
    std::optional<std::filesystem::path> arc_key_dir;
    int token_lifetime = 3599;
    int page_size_max = 1000;
    int link_expiry = 1800;
    unsigned batch_seed = 1;
    bool reject_pss = false;
    ServiceBehaviours behaviours;
    bool quiet = false;
};

struct HelpRequest {
    std::string text;
};

using Command = std::variant<ServeOptions, ClientCertificateOptions, HelpRequest>;

// Throws std::invalid_argument with a message for the user (what is wrong, and how to get help).
Command parse_command_line(int argc, const char* const argv[]);

}  // namespace sandbox
