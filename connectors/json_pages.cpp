#include "connectors/json_pages.h"

#include <simdjson.h>

namespace authgate {

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
    if (root.get_object().get(object) != simdjson::SUCCESS) {
        page.problem = "the answer is not a JSON object";
        return page;
    }
    simdjson::dom::array values;
    simdjson::dom::element value;
    const bool no_rows = object["value"].get(value) == simdjson::NO_SUCH_FIELD || (value.is_null());
    if (!no_rows && value.get_array().get(values) != simdjson::SUCCESS) {
        page.problem = "the answer's \"value\" is not an array";
        return page;
    }
    simdjson::dom::element warnings;
    if (object["@adminapi.warnings"].get(warnings) == simdjson::SUCCESS && !warnings.is_null()) {
        simdjson::dom::array list;
        if (warnings.get_array().get(list) != simdjson::SUCCESS) {
            page.problem = "the answer's @adminapi.warnings is not an array";
            return page;
        }
        for (const simdjson::dom::element warning : list) {
            std::string_view text;
            if (warning.get_string().get(text) == simdjson::SUCCESS) page.warnings.emplace_back(text);
        }
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
    if (!no_rows)
        for (const simdjson::dom::element element : values) each(element);
    return page;
}

}  // namespace authgate
