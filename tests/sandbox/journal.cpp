#include "journal.h"

namespace sandbox {

using web::json::value;

void Journal::record_write(const std::string& cmdlet, const value& parameters, const std::string& client_request_id,
                           Change change, const std::string& via) {
    value mutation = value::object(true);
    mutation["seq"] = value::number(static_cast<int>(mutations_.size()) + 1);
    mutation["cmdlet"] = value::string(cmdlet);
    mutation["parameters"] = parameters.is_object() ? parameters : value::object(true);
    mutation["client_request_id"] = client_request_id.empty() ? value::null() : value::string(client_request_id);
    mutation["result"] = value::string(change == Change::changed     ? "changed"
                                       : change == Change::unchanged ? "unchanged"
                                                                     : "error");
    mutation["via"] = value::string(via);
    mutations_.push_back(std::move(mutation));
}

value Journal::mutations() const { return value::array(std::vector<value>(mutations_)); }

value Journal::requests() const {
    value by_cmdlet = value::object(true);
    for (const auto& [cmdlet, count] : by_cmdlet_) by_cmdlet[cmdlet] = value::number(count);
    value requests = value::object(true);
    requests["token"] = value::number(token_requests_);
    requests["invoke"] = value::number(invoke_requests_);
    requests["batch"] = value::number(batch_requests_);
    requests["by_cmdlet"] = by_cmdlet;
    return requests;
}

}  // namespace sandbox
