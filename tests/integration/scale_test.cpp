// A tenant of several pages, generated: every page read (with the next one fetched while the
// last is parsed), hundreds of changes sent in $batch, each made once and verified.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <cpprest/json.h>

#include "journal_reader.h"
#include "sandbox_fixture.h"
#include "tenant_generator.h"

using namespace authgate::testing;
namespace fs = std::filesystem;

namespace {

struct GeneratedTenant {
    fs::path folder;
    authgate::bench::TenantShape shape;

    explicit GeneratedTenant(authgate::bench::TenantShape tenant_shape) : shape(std::move(tenant_shape)) {
        std::string pattern = (fs::temp_directory_path() / "authgate-scale-XXXXXX").string();
        folder = mkdtemp(pattern.data());
        shape.tenant = tenant;
        authgate::bench::write_tenant(folder, shape);
    }
    ~GeneratedTenant() {
        std::error_code ignored;
        fs::remove_all(folder, ignored);
    }
    std::string seed() const { return (folder / "seed.json").string(); }
    std::string desired() const { return (folder / "desired").string(); }
};

// The fields of the debug line "timing" in `err` (JSON log lines): where the run's time went.
std::map<std::string, double> timing_of(const std::string& err) {
    std::istringstream lines(err);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.front() != '{') continue;
        const auto json = web::json::value::parse(line);
        if (json.at("event").as_string() != "timing") continue;
        std::map<std::string, double> parts;
        for (const auto& [name, value] : json.as_object())
            if (name.ends_with("seconds")) parts[name] = std::stod(value.as_string());
        return parts;
    }
    return {};
}

// Every part named, none negative, and together no more than the whole (each is rounded to 1 ms).
void check_timing(const std::string& err, const std::vector<std::string>& expected) {
    auto parts = timing_of(err);
    REQUIRE(parts.count("seconds") == 1);
    const double whole = parts["seconds"];
    parts.erase("seconds");
    double sum = 0;
    for (const auto& [name, seconds] : parts) {
        CHECK(seconds >= 0);
        sum += seconds;
    }
    CHECK(sum <= whole + 0.001 * static_cast<double>(parts.size()));
    for (const std::string& part : expected) CHECK(parts.count(part + "_seconds") == 1);
}

}  // namespace

TEST_CASE("a tenant of several pages is read whole, and hundreds of changes are made once each and verified",
          "[integration][scale]") {
    authgate::bench::TenantShape shape;
    shape.mailboxes = 3500;  // four pages of Get-CASMailbox
    shape.unlisted_every = 5;
    shape.unlisted_offset = 2;
    const GeneratedTenant generated(shape);
    const int changes = authgate::bench::unlisted_count(generated.shape);
    REQUIRE(changes == 700);
    Sandbox sandbox({generated.seed(), {}});
    const std::string state = sandbox.journal();

    const RunResult plan = sandbox.authgate({"plan", "-c", generated.desired(), "--format", "json", "--log-format",
                                             "json", "--log-level", "debug", "--state", state});
    INFO(plan.err);
    REQUIRE(plan.exit_code == 0);
    CHECK_THAT(plan.out, Catch::Contains("\"change\": 700"));
    CHECK_THAT(plan.err, Catch::Contains("\"mailboxes\":\"3500\""));
    CHECK(sandbox.cmdlet_calls("Get-CASMailbox") == 4);  // no page fetched twice, none ahead of the last
    check_timing(plan.err, {"load", "connect", "sign_in", "read", "journal", "plan", "output"});

    const RunResult applied = sandbox.authgate({"apply", "-c", generated.desired(), "--auto-approve", "--log-format",
                                                "json", "--log-level", "debug", "--state", state});
    INFO(applied.out.substr(applied.out.size() > 2000 ? applied.out.size() - 2000 : 0) << applied.err);
    REQUIRE(applied.exit_code == 0);
    CHECK_THAT(applied.out,
               Catch::Contains("Apply finished: 700 verified, 0 applied (cannot be read back), 0 failed, 0 not made."));

    // Each change made exactly once, all through $batch, ten to a request.
    const auto document = sandbox.state();
    const auto& mutations = document.at("mutations").as_array();
    CHECK(mutations.size() == 700);
    std::set<std::string> identities;
    for (const auto& mutation : mutations) identities.insert(mutation.at("parameters").at("Identity").as_string());
    CHECK(identities.size() == 700);
    CHECK(document.at("requests").at("batch").as_integer() == 70);
    check_timing(applied.err, {"load", "journal", "connect", "sign_in", "read", "plan", "output", "write", "verify"});

    const RunResult again =
        sandbox.authgate({"plan", "-c", generated.desired(), "--detailed-exitcode", "--state", state});
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
}
