#include "http_message.h"

#include "text.h"

namespace sandbox {

void Headers::set(std::string name, std::string value) {
    for (auto& [existing, existing_value] : entries_) {
        if (iequals(existing, name)) {
            existing_value = std::move(value);
            return;
        }
    }
    entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
    std::erase_if(entries_, [&](const auto& entry) { return iequals(entry.first, name); });
}

std::optional<std::string> Headers::get(std::string_view name) const {
    for (const auto& [existing, value] : entries_) {
        if (iequals(existing, name)) return value;
    }
    return std::nullopt;
}

std::optional<std::string> query_value(const QueryParameters& query, std::string_view name) {
    for (const auto& [key, value] : query) {
        if (key == name) return value;
    }
    return std::nullopt;
}

HttpResponse HttpResponse::json(int status, const web::json::value& body) {
    HttpResponse response;
    response.status = status;
    response.headers.set("Content-Type", "application/json; charset=utf-8");
    response.body = body.serialize();
    return response;
}

HttpResponse HttpResponse::dropped_connection() {
    HttpResponse response;
    response.delivery = Delivery::drop_connection;
    return response;
}

std::optional<web::json::value> HttpResponse::json_body() const {
    try {
        return web::json::value::parse(body);
    } catch (const web::json::json_exception&) {
        return std::nullopt;
    }
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string decoded;
    decoded.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
            decoded.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            decoded.push_back(' ');
        } else {
            decoded.push_back(c);
        }
    }
    return decoded;
}

QueryParameters parse_form(std::string_view encoded) {
    QueryParameters fields;
    if (encoded.empty()) return fields;
    for (const auto& part : split(encoded, '&')) {
        if (part.empty()) continue;
        const size_t equals = part.find('=');
        const std::string_view name = std::string_view(part).substr(0, equals);
        const std::string_view value = equals == std::string::npos ? std::string_view()
                                                                   : std::string_view(part).substr(equals + 1);
        fields.emplace_back(percent_decode(name, true), percent_decode(value, true));
    }
    return fields;
}

}  // namespace sandbox
