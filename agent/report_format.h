#pragma once
// The formats a plan or a report is shown in (--format).
#include "policies/names.h"

namespace authgate {

enum class ReportFormat { text, markdown, json };
template <>
struct EnumNames<ReportFormat> {
    static constexpr std::array<std::pair<ReportFormat, std::string_view>, 3> table{
        {{ReportFormat::text, "text"}, {ReportFormat::markdown, "markdown"}, {ReportFormat::json, "json"}}};
};

}  // namespace authgate
