#include "connectors/json_pages.h"

#include <simdjson.h>

namespace authgate {

using web::json::value;

value to_value(const simdjson::dom::element& element) {
    switch (element.type()) {
        case simdjson::dom::element_type::OBJECT: {
            std::vector<std::pair<std::string, value>> fields;
            const simdjson::dom::object object = element.get_object().value_unsafe();  // held: the loop uses it
            for (const auto field : object)
                fields.emplace_back(std::string(field.key), to_value(field.value));
            return value::object(std::move(fields), true);  // kept in order: no sort for a handful of fields
        }
        case simdjson::dom::element_type::ARRAY: {
            std::vector<value> items;
            const simdjson::dom::array array = element.get_array().value_unsafe();
            for (const auto item : array) items.push_back(to_value(item));
            return value::array(std::move(items));
        }
        case simdjson::dom::element_type::STRING:
            return value::string(std::string(element.get_string().value_unsafe()));
        case simdjson::dom::element_type::INT64: return value::number(element.get_int64().value_unsafe());
        case simdjson::dom::element_type::UINT64: return value::number(element.get_uint64().value_unsafe());
        case simdjson::dom::element_type::DOUBLE: return value::number(element.get_double().value_unsafe());
        case simdjson::dom::element_type::BOOL: return value::boolean(element.get_bool().value_unsafe());
        case simdjson::dom::element_type::NULL_VALUE: break;
    }
    return value::null();
}

struct PageParser::State {
    simdjson::dom::parser parser;
};

PageParser::PageParser() : state_(std::make_unique<State>()) {}
PageParser::~PageParser() = default;

PageParser::Page PageParser::read(const std::string& body,
                                  const std::function<void(const simdjson::dom::element&)>& each) {
    Page page;
    simdjson::dom::element root;
    if (const auto error = state_->parser.parse(body).get(root)) {
        page.problem = std::string("the answer is not JSON (") + simdjson::error_message(error) + ")";
        return page;
    }
    simdjson::dom::object object;
    simdjson::dom::array values;
    if (root.get_object().get(object) != simdjson::SUCCESS || object["value"].get_array().get(values) != simdjson::SUCCESS) {
        page.problem = "the answer has no \"value\" array";
        return page;
    }
    simdjson::dom::element link;
    if (object["@odata.nextLink"].get(link) == simdjson::SUCCESS) {
        // A link that cannot be followed must not make a partial list look whole.
        std::string_view text;
        if (link.get_string().get(text) != simdjson::SUCCESS) {
            page.problem = "the answer's @odata.nextLink is not a string";
            return page;
        }
        page.next_link = std::string(text);
    }
    for (const simdjson::dom::element element : values) each(element);
    return page;
}

}  // namespace authgate
