#include "signin_filter.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "text.h"

namespace sandbox {

enum class FilterProperty { created_date_time, client_app_used, error_code, user_id, user_principal_name, ip_address };
enum class FilterOperator { eq, ne, gt, ge, lt, le, starts_with };

struct SignInFilter::Node {
    enum class Kind { all, any, term } kind = Kind::term;
    std::vector<Node> children;
    FilterProperty property = FilterProperty::created_date_time;
    FilterOperator op = FilterOperator::eq;
    std::string text;
    Instant time{};
    long long number = 0;
};

namespace {

struct PropertyRule {
    const char* name;
    FilterProperty property;
    enum class Literal { date_time, integer, text } literal;
    std::vector<FilterOperator> operators;
};

const std::vector<PropertyRule>& property_rules() {
    using Op = FilterOperator;
    using Literal = PropertyRule::Literal;
    static const std::vector<PropertyRule> rules = {
        {"createdDateTime",
         FilterProperty::created_date_time,
         Literal::date_time,
         {Op::eq, Op::ge, Op::gt, Op::le, Op::lt}},
        {"clientAppUsed", FilterProperty::client_app_used, Literal::text, {Op::eq}},
        {"status/errorCode", FilterProperty::error_code, Literal::integer, {Op::eq}},
        {"userId", FilterProperty::user_id, Literal::text, {Op::eq}},
        {"userPrincipalName", FilterProperty::user_principal_name, Literal::text, {Op::eq, Op::starts_with}},
        {"ipAddress", FilterProperty::ip_address, Literal::text, {Op::eq, Op::starts_with}},
    };
    return rules;
}

// Properties of signIn that Graph filters on and the sandbox does not.
const std::vector<std::string_view> kUnservedProperties = {"appId",
                                                           "id",
                                                           "correlationId",
                                                           "resourceId",
                                                           "resourceDisplayName",
                                                           "conditionalAccessStatus",
                                                           "appDisplayName",
                                                           "userDisplayName",
                                                           "location/city",
                                                           "location/state",
                                                           "location/countryOrRegion",
                                                           "deviceDetail/browser",
                                                           "deviceDetail/operatingSystem"};

struct OperatorName {
    const char* keyword;
    FilterOperator op;
    const char* kind;  // OData's name of the operator, as Graph's messages give it
};

const std::vector<OperatorName> kOperators = {
    {"eq", FilterOperator::eq, "Equal"},       {"ne", FilterOperator::ne, "NotEqual"},
    {"gt", FilterOperator::gt, "GreaterThan"}, {"ge", FilterOperator::ge, "GreaterThanOrEqual"},
    {"lt", FilterOperator::lt, "LessThan"},    {"le", FilterOperator::le, "LessThanOrEqual"},
};

struct FilterToken {
    enum class Kind { word, text, open, close, comma, end } kind = Kind::end;
    std::string content;
};

std::vector<FilterToken> tokenize(std::string_view text) {
    std::vector<FilterToken> tokens;
    size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == ' ' || c == '\t') {
            ++i;
        } else if (c == '(' || c == ')' || c == ',') {
            tokens.push_back({c == '('   ? FilterToken::Kind::open
                              : c == ')' ? FilterToken::Kind::close
                                         : FilterToken::Kind::comma,
                              std::string(1, c)});
            ++i;
        } else if (c == '\'') {
            // A string literal; a quote inside is doubled.
            std::string content;
            ++i;
            bool closed = false;
            while (i < text.size()) {
                if (text[i] == '\'') {
                    if (i + 1 < text.size() && text[i + 1] == '\'') {
                        content += '\'';
                        i += 2;
                        continue;
                    }
                    closed = true;
                    ++i;
                    break;
                }
                content += text[i++];
            }
            if (!closed) throw SignInFilterError("Invalid filter clause: unterminated string literal.");
            tokens.push_back({FilterToken::Kind::text, content});
        } else {
            const size_t start = i;
            while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '(' && text[i] != ')' &&
                   text[i] != ',' && text[i] != '\'')
                ++i;
            tokens.push_back({FilterToken::Kind::word, std::string(text.substr(start, i - start))});
        }
    }
    tokens.push_back({FilterToken::Kind::end, ""});
    return tokens;
}

using Node = SignInFilter::Node;

class FilterParser {
public:
    explicit FilterParser(std::string_view text) : tokens_(tokenize(text)) {}

    Node parse() {
        Node root = parse_or();
        if (peek().kind != FilterToken::Kind::end)
            throw SignInFilterError("Invalid filter clause: syntax error at '" + peek().content + "'.");
        return root;
    }

private:
    const FilterToken& peek() const { return tokens_[position_]; }
    FilterToken next() { return tokens_[position_ < tokens_.size() - 1 ? position_++ : position_]; }
    bool next_is_keyword(std::string_view keyword) const {
        return peek().kind == FilterToken::Kind::word && iequals(peek().content, keyword);
    }
    void expect(FilterToken::Kind kind, const char* what) {
        if (next().kind != kind) throw SignInFilterError(std::string("Invalid filter clause: ") + what + " expected.");
    }

    Node combine(Node::Kind kind, const char* keyword, Node (FilterParser::*operand)()) {
        Node first = (this->*operand)();
        if (!next_is_keyword(keyword)) return first;
        Node combined;
        combined.kind = kind;
        combined.children.push_back(std::move(first));
        while (next_is_keyword(keyword)) {
            next();
            combined.children.push_back((this->*operand)());
        }
        return combined;
    }
    Node parse_or() { return combine(Node::Kind::any, "or", &FilterParser::parse_and); }
    Node parse_and() { return combine(Node::Kind::all, "and", &FilterParser::parse_primary); }

    Node parse_primary() {
        if (peek().kind == FilterToken::Kind::open) {
            next();
            Node inner = parse_or();
            expect(FilterToken::Kind::close, "')'");
            return inner;
        }
        if (peek().kind != FilterToken::Kind::word)
            throw SignInFilterError("Invalid filter clause: a property name expected at '" + peek().content + "'.");
        if (next_is_keyword("not")) throw SignInFilterError("Invalid filter clause: 'not' is not supported.");
        if (next_is_keyword("startswith") && tokens_[position_ + 1].kind == FilterToken::Kind::open) {
            next();
            next();
            const FilterToken property = next();
            expect(FilterToken::Kind::comma, "','");
            const FilterToken literal = next();
            expect(FilterToken::Kind::close, "')'");
            return term(property.content, FilterOperator::starts_with, "startsWith", literal);
        }
        const FilterToken property = next();
        const FilterToken op = next();
        const auto known = std::find_if(kOperators.begin(), kOperators.end(), [&](const OperatorName& name) {
            return op.kind == FilterToken::Kind::word && iequals(name.keyword, op.content);
        });
        if (known == kOperators.end())
            throw SignInFilterError("Invalid filter clause: an operator (eq, ne, gt, ge, lt, le) expected after '" +
                                    property.content + "', found '" + op.content + "'.");
        return term(property.content, known->op, known->kind, next());
    }

    static Node term(const std::string& name, FilterOperator op, const char* op_kind, const FilterToken& literal) {
        const auto& rules = property_rules();
        const auto rule = std::find_if(rules.begin(), rules.end(),
                                       [&](const PropertyRule& candidate) { return iequals(candidate.name, name); });
        if (rule == rules.end()) {
            for (const auto unserved : kUnservedProperties) {
                if (iequals(unserved, name))
                    throw SignInFilterError("Invalid filter clause: the sandbox does not filter sign-ins on '" + name +
                                            "'.");
            }
            throw SignInFilterError("Could not find a property named '" + name + "' on type 'microsoft.graph.signIn'.");
        }
        if (std::find(rule->operators.begin(), rule->operators.end(), op) == rule->operators.end())
            throw SignInFilterError(std::string("Invalid filter clause: the operator '") + op_kind +
                                    "' is not supported on '" + rule->name + "'.");
        Node node;
        node.property = rule->property;
        node.op = op;
        using Literal = PropertyRule::Literal;
        const char* type = rule->literal == Literal::date_time ? "Edm.DateTimeOffset"
                           : rule->literal == Literal::integer ? "Edm.Int32"
                                                               : "Edm.String";
        const auto incompatible = [&](const char* found) {
            return SignInFilterError(std::string("A binary operator with incompatible types was detected. Found "
                                                 "operand types '") +
                                     type + "' and '" + found + "' for operator kind '" + op_kind + "'.");
        };
        if (literal.kind == FilterToken::Kind::text) {
            if (rule->literal != Literal::text) throw incompatible("Edm.String");
            node.text = literal.content;
            return node;
        }
        if (literal.kind != FilterToken::Kind::word)
            throw SignInFilterError("Invalid filter clause: a value expected after '" + name + "'.");
        switch (rule->literal) {
            case Literal::date_time: {
                const auto parsed = parse_datetime(literal.content);
                if (!parsed)
                    throw SignInFilterError("The DateTimeOffset text '" + literal.content +
                                            "' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each "
                                            "field value is within valid range.");
                node.time = *parsed;
                return node;
            }
            case Literal::integer: {
                const std::string& digits = literal.content;
                const size_t sign = digits.starts_with('-') ? 1 : 0;
                if (digits.size() == sign || digits.size() > 10 ||
                    digits.find_first_not_of("0123456789", sign) != std::string::npos)
                    throw incompatible("Edm.String");
                node.number = std::stoll(digits);
                return node;
            }
            case Literal::text:
                if (iequals(literal.content, "null")) throw incompatible("null");
                throw SignInFilterError("Could not find a property named '" + literal.content +
                                        "' on type 'microsoft.graph.signIn'.");
        }
        return node;
    }

    std::vector<FilterToken> tokens_;
    size_t position_ = 0;
};

bool matches_node(const Node& node, const SignInRow& row, const SignInSource& source) {
    switch (node.kind) {
        case Node::Kind::all:
            for (const Node& child : node.children) {
                if (!matches_node(child, row, source)) return false;
            }
            return true;
        case Node::Kind::any:
            for (const Node& child : node.children) {
                if (matches_node(child, row, source)) return true;
            }
            return false;
        case Node::Kind::term: break;
    }
    switch (node.property) {
        case FilterProperty::created_date_time:
            switch (node.op) {
                case FilterOperator::eq: return row.created == node.time;
                case FilterOperator::ge: return row.created >= node.time;
                case FilterOperator::gt: return row.created > node.time;
                case FilterOperator::le: return row.created <= node.time;
                case FilterOperator::lt: return row.created < node.time;
                default: return false;
            }
        case FilterProperty::error_code: return row.error_code == node.number;
        // As exact as the service: the value must be spelt as it is stored.
        case FilterProperty::client_app_used: return source.client_app_used == node.text;
        case FilterProperty::user_id: return iequals(source.user_id, node.text);
        // Compared with regard to case, as the sign-in log is seen to compare it.
        case FilterProperty::user_principal_name:
            return node.op == FilterOperator::starts_with ? source.user_principal_name.starts_with(node.text)
                                                          : source.user_principal_name == node.text;
        case FilterProperty::ip_address:
            return node.op == FilterOperator::starts_with ? source.ip_address.starts_with(node.text)
                                                          : source.ip_address == node.text;
    }
    return false;
}

}  // namespace

SignInFilter SignInFilter::parse(std::string_view text) {
    SignInFilter filter;
    if (trim(text).empty()) return filter;
    filter.root_ = std::make_shared<const Node>(FilterParser(text).parse());
    return filter;
}

bool SignInFilter::matches(const SignInRow& row, const SignInSource& source) const {
    return !root_ || matches_node(*root_, row, source);
}

}  // namespace sandbox
