// Files authgate writes (saved plans, snapshots, imports) and creates (the journal and its
// folder): replaced whole, readable by their owner only, and never written through a link.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/files.h"
#include "state/journal.h"
#include "temp_dir.h"

using namespace authgate;
using authgate::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string text_of(const fs::path& path) {
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    return text.str();
}

unsigned mode_of(const fs::path& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 0777;
}

}  // namespace

TEST_CASE("a written file replaces a regular file whole and is readable by its owner only", "[files][safety]") {
    TempDir dir;
    const fs::path plan = fs::path(dir.path()) / "plan.json";
    std::ofstream(plan) << "old";
    write_file_atomically(plan.string(), [](std::ostream& out) { out << "new"; });
    CHECK(text_of(plan) == "new");
    CHECK(mode_of(plan) == 0600);
    std::vector<fs::path> left(fs::directory_iterator(dir.path()), {});
    CHECK(left.size() == 1);  // no temporary file left behind
}

TEST_CASE("a link at the path, or where a temporary file once was, is never followed", "[files][safety]") {
    TempDir dir;
    const fs::path victim = fs::path(dir.path()) / "victim";
    std::ofstream(victim) << "precious";
    const fs::path plan = fs::path(dir.path()) / "plan.json";
    SECTION("a link at the path itself") {
        fs::create_symlink(victim, plan);
        CHECK_THROWS_WITH(write_file_atomically(plan.string(), [](std::ostream& out) { out << "x"; }),
                          Catch::Contains("is a symbolic link"));
        CHECK(fs::is_symlink(plan));
    }
    SECTION("a link planted at the old temporary name") {
        fs::create_symlink(victim, plan.string() + ".partial");
        write_file_atomically(plan.string(), [](std::ostream& out) { out << "x"; });
        CHECK(text_of(plan) == "x");
    }
    SECTION("a folder at the path") {
        fs::create_directory(plan);
        CHECK_THROWS_WITH(write_file_atomically(plan.string(), [](std::ostream& out) { out << "x"; }),
                          Catch::Contains("not a regular file"));
    }
    CHECK(text_of(victim) == "precious");
}

TEST_CASE("the journal and the folders made for it are its owner's alone", "[files][journal][safety]") {
    TempDir dir;
    const fs::path database = fs::path(dir.path()) / "state" / "nested" / "state.db";
    { Journal journal = Journal::open(database.string()); }
    CHECK(mode_of(database) == 0600);
    CHECK(mode_of(database.parent_path()) == 0700);
    CHECK(mode_of(database.parent_path().parent_path()) == 0700);
}
