// authgate-sandbox: a local stand-in for Entra's token endpoint and Exchange Online's admin API.
// See tests/sandbox/README.md.
#include <cpprest/json.h>

#include <iostream>

#include "options.h"
#include "serve.h"

int main(int argc, char* argv[]) {
    // Before any thread exists, so that every thread leaves SIGINT and SIGTERM to sigwait.
    sandbox::block_termination_signals();
    // Objects keep the order they were read in, so answers list properties as the seed does.
    web::json::keep_object_element_order(true);
    try {
        const sandbox::Command command = sandbox::parse_command_line(argc, argv);
        if (const auto* help = std::get_if<sandbox::HelpRequest>(&command)) {
            std::cout << help->text;
            return 0;
        }
        if (const auto* client = std::get_if<sandbox::ClientCertificateOptions>(&command)) {
            return sandbox::make_client_certificate_files(*client);
        }
        return sandbox::serve(std::get<sandbox::ServeOptions>(command));
    } catch (const std::exception& error) {
        std::cerr << "authgate-sandbox: " << error.what() << "\n";
        return 1;
    }
}
