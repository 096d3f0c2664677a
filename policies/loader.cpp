#include "policies/loader.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include <toml++/toml.h>

#include "policies/files.h"
#include "policies/validate.h"

namespace authgate {
namespace {

namespace fs = std::filesystem;

SourceLocation where(const toml::source_region& region, const std::string& file) {
    SourceLocation location{region.path ? *region.path : file, static_cast<int>(region.begin.line),
                            static_cast<int>(region.begin.column)};
    if (location.line == 0) location = {file, 1, 1};
    return location;
}

// Text from the desired state quoted in a message: control characters (C0, DEL, C1) escaped, so
// that a message cannot move the cursor or fake a line of output, and cut short, so that a 10 MB
// value is not printed back whole.
std::string shown(std::string_view text, std::size_t most = 120) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    std::size_t i = 0;
    // Past `most`, only the rest of a UTF-8 sequence is taken, so that no character is cut in two.
    for (; i < text.size() && (out.size() < most || (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        if (c < 0x20 || c == 0x7f) {
            out.append("\\x").append(1, digits[c >> 4]).append(1, digits[c & 15]);
        } else if (c == 0xC2 && next >= 0x80 && next <= 0x9F) {  // C1, U+0080 to U+009F
            out.append("\\u00").append(1, digits[next >> 4]).append(1, digits[next & 15]);
            ++i;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (i < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
    return out;
}

// Control characters: C0, DEL, and C1 (U+0080 to U+009F, which some terminals obey, e.g. U+009B
// as an escape).
bool has_control_character(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) return true;
        if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F) return true;
    }
    return false;
}

// The first Unicode control that makes text read differently from what it is (the bidirectional
// embeddings, overrides and isolates U+202A-202E and U+2066-2069, the marks U+200E, U+200F and
// U+061C), or 0. A reviewer reading "owner = ..." must see what the file says.
unsigned reordering_control(std::string_view text) {
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        if (c == 0xD8 && c1 == 0x9C) return 0x061C;
        if (c != 0xE2 || i + 2 >= text.size()) continue;
        const unsigned code = 0x2000u | ((c1 & 0x3Fu) << 6) | (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
        if (c1 < 0x80 || c1 > 0x81) continue;
        if (code == 0x200E || code == 0x200F || (code >= 0x202A && code <= 0x202E) || (code >= 0x2066 && code <= 0x2069))
            return code;
    }
    return 0;
}

// Where the text stops being UTF-8 (overlong forms, surrogates and code points past U+10FFFF
// included), so that a file saved as Latin-1 or UTF-16 is named for what it is, at its byte.
std::optional<std::size_t> invalid_utf8(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    for (std::size_t i = 0; i < text.size();) {
        const unsigned char c = byte(i);
        std::size_t length = 1;
        unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            if (c == 0xE0) low = 0xA0;
            if (c == 0xED) high = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            if (c == 0xF0) low = 0x90;
            if (c == 0xF4) high = 0x8F;
        } else {
            return i;
        }
        if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return i;
        for (std::size_t k = 2; k < length; ++k)
            if ((byte(i + k) & 0xC0) != 0x80) return i;
        i += length;
    }
    return std::nullopt;
}

SourceLocation location_of(std::string_view text, std::size_t offset, const std::string& file) {
    SourceLocation where{file, 1, 1};
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') where.line++, where.column = 1;
        else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) where.column++;
    }
    return where;
}

// toml++ builds, walks and frees its tables recursively, so that a key of 100,000 dotted parts
// overflows the stack; no desired state needs more than a few levels. This bounds the depth from
// the text alone, before toml++ sees it: the parts of the last table header, plus the parts of
// each key and the brackets open around a value. Strings and comments are skipped as TOML reads
// them. Where the text stops being TOML the count may go astray, but toml++ stops there too.
constexpr int max_nesting = 64;

std::optional<SourceLocation> too_deep(std::string_view text, const std::string& file) {
    enum class In { code, comment, basic, literal, multiline_basic, multiline_literal };
    In in = In::code;
    int line = 1, column = 0;
    std::size_t skip = 0;    // bytes of a delimiter already dealt with
    bool escaped = false;    // after a backslash in a basic string
    bool line_start = true;  // nothing but blanks yet on this line
    bool in_header = false;
    int header = 0;          // levels of the last [table] or [[table]] header
    int dots = 0;            // dots of the dotted key (or header) being read
    int key = 0;             // levels of the key before the last '='
    int open = 0;            // levels added by the brackets open around here
    std::vector<int> brackets;
    const auto run_of = [&](std::size_t i, char quote) {
        std::size_t n = 0;
        while (i + n < text.size() && text[i + n] == quote) ++n;
        return n;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column;
        if (c == '\n') ++line, column = 0;
        if (skip > 0) {
            --skip;
            continue;
        }
        switch (in) {
            case In::comment:
                if (c == '\n') in = In::code, dots = 0, key = 0, line_start = true;
                continue;
            case In::basic:
            case In::multiline_basic:
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '\n' && in == In::basic) {
                    in = In::code;  // not TOML: toml++ stops here
                } else if (c == '"') {
                    const std::size_t run = run_of(i, '"');
                    if (in == In::basic) in = In::code;
                    else if (run >= 3) in = In::code, skip = std::min<std::size_t>(run, 5) - 1;
                }
                continue;
            case In::literal:
            case In::multiline_literal:
                if (c == '\n' && in == In::literal) in = In::code;
                if (c != '\'') continue;
                if (in == In::literal) in = In::code;
                else if (const std::size_t run = run_of(i, '\''); run >= 3) in = In::code, skip = std::min<std::size_t>(run, 5) - 1;
                continue;
            case In::code: break;
        }
        const bool was_line_start = line_start;
        if (c != ' ' && c != '\t' && c != '\r') line_start = false;
        switch (c) {
            case ' ': case '\t': case '\r': break;
            case '\n': dots = 0, key = 0, line_start = true; break;
            case '#': in = In::comment; break;
            case '"':
                in = run_of(i, '"') >= 3 ? In::multiline_basic : In::basic;
                if (in == In::multiline_basic) skip = 2;
                break;
            case '\'':
                in = run_of(i, '\'') >= 3 ? In::multiline_literal : In::literal;
                if (in == In::multiline_literal) skip = 2;
                break;
            case '.':
                if ((in_header ? 0 : header) + open + ++dots + 1 > max_nesting) return SourceLocation{file, line, column};
                break;
            case '=': key = dots + 1, dots = 0; break;
            case '[':
                if (brackets.empty() && was_line_start) {
                    in_header = true, dots = 0;
                    if (i + 1 < text.size() && text[i + 1] == '[') skip = 1;
                    break;
                }
                [[fallthrough]];
            case '{':
                brackets.push_back(key + 1);
                open += key + 1, key = 0, dots = 0;
                if (header + open > max_nesting) return SourceLocation{file, line, column};
                break;
            case ']':
                if (in_header) {
                    header = dots + 2;  // + 1 for an array of tables
                    in_header = false, dots = 0;
                    if (i + 1 < text.size() && text[i + 1] == ']') skip = 1;
                    break;
                }
                [[fallthrough]];
            case '}':
                if (!brackets.empty()) open -= brackets.back(), brackets.pop_back();
                key = 0, dots = 0;
                break;
            case ',': key = 0, dots = 0; break;
            default:
                if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') dots = 0;
        }
    }
    return std::nullopt;
}

std::string_view type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        default: return "nothing";
    }
}

// Folds case and drops separators, so that AllowBasicAuthSmtp finds allow_basic_auth_smtp.
std::string squash(std::string_view key) {
    std::string out;
    for (char c : key)
        if (c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string suggestion(std::string_view unknown, const std::vector<std::string_view>& known) {
    std::string_view best;
    std::size_t best_distance = std::max<std::size_t>(2, unknown.size() / 3) + 1;
    for (std::string_view candidate : known) {
        // The same key in another case or spelling, a key cut short ("webhook"), or a typo.
        const bool prefix = unknown.size() >= 4 && candidate.substr(0, unknown.size()) == unknown;
        const std::size_t distance = squash(candidate) == squash(unknown) ? 0
                                     : prefix                             ? 1
                                                                          : edit_distance(unknown, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return std::string(best);
}

bool is_guid(std::string_view text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() > suffix.size() && fold_case(text.substr(text.size() - suffix.size())) == suffix;
}

bool is_tenant_id(std::string_view text) {
    return is_guid(text) || ends_with(text, ".onmicrosoft.com") || ends_with(text, ".onmicrosoft.us") ||
           ends_with(text, ".partner.onmschina.cn");
}

// Exchange counts characters, not UTF-8 bytes: "Drucker für Empfang" must not be penalised
// for its umlaut. Continuation bytes (10xxxxxx) do not start a character.
std::size_t character_count(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_env_name(std::string_view text) {
    if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0]))) return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Whether `text`, written without quotes, is a TOML date or a date-time with an offset.
bool is_expiry_literal(const std::string& text) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) || std::string_view("-:+.TtZz ").find(c) != std::string_view::npos;
        }))
        return false;
    try {
        const toml::table parsed = toml::parse("expires = " + text);
        const toml::node* node = parsed.get("expires");
        return node && (node->is_date() || (node->is_date_time() && node->as_date_time()->get().offset));
    } catch (const toml::parse_error&) {
        return false;
    }
}

// Reads one TOML table against its schema, reporting every problem with its position.
class TableReader {
public:
    TableReader(const toml::table& table, std::string context, const std::string& file, Diagnostics& diagnostics)
        : table_(table), context_(std::move(context)), file_(file), diagnostics_(diagnostics) {}

    SourceLocation location() const { return where(table_.source(), file_); }

    void allow_keys(const std::vector<std::string_view>& known) {
        for (const auto& [key, node] : table_) {
            const std::string_view name = key.str();
            if (std::find(known.begin(), known.end(), name) != known.end()) continue;
            // [guardrail] is a key to TOML, but the user wrote a table header.
            const bool table = node.is_table() || node.is_array_of_tables();
            std::string message = (table ? "unknown table '" : "unknown key '") + shown(name) + "' in " + context_;
            if (const std::string hint = suggestion(name, known); !hint.empty()) {
                message += "; did you mean '" + hint + "'?";
                suggested_.push_back(hint);
            }
            diagnostics_.error(where(key.source(), file_), message);
        }
    }

    // The node of a required key, or nullptr after reporting it missing. A key that an unknown
    // key's "did you mean" already names (expire → expires) is not reported twice.
    const toml::node* require(std::string_view key) {
        const toml::node* node = table_.get(key);
        if (!node && std::find(suggested_.begin(), suggested_.end(), key) == suggested_.end())
            diagnostics_.error(location(), "missing required key '" + std::string(key) + "' in " + context_);
        return node;
    }

    const toml::node* find(std::string_view key) const { return table_.get(key); }

    std::optional<Located<std::string>> string(std::string_view key, bool required, bool allow_empty = false) {
        const toml::node* node = present(key, required);
        if (!node) return std::nullopt;
        const auto* value = node->as_string();
        if (!value) return type_error(key, *node, "a string");
        const std::string& text = value->get();
        if (text.empty() && !allow_empty) {
            diagnostics_.error(at(*node), "'" + std::string(key) + "' must not be empty");
            return std::nullopt;
        }
        if (has_control_character(text)) {
            diagnostics_.error(at(*node), "'" + std::string(key) + "' contains a control character");
            return std::nullopt;
        }
        if (const unsigned code = reordering_control(text)) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "%04X", code);
            diagnostics_.error(at(*node), "'" + std::string(key) + "' contains the bidirectional control U+" + hex +
                                              ", which makes the text read differently from what it is; remove it");
            return std::nullopt;
        }
        return Located<std::string>{text, at(*node)};
    }

    std::optional<Located<bool>> boolean(std::string_view key) {
        const toml::node* node = present(key, false);
        if (!node) return std::nullopt;
        if (const auto* value = node->as_boolean()) return Located<bool>{value->get(), at(*node)};
        return type_error(key, *node, "a boolean");
    }

    std::optional<Located<int>> integer(std::string_view key, int min, int max) {
        const toml::node* node = present(key, false);
        if (!node) return std::nullopt;
        const auto* value = node->as_integer();
        if (!value) return type_error(key, *node, "an integer");
        if (value->get() < min || value->get() > max) {
            diagnostics_.error(at(*node), "'" + std::string(key) + "' must be from " + std::to_string(min) + " to " +
                                              std::to_string(max) + ", not " + std::to_string(value->get()));
            return std::nullopt;
        }
        return Located<int>{static_cast<int>(value->get()), at(*node)};
    }

    template <NamedEnum Enum>
    std::optional<Located<Enum>> choice(std::string_view key) {
        auto text = string(key, false);
        if (!text) return std::nullopt;
        if (const auto value = parse_name<Enum>(text->value)) return Located<Enum>{*value, text->source};
        std::string names;
        for (const auto& [value, name] : EnumNames<Enum>::table) names += (names.empty() ? "" : ", ") + std::string(name);
        diagnostics_.error(text->source,
                           "'" + std::string(key) + "' must be one of " + names + "; not \"" + shown(text->value) + "\"");
        return std::nullopt;
    }

    // An array whose elements are all addresses; each element keeps its own position.
    std::optional<std::vector<Located<std::string>>> addresses(std::string_view key) {
        const toml::node* node = present(key, false);
        if (!node) return std::nullopt;
        const auto* array = node->as_array();
        if (!array) return type_error(key, *node, "an array of mail addresses");
        std::vector<Located<std::string>> result;
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = *array->get(i);
            const auto* text = element.as_string();
            const std::string name = std::string(key) + "[" + std::to_string(i) + "]";
            if (!text) {
                diagnostics_.error(at(element), "'" + name + "' must be a string, not " +
                                                    std::string(type_name(element.type())));
            } else if (!is_plausible_address(text->get())) {
                diagnostics_.error(at(element), "'" + name + "' is not a plausible mail address: \"" + shown(text->get()) + "\"");
            } else {
                result.push_back({text->get(), at(element)});
            }
        }
        return result;
    }

    SourceLocation at(const toml::node& node) const { return where(node.source(), file_); }
    const std::string& context() const { return context_; }
    Diagnostics& diagnostics() { return diagnostics_; }

private:
    const toml::node* present(std::string_view key, bool required) {
        return required ? require(key) : table_.get(key);
    }

    std::nullopt_t type_error(std::string_view key, const toml::node& node, std::string_view expected) {
        diagnostics_.error(at(node), "'" + std::string(key) + "' must be " + std::string(expected) + ", not " +
                                         std::string(type_name(node.type())));
        return std::nullopt;
    }

    const toml::table& table_;
    std::string context_;
    const std::string& file_;
    Diagnostics& diagnostics_;
    std::vector<std::string> suggested_;
};

struct SourceFile {
    std::string display;   // path as the user would write it from here
    std::string relative;  // path inside the desired-state root, for the digest
};

// State carried across files while merging.
class Merger {
public:
    explicit Merger(LoadResult& result) : state_(result.state), diagnostics_(result.diagnostics) {}

    // Whether some file wrote a `tenant` key. Only when none did is "no [tenant]" worth saying:
    // a `tenant` of the wrong type, or a second [tenant], has its own error already.
    bool tenant_written() const { return tenant_written_; }

    void merge(const toml::table& root, const std::string& file) {
        TableReader top(root, "the desired state", file, diagnostics_);
        top.allow_keys({"version", "tenant", "connection", "smtp_auth", "exceptions", "authentication_policy",
                        "organization", "guardrails", "notifications"});
        const bool has_version = read_version(top);
        if (top.find("tenant")) tenant_written_ = true;

        if (const toml::table* tenant = table_member(top, "tenant")) {
            read_tenant(*tenant, file);
            if (!has_version)
                diagnostics_.error(where(tenant->source(), file),
                                   "missing required key 'version' in the file with [tenant] (add version = 1)");
        }
        if (const toml::table* connection = table_member(top, "connection")) read_connection(*connection, file);
        if (const toml::table* smtp_auth = table_member(top, "smtp_auth")) read_smtp_auth(*smtp_auth, file);
        if (const toml::table* exceptions = table_member(top, "exceptions")) read_exception_settings(*exceptions, file);
        if (const toml::node* policies = top.find("authentication_policy")) read_policies(*policies, top, file);
        if (const toml::table* organization = table_member(top, "organization")) read_organization(*organization, file);
        if (const toml::table* guardrails = table_member(top, "guardrails")) read_guardrails(*guardrails, file);
        if (const toml::table* notifications = table_member(top, "notifications"))
            read_notifications(*notifications, file);
    }

private:
    const toml::table* table_member(TableReader& top, std::string_view key) {
        const toml::node* node = top.find(key);
        if (!node) return nullptr;
        if (const toml::table* table = node->as_table()) return table;
        diagnostics_.error(top.at(*node), "'" + std::string(key) + "' must be a table ([" + std::string(key) +
                                              "]), not " + std::string(type_name(node->type())));
        return nullptr;
    }

    bool read_version(TableReader& top) {
        const toml::node* node = top.find("version");
        if (!node) return false;
        const auto* value = node->as_integer();
        if (!value) {
            diagnostics_.error(top.at(*node), "'version' must be an integer, not " + std::string(type_name(node->type())));
        } else if (value->get() != 1) {
            diagnostics_.error(top.at(*node), "unsupported version " + std::to_string(value->get()) +
                                                  "; this authgate reads version 1");
        }
        return true;
    }

    // [tenant], [connection], ... may each be declared in one file only.
    bool claim(const std::string& section, const SourceLocation& here) {
        const auto [it, inserted] = owners_.emplace(section, here);
        if (inserted) return true;
        const std::string first = to_string(it->second);
        // [smtp_auth] itself may be in many files; only its settings may not, so say which part.
        diagnostics_.error(here, section == smtp_settings
                                     ? "[smtp_auth] settings (org_disabled, unlisted_overrides, deny) are already "
                                       "declared in " + first + "; only [[smtp_auth.exception]] may be split across files"
                                     : section + " is already declared in " + first + "; it may appear in one file only");
        return false;
    }

    void read_tenant(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[tenant]", file, diagnostics_);
        if (!claim("[tenant]", reader.location())) return;
        reader.allow_keys({"id", "cloud"});
        Tenant tenant;
        tenant.source = reader.location();
        if (auto id = reader.string("id", true)) {
            if (!is_tenant_id(id->value))
                diagnostics_.error(id->source, "'id' must be the tenant GUID or its initial *.onmicrosoft.com domain, not \"" +
                                                   shown(id->value) + "\"");
            tenant.id = id->value;
        }
        if (auto cloud = reader.choice<Cloud>("cloud")) tenant.cloud = cloud->value;
        state_.tenant = tenant;
    }

    std::string resolve(const std::string& path, const std::string& file) {
        const fs::path given(path);
        if (given.is_absolute()) return path;
        return (fs::path(file).parent_path() / given).lexically_normal().string();
    }

    void read_connection(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[connection]", file, diagnostics_);
        if (!claim("[connection]", reader.location())) return;
        for (std::string_view secret : {"certificate_password", "password", "client_secret", "private_key"}) {
            if (const toml::node* node = reader.find(secret))
                diagnostics_.error(reader.at(*node), "'" + std::string(secret) +
                                                         "': secrets do not belong in the desired state; put the "
                                                         "password in an environment variable and name it with "
                                                         "certificate_password_env");
        }
        reader.allow_keys({"app_id", "certificate", "certificate_password_env", "login_endpoint", "exchange_endpoint",
                           "ca_bundle", "certificate_password", "password", "client_secret", "private_key"});
        Connection& connection = state_.connection;
        if (auto app_id = reader.string("app_id", false)) {
            if (!is_guid(app_id->value))
                diagnostics_.error(app_id->source, "'app_id' must be the application (client) id, a GUID; not \"" +
                                                       shown(app_id->value) + "\"");
            connection.app_id = app_id->value;
        }
        if (auto certificate = reader.string("certificate", false))
            connection.certificate = resolve(certificate->value, file);
        if (auto env = reader.string("certificate_password_env", false)) {
            if (!is_env_name(env->value))
                diagnostics_.error(env->source, "'certificate_password_env' must name an environment variable "
                                                "(letters, digits, _), not \"" + shown(env->value) + "\"");
            connection.certificate_password_env = env->value;
        }
        for (auto [key, target] : {std::pair{"login_endpoint", &connection.login_endpoint},
                                   std::pair{"exchange_endpoint", &connection.exchange_endpoint}}) {
            if (auto url = reader.string(key, false)) {
                if (url->value.rfind("https://", 0) != 0 || url->value.size() <= 8)
                    diagnostics_.error(url->source, "'" + std::string(key) + "' must be an https:// URL (TLS is "
                                                    "always verified), not \"" + shown(url->value) + "\"");
                *target = url->value;
            }
        }
        if (auto bundle = reader.string("ca_bundle", false)) connection.ca_bundle = resolve(bundle->value, file);
    }

    void read_smtp_auth(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[smtp_auth]", file, diagnostics_);
        reader.allow_keys({"org_disabled", "unlisted_overrides", "deny", "exception"});
        SmtpAuth& smtp = state_.smtp_auth ? *state_.smtp_auth : state_.smtp_auth.emplace();

        // The settings keys may be written in one file only; exceptions may come from any.
        const toml::node* first_setting = nullptr;
        for (std::string_view key : {"org_disabled", "unlisted_overrides", "deny"})
            if (const toml::node* node = reader.find(key); node && !first_setting) first_setting = node;
        if (first_setting && claim(smtp_settings, reader.location())) {
            if (auto org = reader.boolean("org_disabled")) smtp.org_disabled = org;
            if (auto mode = reader.choice<UnlistedOverrides>("unlisted_overrides")) smtp.unlisted_overrides = mode->value;
            if (auto deny = reader.addresses("deny")) smtp.deny = std::move(*deny);
        }

        const toml::node* exceptions = reader.find("exception");
        if (!exceptions) return;
        const toml::array* array = exceptions->as_array();
        if (!array || !array->is_array_of_tables()) {
            diagnostics_.error(reader.at(*exceptions),
                               "'exception' must be an array of tables ([[smtp_auth.exception]]), not " +
                                   std::string(type_name(exceptions->type())));
            return;
        }
        for (const toml::node& element : *array) read_exception(*element.as_table(), file, smtp);
    }

    void read_exception(const toml::table& table, const std::string& file, SmtpAuth& smtp) {
        TableReader reader(table, "[[smtp_auth.exception]]", file, diagnostics_);
        reader.allow_keys({"mailbox", "owner", "reason", "expires", "ticket", "replacement", "basic_auth"});
        Exception exception;
        exception.source = reader.location();
        bool complete = true;
        std::string mailbox;
        for (auto [key, target] : {std::pair{"mailbox", &mailbox}, std::pair{"owner", &exception.owner}}) {
            if (auto address = reader.string(key, true)) {
                // "unknown" is the placeholder import writes; validation warns until someone owns it.
                const bool placeholder = std::string_view(key) == "owner" && address->value == unknown_owner;
                if (!placeholder && !is_plausible_address(address->value)) {
                    diagnostics_.error(address->source, "'" + std::string(key) + "' is not a plausible mail address: \"" +
                                                            shown(address->value) + "\"");
                    complete = false;
                }
                *target = address->value;
            } else {
                complete = false;
            }
        }
        exception.mailbox = std::move(mailbox);
        if (auto reason = reader.string("reason", true)) exception.reason = reason->value;
        else complete = false;
        complete = read_expiry(reader, exception) && complete;
        if (auto ticket = reader.string("ticket", false)) exception.ticket = ticket->value;
        if (auto replacement = reader.choice<Replacement>("replacement")) exception.replacement = replacement->value;
        if (auto basic = reader.boolean("basic_auth")) exception.basic_auth = basic->value;
        // An incomplete exception is reported above; keeping it would only cause follow-on noise.
        if (complete) smtp.exceptions.push_back(std::move(exception));
    }

    bool read_expiry(TableReader& reader, Exception& exception) {
        const toml::node* node = reader.require("expires");
        if (!node) return false;
        exception.expires_source = reader.at(*node);
        using namespace std::chrono;
        if (const auto* date = node->as_date()) {
            const toml::date& d = date->get();
            const year_month_day ymd{year{d.year}, month{d.month}, day{d.day}};
            // A date holds through that whole day in UTC.
            exception.expires = Instant{sys_days{ymd} + days{1}};
            std::ostringstream text;
            text << d;
            exception.expires_text = text.str();
            return true;
        }
        if (const auto* stamp = node->as_date_time()) {
            const toml::date_time& dt = stamp->get();
            if (!dt.offset) {
                diagnostics_.error(exception.expires_source,
                                   "'expires' is a local date-time without offset; add a UTC offset, e.g. Z");
                return false;
            }
            const year_month_day ymd{year{dt.date.year}, month{dt.date.month}, day{dt.date.day}};
            exception.expires = Instant{sys_days{ymd}} + hours{dt.time.hour} + minutes{dt.time.minute} +
                                seconds{dt.time.second} - minutes{dt.offset->minutes};
            std::ostringstream text;
            text << dt;
            exception.expires_text = text.str();
            return true;
        }
        if (const auto* text = node->as_string()) {
            // Echo the user's own value when unquoting it is the whole fix; anything else would
            // only be cut into a misleading example ("next friday" → "next frida").
            const std::string example = is_expiry_literal(text->get()) ? shown(text->get()) : "2027-03-31";
            diagnostics_.error(exception.expires_source,
                               "'expires' must be a TOML date or date-time, written without quotes, e.g. expires = " +
                                   example);
            return false;
        }
        diagnostics_.error(exception.expires_source,
                           "'expires' must be a date or a date-time with a UTC offset, not " +
                               std::string(type_name(node->type())));
        return false;
    }

    void read_exception_settings(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[exceptions]", file, diagnostics_);
        if (!claim("[exceptions]", reader.location())) return;
        reader.allow_keys({"max_days", "warn_days", "basic_auth_policy"});
        ExceptionSettings& settings = state_.exception_settings;
        settings.source = reader.location();
        if (auto max_days = reader.integer("max_days", 1, 3650)) settings.max_days = max_days->value;
        if (const toml::node* node = reader.find("warn_days")) {
            const toml::array* array = node->as_array();
            if (!array) {
                diagnostics_.error(reader.at(*node), "'warn_days' must be an array of whole days, not " +
                                                         std::string(type_name(node->type())));
            } else {
                settings.warn_days.clear();
                for (const toml::node& element : *array) {
                    const auto* days = element.as_integer();
                    if (!days || days->get() < 0 || days->get() > 3650) {
                        diagnostics_.error(reader.at(element), "'warn_days' entries must be whole days from 0 to 3650");
                        continue;
                    }
                    settings.warn_days.push_back(static_cast<int>(days->get()));
                }
            }
        }
        if (auto policy = reader.string("basic_auth_policy", false)) settings.basic_auth_policy = policy;
    }

    void read_policies(const toml::node& node, TableReader& top, const std::string& file) {
        const toml::array* array = node.as_array();
        if (!array || !array->is_array_of_tables()) {
            diagnostics_.error(top.at(node), "'authentication_policy' must be an array of tables "
                                             "([[authentication_policy]]), not " + std::string(type_name(node.type())));
            return;
        }
        std::vector<std::string_view> keys{"name"};
        for (const auto& flag : basic_auth_flags) keys.push_back(flag.toml_key);
        for (const toml::node& element : *array) {
            TableReader reader(*element.as_table(), "[[authentication_policy]]", file, diagnostics_);
            reader.allow_keys(keys);
            AuthenticationPolicy policy;
            policy.source = reader.location();
            auto name = reader.string("name", true);
            if (name && character_count(name->value) > 64)
                diagnostics_.error(name->source, "policy name is " + std::to_string(character_count(name->value)) +
                                                     " characters long; Exchange allows at most 64");
            for (std::size_t i = 0; i < basic_auth_flag_count; ++i)
                if (auto flag = reader.boolean(basic_auth_flags[i].toml_key)) policy.flags[i] = flag->value;
            if (!name) continue;
            policy.name = name->value;
            state_.policies.push_back(std::move(policy));
        }
    }

    void read_organization(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[organization]", file, diagnostics_);
        if (!claim("[organization]", reader.location())) return;
        reader.allow_keys({"default_authentication_policy"});
        Organization organization;
        organization.default_authentication_policy = reader.string("default_authentication_policy", false, true);
        state_.organization = organization;
    }

    void read_guardrails(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[guardrails]", file, diagnostics_);
        if (!claim("[guardrails]", reader.location())) return;
        reader.allow_keys({"max_changes", "protected", "missing_mailbox"});
        if (auto max_changes = reader.integer("max_changes", 0, 1000000)) state_.guardrails.max_changes = max_changes->value;
        if (auto protected_mailboxes = reader.addresses("protected"))
            state_.guardrails.protected_mailboxes = std::move(*protected_mailboxes);
        if (auto missing = reader.choice<MissingMailbox>("missing_mailbox"))
            state_.guardrails.missing_mailbox = missing->value;
    }

    static constexpr const char* smtp_settings = "[smtp_auth] settings";

    void read_notifications(const toml::table& table, const std::string& file) {
        TableReader reader(table, "[notifications]", file, diagnostics_);
        if (!claim("[notifications]", reader.location())) return;
        reader.allow_keys({"webhook_url", "webhook_url_env"});
        Notifications& notifications = state_.notifications;
        if (auto url = reader.string("webhook_url", false)) {
            if (url->value.rfind("https://", 0) != 0 || url->value.size() <= 8)
                diagnostics_.error(url->source, "'webhook_url' must be an https:// URL");
            notifications.webhook_url = url->value;
        }
        if (auto env = reader.string("webhook_url_env", false)) {
            if (!is_env_name(env->value))
                diagnostics_.error(env->source, "'webhook_url_env' must name an environment variable (letters, "
                                                "digits, _), not \"" + shown(env->value) + "\"");
            notifications.webhook_url_env = env->value;
        }
    }

    DesiredState& state_;
    Diagnostics& diagnostics_;
    std::map<std::string, SourceLocation> owners_;
    bool tenant_written_ = false;
};

class Digest {
public:
    Digest() : context_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(context_, EVP_sha256(), nullptr); }
    ~Digest() { EVP_MD_CTX_free(context_); }
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;

    void add(std::string_view bytes) {
        const std::string length = std::to_string(bytes.size()) + ":";  // framing keeps boundaries unambiguous
        EVP_DigestUpdate(context_, length.data(), length.size());
        EVP_DigestUpdate(context_, bytes.data(), bytes.size());
    }

    std::string hex() {
        unsigned char bytes[EVP_MAX_MD_SIZE];
        unsigned int size = 0;
        EVP_DigestFinal_ex(context_, bytes, &size);
        static const char digits[] = "0123456789abcdef";
        std::string text = "sha256:";
        for (unsigned int i = 0; i < size; ++i) {
            text += digits[bytes[i] >> 4];
            text += digits[bytes[i] & 15];
        }
        return text;
    }

private:
    EVP_MD_CTX* context_;
};

// toml++ writes "Error while parsing key-value pair: cannot redefine existing boolean 'x'",
// which after our own "error: " reads as an error twice; a repeated key or table is common
// enough in hand-edited files to deserve plain words.
std::string describe_parse_error(std::string_view description) {
    constexpr std::string_view prefix = "Error while parsing ";
    constexpr std::string_view redefine = "cannot redefine existing ";
    const std::size_t colon = description.find(": ");
    if (description.rfind(prefix, 0) != 0 || colon == std::string_view::npos)
        return "invalid TOML: " + shown(description, 300);
    const std::string_view scope = description.substr(prefix.size(), colon - prefix.size());
    const std::string_view detail = description.substr(colon + 2);
    const std::size_t quote = detail.find('\'');
    if (detail.rfind(redefine, 0) == 0 && quote != std::string_view::npos && detail.back() == '\'' &&
        quote + 1 < detail.size() - 1) {
        const std::string_view name = detail.substr(quote + 1, detail.size() - quote - 2);
        if (scope == "key-value pair")
            return "duplicate key '" + shown(name) + "'; a key may be set only once in a table";
        if (scope == "table header" && detail.substr(redefine.size(), 6) == "table ")
            return "duplicate table [" + shown(name) + "]; a table may be declared only once in a file";
    }
    return "invalid TOML in " + std::string(scope) + ": " + shown(detail, 300);
}

// False when the text is not TOML.
bool parse_into(const std::string& display, const std::string& text, Merger& merger, Diagnostics& diagnostics) {
    if (auto problem = utf16_problem(text)) {
        diagnostics.error({display, 1, 1}, std::move(*problem));
        return false;
    }
    if (const auto bad = invalid_utf8(text)) {
        static const char digits[] = "0123456789ABCDEF";
        const auto c = static_cast<unsigned char>(text[*bad]);
        diagnostics.error(location_of(text, *bad, display),
                          std::string("not UTF-8 (byte 0x") + digits[c >> 4] + digits[c & 15] + "); save the file as UTF-8");
        return false;
    }
    if (const auto deep = too_deep(text, display)) {
        diagnostics.error(*deep, "nested more than " + std::to_string(max_nesting) +
                                     " levels deep (tables, dotted keys, arrays); a desired state needs a few");
        return false;
    }
    try {
        const toml::table root = toml::parse(text, display);
        merger.merge(root, display);
        return true;
    } catch (const toml::parse_error& error) {
        diagnostics.error(where(error.source(), display), describe_parse_error(error.description()));
        return false;
    }
}

bool hidden(const fs::path& path) {
    const std::string name = path.filename().string();
    return !name.empty() && name[0] == '.';
}

// Expands the given paths into the files to read, in merge order.
std::vector<SourceFile> list_files(const std::vector<std::string>& paths, Diagnostics& diagnostics) {
    std::vector<SourceFile> files;
    for (const std::string& path : paths) {
        std::error_code error;
        const fs::path root(path);
        if (fs::is_directory(root, error)) {
            std::vector<SourceFile> found;
            fs::recursive_directory_iterator it(root, fs::directory_options::none, error), end;
            for (; !error && it != end; it.increment(error)) {
                if (hidden(it->path())) {
                    if (it->is_directory()) it.disable_recursion_pending();
                    continue;
                }
                if (it->is_regular_file() && it->path().extension() == ".toml") {
                    const std::string relative = it->path().lexically_relative(root).generic_string();
                    found.push_back({(root / relative).lexically_normal().generic_string(), relative});
                }
            }
            if (error) diagnostics.error({path, 0, 0}, "cannot read directory: " + error.message());
            std::sort(found.begin(), found.end(),
                      [](const SourceFile& a, const SourceFile& b) { return a.relative < b.relative; });
            if (found.empty() && !error) diagnostics.error({path, 0, 0}, "no *.toml files in this directory");
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::exists(root, error)) {
            files.push_back({fs::path(path).lexically_normal().generic_string(), root.filename().string()});
        } else {
            diagnostics.error({path, 0, 0}, "no such file or directory");
        }
    }
    return files;
}

// `every_file_read`: every path existed and every file parsed, so a missing [tenant] is not
// merely in a file we could not see.
void finish(LoadResult& result, const Merger& merger, bool every_file_read) {
    if (every_file_read && !merger.tenant_written()) {
        const std::string first = result.state.files.empty() ? std::string("desired state") : result.state.files.front();
        result.diagnostics.error({first, 1, 1}, "no [tenant] table: the desired state must name its tenant "
                                                "([tenant] id = \"contoso.onmicrosoft.com\")");
    }
    result.diagnostics.sort();
}

}  // namespace

LoadResult load_desired_state(const std::vector<std::string>& paths) {
    LoadResult result;
    Merger merger(result);
    Digest digest;
    const std::vector<SourceFile> files = list_files(paths, result.diagnostics);
    bool every_file_read = !result.diagnostics.has_errors();
    for (const SourceFile& file : files) {
        std::string text;
        try {
            text = read_file(file.display);
        } catch (const FileError&) {
            result.diagnostics.error({file.display, 0, 0}, "cannot read file");
            every_file_read = false;
            continue;
        }
        digest.add(file.relative);
        digest.add(text);
        result.state.files.push_back(file.display);
        every_file_read = parse_into(file.display, text, merger, result.diagnostics) && every_file_read;
    }
    result.state.digest = digest.hex();
    finish(result, merger, every_file_read);
    return result;
}

LoadResult load_desired_state_text(const std::string& name, const std::string& text) {
    LoadResult result;
    Merger merger(result);
    Digest digest;
    digest.add(name);
    digest.add(text);
    result.state.files.push_back(name);
    const bool parsed = parse_into(name, text, merger, result.diagnostics);
    result.state.digest = digest.hex();
    finish(result, merger, parsed);
    return result;
}

}  // namespace authgate
