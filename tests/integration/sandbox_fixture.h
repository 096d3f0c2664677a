#pragma once
// A sandbox tenant on loopback for one test, and the real authgate binary pointed at it.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <cpprest/json.h>

#include "process.h"

namespace authgate::testing {

inline const std::string app_id = "6f1c0e2a-0000-4000-8000-000000000001";
inline const std::string tenant = "contoso.onmicrosoft.com";
// The time the bundled example's dates tell its story as of; plans that compare with golden
// outputs are made --at this time.
inline const std::string fixed_time = "2026-11-22T10:00:00Z";

std::string source_dir();  // the repository, where examples/ lives

// The day this test run takes as today (UTC), read once so that a run across midnight agrees
// with itself.
const std::string& test_day();

// A date of examples/contoso ("2027-03-31") as it reads in the example's copy for test_day()
// (Sandbox::example()).
std::string example_date(const std::string& date);

struct SandboxOptions {
    std::string seed = "examples/contoso/live.json";  // relative to the repository, or absolute
    std::vector<std::string> extra;                   // more sandbox flags
};

// Client credentials made once per test run by the sandbox's make-client-cert.
struct ClientCredentials {
    std::string pem;          // registered with the sandbox
    std::string pfx;          // the same, as PKCS#12 with password "pfx-secret"
    std::string other_pem;    // a valid key the sandbox does not know
    std::string expired_pem;  // registered, but expired
};
const ClientCredentials& client_credentials();

class Sandbox {
public:
    explicit Sandbox(SandboxOptions options = {});
    ~Sandbox();

    std::string origin() const { return "https://127.0.0.1:" + std::to_string(port_); }
    std::string ca_bundle() const { return (folder_ / "tls" / "ca.pem").string(); }
    const std::filesystem::path& folder() const { return folder_; }

    // Runs authgate from the repository root with the connection flags of this sandbox, then `args`.
    RunResult authgate(std::vector<std::string> args, const std::map<std::string, std::string>& environment = {},
                       bool with_connection_flags = true) const;
    std::vector<std::string> connection_flags(const std::string& certificate = "") const;
    // The same, started and left running (on a terminal, when asked) while the test acts on it.
    std::unique_ptr<RunningProgram> start_authgate(std::vector<std::string> args,
                                                   const std::map<std::string, std::string>& environment = {},
                                                   bool terminal = false) const;

    // examples/contoso with its dates moved to test_day() by scripts/dated-example, in the
    // sandbox's folder (made on first use): the example as it reads on any day, for commands
    // that judge it by the real clock. Its path is absolute.
    std::string example() const;

    // This test's journal: state.db in the sandbox's folder, or, when the tests run with the
    // journal in PostgreSQL (AUTHGATE_TEST_JOURNAL), a fresh database on the test server.
    const std::string& journal() const;

    web::json::value state() const;                      // GET /_sandbox/state
    std::string tenant_id() const;                       // the GUID its tokens name (tid)
    void set_faults(const std::string& document) const;  // POST /_sandbox/faults
    void load_usage(const std::string& document) const;  // POST /_sandbox/usage: sign-ins, the email apps report
    void load_entra(const std::string& document) const;  // POST /_sandbox/entra: security defaults, Conditional Access
    int cmdlet_calls(const std::string& cmdlet) const;
    int token_requests() const;

private:
    std::filesystem::path folder_;
    int port_ = 0;
    mutable bool example_made_ = false;
    mutable std::string journal_;
    std::unique_ptr<BackgroundProgram> process_;
};

}  // namespace authgate::testing
