// version: authgate's own version and the libraries it was built with and runs on.
#include <openssl/crypto.h>

#include <ostream>

#include <cpprest/version.h>
#include <toml++/impl/version.h>
#include <boost/version.hpp>

#include "agent/commands.h"
#include "agent/options.h"
#include "state/database.h"

namespace authgate {

int run_version(CommandContext& context) {
    po::options_description options("Options");
    if (!parse_options(context, options, "authgate version")) return exit_ok;
    context.out << "authgate " << AUTHGATE_VERSION << "\n"
                << "  cpprestsdk " << CPPREST_VERSION_MAJOR << "." << CPPREST_VERSION_MINOR << "."
                << CPPREST_VERSION_REVISION << "\n"
                << "  " << OpenSSL_version(OPENSSL_VERSION) << "\n"
                << "  toml++ " << TOML_LIB_MAJOR << "." << TOML_LIB_MINOR << "." << TOML_LIB_PATCH << "\n"
                << "  Boost " << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "."
                << BOOST_VERSION % 100 << "\n";
    for (const std::string& library : database_libraries()) context.out << "  " << library << "\n";
    return exit_ok;
}

}  // namespace authgate
