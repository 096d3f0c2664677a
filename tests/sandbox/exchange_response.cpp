#include "exchange_response.h"

#include <algorithm>

#include "crypto.h"
#include "sandbox_state.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr const char* kODataJson =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

bool is_annotation(const std::string& name) { return name.find('@') != std::string::npos; }

void count_request(RateWindow& rate, Instant now) {
    if (now >= rate.start + std::chrono::minutes(1)) {
        rate.start = std::chrono::floor<std::chrono::minutes>(now);
        rate.used = 0;
    }
    ++rate.used;
}

}  // namespace

CallAnswer CallAnswer::failure(const ExchangeError& error) {
    CallAnswer answer;
    answer.status = error.status;
    answer.headers = error.headers;
    answer.body = error.envelope();
    return answer;
}

value render_object(const value& stored) {
    value rendered = value::object(true);
    for (const auto& [name, property] : stored.as_object()) {
        if (name == "Guid") rendered["Guid@odata.type"] = value::string("#Guid");
        rendered[name] = property;
    }
    return rendered;
}

value select_properties(const value& rendered, const std::vector<std::string>& select) {
    if (select.empty()) return rendered;
    const auto selected = [&](const std::string& name) {
        return name == "Identity" || std::any_of(select.begin(), select.end(),
                                                 [&](const std::string& wanted) { return iequals(wanted, name); });
    };
    value shrunk = value::object(true);
    for (const auto& [name, property] : rendered.as_object()) {
        const std::string owner = is_annotation(name) ? name.substr(0, name.find('@')) : name;
        if (selected(owner)) shrunk[name] = property;
    }
    return shrunk;
}

void append_selected(std::string& out, const value& stored, const std::vector<std::string>& select) {
    const auto selected = [&](const std::string& name) {
        return select.empty() || name == "Identity" ||
               std::any_of(select.begin(), select.end(),
                           [&](const std::string& wanted) { return iequals(wanted, name); });
    };
    const auto member = [&](const std::string& name, const value& property) {
        out += out.back() == '{' ? "" : ",";
        out += value::string(name).serialize();
        out += ':';
        out += property.serialize();
    };
    out += '{';
    for (const auto& [name, property] : stored.as_object()) {
        if (name == "Guid" && selected("Guid")) member("Guid@odata.type", value::string("#Guid"));
        if (selected(is_annotation(name) ? name.substr(0, name.find('@')) : name)) member(name, property);
    }
    out += '}';
}

std::string success_envelope_text(const std::string& origin, const std::string& tenant_segment,
                                  const std::string& values, const std::vector<std::string>& warnings,
                                  const std::optional<std::string>& next_link) {
    value head = success_envelope(origin, tenant_segment, {}, warnings, std::nullopt);
    std::string text = head.serialize();
    // The envelope ends with "value":[]}: put the objects between the brackets.
    const std::string empty_values = "\"value\":[]}";
    text.resize(text.size() - empty_values.size());
    text += "\"value\":[" + values + "]";
    if (next_link) text += ",\"@odata.nextLink\":" + value::string(*next_link).serialize();
    return text + "}";
}

value success_envelope(const std::string& origin, const std::string& tenant_segment, std::vector<value> values,
                       const std::vector<std::string>& warnings, const std::optional<std::string>& next_link) {
    std::vector<value> warning_values;
    for (const auto& warning : warnings) warning_values.push_back(value::string(warning));
    value envelope = value::object(true);
    envelope["@odata.context"] =
        value::string(origin + "/adminapi/beta/" + tenant_segment + "/$metadata#Collection(Exchange.GenericHashTable)");
    envelope["adminapi.warnings@odata.type"] = value::string("#Collection(String)");
    envelope["@adminapi.warnings"] = value::array(warning_values);
    envelope["value"] = value::array(values);
    if (next_link) envelope["@odata.nextLink"] = value::string(*next_link);
    return envelope;
}

CallAnswer server_error_answer(int status) {
    switch (status) {
        case 503:
            return CallAnswer::failure(exchange::request_error(
                503, "ServiceUnavailable", "The service is temporarily unavailable. Try again later."));
        case 502:
            return CallAnswer::failure(exchange::request_error(
                502, "BadGateway", "The front end received an invalid answer from the back end."));
        case 504:
            return CallAnswer::failure(
                exchange::request_error(504, "GatewayTimeout", "The server did not answer in time."));
        default:
            return CallAnswer::failure(exchange::request_error(
                status, "InternalServerError", "An internal server error occurred. The operation failed."));
    }
}

CallAnswer throttled_answer(const ThrottleFault& fault) {
    ExchangeError error = exchange::request_error(
        429, "TooManyRequests", "The request was throttled. Retry after the time in the Retry-After header.");
    if (fault.retry_after) error.headers.set("Retry-After", *fault.retry_after);
    return CallAnswer::failure(error);
}

ExchangeError transient_exception(const std::string& name) {
    const std::string area = name.starts_with("Storage") ? "Storage" : "Directory";
    return exchange::cmdlet_error("Ex0B3F4E", "Microsoft.Exchange.Data." + area + "." + name,
                                  "The operation couldn't be performed because of a transient condition on '" +
                                      std::string(exchange::kServerName) + "' (" + name + "). Try again later.");
}

HttpResponse exchange_http_response(SandboxState& state, const HttpRequest& request, CallAnswer answer) {
    const Instant now = state.clock();
    count_request(state.rate, now);
    HttpResponse response;
    response.status = answer.status;
    response.headers = std::move(answer.headers);
    if (answer.text || !answer.body.is_null()) {
        response.headers.set("Content-Type", answer.status < 400 ? kODataJson : "application/json; charset=utf-8");
        response.body = answer.text ? std::move(*answer.text) : answer.body.serialize();
    }
    response.headers.set("request-id", random_guid());
    if (const auto client_request_id = request.headers.get("client-request-id")) {
        response.headers.set("client-request-id", *client_request_id);
    }
    response.headers.set("OData-Version", "4.0");
    response.headers.set("Rate-Limit-Limit", std::to_string(RateWindow::kLimit));
    response.headers.set("Rate-Limit-Remaining", std::to_string(std::max(0, RateWindow::kLimit - state.rate.used)));
    response.headers.set("Rate-Limit-Reset", rfc3339(state.rate.start + std::chrono::minutes(1)));
    return response;
}

}  // namespace sandbox
