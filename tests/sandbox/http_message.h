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
};

// What the server does with the connection: answer, or close it without a byte of answer
// (the drop_connection fault).
enum class Delivery { answer, drop_connection };

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  Delivery delivery = Delivery::answer;

  static HttpResponse json(int status, const web::json::value& body);
  static HttpResponse dropped_connection();           // nothing is sent; the connection is closed
  std::optional<web::json::value> json_body() const;  // nullopt when the body is not JSON
};

// The value of a query parameter; OData names ($select, $skiptoken) match exactly.
std::optional<std::string> query_value(const QueryParameters& query, std::string_view name);

// Splits "a=1&b=2" into decoded pairs; '+' is a space as in HTML forms.
QueryParameters parse_form(std::string_view encoded);
std::string percent_decode(std::string_view text, bool plus_is_space);

}  // namespace sandbox
