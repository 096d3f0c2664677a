#include "policies/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace authgate {

std::string to_string(const SourceLocation& where) {
    std::string text = where.file;
    if (where.line > 0) {
        text += ":" + std::to_string(where.line);
        if (where.column > 0) text += ":" + std::to_string(where.column);
    }
    return text;
}

void Diagnostics::error(const SourceLocation& where, std::string message, std::string code) {
    items_.push_back({Severity::error, std::move(code), std::move(message), where});
}

void Diagnostics::warning(const SourceLocation& where, std::string code, std::string message) {
    items_.push_back({Severity::warning, std::move(code), std::move(message), where});
}

void Diagnostics::append(const Diagnostics& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

std::size_t Diagnostics::error_count() const {
    return std::count_if(items_.begin(), items_.end(),
                         [](const Diagnostic& d) { return d.severity == Severity::error; });
}

std::size_t Diagnostics::warning_count() const { return items_.size() - error_count(); }

std::vector<Diagnostic> Diagnostics::warnings() const {
    std::vector<Diagnostic> result;
    std::copy_if(items_.begin(), items_.end(), std::back_inserter(result),
                 [](const Diagnostic& d) { return d.severity == Severity::warning; });
    return result;
}

void Diagnostics::sort() {
    std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.severity, a.source.file, a.source.line, a.source.column) <
               std::tie(b.severity, b.source.file, b.source.line, b.source.column);
    });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string format(const Diagnostic& diagnostic) {
    std::string text;
    if (diagnostic.source.known()) text = to_string(diagnostic.source) + ": ";
    text += diagnostic.severity == Severity::error ? "error: " : "warning: ";
    text += diagnostic.message;
    return text;
}

}  // namespace authgate
