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
        std::string problem;                    // empty when the page could be read
        std::optional<std::string> next_link;   // "@odata.nextLink"
    };

    // Calls `each` with every element of the page's "value" array, in order, as a cpprest value.
    // Nothing is called, and `problem` says why, when the body is not JSON (UTF-8, nested at most
    // 1024 deep), has no "value" array, or has an "@odata.nextLink" that is not a string.
    Page read(const std::string& body, const std::function<void(const web::json::value&)>& each);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace authgate
