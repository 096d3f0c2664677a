#include "batch.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "cmdlets.h"
#include "invoke_command.h"
#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

struct BatchItem {
    std::string id;
    std::optional<CmdletCall> call;
    std::optional<ExchangeError> refusal;  // the item could not be read: answered without running
};

CallAnswer refused(const std::string& message, int status = 400) {
    return CallAnswer::failure(exchange::request_error(status, "BadRequest", message));
}

// The item's URL must be this tenant's InvokeCommand; absolute URLs must name this server.
std::optional<std::string> item_url_problem(const SandboxState& state, const std::string& url,
                                            const std::string& tenant_segment, QueryParameters& query) {
    std::string rest = url;
    if (istarts_with(rest, "https://")) {
        const auto origins = state.origins();
        const auto origin = std::find_if(origins.begin(), origins.end(),
                                         [&](const std::string& o) { return istarts_with(rest, o + "/"); });
        if (origin == origins.end()) return "the url '" + url + "' is not on this server";
        rest = rest.substr(origin->size());
    }
    const size_t question = rest.find('?');
    if (question != std::string::npos) query = parse_form(std::string_view(rest).substr(question + 1));
    std::string path = percent_decode(rest.substr(0, question), false);
    if (!path.starts_with("/")) path = "/" + path;
    const std::string expected = "/adminapi/beta/" + tenant_segment + "/InvokeCommand";
    if (!iequals(path, expected)) return "the url '" + url + "' is not " + expected;
    return std::nullopt;
}

BatchItem read_item(const SandboxState& state, const value& request, const std::string& tenant_segment,
                    const std::string& origin, const HttpRequest& outer) {
    BatchItem item;
    item.id = text_property(request, "id");
    if (!iequals(text_property(request, "method"), "POST")) {
        item.refusal = exchange::request_error(405, "MethodNotAllowed",
                                               "Request '" + item.id + "': InvokeCommand accepts only POST.");
        return item;
    }
    QueryParameters query;
    if (const auto problem = item_url_problem(state, text_property(request, "url"), tenant_segment, query)) {
        item.refusal = exchange::request_error(400, "BadRequest", "Request '" + item.id + "': " + *problem + ".");
        return item;
    }
    Headers headers;
    if (request.has_field("headers") && request.at("headers").is_object()) {
        for (const auto& [name, header] : request.at("headers").as_object()) {
            if (header.is_string()) headers.set(name, header.as_string());
        }
    }
    // --batch-items-need-token: an item is authorised by its own headers, as the outer request is.
    if (state.config.behaviours.batch_items_need_token &&
        (!headers.get("Authorization") || !headers.get("X-AnchorMailbox") ||
         headers.get("Authorization") != outer.headers.get("Authorization") ||
         !iequals(*headers.get("X-AnchorMailbox"), outer.headers.get("X-AnchorMailbox").value_or("")))) {
        item.refusal = exchange::request_error(401, "Unauthorized",
                                               "Request '" + item.id +
                                                   "': the Authorization and X-AnchorMailbox headers "
                                                   "of the request are missing.");
        return item;
    }
    if (!request.has_field("body") || !request.at("body").is_object()) {
        item.refusal = exchange::request_error(400, "BadRequest",
                                               "Request '" + item.id + "': body must be a JSON object.");
        return item;
    }
    auto read = read_cmdlet_call(state, headers, query, request.at("body").serialize(), false);
    if (auto* error = std::get_if<ExchangeError>(&read)) {
        item.refusal = *error;
        return item;
    }
    item.call = std::get<CmdletCall>(std::move(read));
    item.call->id = item.id;
    item.call->tenant_segment = tenant_segment;
    item.call->origin = origin;
    item.call->batch_item = true;
    return item;
}

// Reads the whole batch document; an error here refuses the whole request.
std::variant<std::vector<BatchItem>, std::string> read_batch(const SandboxState& state, const HttpRequest& request,
                                                             const std::string& tenant_segment) {
    value document;
    try {
        document = value::parse(request.body);
    } catch (const web::json::json_exception&) {
        return std::string("The $batch body is not JSON.");
    }
    if (!document.is_object() || !document.has_field("requests") || !document.at("requests").is_array()) {
        return std::string("The $batch body must be {\"requests\":[…]}.");
    }
    const auto& requests = document.at("requests").as_array();
    if (requests.size() > kMaximumBatchRequests) {
        return "The $batch request has " + std::to_string(requests.size()) + " requests; at most " +
               std::to_string(kMaximumBatchRequests) + " are allowed.";
    }
    const std::string origin = state.origin_for(request.headers.get("Host"));
    std::vector<BatchItem> items;
    std::set<std::string> ids;
    for (const value& entry : requests) {
        if (!entry.is_object() || text_property(entry, "id").empty())
            return std::string("Every $batch request needs a string id.");
        if (!ids.insert(text_property(entry, "id")).second)
            return "The id '" + text_property(entry, "id") + "' is used twice.";
        items.push_back(read_item(state, entry, tenant_segment, origin, request));
    }
    return items;
}

value item_response(const std::string& id, const CallAnswer& answer) {
    value headers = value::object(true);
    headers["Content-Type"] = value::string("application/json");
    for (const auto& [name, header] : answer.headers.all()) headers[name] = value::string(header);
    value response = value::object(true);
    response["id"] = value::string(id);
    response["status"] = value::number(answer.status);
    response["headers"] = headers;
    response["body"] = answer.body_value();
    return response;
}

// A seeded shuffle that never leaves two or more responses in the order they were asked for.
void shuffle(std::vector<value>& responses, unsigned seed) {
    if (responses.size() < 2) return;
    std::vector<size_t> order(responses.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 random(seed);
    std::shuffle(order.begin(), order.end(), random);
    if (std::is_sorted(order.begin(), order.end())) std::rotate(order.begin(), order.begin() + 1, order.end());
    std::vector<value> shuffled;
    for (const size_t index : order) shuffled.push_back(responses[index]);
    responses = std::move(shuffled);
}

}  // namespace

HttpResponse handle_batch(SandboxState& state, const HttpRequest& request, const std::string& tenant_segment) {
    state.journal.count_batch_request();
    if (auto refusal = refuse_exchange_request(state, request, tenant_segment)) return *refusal;
    const auto content_type = request.headers.get("Content-Type");
    if (!content_type || !istarts_with(*content_type, "application/json")) {
        return exchange_http_response(state, request,
                                      refused("The request Content-Type must be application/json.", 415));
    }
    auto read = read_batch(state, request, tenant_segment);
    if (const auto* problem = std::get_if<std::string>(&read))
        return exchange_http_response(state, request, refused(*problem));
    const auto& items = std::get<std::vector<BatchItem>>(read);

    std::vector<std::string> cmdlets;
    for (const auto& item : items) {
        if (!item.call) continue;
        cmdlets.push_back(item.call->cmdlet);
        const CmdletDefinition* known = find_cmdlet(item.call->cmdlet);
        state.journal.count_cmdlet(known ? std::string(known->name) : item.call->cmdlet);
    }
    // Faults without a cmdlet filter answer the whole request, as a server would.
    if (state.faults.take_nul_403()) return nul_403_response(state, request);
    if (const auto throttle = state.faults.take_throttle({"", false}))
        return exchange_http_response(state, request, throttled_answer(*throttle));
    if (const auto failure = state.faults.take_server_error({"", false}))
        return exchange_http_response(state, request, server_error_answer(failure->status));
    const auto drop = state.faults.take_drop_connection(cmdlets);
    if (drop && drop->when == DropMoment::before_processing) return deliver(drop, std::nullopt, {});
    const auto slow = state.faults.take_slow_answer(cmdlets);

    // Without odata.continue-on-error the batch stops at the first failure.
    const bool continue_on_error = prefers(request.headers, "odata.continue-on-error");
    bool stopped = false;
    std::vector<value> responses;
    for (const auto& item : items) {
        CallAnswer answer;
        if (stopped) {
            answer = CallAnswer::failure(exchange::request_error(
                424, "FailedDependency",
                "Not run: an earlier request of the batch failed and odata.continue-on-error was not requested."));
        } else {
            answer = item.refusal ? CallAnswer::failure(*item.refusal) : answer_call(state, *item.call);
            stopped = answer.status >= 400 && !continue_on_error;
        }
        responses.push_back(item_response(item.id, answer));
    }
    shuffle(responses, state.config.batch_seed + state.batches_answered++);

    CallAnswer answer;
    answer.body = value::object(true);
    answer.body["responses"] = value::array(responses);
    return deliver(drop, slow, exchange_http_response(state, request, std::move(answer)));
}

}  // namespace sandbox
