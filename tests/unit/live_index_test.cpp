// The index plans and changes look the live state up in: case-insensitive, first wins, and the
// same answers as a scan however many keys it holds.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "policies/live_state.h"

using namespace authgate;

namespace {

Mailbox mailbox(const std::string& alias) {
    return {"guid-" + alias, "Identity-" + alias, "oid-" + alias, alias + "@Contoso.com", std::nullopt};
}

}  // namespace

TEST_CASE("hash_ignoring_case folds ASCII letters only", "[live_index]") {
    CHECK(hash_ignoring_case("Ada.Lovelace@Contoso.COM") == hash_ignoring_case("ada.lovelace@contoso.com"));
    CHECK(hash_ignoring_case("a@contoso.com") != hash_ignoring_case("b@contoso.com"));
    // '@' and '[' border the upper-case letters; they are not letters.
    CHECK(hash_ignoring_case("@") != hash_ignoring_case("`"));
    CHECK(hash_ignoring_case("[") != hash_ignoring_case("{"));
    CHECK(hash_ignoring_case("\xc3\x89") != hash_ignoring_case("\xc3\xa9"));  // É is not folded
    CHECK(hash_ignoring_case("12345678") != hash_ignoring_case("123456789"));
    CHECK(hash_ignoring_case("") != hash_ignoring_case(std::string_view("\0", 1)));
    // Every byte value, in every position of an eight-byte word and of the rest after it.
    for (int byte = 0; byte < 256; ++byte) {
        const char c = static_cast<char>(byte);
        const char folded = byte >= 'A' && byte <= 'Z' ? static_cast<char>(byte + 32) : c;
        for (std::size_t position = 0; position < 11; ++position) {
            std::string text(11, 'x'), lower(11, 'x');
            text[position] = c;
            lower[position] = folded;
            REQUIRE(hash_ignoring_case(text) == hash_ignoring_case(lower));
            if (folded != c) continue;
            std::string other = text;
            other[position] = static_cast<char>(byte ^ 0x20);  // the other case of a letter, or another byte
            if (byte >= 'a' && byte <= 'z') REQUIRE(hash_ignoring_case(text) == hash_ignoring_case(other));
            else REQUIRE(hash_ignoring_case(text) != hash_ignoring_case(other));
        }
    }
}

TEST_CASE("KeyIndex: case-insensitive, first wins, empty keys are not indexed", "[live_index]") {
    const std::vector<Mailbox> mailboxes{mailbox("ada"), mailbox("ADA"), mailbox("bob")};
    KeyIndex<Mailbox> index;
    for (const auto& m : mailboxes) index.insert(m.primary_smtp_address, &m);
    index.insert("", &mailboxes[2]);
    CHECK(index.find("ada@contoso.com") == &mailboxes[0]);
    CHECK(index.find("ADA@CONTOSO.COM") == &mailboxes[0]);
    CHECK(index.find("Bob@contoso.com") == &mailboxes[2]);
    CHECK(index.find("carol@contoso.com") == nullptr);
    CHECK(index.find("") == nullptr);
    CHECK(KeyIndex<Mailbox>().find("ada@contoso.com") == nullptr);
}

TEST_CASE("KeyIndex finds every key of a large tenant after growing, and no other", "[live_index]") {
    std::vector<Mailbox> mailboxes;
    for (int i = 0; i < 20000; ++i) mailboxes.push_back(mailbox("user" + std::to_string(i)));
    KeyIndex<Mailbox> grown;  // no reserve: it rehashes as it grows
    for (const auto& m : mailboxes) grown.insert(m.primary_smtp_address, &m);
    for (const auto& m : mailboxes) {
        REQUIRE(grown.find(m.primary_smtp_address) == &m);
        REQUIRE(grown.find(fold_case(m.primary_smtp_address)) == &m);
    }
    CHECK(grown.find("user20000@contoso.com") == nullptr);
    CHECK(grown.find("user1@contoso.co") == nullptr);

    // The same answers when inserted all at once, duplicates (first wins) and empty keys included.
    mailboxes.push_back(mailbox("USER7"));
    mailboxes.back().identity.clear();
    KeyIndex<Mailbox> bulk;
    bulk.insert_all(mailboxes, [](const Mailbox& m) -> const std::string& { return m.primary_smtp_address; });
    for (std::size_t i = 0; i + 1 < mailboxes.size(); ++i)
        REQUIRE(bulk.find(mailboxes[i].primary_smtp_address) == &mailboxes[i]);
    CHECK(bulk.find("user7@CONTOSO.com") == &mailboxes[7]);
    KeyIndex<Mailbox> identities;
    identities.insert_all(mailboxes, [](const Mailbox& m) -> const std::string& { return m.identity; });
    CHECK(identities.find("identity-user19999") == &mailboxes[19999]);
    CHECK(identities.find("") == nullptr);
}

TEST_CASE("LiveIndex looks mailboxes up by address, directory id and identity", "[live_index]") {
    LiveState live;
    live.mailboxes = std::vector<Mailbox>{mailbox("ada"), mailbox("bob")};
    live.users = std::vector<LiveUser>{{"Identity-bob", "OID-BOB", "bob@contoso.com", std::string("Exceptions")}};
    live.policies = std::vector<LivePolicy>{{"Exceptions", "Exceptions", "guid", "CN=Exceptions", {}}};
    const LiveIndex index(live);
    const Mailbox& bob = (*live.mailboxes)[1];
    CHECK(index.mailbox("BOB@contoso.com") == &bob);
    CHECK(index.mailbox_of_directory_id("oid-BOB") == &bob);
    CHECK(index.mailbox_of_identity("identity-bob") == &bob);
    CHECK(index.user_of_directory_id("oid-bob") == &(*live.users)[0]);
    CHECK(index.user_of_identity("IDENTITY-BOB") == &(*live.users)[0]);
    CHECK(index.policy("exceptions") == &(*live.policies)[0]);
    CHECK(index.policy("LegacyExchangeTokens") == nullptr);
}

TEST_CASE("a Name compares, orders and hashes without regard to case, and keeps its own", "[live_index]") {
    const Name name("Printer@Contoso.com");
    CHECK(name == Name("printer@contoso.COM"));
    CHECK(name == "PRINTER@contoso.com");
    CHECK(name == std::string("printer@contoso.com"));
    CHECK(name != "printer@contoso.org");
    CHECK(name.text() == "Printer@Contoso.com");
    CHECK_FALSE(Name("a@x") < Name("A@X"));
    CHECK(Name("a@x") < Name("B@x"));
    CHECK(Name("Zed") > Name("alice"));  // folded: not ASCII order, where 'Z' < 'a'
    CHECK(std::hash<Name>{}(name) == std::hash<Name>{}(Name("PRINTER@CONTOSO.COM")));
}
