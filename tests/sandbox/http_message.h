// The sandbox's own request and response types. Handlers take and return these instead of
// cpprest's http_request, so tests can call every endpoint in process without a socket.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sandbox {

// Header names compare case-insensitively, as HTTP says; order of insertion is kept.
class Headers {
public:
    void set(std::string name, std::string value);
    void remove(std::string_view name);
    std::optional<std::string> get(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>>& all() const { return entries_; }

private:
    std::vector<std::pair<std::string, std::string>> entries_;
};

using QueryParameters = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method;
    std::string path;       // percent-decoded, without the query
    QueryParameters query;  // names and values percent-decoded, in order
    Headers headers;
    std::string body;
    bool plain_http = false;  // came to the plain-HTTP listener (managed identity endpoints only)
};

// What the server does with the connection (the drop_connection fault): answer; or cut it after
// headers announcing a body; after the headers and half of the body; or close it without a byte.
enum class Delivery { answer, drop_connection, drop_in_body, close_without_answer };

struct HttpResponse {
    int status = 200;
    Headers headers;
    std::string body;
    Delivery delivery = Delivery::answer;
    int delay_ms = 0;  // the answer is held back this long (the slow_answer fault)

    static HttpResponse json(int status, const web::json::value& body);
    static HttpResponse dropped_connection();           // headers and no body; the connection is closed
    std::optional<web::json::value> json_body() const;  // nullopt when the body is not JSON
};

// The value of a query parameter; OData names ($select, $skiptoken) match exactly.
std::optional<std::string> query_value(const QueryParameters& query, std::string_view name);

// Splits "a=1&b=2" into decoded pairs; '+' is a space as in HTML forms.
QueryParameters parse_form(std::string_view encoded);
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace sandbox
