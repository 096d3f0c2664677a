#include "policies/usage.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_map>

#include "policies/live_state.h"
#include "policies/printable.h"

namespace authgate {

std::string_view source_words(UsageSource source) {
    switch (source) {
        case UsageSource::signin_logs: return "sign-in logs";
        case UsageSource::smtp_auth_report: return "SMTP AUTH clients report";
        case UsageSource::email_app_report: return "email apps report";
    }
    return "usage evidence";
}

bool UsageEvidence::incomplete() const {
    return std::any_of(sources.begin(), sources.end(), [](const SourceReport& source) { return !source.read; });
}

std::vector<MailboxUsage> usage_by_sender(const UsageEvidence& evidence, const LiveState& live, Instant since) {
    std::unordered_map<std::string, const Mailbox*> by_object_id;
    std::unordered_map<Name, const Mailbox*> by_address;
    if (live.mailboxes) {
        for (const Mailbox& mailbox : *live.mailboxes) {
            if (!mailbox.external_directory_object_id.empty())
                by_object_id[fold_case(mailbox.external_directory_object_id)] = &mailbox;
            by_address[mailbox.primary_smtp_address] = &mailbox;
        }
    }
    std::map<Name, MailboxUsage> senders;
    for (const UsageObservation& seen : evidence.observations) {
        if (seen.last_seen < since) continue;
        const Mailbox* mailbox = nullptr;
        if (!seen.user_id.empty())
            if (const auto found = by_object_id.find(fold_case(seen.user_id)); found != by_object_id.end())
                mailbox = found->second;
        if (!mailbox)
            if (const auto found = by_address.find(Name(seen.address)); found != by_address.end())
                mailbox = found->second;
        const Name key = mailbox ? mailbox->primary_smtp_address : Name(seen.address);
        MailboxUsage& usage = senders[key];
        usage.mailbox = key;
        usage.matched = mailbox != nullptr;
        usage.messages += seen.messages;
        usage.failures += seen.failures;
        if (!usage.last_seen || seen.last_seen > *usage.last_seen) {
            usage.last_seen = seen.last_seen;
            usage.last_source = seen.source;
            if (!seen.last_error.empty()) usage.last_error = seen.last_error;
        }
        usage.basic = usage.basic || seen.protocol == SmtpProtocol::basic;
        usage.oauth = usage.oauth || seen.protocol == SmtpProtocol::oauth;
        if (std::find(usage.sources.begin(), usage.sources.end(), seen.source) == usage.sources.end())
            usage.sources.push_back(seen.source);
    }
    std::vector<MailboxUsage> result;
    result.reserve(senders.size());
    for (auto& [key, usage] : senders) result.push_back(std::move(usage));
    std::stable_sort(result.begin(), result.end(), [](const MailboxUsage& a, const MailboxUsage& b) {
        return a.last_seen.value_or(Instant{}) > b.last_seen.value_or(Instant{});
    });
    return result;
}

namespace {

std::string day_of(Instant instant) { return format_instant(instant).substr(0, 10); }

}  // namespace

std::vector<DailySenders> basic_senders_by_day(const std::vector<UsageObservation>& observations, Instant from,
                                               Instant to) {
    using days = std::chrono::days;
    const auto first_day = std::chrono::floor<days>(from);
    const auto last_day = std::chrono::floor<days>(to);
    if (last_day < first_day) return {};
    const auto count = static_cast<std::size_t>((last_day - first_day).count()) + 1;
    // Each sender's span, by address (its sightings from every source merged), then the spans
    // added up through a difference array: one pass whatever the window.
    std::unordered_map<std::string, std::pair<Instant, Instant>> spans;
    for (const UsageObservation& seen : observations) {
        if (seen.protocol != SmtpProtocol::basic) continue;
        const auto [span, fresh] = spans.try_emplace(fold_case(seen.address), seen.first_seen, seen.last_seen);
        if (fresh) continue;
        span->second.first = std::min(span->second.first, seen.first_seen);
        span->second.second = std::max(span->second.second, seen.last_seen);
    }
    std::vector<long> change(count + 1, 0);
    for (const auto& [address, span] : spans) {
        const auto begin = std::max(std::chrono::floor<days>(span.first), first_day);
        const auto end = std::min(std::chrono::floor<days>(span.second), last_day);
        if (end < begin) continue;
        ++change[static_cast<std::size_t>((begin - first_day).count())];
        --change[static_cast<std::size_t>((end - first_day).count()) + 1];
    }
    std::vector<DailySenders> result(count);
    long running = 0;
    for (std::size_t i = 0; i < count; ++i) {
        running += change[i];
        result[i] = {Instant(first_day + days(static_cast<long>(i))), running};
    }
    return result;
}

std::string describe(const MailboxUsage& usage, Instant now) {
    std::string protocol = usage.basic && usage.oauth ? "Basic and OAuth SMTP"
                           : usage.basic              ? "Basic SMTP"
                           : usage.oauth              ? "OAuth SMTP"
                                                      : "SMTP AUTH";
    std::string text;
    if (usage.messages > 0)
        text = std::to_string(usage.messages) + (usage.messages == 1 ? " message" : " messages") + " with " + protocol;
    else text = "seen using " + protocol;
    if (usage.failures > 0)
        text += ", " + std::to_string(usage.failures) + (usage.failures == 1 ? " failure" : " failures");
    if (usage.last_seen) {
        const auto days = std::chrono::duration_cast<std::chrono::hours>(now - *usage.last_seen).count() / 24;
        text += ", last " + day_of(*usage.last_seen) +
                (days <= 0 ? " (today)" : " (" + std::to_string(days) + (days == 1 ? " day ago)" : " days ago)"));
    }
    std::string from;
    for (const UsageSource source : usage.sources)
        from += (from.empty() ? "" : ", ") + std::string(source_words(source));
    return text + " (" + from + ")";
}

namespace {

// One CSV record's fields (RFC 4180: quotes, doubled quotes, CRLF), and the line it starts on.
struct CsvRecord {
    std::vector<std::string> fields;
    int line = 1;
};

std::vector<CsvRecord> parse_csv(std::string_view text) {
    std::vector<CsvRecord> records;
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a BOM
    CsvRecord record;
    std::string field;
    bool quoted = false, any = false;
    int line = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                if (c == '\n') ++line;
                field += c;
            }
            continue;
        }
        if (c == '"') {
            quoted = true;
            any = true;
        } else if (c == ',') {
            record.fields.push_back(std::move(field));
            field.clear();
            any = true;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            if (any || !field.empty()) {
                record.fields.push_back(std::move(field));
                records.push_back(std::move(record));
            }
            field.clear();
            record = {};
            any = false;
            record.line = ++line;
        } else {
            field += c;
            any = true;
        }
    }
    if (any || !field.empty()) {
        record.fields.push_back(std::move(field));
        records.push_back(std::move(record));
    }
    return records;
}

// "Sender address" → "senderaddress": letters and digits, lower case.
std::string header_key(std::string_view header) {
    std::string key;
    for (const char c : header)
        if (std::isalnum(static_cast<unsigned char>(c)))
            key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return key;
}

enum class Column { sender, messages, protocol, known, unknown };

Column column_of(const std::string& key) {
    static const std::set<std::string> senders{"senderaddress", "sender", "senderemailaddress", "senderemail",
                                               "fromaddress"};
    static const std::set<std::string> messages{"messagessent", "messagecount", "messages", "count", "sentmessages"};
    static const std::set<std::string> protocols{"authenticationprotocol", "authprotocol", "protocol",
                                                 "authenticationmethod"};
    if (senders.count(key)) return Column::sender;
    if (messages.count(key)) return Column::messages;
    if (protocols.count(key)) return Column::protocol;
    if (key == "domain" || key.rfind("tls", 0) == 0 || key == "date" || key == "reportperiod") return Column::known;
    return Column::unknown;
}

std::string trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return std::string(text);
}

// "1,234", "1 234", "312" → the count; nullopt when it is not one.
std::optional<long long> count_of(std::string_view text) {
    long long value = 0;
    bool digits = false;
    for (const char c : trimmed(text)) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            if (value > 1'000'000'000'000LL) return std::nullopt;
            value = value * 10 + (c - '0');
            digits = true;
        } else if (c != ',' && c != ' ' && c != '.' && c != '\'') {
            return std::nullopt;
        }
    }
    if (!digits) return std::nullopt;
    return value;
}

SmtpProtocol protocol_of(std::string_view text) {
    const std::string key = header_key(text);
    if (key.find("oauth") != std::string::npos || key.find("modern") != std::string::npos) return SmtpProtocol::oauth;
    if (key.find("basic") != std::string::npos) return SmtpProtocol::basic;
    return SmtpProtocol::unknown;
}

}  // namespace

ReportRead read_smtp_auth_report(std::string_view text, const std::string& path, Instant from, Instant to) {
    ReportRead result;
    SourceReport& report = result.report;
    report.source = UsageSource::smtp_auth_report;
    report.from = from;
    report.to = to;
    const std::vector<CsvRecord> records = parse_csv(text);
    if (records.empty()) {
        report.why_not = path + " is empty: export the SMTP AUTH clients report from the Exchange admin center "
                                "(Reports > Mail flow > SMTP AUTH clients > Export)";
        return result;
    }
    std::optional<std::size_t> sender, messages, protocol;
    const CsvRecord& header = records.front();
    for (std::size_t i = 0; i < header.fields.size(); ++i) {
        const std::string key = header_key(header.fields[i]);
        switch (column_of(key)) {
            case Column::sender:
                if (!sender) sender = i;
                break;
            case Column::messages:
                if (!messages) messages = i;
                break;
            case Column::protocol:
                if (!protocol) protocol = i;
                break;
            case Column::known: break;
            case Column::unknown:
                if (!key.empty())
                    report.notes.push_back("column \"" + printable(trimmed(header.fields[i])) +
                                           "\" not recognised, ignored");
        }
    }
    if (!sender || !messages) {
        report.why_not = path + ":1:1: not the SMTP AUTH clients report: its first line has no " +
                         std::string(!sender ? "\"Sender address\"" : "\"Messages sent\"") +
                         " column (export the report from the Exchange admin center: Reports > Mail flow > SMTP AUTH "
                         "clients > Export)";
        return result;
    }
    if (!protocol)
        report.notes.push_back("no \"Authentication Protocol\" column: Basic and OAuth cannot be told apart");
    std::map<std::pair<std::string, SmtpProtocol>, std::size_t> index;
    for (std::size_t r = 1; r < records.size(); ++r) {
        const CsvRecord& record = records[r];
        if (record.fields.size() == 1 && trimmed(record.fields[0]).empty()) continue;
        const auto field = [&](std::size_t column) -> std::string {
            return column < record.fields.size() ? trimmed(record.fields[column]) : "";
        };
        const std::string address = fold_case(field(*sender));
        const auto count = count_of(field(*messages));
        if (address.empty() || address.find('@') == std::string::npos || !count) {
            report.notes.push_back(path + ":" + std::to_string(record.line) +
                                   ": a row without a sender address and a "
                                   "message count, skipped");
            continue;
        }
        const SmtpProtocol seen = protocol ? protocol_of(field(*protocol)) : SmtpProtocol::unknown;
        const auto key = std::make_pair(address, seen);
        if (const auto found = index.find(key); found != index.end()) {
            result.observations[found->second].messages += *count;
            continue;
        }
        UsageObservation observation;
        observation.address = address;
        observation.source = UsageSource::smtp_auth_report;
        observation.protocol = seen;
        observation.first_seen = from;
        observation.last_seen = to;
        observation.messages = *count;
        index[key] = result.observations.size();
        result.observations.push_back(std::move(observation));
        ++report.rows;
    }
    report.read = true;
    return result;
}

}  // namespace authgate
