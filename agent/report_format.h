#pragma once
// The formats a plan or a report is shown in (--format).
namespace authgate {

enum class ReportFormat { text, markdown, json };

}  // namespace authgate
