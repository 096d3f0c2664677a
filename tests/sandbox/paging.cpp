#include "paging.h"

#include <algorithm>

#include "crypto.h"

namespace sandbox {

std::string PageStore::issue(PagePointer page, Instant now) {
    std::erase_if(entries_, [&](const auto& entry) { return entry.second.issued + expiry_ <= now; });
    std::string token = base64url_encode(random_bytes(24));
    entries_.emplace(token, Entry{std::move(page), now});
    return token;
}

std::optional<PagePointer> PageStore::find(const std::string& token, Instant now) const {
    const auto found = entries_.find(token);
    if (found == entries_.end() || found->second.issued + expiry_ <= now) return std::nullopt;
    return found->second.page;
}

std::string canonical_json(const web::json::value& value) {
    if (value.is_array()) {
        std::string text = "[";
        for (size_t i = 0; i < value.size(); ++i) text += (i ? "," : "") + canonical_json(value.at(i));
        return text + "]";
    }
    if (!value.is_object()) return value.serialize();
    std::vector<std::pair<std::string, const web::json::value*>> members;
    for (const auto& [name, member] : value.as_object()) members.emplace_back(name, &member);
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string text = "{";
    for (size_t i = 0; i < members.size(); ++i) {
        text += (i ? "," : "") + web::json::value::string(members[i].first).serialize() + ":" +
                canonical_json(*members[i].second);
    }
    return text + "}";
}

}  // namespace sandbox
