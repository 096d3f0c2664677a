// Exchange Online's error envelope. Cmdlet failures carry "ErrorId|ExceptionType|text" in
// details[0].message (this folder's README.md, "Errors of cmdlets"); request-level problems
// (headers, JSON) carry only code and message.
#pragma once

#include <cpprest/json.h>

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "http_message.h"

namespace sandbox {

struct ExchangeError {
    int status = 400;
    std::string code = "BadRequest";
    std::string message;         // error.message
    std::string error_id;        // e.g. Ex6F9304; empty for request-level errors
    std::string exception_type;  // e.g. Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException
    std::string text;            // what went wrong, in Exchange's words
    Headers headers;             // extra response headers (Retry-After, x-ms-diagnostics)

    web::json::value envelope() const;
};

// Cmdlets throw this; the call is answered with its error.
class CmdletFailure : public std::exception {
public:
    explicit CmdletFailure(ExchangeError error) : error_(std::move(error)) {}
    const ExchangeError& error() const { return error_; }
    const char* what() const noexcept override { return error_.text.c_str(); }

private:
    ExchangeError error_;
};

namespace exchange {

// The server Exchange names in "couldn't be found on '…'".
inline constexpr std::string_view kServerName = "AM6PR01A001DC01.EURPR01A001.prod.outlook.com";

ExchangeError request_error(int status, std::string code, std::string message);
ExchangeError cmdlet_error(std::string error_id, std::string exception_type, std::string text);

ExchangeError object_not_found(std::string_view identity);
ExchangeError ambiguous_identity(std::string_view identity);
ExchangeError cmdlet_not_found(std::string_view cmdlet);
ExchangeError parameter_not_found(std::string_view parameter);
ExchangeError missing_mandatory(const std::vector<std::string>& parameters);
ExchangeError null_argument(std::string_view parameter);
ExchangeError argument_transformation(std::string_view parameter, std::string_view reason);
ExchangeError argument_validation(std::string_view parameter, std::string_view reason);
ExchangeError invalid_pagination();
ExchangeError not_allowed(std::string_view cmdlet);

}  // namespace exchange
}  // namespace sandbox
