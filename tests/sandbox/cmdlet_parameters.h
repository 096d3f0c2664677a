// Parameter binding for cmdlets, with PowerShell's rules and messages: names match without
// regard to case, unknown names and wrong types are refused before the cmdlet runs.
#pragma once

#include <cpprest/json.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sandbox {

enum class ParameterType {
    boolean,           // [bool]: JSON true or false
    nullable_boolean,  // [Nullable[bool]]: true, false or null ($null = inherit)
    text,              // [string], not null
    nullable_text,     // [string], null clears the setting
    result_size,       // "Unlimited" or a positive number
    date_time,         // an ISO 8601 string
};

struct ParameterSpec {
    std::string_view name;
    ParameterType type;
    bool mandatory = false;
};

class BoundParameters {
public:
    bool has(std::string_view name) const;
    const web::json::value& get(std::string_view name) const;      // the value as sent; has() first
    std::optional<std::string> text(std::string_view name) const;  // nullopt when absent or null

    // Parameters in the order they were sent, with their canonical names.
    const std::vector<std::pair<std::string, web::json::value>>& all() const { return values_; }
    void add(std::string name, web::json::value value) { values_.emplace_back(std::move(name), std::move(value)); }

private:
    std::vector<std::pair<std::string, web::json::value>> values_;
};

// Throws CmdletFailure with PowerShell's binding error. Confirm, ErrorAction and WarningAction
// are accepted by every cmdlet and ignored, as the common parameters are.
BoundParameters bind_parameters(const web::json::value& parameters, std::span<const ParameterSpec> specs);

// The ResultSize of a bound call: nullopt for Unlimited; `fallback` when not given.
std::optional<size_t> result_size(const BoundParameters& parameters, std::optional<size_t> fallback);

}  // namespace sandbox
