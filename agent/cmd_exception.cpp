// exception add|renew|remove MAILBOX: edits the desired state for the admin, as text (comments
// and layout kept), judges the result with the loader and validation, writes it atomically and
// shows the diff.
#include <map>
#include <ostream>

#include "agent/commands.h"
#include "agent/files.h"
#include "agent/options.h"
#include "policies/exception_edit.h"
#include "policies/files.h"
#include "policies/lifecycle.h"
#include "policies/loader.h"
#include "policies/printable.h"
#include "policies/validate.h"

namespace authgate {
namespace {

enum class Edit { add, renew, remove };

// The file a new exception goes in: the one with most exceptions of the same owner, else the one
// with most exceptions, else the one that holds [smtp_auth], else the only file.
std::optional<std::string> file_for_new(const DesiredState& state, const std::string& owner) {
    std::map<std::string, int> same_owner, any;
    if (state.smtp_auth)
        for (const Exception& exception : state.smtp_auth->exceptions) {
            ++any[exception.source.file];
            if (equals_ignoring_case(exception.owner, owner)) ++same_owner[exception.source.file];
        }
    for (const auto* counts : {&same_owner, &any}) {
        const auto best = std::max_element(counts->begin(), counts->end(),
                                           [](const auto& a, const auto& b) { return a.second < b.second; });
        if (best != counts->end()) return best->first;
    }
    if (state.smtp_auth && state.smtp_auth->org_disabled) return state.smtp_auth->org_disabled->source.file;
    if (state.files.size() == 1) return state.files.front();
    return std::nullopt;
}

std::string expires_value(const std::string& text) {
    if (!expiry_of(text))
        throw UsageError("--expires must be a date (2027-03-31) or a date-time with a UTC offset "
                         "(2027-03-31T18:00:00Z), not '" +
                         printable(text) + "'");
    return text;
}

}  // namespace

int run_exception(CommandContext& context) {
    po::options_description options("Options");
    add_desired_state_option(options);
    options.add_options()("action", po::value<std::string>(), "add, renew or remove")(
        "mailbox", po::value<std::string>(), "the mailbox's primary SMTP address")(
        "owner", po::value<std::string>(), "who answers for the exception (add: required)")(
        "expires", po::value<std::string>(), "when it ends: a date or a date-time with a UTC offset (add, renew)")(
        "reason", po::value<std::string>(),
        "why the mailbox needs SMTP AUTH (add: required)")("ticket", po::value<std::string>(), "the change ticket")(
        "replacement", po::value<std::string>(), "what replaces it: oauth, hve, acs, relay, direct-send or retire")(
        "basic-auth", "the device needs Basic auth (add)")(
        "file", po::value<std::string>(), "the desired-state file to edit (default: the one that fits)")(
        "dry-run", "show the diff, write nothing")("at", po::value<std::string>(),
                                                   "judge the result as at this time (RFC 3339), not now");
    po::positional_options_description positional;
    positional.add("action", 1).add("mailbox", 1);
    const auto values = parse_options(context, options,
                                      "authgate exception add|renew|remove MAILBOX -c PATH [--owner ADDRESS] "
                                      "[--expires DATE] [--reason TEXT] [--ticket ID] [--file FILE] [--dry-run]",
                                      &positional);
    if (!values) return exit_ok;
    const std::map<std::string, Edit> actions{{"add", Edit::add}, {"renew", Edit::renew}, {"remove", Edit::remove}};
    const std::string action_name = values->count("action") ? (*values)["action"].as<std::string>() : "";
    const auto action = actions.find(action_name);
    if (action == actions.end()) throw UsageError("say what to do: authgate exception add|renew|remove MAILBOX");
    if (!values->count("mailbox")) throw UsageError("name the mailbox: authgate exception " + action_name + " MAILBOX");
    const std::string mailbox = (*values)["mailbox"].as<std::string>();
    const auto text_option = [&](const char* name) -> std::optional<std::string> {
        if (!values->count(name)) return std::nullopt;
        return (*values)[name].as<std::string>();
    };
    const Edit edit = action->second;
    if (edit == Edit::add)
        for (const char* required : {"owner", "expires", "reason"})
            if (!values->count(required))
                throw UsageError(std::string("add needs --") + required + " (owner, expires and reason are required)");
    if (edit == Edit::renew && !values->count("expires")) throw UsageError("renew needs --expires, the new end");

    const Instant now = CommandClock(*values, context.clock).now();
    const std::vector<std::string> paths = desired_state_paths(*values);
    LoadResult loaded = load_desired_state(paths);
    if (loaded.diagnostics.has_errors()) {
        print_diagnostics(context.err, loaded.diagnostics);
        context.err << "The desired state has errors already; fix them first. Nothing was written.\n";
        return exit_error;
    }
    const Exception* existing = loaded.state.find_exception(mailbox);

    // 1. Which file, and its text edited.
    std::string file;
    if (values->count("file")) {
        file = (*values)["file"].as<std::string>();
        if (std::find(loaded.state.files.begin(), loaded.state.files.end(), file) == loaded.state.files.end()) {
            std::string listed;
            for (const std::string& name : loaded.state.files) listed += (listed.empty() ? "" : ", ") + name;
            throw UsageError("--file " + printable(file) + " is not one of the desired state's files (" +
                             printable(listed) + ")");
        }
    }
    ExceptionKeys keys;
    const auto quoted = [&](const char* name, const char* key) {
        if (const auto text = text_option(name)) keys.values.emplace_back(key, toml_string(*text));
    };
    std::string before, after;
    if (edit == Edit::add) {
        if (existing)
            throw UsageError(printable(mailbox) + " has an exception already (" + to_string(existing->source) +
                             "); renew it, or remove it first");
        if (file.empty()) {
            const auto chosen = file_for_new(loaded.state, *text_option("owner"));
            if (!chosen)
                throw UsageError("the desired state has several files and none holds exceptions: name one "
                                 "with --file");
            file = *chosen;
        }
        keys.values.emplace_back("mailbox", toml_string(mailbox));
        quoted("owner", "owner");
        quoted("reason", "reason");
        keys.values.emplace_back("expires", expires_value(*text_option("expires")));
        quoted("ticket", "ticket");
        quoted("replacement", "replacement");
        if (values->count("basic-auth")) keys.values.emplace_back("basic_auth", "true");
        before = read_file(file);
        after = add_exception(before, keys);
    } else {
        if (!existing)
            throw UsageError("the desired state has no exception for " + printable(mailbox) +
                             (edit == Edit::renew ? "; add one with authgate exception add" : ""));
        if (!file.empty() && file != existing->source.file)
            throw UsageError("the exception for " + printable(mailbox) + " is in " + printable(existing->source.file) +
                             ", not " + printable(file));
        file = existing->source.file;
        before = read_file(file);
        if (edit == Edit::renew) {
            keys.values.emplace_back("expires", expires_value(*text_option("expires")));
            quoted("owner", "owner");
            quoted("reason", "reason");
            quoted("ticket", "ticket");
            quoted("replacement", "replacement");
            after = set_exception_keys(before, mailbox, keys);
        } else {
            after = remove_exception(before, mailbox);
        }
    }

    // 2. The result judged by the real loader and validation, as plan would judge it now.
    LoadResult judged = load_desired_state(paths, {file, after});
    Diagnostics diagnostics = judged.diagnostics;
    diagnostics.append(validate(judged.state, now));
    diagnostics.sort();
    const std::string diff = unified_diff(file, before, after);
    if (diagnostics.has_errors()) {
        context.out << diff;
        print_diagnostics(context.err, diagnostics);
        context.err << "The edit is refused" +
                           std::string(edit == Edit::renew ? " (an expiry beyond [exceptions] max_days from now is "
                                                             "not renewed)"
                                                           : "") +
                           "; nothing was written.\n";
        return exit_error;
    }
    if (edit != Edit::remove && !judged.state.find_exception(mailbox)) {
        context.err << "error: the edited file holds no exception for " << printable(mailbox)
                    << " as the loader reads it; nothing was written.\n";
        return exit_error;
    }

    // 3. Written aside and renamed into place, with the file's own mode; then the diff.
    context.out << diff;
    if (values->count("dry-run")) {
        context.out << "Dry run: " << printable(file) << " was not written.\n";
        return exit_ok;
    }
    write_file_atomically(
        file, [&](std::ostream& out) { out << after; }, FileMode::keep);
    const char* done = edit == Edit::add ? "added to" : edit == Edit::renew ? "renewed in" : "removed from";
    context.out << "Exception for " << printable(mailbox) << " " << done << " " << printable(file) << ".\n";
    return exit_ok;
}

}  // namespace authgate
