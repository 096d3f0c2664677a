#include "exchange_error.h"

namespace sandbox {

namespace {
constexpr const char* kBindingException = "System.Management.Automation.ParameterBindingException";
}

web::json::value ExchangeError::envelope() const {
    using web::json::value;
    value error = value::object(true);
    error["code"] = value::string(code);
    error["message"] = value::string(message);
    if (!exception_type.empty()) {
        value detail = value::object(true);
        detail["code"] = value::string("Client");
        detail["target"] = value::string("");
        detail["message"] = value::string(error_id + "|" + exception_type + "|" + text);
        error["details"] = value::array({detail});
        value internal = value::object(true);
        internal["message"] = value::string(text);
        internal["type"] = value::string(exception_type);
        value inner = value::object(true);
        inner["message"] = value::string(text);
        inner["type"] = value::string("Microsoft.Exchange.Admin.OData.Core.ODataServiceException");
        inner["internalexception"] = internal;
        error["innererror"] = inner;
    }
    value body = value::object(true);
    body["error"] = error;
    return body;
}

namespace exchange {

ExchangeError request_error(int status, std::string code, std::string message) {
    ExchangeError error;
    error.status = status;
    error.code = std::move(code);
    error.text = message;
    error.message = std::move(message);
    return error;
}

ExchangeError cmdlet_error(std::string error_id, std::string exception_type, std::string text) {
    ExchangeError error;
    error.message = "Error executing cmdlet";
    error.error_id = std::move(error_id);
    error.exception_type = std::move(exception_type);
    error.text = std::move(text);
    return error;
}

ExchangeError object_not_found(std::string_view identity) {
    return cmdlet_error("Ex6F9304", "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
                        "The operation couldn't be performed because object '" + std::string(identity) +
                            "' couldn't be found on '" + std::string(kServerName) + "'.");
}

ExchangeError ambiguous_identity(std::string_view identity) {
    return cmdlet_error("Ex3D4C6A", "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException",
                        "The operation couldn't be performed because '" + std::string(identity) +
                            "' matches multiple entries.");
}

ExchangeError cmdlet_not_found(std::string_view cmdlet) {
    return cmdlet_error("ExB0E5B6", "System.Management.Automation.CommandNotFoundException",
                        "The term '" + std::string(cmdlet) +
                            "' is not recognized as the name of a cmdlet, function, script file, or operable program.");
}

ExchangeError parameter_not_found(std::string_view parameter) {
    return cmdlet_error("Ex5E3A8B", kBindingException,
                        "A parameter cannot be found that matches parameter name '" + std::string(parameter) + "'.");
}

ExchangeError missing_mandatory(const std::vector<std::string>& parameters) {
    std::string names;
    for (const auto& name : parameters) names += (names.empty() ? "" : ", ") + name;
    return cmdlet_error("Ex5E3A8C", kBindingException,
                        "Cannot process command because of one or more missing mandatory parameters: " + names + ".");
}

ExchangeError null_argument(std::string_view parameter) {
    return cmdlet_error("Ex7A1D0F", "System.Management.Automation.ParameterBindingValidationException",
                        "Cannot bind argument to parameter '" + std::string(parameter) + "' because it is null.");
}

ExchangeError argument_transformation(std::string_view parameter, std::string_view reason) {
    return cmdlet_error("Ex9C2E41", "System.Management.Automation.ParameterBindingArgumentTransformationException",
                        "Cannot process argument transformation on parameter '" + std::string(parameter) + "'. " +
                            std::string(reason));
}

ExchangeError argument_validation(std::string_view parameter, std::string_view reason) {
    return cmdlet_error("Ex7A1D10", "System.Management.Automation.ParameterBindingValidationException",
                        "Cannot validate argument on parameter '" + std::string(parameter) + "'. " +
                            std::string(reason));
}

ExchangeError invalid_pagination() {
    ExchangeError error = request_error(400, "BadRequest",
                                        "Expired or Invalid pagination request. Default Expiry time is 00:30:00");
    error.error_id = "Ex1B5C2D";
    error.exception_type = "Microsoft.Exchange.Admin.OData.Core.InvalidPaginationRequestException";
    return error;
}

ExchangeError not_allowed(std::string_view cmdlet) {
    return request_error(401, "Unauthorized", "User is not allowed to call " + std::string(cmdlet));
}

}  // namespace exchange
}  // namespace sandbox
