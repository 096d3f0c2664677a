#include <catch2/catch.hpp>

#include "policies/exception_edit.h"
#include "policies/loader.h"

using namespace authgate;

namespace {

const std::string file = R"(# Facilities: printers and scanners.
version = 1

[[smtp_auth.exception]]
mailbox = "scanner-3f@contoso.com"   # the lobby scanner
owner = "facilities-it@contoso.com"
reason = "MFP firmware has no OAuth support"
expires = 2027-03-31                 # CHG0012345
ticket = "CHG0012345"

# The next one is basic auth.
[[smtp_auth.exception]]
mailbox = "mfp-lobby@contoso.com"
owner = "facilities-it@contoso.com"
reason = "needs Basic"
expires = 2027-02-28
)";

}  // namespace

TEST_CASE("renew replaces the expiry where it stands and keeps comments and layout", "[exception_edit]") {
    const std::string edited = set_exception_keys(file, "SCANNER-3F@contoso.com", {{{"expires", "2027-05-31"}}});
    std::string expected = file;
    expected.replace(expected.find("expires = 2027-03-31 "), 20, "expires = 2027-05-31");
    CHECK(edited == expected);
    CHECK(unified_diff("f.toml", file, edited) == "--- a/f.toml\n+++ b/f.toml\n@@ -5,7 +5,7 @@\n"
                                                  " mailbox = \"scanner-3f@contoso.com\"   # the lobby scanner\n"
                                                  " owner = \"facilities-it@contoso.com\"\n"
                                                  " reason = \"MFP firmware has no OAuth support\"\n"
                                                  "-expires = 2027-03-31                 # CHG0012345\n"
                                                  "+expires = 2027-05-31                 # CHG0012345\n"
                                                  " ticket = \"CHG0012345\"\n"
                                                  " \n"
                                                  " # The next one is basic auth.\n");
}

TEST_CASE("a key the exception lacks is added after its last key", "[exception_edit]") {
    const std::string edited = set_exception_keys(file, "mfp-lobby@contoso.com",
                                                  {{{"expires", "2027-04-30"}, {"ticket", toml_string("CHG\"9")}}});
    CHECK_THAT(edited, Catch::EndsWith("reason = \"needs Basic\"\nexpires = 2027-04-30\nticket = \"CHG\\\"9\"\n"));
    const LoadResult loaded = load_desired_state_text("f.toml", edited);
    REQUIRE(loaded.state.smtp_auth);
    CHECK(loaded.state.smtp_auth->exceptions.at(1).ticket == "CHG\"9");
}

TEST_CASE("remove takes the exception from its header to its last key, and one blank line", "[exception_edit]") {
    const std::string edited = remove_exception(file, "scanner-3f@contoso.com");
    CHECK(edited == "# Facilities: printers and scanners.\nversion = 1\n\n# The next one is basic auth.\n"
                    "[[smtp_auth.exception]]\nmailbox = \"mfp-lobby@contoso.com\"\nowner = "
                    "\"facilities-it@contoso.com\"\nreason = \"needs Basic\"\nexpires = 2027-02-28\n");
    CHECK_FALSE(has_exception(edited, "scanner-3f@contoso.com"));
    CHECK(has_exception(edited, "mfp-lobby@contoso.com"));
    CHECK_THROWS_WITH(remove_exception(file, "nobody@contoso.com"), "it holds no exception for nobody@contoso.com");
}

TEST_CASE("add appends a table whose strings are escaped", "[exception_edit]") {
    const std::string edited = add_exception(file, {{{"mailbox", toml_string("new@contoso.com")},
                                                     {"owner", toml_string("it@contoso.com")},
                                                     {"reason", toml_string("a \"quote\" and [[x]]")},
                                                     {"expires", "2027-01-31"}}});
    CHECK_THAT(edited, Catch::StartsWith(file));
    CHECK_THAT(edited,
               Catch::EndsWith("\n\n[[smtp_auth.exception]]\nmailbox = \"new@contoso.com\"\nowner = "
                               "\"it@contoso.com\"\nreason = \"a \\\"quote\\\" and [[x]]\"\nexpires = 2027-01-31\n"));
    const LoadResult loaded = load_desired_state_text("f.toml", edited);
    REQUIRE(loaded.state.smtp_auth);
    REQUIRE(loaded.state.smtp_auth->exceptions.size() == 3);
    CHECK(loaded.state.smtp_auth->exceptions.at(2).reason == "a \"quote\" and [[x]]");
}
