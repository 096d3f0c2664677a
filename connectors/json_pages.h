#pragma once
// Pages of the admin API, parsed with simdjson: a page of a thousand objects is read at memory
// speed and handed on one element at a time, as simdjson's view into the parse, so that only the
// page's compact parse exists and no object is copied before a reader takes what it needs.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace simdjson::dom {
class element;
}

namespace authgate {

class PageParser {
public:
    PageParser();
    ~PageParser();
    PageParser(const PageParser&) = delete;
    PageParser& operator=(const PageParser&) = delete;

    struct Page {
        std::string problem;                   // empty when the page could be read
        std::optional<std::string> next_link;  // "@odata.nextLink"
        std::vector<std::string> warnings;     // "@adminapi.warnings"
    };

    // Calls `each` with every element of the page's "value" array, in order; an element lives
    // until the next call of read. A successful answer with "value" absent or null is a page of
    // no rows (live tenants answer an empty list all three ways). Nothing is called, and
    // `problem` says why, when the body is not JSON (UTF-8, nested at most 1024 deep), is not an
    // object, has a "value" that is neither an array nor null, or has an "@odata.nextLink" or
    // "@adminapi.warnings" of the wrong type.
    Page read(const std::string& body, const std::function<void(const simdjson::dom::element&)>& each);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace authgate
