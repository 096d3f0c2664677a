#include "cmdlet_parameters.h"

#include <array>

#include "clock.h"
#include "exchange_error.h"
#include "text.h"

namespace sandbox {

namespace {

using web::json::value;

constexpr std::array<ParameterSpec, 3> kCommonParameters = {{
    {"Confirm", ParameterType::boolean},
    {"ErrorAction", ParameterType::text},
    {"WarningAction", ParameterType::text},
}};

// How PowerShell names a value it could not convert.
std::string describe(const value& sent) {
    if (sent.is_string()) return "System.String";
    if (sent.is_boolean()) return sent.as_bool() ? "True" : "False";
    if (sent.is_array()) return "System.Object[]";
    if (sent.is_object()) return "System.Collections.Hashtable";
    return sent.serialize();
}

std::optional<size_t> parse_result_size(const value& sent) {
    if (sent.is_number() && sent.as_number().is_uint64() && sent.as_number().to_uint64() > 0) {
        return static_cast<size_t>(sent.as_number().to_uint64());
    }
    if (sent.is_string() && !sent.as_string().empty() &&
        sent.as_string().find_first_not_of("0123456789") == std::string::npos && sent.as_string().size() < 10) {
        const size_t size = std::stoul(sent.as_string());
        if (size > 0) return size;
    }
    return std::nullopt;
}

void check_type(const ParameterSpec& spec, const value& sent) {
    const std::string name(spec.name);
    const bool nullable = spec.type == ParameterType::nullable_boolean || spec.type == ParameterType::nullable_text;
    if (sent.is_null()) {
        if (nullable) return;
        if (spec.type == ParameterType::boolean) {
            throw CmdletFailure(exchange::argument_transformation(
                name,
                "Cannot convert value \"\" to type \"System.Boolean\". Boolean parameters accept only Boolean values "
                "and numbers, such as $True, $False, 1 or 0."));
        }
        throw CmdletFailure(exchange::null_argument(name));
    }
    switch (spec.type) {
        case ParameterType::boolean:
        case ParameterType::nullable_boolean:
            if (!sent.is_boolean()) {
                throw CmdletFailure(exchange::argument_transformation(
                    name,
                    "Cannot convert value \"" + describe(sent) +
                        "\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, "
                        "such as $True, $False, 1 or 0."));
            }
            return;
        case ParameterType::text:
        case ParameterType::nullable_text:
            if (!sent.is_string()) {
                throw CmdletFailure(exchange::argument_transformation(name, "Cannot convert the \"" + describe(sent) +
                                                                                "\" value to type \"System.String\"."));
            }
            return;
        case ParameterType::result_size:
            if (!(sent.is_string() && iequals(sent.as_string(), "Unlimited")) && !parse_result_size(sent)) {
                throw CmdletFailure(exchange::argument_transformation(
                    name,
                    "Cannot convert value \"" + (sent.is_string() ? sent.as_string() : sent.serialize()) +
                        "\" to type \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\". Error: \"The value is not "
                        "valid. Valid values are 'Unlimited' or a positive number.\""));
            }
            return;
        case ParameterType::date_time:
            if (!sent.is_string() || !parse_datetime(sent.as_string())) {
                throw CmdletFailure(exchange::argument_transformation(
                    name,
                    "Cannot convert value \"" + (sent.is_string() ? sent.as_string() : describe(sent)) +
                        "\" to type \"System.DateTime\". Error: \"String was not recognized as a valid DateTime.\""));
            }
            return;
    }
}

const ParameterSpec* find_spec(std::string_view name, std::span<const ParameterSpec> specs) {
    for (const auto& spec : specs) {
        if (iequals(spec.name, name)) return &spec;
    }
    for (const auto& spec : kCommonParameters) {
        if (iequals(spec.name, name)) return &spec;
    }
    return nullptr;
}

}  // namespace

bool BoundParameters::has(std::string_view name) const {
    for (const auto& [key, ignored] : values_) {
        if (key == name) return true;
    }
    return false;
}

const web::json::value& BoundParameters::get(std::string_view name) const {
    for (const auto& [key, sent] : values_) {
        if (key == name) return sent;
    }
    static const value kNull = value::null();
    return kNull;
}

std::optional<std::string> BoundParameters::text(std::string_view name) const {
    const value& sent = get(name);
    if (!sent.is_string()) return std::nullopt;
    return sent.as_string();
}

BoundParameters bind_parameters(const web::json::value& parameters, std::span<const ParameterSpec> specs) {
    BoundParameters bound;
    if (parameters.is_object()) {
        for (const auto& [name, sent] : parameters.as_object()) {
            const ParameterSpec* spec = find_spec(name, specs);
            if (spec == nullptr) throw CmdletFailure(exchange::parameter_not_found(name));
            check_type(*spec, sent);
            bound.add(std::string(spec->name), sent);
        }
    }
    std::vector<std::string> missing;
    for (const auto& spec : specs) {
        if (spec.mandatory && !bound.has(spec.name)) missing.emplace_back(spec.name);
    }
    if (!missing.empty()) throw CmdletFailure(exchange::missing_mandatory(missing));
    return bound;
}

std::optional<size_t> result_size(const BoundParameters& parameters, std::optional<size_t> fallback) {
    if (!parameters.has("ResultSize")) return fallback;
    const value& sent = parameters.get("ResultSize");
    if (sent.is_string() && iequals(sent.as_string(), "Unlimited")) return std::nullopt;
    return parse_result_size(sent);
}

}  // namespace sandbox
