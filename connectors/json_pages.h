#pragma once
// Pages of the admin API, parsed with simdjson: a page of a thousand objects is read at memory
// speed and handed on one object at a time, so only the page's compact parse and one object
// exist at once.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <cpprest/json.h>

namespace authgate {

class PageParser {
public:
    PageParser();
    ~PageParser();
    PageParser(const PageParser&) = delete;
    PageParser& operator=(const PageParser&) = delete;

    struct Page {
        bool valid = false;                     // a JSON object with a "value" array
        std::optional<std::string> next_link;   // "@odata.nextLink", when it is a string
    };

    // Calls `each` with every element of the page's "value" array, in order, as a cpprest value.
    // Nothing is called when the body is not valid JSON (UTF-8, nesting at most 1024 deep) or has
    // no "value" array.
    Page read(const std::string& body, const std::function<void(const web::json::value&)>& each);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace authgate
