// Files authgate writes (saved plans, snapshots, imports) and creates (the journal and its
// folder): replaced whole, readable by their owner only, and never written through a link.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/files.h"
#include "agent/options.h"
#include "agent/saved_plan.h"
#include "policies/files.h"
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

TEST_CASE("a file is read whole, byte for byte", "[files]") {
    TempDir dir;
    const std::string bytes("\xEF\xBB\xBF{\"a\":\0\r\n}", 11);
    dir.write("live.json", bytes);
    CHECK(read_file(dir / "live.json") == bytes);
    dir.write("empty.toml", "");
    CHECK(read_file(dir / "empty.toml").empty());
}

TEST_CASE("a file that cannot be read is a FileError that names it and the system's reason", "[files][errors]") {
    TempDir dir;
    SECTION("missing") {
        const std::string path = dir / "missing.json";
        try {
            read_file(path);
            FAIL("read_file did not throw");
        } catch (const FileError& error) {
            CHECK(std::string(error.what()) == "cannot read " + path + ": No such file or directory");
            CHECK(error.path() == path);
            CHECK(error.reason() == "No such file or directory");
        }
    }
    SECTION("a folder, which opens but cannot be read") {
        CHECK_THROWS_MATCHES(read_file(dir.path()), FileError,
                             Catch::Message("cannot read " + dir.path() + ": Is a directory"));
    }
}

TEST_CASE("a file that cannot be written is a FileError, not a usage error", "[files][errors]") {
    TempDir dir;
    const std::string path = dir / "no-such-folder/plan.json";
    CHECK_THROWS_MATCHES(write_file_atomically(path, [](std::ostream& out) { out << "x"; }), FileError,
                         Catch::Message("cannot write " + path + ": No such file or directory"));
    bool usage = false;
    try {
        write_file_atomically(path, [](std::ostream& out) { out << "x"; });
    } catch (const UsageError&) {
        usage = true;
    } catch (const FileError&) {
    }
    CHECK_FALSE(usage);
}

TEST_CASE("a saved plan that cannot be read is a FileError, and one that is not a plan a usage error",
          "[files][errors]") {
    TempDir dir;
    SECTION("missing: the file and the system's reason, and no usage hint follows (not a UsageError)") {
        const std::string path = dir / "plan.json";
        bool usage = false;
        try {
            read_saved_plan(path);
            FAIL("read_saved_plan did not throw");
        } catch (const UsageError&) {
            usage = true;
        } catch (const FileError& error) {
            CHECK(std::string(error.what()) == "cannot read the saved plan " + path + ": No such file or directory");
            CHECK(error.path() == path);
        }
        CHECK_FALSE(usage);
    }
    SECTION("not a saved plan") {
        dir.write("plan.json", "{}");
        CHECK_THROWS_MATCHES(read_saved_plan(dir / "plan.json"), UsageError,
                             Catch::Message(dir / "plan.json" + " is not a usable saved plan: it has no \"saved\" "
                                                                "section; make saved plans with authgate plan --out"));
    }
}
