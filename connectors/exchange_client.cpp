#include "connectors/exchange_client.h"

#include "connectors/json_pages.h"
#include "policies/printable.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <future>
#include <thread>

#include <cpprest/json.h>

namespace authgate {
namespace {

using web::json::value;

constexpr const char* anchor_mailbox = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@";

// Exceptions Exchange raises when a back end is busy or moving; the same call succeeds later.
constexpr const char* transient_exceptions[] = {"DCOverloadedException", "SuitabilityDirectoryException",
                                                "ServerInMMException", "ADServerSettingsChangedException",
                                                "StorageTransientException"};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A cmdlet as InvokeCommand takes it: {"CmdletInput": {"CmdletName": …, "Parameters": {…}}}.
value invocation(const Cmdlet& cmdlet) {
    value parameters = value::object(true);
    for (const auto& [name, parameter] : cmdlet.parameters) parameters[name] = to_json<value>(parameter);
    value input = value::object(true);
    input["CmdletName"] = value::string(cmdlet.name);
    input["Parameters"] = parameters;
    value envelope = value::object(true);
    envelope["CmdletInput"] = input;
    return envelope;
}

std::optional<value> parse_json(const std::string& body) {
    try {
        return value::parse(body);
    } catch (const web::json::json_exception&) {
        return std::nullopt;
    }
}

// "Ex6F9304|Microsoft.Exchange.…ManagementObjectNotFoundException|The operation …" or a JSON
// string {"Message": …, "TypeName": …}: the text, with the exception's short name after it.
std::string detail_text(const std::string& detail) {
    if (!detail.empty() && detail.front() == '{') {
        if (const auto json = parse_json(detail); json && json->has_string_field("Message"))
            return json->at("Message").as_string();
        return detail;
    }
    const std::size_t first = detail.find('|');
    const std::size_t second = first == std::string::npos ? first : detail.find('|', first + 1);
    if (second == std::string::npos) return detail;
    std::string type = detail.substr(first + 1, second - first - 1);
    if (const std::size_t dot = type.rfind('.'); dot != std::string::npos) type = type.substr(dot + 1);
    return detail.substr(second + 1) + " (" + type + ")";
}

// The @odata.nextLink of a page, found without parsing it: the last `"@odata.nextLink":"` of the
// body (in a JSON string its quotes would be escaped), up to the closing quote. Empty when there
// is none or it holds an escape; the parsed page has the last word either way.
std::string next_link_in(const std::string& body) {
    static const std::string key = "\"@odata.nextLink\":\"";
    const std::size_t at = body.rfind(key);
    if (at == std::string::npos) return {};
    const std::size_t start = at + key.size();
    const std::size_t end = body.find('"', start);
    if (end == std::string::npos) return {};
    std::string link = body.substr(start, end - start);
    return link.find('\\') == std::string::npos ? link : std::string();
}

// Whether the same request may succeed later. A 500 counts for reads only (production clients
// retry it); for a write it leaves the outcome unknown, which only a read settles.
bool is_transient(int status, const std::string& body, bool read) {
    if (status == 429 || status == 502 || status == 503 || status == 504) return true;
    if (status == 500) return read;
    if (status != 400) return false;
    return std::any_of(std::begin(transient_exceptions), std::end(transient_exceptions),
                       [&](const char* name) { return contains(body, name); });
}

// A warning of Exchange's that the answer holds fewer rows than exist ("There are more results
// available than are currently displayed…", "By default, only the first 1000 items are returned…").
bool says_truncated(const std::string& warning) {
    return contains(warning, "more results available") || contains(warning, "only the first") ||
           contains(warning, "ResultSize");
}

bool refused_continuation(const ExchangeError& error) {
    return error.status() == 400 && contains(error.text(), "Expired or Invalid pagination request");
}

bool lacks_role(int status, const std::string& text) {
    return (status == 401 || status == 403) &&
           (contains(text, "is not allowed to call") || contains(text, "isn't supported in this scenario"));
}

}  // namespace

std::string error_text_of(const HttpResponse& response);

// Exchange's text, shown inert: it comes from the service and reaches terminals, logs and journals.
std::string exchange_error_text(const HttpResponse& response) { return printable(error_text_of(response)); }

std::string error_text_of(const HttpResponse& response) {
    const auto diagnostics = response.header("x-ms-diagnostics");
    const auto json = parse_json(response.body);
    if (json && json->has_object_field("error")) {
        const value& error = json->at("error");
        if (error.has_array_field("details") && error.at("details").size() > 0) {
            const value& first = error.at("details").at(0);
            if (first.has_string_field("message") && !first.at("message").as_string().empty())
                return detail_text(first.at("message").as_string());
        }
        if (error.has_object_field("innererror")) {
            const value& inner = error.at("innererror");
            if (inner.has_object_field("internalexception") &&
                inner.at("internalexception").has_string_field("message"))
                return inner.at("internalexception").at("message").as_string();
        }
        if (error.has_string_field("message")) return error.at("message").as_string();
    }
    if (!diagnostics.empty()) return diagnostics;
    // A 403 often comes with a body of NUL bytes; say so rather than print them.
    const bool printable = !response.body.empty() &&
                           std::none_of(response.body.begin(), response.body.end(), [](char c) { return c == '\0'; });
    return printable ? response.body.substr(0, 500) : "no error text in the answer";
}

ExchangeClient::ExchangeClient(HttpTransport& http, TokenClient& tokens, ExchangeSettings settings, Sleep sleep,
                               unsigned random_seed)
    : http_(http),
      tokens_(tokens),
      settings_(std::move(settings)),
      sleep_(sleep ? std::move(sleep)
                   : Sleep([](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); })),
      jitter_(random_seed) {
    settings_.page_size = std::clamp(settings_.page_size, 1, 1000);
}

std::string ExchangeClient::tenant() {
    if (tokens_.requests_made() == 0) tokens_.bearer();  // the GUID comes with the first token
    return tokens_.tenant_id().value_or(settings_.tenant);
}

std::map<std::string, std::string> ExchangeClient::signed_headers(const std::string& client_request_id) {
    return {{"Authorization", "Bearer " + tokens_.bearer()},
            {"X-AnchorMailbox", anchor_mailbox + tenant()},
            {"client-request-id", client_request_id}};
}

std::string ExchangeClient::invoke_url() {
    return trim_slash(settings_.exchange_endpoint) + "/adminapi/beta/" + tenant() + "/InvokeCommand";
}

std::chrono::milliseconds ExchangeClient::backoff(int attempt, const HttpResponse* response) {
    if (response && response->status == 429) {
        const std::string retry_after = response->header("retry-after");
        try {
            if (!retry_after.empty()) {
                const double seconds = std::stod(retry_after);
                if (seconds >= 0 && seconds < 3600)
                    return std::chrono::milliseconds{static_cast<long>(std::ceil(seconds * 1000))};
            }
        } catch (const std::exception&) {
            // An unreadable Retry-After falls back to our own backoff.
        }
    }
    const double grown = static_cast<double>(settings_.retry.first_delay.count()) * std::pow(2.0, attempt);
    const long capped = static_cast<long>(std::min(grown, static_cast<double>(settings_.retry.max_delay.count())));
    // Jitter in [capped/2, capped) keeps many clients from retrying in step.
    std::lock_guard lock(mutex_);
    return jitter_.spread(std::chrono::milliseconds{capped}, 0.5, 1.0);
}

HttpResponse ExchangeClient::send(const std::string& url, const std::string& cmdlet, const std::string& body,
                                  Replay replay, std::string& client_request_id, bool paged) {
    bool refreshed_token = false;
    for (int attempt = 0;; ++attempt) {
        client_request_id = new_guid();
        HttpRequest request{url, signed_headers(client_request_id), body};
        request.headers["Content-Type"] = "application/json";
        if (replay == Replay::write) request.connection = ConnectionUse::at_most_once;
        if (const auto slow = settings_.cmdlet_timeouts.find(cmdlet); slow != settings_.cmdlet_timeouts.end())
            request.timeout = slow->second;
        if (url.find("/$batch") == std::string::npos) {
            request.headers["X-CmdletName"] = cmdlet;
            request.headers["X-ResponseFormat"] = "json";
            if (paged) request.headers["Prefer"] = "odata.maxpagesize=" + std::to_string(settings_.page_size);
        } else {
            request.headers["Prefer"] = "odata.continue-on-error";
        }
        const auto fail = [&](int status, const std::string& text, bool uncertain, const std::string& advice = "") {
            std::string message = cmdlet + " failed: " + (status ? "HTTP " + std::to_string(status) + ": " : "") +
                                  text + " (client-request-id " + client_request_id + ")";
            if (!advice.empty()) message += "\n  what to check: " + advice;
            return ExchangeError(message, cmdlet, status, text, client_request_id, uncertain);
        };

        count([](ExchangeCounters& c) { ++c.requests; });
        HttpResponse response;
        try {
            response = http_.post(request);
        } catch (const TransportError& error) {
            if (replay == Replay::write && !error.before_sending())
                throw fail(0, std::string(error.what()) + "; the change may or may not have been made", true);
            if (attempt >= settings_.retry.max_retries) throw fail(0, error.what(), false);
            count([](ExchangeCounters& c) { ++c.retries; });
            sleep_(backoff(attempt, nullptr));
            continue;
        }
        count([&](ExchangeCounters& c) { c.bytes_received += static_cast<long long>(response.body.size()); });
        if (response.status >= 200 && response.status < 300) return response;

        if (const std::string redirect = response.redirect(); !redirect.empty())
            throw fail(response.status,
                       redirect + ", which authgate never follows: the request and its token go only to " +
                           origin_of(url),
                       false, "--exchange-endpoint, or a proxy between this machine and " + origin_of(url));
        const std::string text = exchange_error_text(response);
        if (contains(text, "is not allowed to call"))
            throw fail(response.status, text, false,
                       "the app's Entra directory role does not allow " + cmdlet +
                           ": assign Exchange Administrator to the app's service principal to apply (Global Reader is "
                           "enough to plan)");
        if (response.status == 403 || contains(text, "isn't supported in this scenario"))
            throw fail(
                response.status, text, false,
                "the app has the Exchange.ManageAsApp permission but no Entra directory role: in the Entra admin "
                "center, Roles and administrators, assign Exchange Administrator (to apply) or Global Reader (to "
                "plan) to the app's service principal");
        if (response.status == 401 && refreshed_token)
            throw fail(response.status, text, false,
                       "Exchange refused a fresh token: give the app the application permission Exchange.ManageAsApp "
                       "(API permissions, Office 365 Exchange Online) and grant admin consent for it");
        if (response.status == 401 && !refreshed_token) {
            // The token may have expired in flight or been revoked: ask for a new one, once.
            const std::string& authorization = request.headers.at("Authorization");
            tokens_.invalidate(authorization.substr(authorization.find(' ') + 1));
            refreshed_token = true;
            continue;
        }
        // A server error on a write may come after the write was made (a front end that lost the
        // back end's answer): only a read settles it.
        const bool transient = is_transient(response.status, response.body, replay == Replay::read);
        if (replay == Replay::write && response.status != 429 && (response.status >= 500 || transient))
            throw fail(response.status, text + "; the change may or may not have been made", true);
        if (!transient) throw fail(response.status, text, false);
        if (attempt >= settings_.retry.max_retries)
            throw fail(response.status, text + "; gave up after " + std::to_string(attempt) + " retries", false);
        count([](ExchangeCounters& c) { ++c.retries; });
        sleep_(backoff(attempt, &response));
    }
}

void ExchangeClient::read(const Cmdlet& invoked, const std::vector<std::string>& select,
                          const std::function<void()>& begin,
                          const std::function<void(const simdjson::dom::element&)>& each) {
    const std::string& cmdlet = invoked.name;
    std::string first_url = invoke_url();
    for (std::size_t i = 0; i < select.size(); ++i) first_url += (i ? "," : "?$select=") + select[i];
    const std::string body = invocation(invoked).serialize();
    const std::string origin = origin_of(settings_.exchange_endpoint);

    // While one page is parsed, the next is already on its way: its link is found with a plain
    // search of the body first (a JSON text cannot hold that key and colon inside a string), and
    // used only if the parsed page gives the very same link.
    struct Fetched {
        HttpResponse response;
        std::string request_id;
    };
    bool paged = true;
    const auto fetch = [this, &cmdlet, &body, &paged](const std::string& url) {
        Fetched fetched;
        fetched.response = send(url, cmdlet, body, Replay::read, fetched.request_id, paged);
        return fetched;
    };

    // A read is complete only when its last answer has no nextLink and no warning that more rows
    // exist. A refused continuation ("Expired or Invalid pagination request": an expired link, or
    // a service that binds it to one back end) restarts the read; the first restart asks without
    // Prefer: odata.maxpagesize, for the whole list in one answer, which needs no continuation.
    PageParser pages;
    std::optional<ExchangeError> first_refusal;
    for (int restarts = 0;; ++restarts) {
        begin();
        paged = restarts != 1;
        std::string url = first_url;
        int page_count = 0;
        std::string ahead_url;
        std::future<Fetched> ahead;
        try {
            while (!url.empty()) {
                Fetched fetched;
                if (ahead.valid() && ahead_url == url) {
                    fetched = ahead.get();
                } else {
                    if (ahead.valid()) ahead.wait();  // a look-ahead that is not used: one request at a time
                    fetched = fetch(url);
                }
                const HttpResponse& response = fetched.response;
                const std::string& request_id = fetched.request_id;
                count([](ExchangeCounters& c) { ++c.pages; });

                ++page_count;
                ahead_url = next_link_in(response.body);
                if (!ahead_url.empty() && origin_of(ahead_url) == origin && page_count < settings_.max_pages)
                    ahead = std::async(std::launch::async, fetch, ahead_url);

                const PageParser::Page page = pages.read(response.body, each);
                if (!page.problem.empty())
                    throw ExchangeError(cmdlet + " failed: " + page.problem + " (client-request-id " + request_id + ")",
                                        cmdlet, response.status, page.problem, request_id);
                if (page_count >= settings_.max_pages && page.next_link)
                    throw ExchangeError(cmdlet + " failed: more than " + std::to_string(settings_.max_pages) +
                                            " pages; the list is not read to its end (client-request-id " + request_id +
                                            ")",
                                        cmdlet, response.status, "too many pages", request_id);
                url.clear();
                if (page.next_link) {
                    const std::string& next = *page.next_link;
                    // The bearer token goes to the Exchange endpoint and nowhere else.
                    if (origin_of(next) != origin)
                        throw ExchangeError(cmdlet + " failed: refusing to follow @odata.nextLink to another origin (" +
                                                (origin_of(next).empty() ? next : origin_of(next)) +
                                                "); the token is only sent to " + origin + " (client-request-id " +
                                                request_id + ")",
                                            cmdlet, response.status, "nextLink to another origin", request_id);
                    url = next;
                    continue;
                }
                // The last answer: a truncation warning means rows are missing, and no link leads to them.
                for (const std::string& warning : page.warnings)
                    if (says_truncated(warning))
                        throw ExchangeError(cmdlet + " failed: the last answer says more rows exist than it holds (\"" +
                                                warning +
                                                "\") and gives no link to them; the list is not complete "
                                                "(client-request-id " +
                                                request_id + ")",
                                            cmdlet, response.status, "truncated", request_id);
            }
            return;
        } catch (const ExchangeError& error) {
            if (ahead.valid()) ahead.wait();
            if (!refused_continuation(error)) throw;
            count([](ExchangeCounters& c) { ++c.refused_continuations; });
            if (!first_refusal) first_refusal = error;
            if (restarts >= settings_.max_read_restarts)
                throw ExchangeError(std::string(first_refusal->what()) + "\n  Exchange refused to continue the list " +
                                        std::to_string(restarts + 1) +
                                        " times, and an answer without paging was not whole either: the read is "
                                        "not complete, so nothing is planned from it",
                                    cmdlet, first_refusal->status(), first_refusal->text(),
                                    first_refusal->client_request_id());
        }
    }
}

CmdletResult ExchangeClient::write(const Cmdlet& cmdlet) {
    CmdletResult result;
    const HttpResponse response = send(invoke_url(), cmdlet.name, invocation(cmdlet).serialize(), Replay::write,
                                       result.client_request_id);
    const auto answer = parse_json(response.body);
    if (answer && answer->has_array_field("value"))
        for (const value& object : answer->at("value").as_array()) result.objects.push_back(object.serialize());
    if (answer && answer->has_array_field("@adminapi.warnings"))
        for (const value& warning : answer->at("@adminapi.warnings").as_array())
            if (warning.is_string()) result.warnings.push_back(warning.as_string());
    return result;
}

std::vector<std::string> ExchangeClient::allowed_cmdlets() {
    const std::string url = trim_slash(settings_.exchange_endpoint) + "/adminapi/v1.0/" + tenant() +
                            "/EXOModuleFile?Version=3.7.1";
    const std::string request_id = new_guid();
    HttpRequest request{url, signed_headers(request_id), ""};
    request.headers["CommandName"] = "*";
    request.method = "GET";
    count([](ExchangeCounters& c) { ++c.requests; });
    HttpResponse response;
    try {
        response = http_.post(request);
    } catch (const TransportError& error) {
        throw ExchangeError(std::string("EXOModuleFile failed: ") + error.what(), "EXOModuleFile", 0, error.what(),
                            request_id);
    }
    const auto fail = [&](const std::string& text) {
        return ExchangeError("EXOModuleFile failed: HTTP " + std::to_string(response.status) + ": " + text +
                                 " (client-request-id " + request_id + ")",
                             "EXOModuleFile", response.status, text, request_id);
    };
    if (const std::string redirect = response.redirect(); !redirect.empty()) throw fail(redirect + ", not followed");
    if (response.status < 200 || response.status >= 300) throw fail(exchange_error_text(response));
    const auto answer = parse_json(response.body);
    if (!answer || !answer->has_array_field("value") || answer->at("value").size() == 0 ||
        !answer->at("value").at(0).has_string_field("exportedCmdlets"))
        throw fail("the answer has no value[0].exportedCmdlets");
    std::vector<std::string> cmdlets;
    std::string list = answer->at("value").at(0).at("exportedCmdlets").as_string();
    for (std::size_t start = 0; start <= list.size();) {
        const std::size_t end = std::min(list.find(',', start), list.size());
        std::string name = list.substr(start, end - start);
        while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front()))) name.erase(name.begin());
        while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
        if (!name.empty()) cmdlets.push_back(name);
        start = end + 1;
    }
    return cmdlets;
}

ExchangeCounters ExchangeClient::counters() const {
    std::lock_guard lock(mutex_);
    return counters_;
}

std::string ExchangeClient::batch_url() {
    return trim_slash(settings_.exchange_endpoint) + "/adminapi/beta/" + tenant() + "/$batch";
}

WriteOutcome ExchangeClient::write_one(const Cmdlet& write) {
    WriteOutcome outcome;
    try {
        CmdletResult result = this->write(write);
        outcome.result = WriteResult::made;
        outcome.client_request_id = result.client_request_id;
        outcome.warnings = std::move(result.warnings);
    } catch (const ExchangeError& error) {
        outcome.result = error.uncertain() ? WriteResult::uncertain : WriteResult::refused;
        outcome.error = error.what();
        outcome.client_request_id = error.client_request_id();
    } catch (const ConnectorError& error) {
        outcome.error = write.name + " failed: " + error.what();
    }
    return outcome;
}

void ExchangeClient::write_batch(const std::vector<Cmdlet>& writes, std::size_t first, std::size_t count,
                                 std::vector<WriteOutcome>& outcomes) {
    // Every item carries the whole header set, bearer and anchor included, as production clients
    // send it: a service that checks items on their own then takes them.
    std::string bearer, item_url, endpoint, anchor;
    try {
        bearer = "Bearer " + tokens_.bearer();
        item_url = invoke_url();
        endpoint = batch_url();
        anchor = anchor_mailbox + tenant();
    } catch (const ConnectorError& error) {
        // No token: the batch is never sent. (Thrown on a worker thread, this would end the program.)
        for (std::size_t i = 0; i < count; ++i)
            outcomes[first + i] = {WriteResult::refused, writes[first + i].name + " failed: " + error.what(), "", {}};
        return;
    }
    value requests = value::array(count);
    for (std::size_t i = 0; i < count; ++i) {
        const Cmdlet& write = writes[first + i];
        const value envelope = invocation(write);
        value headers = value::object(true);
        headers["Authorization"] = value::string(bearer);
        headers["X-AnchorMailbox"] = value::string(anchor);
        headers["X-CmdletName"] = value::string(write.name);
        headers["X-ResponseFormat"] = value::string("json");
        headers["Content-Type"] = value::string("application/json");
        value request = value::object(true);
        request["id"] = value::string(std::to_string(i + 1));
        request["method"] = value::string("POST");
        request["url"] = value::string(item_url);
        request["headers"] = headers;
        request["body"] = envelope;
        requests[i] = request;
    }
    value body = value::object(true);
    body["requests"] = requests;

    std::string request_id;
    HttpResponse response;
    try {
        response = send(endpoint, "$batch", body.serialize(), Replay::write, request_id);
    } catch (const ExchangeError& error) {
        if (!error.uncertain()) {
            // The batch was refused whole, so nothing in it ran: send each write on its own.
            for (std::size_t i = 0; i < count; ++i) outcomes[first + i] = write_one(writes[first + i]);
            return;
        }
        for (std::size_t i = 0; i < count; ++i)
            outcomes[first + i] = {
                WriteResult::uncertain, writes[first + i].name + " in " + error.what(), error.client_request_id(), {}};
        return;
    } catch (const ConnectorError& error) {
        // No token: the batch was never sent. (Thrown on a worker thread, this would end the program.)
        for (std::size_t i = 0; i < count; ++i)
            outcomes[first + i] = {WriteResult::refused, writes[first + i].name + " failed: " + error.what(), "", {}};
        return;
    }

    std::vector<bool> answered(count, false);
    const auto answer = parse_json(response.body);
    if (answer && answer->has_array_field("responses")) {
        for (const value& item : answer->at("responses").as_array()) {
            // A status that is not a whole number is no answer (casting it would be undefined).
            if (!item.has_string_field("id") || !item.has_number_field("status") ||
                !item.at("status").as_number().is_int32())
                continue;
            std::size_t index = 0;
            try {
                index = std::stoul(item.at("id").as_string()) - 1;
            } catch (const std::exception&) {
                continue;
            }
            if (index >= count || answered[index]) continue;
            answered[index] = true;
            const Cmdlet& write = writes[first + index];
            WriteOutcome& outcome = outcomes[first + index];
            const int status = item.at("status").as_integer();
            const value item_body = item.has_field("body") ? item.at("body") : value::object();
            if (status >= 200 && status < 300) {
                outcome = {WriteResult::made, "", request_id, {}};
                if (item_body.has_array_field("@adminapi.warnings"))
                    for (const value& warning : item_body.at("@adminapi.warnings").as_array())
                        if (warning.is_string()) outcome.warnings.push_back(warning.as_string());
            } else if (status == 429 ||
                       (status == 401 &&
                        !lacks_role(status, exchange_error_text({status, {}, item_body.serialize()})))) {
                // Throttled, or refused its credentials, before it ran: safe to send again, on its own.
                outcome = write_one(write);
            } else {
                const std::string text = exchange_error_text({status, {}, item_body.serialize()});
                const bool uncertain = status >= 500;
                outcome = {uncertain ? WriteResult::uncertain : WriteResult::refused,
                           write.name + " failed: HTTP " + std::to_string(status) + ": " + text +
                               (uncertain ? "; the change may or may not have been made" : "") +
                               " (client-request-id " + request_id + ", $batch item " + std::to_string(index + 1) + ")",
                           request_id,
                           {}};
            }
        }
    }
    for (std::size_t i = 0; i < count; ++i)
        if (!answered[i])
            outcomes[first + i] = {WriteResult::uncertain,
                                   writes[first + i].name + " failed: the $batch answer has no response for item " +
                                       std::to_string(i + 1) + " (client-request-id " + request_id + ")",
                                   request_id,
                                   {}};
}

std::vector<WriteOutcome> ExchangeClient::write_many(const std::vector<Cmdlet>& writes, int in_flight) {
    constexpr std::size_t batch_size = 10;  // the most $batch takes
    std::vector<WriteOutcome> outcomes(writes.size());
    if (writes.size() == 1) {  // a batch of one only adds an envelope
        outcomes[0] = write_one(writes[0]);
        return outcomes;
    }
    const std::size_t batches = (writes.size() + batch_size - 1) / batch_size;
    std::atomic<std::size_t> next{0};
    const auto worker = [&] {
        for (std::size_t batch; (batch = next++) < batches;) {
            const std::size_t first = batch * batch_size;
            write_batch(writes, first, std::min(batch_size, writes.size() - first), outcomes);
        }
    };
    const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(std::max(1, in_flight)), batches);
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
    worker();
    for (auto& thread : pool) thread.join();
    return outcomes;
}

}  // namespace authgate
