// Server-side paging of Get-* results. The first request runs the cmdlet and keeps its rows; each
// @odata.nextLink carries a $skiptoken naming one page of them. A token stays valid until it
// expires (--link-expiry), so a page can be fetched again after a failure.
#pragma once

#include <cpprest/json.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock.h"

namespace sandbox {

struct ReadCursor {
    std::string cmdlet;
    std::string parameters_key;  // canonical JSON: a continuation must repeat the same call
    std::vector<std::shared_ptr<const web::json::value>> rows;  // shared with the tenant, never copied
    std::vector<std::string> select;
    size_t page_size = 1000;
    std::string anchor;  // the first request's X-AnchorMailbox
};

struct PagePointer {
    std::shared_ptr<const ReadCursor> cursor;
    size_t offset = 0;
    int page_number = 1;  // the first page, answered by the initial request, is 1
};

class PageStore {
public:
    explicit PageStore(std::chrono::seconds expiry) : expiry_(expiry) {}

    std::string issue(PagePointer page, Instant now);                              // a new $skiptoken
    std::optional<PagePointer> find(const std::string& token, Instant now) const;  // nullopt: unknown or expired

private:
    struct Entry {
        PagePointer page;
        Instant issued;
    };
    std::chrono::seconds expiry_;
    std::map<std::string, Entry> entries_;
};

// Object keys sorted at every level, so two spellings of the same parameters compare equal.
std::string canonical_json(const web::json::value& value);

}  // namespace sandbox
