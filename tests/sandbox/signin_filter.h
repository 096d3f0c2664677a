// The $filter of Graph's auditLogs/signIns as clients ask for SMTP evidence: terms on
// createdDateTime (eq, ge, gt, le, lt; unquoted ISO 8601), clientAppUsed, status/errorCode and
// userId (eq), userPrincipalName and ipAddress (eq, startsWith), combined with and, or and
// parentheses. Anything else is refused with the text of Graph's 400.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "usage_data.h"

namespace sandbox {

class SignInFilterError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

class SignInFilter {
public:
    // An empty text matches every row. Throws SignInFilterError.
    static SignInFilter parse(std::string_view text);
    bool matches(const SignInRow& row, const SignInSource& source) const;

    struct Node;

private:
    std::shared_ptr<const Node> root_;  // null: no filter
};

}  // namespace sandbox
