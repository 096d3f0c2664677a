#pragma once
// Problems are gathered, not thrown, so the user sees all of them in one run.
#include <string>
#include <string_view>
#include <vector>

#include "source.h"

namespace authgate {

enum class Severity { error, warning };

struct Diagnostic {
    Severity severity = Severity::error;
    std::string code;  // stable identifier, e.g. "exception_expiring"
    std::string message;
    SourceLocation source;
};

class Diagnostics {
public:
    void error(const SourceLocation& where, std::string message, std::string code = "invalid");
    void warning(const SourceLocation& where, std::string code, std::string message);
    void add(Diagnostic diagnostic) { items_.push_back(std::move(diagnostic)); }
    void append(const Diagnostics& other);

    bool has_errors() const;
    std::size_t error_count() const;
    std::size_t warning_count() const;
    std::vector<Diagnostic> warnings() const;
    const std::vector<Diagnostic>& all() const { return items_; }
    bool empty() const { return items_.empty(); }

    // Errors first, each group in source order (file, line, column).
    void sort();

private:
    std::vector<Diagnostic> items_;
};

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// "file:line:column: error: message"
std::string format(const Diagnostic& diagnostic);

}  // namespace authgate
