// The two things authgate-sandbox does: serve the sandbox tenant until SIGTERM or SIGINT, and
// make a client certificate for tests.
#pragma once

#include <cpprest/json.h>

#include <filesystem>

#include "options.h"

namespace sandbox {

// Call before any thread starts: SIGINT and SIGTERM are then taken by serve() with sigwait.
void block_termination_signals();

int serve(const ServeOptions& options);
int make_client_certificate_files(const ClientCertificateOptions& options);

// A JSON file, without the UTF-8 byte order mark PowerShell's Out-File writes. Throws
// std::runtime_error naming the file.
web::json::value read_json_file(const std::filesystem::path& path);

}  // namespace sandbox
