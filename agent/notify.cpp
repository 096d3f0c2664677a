#include "agent/notify.h"

#include <cpprest/json.h>

#include "policies/printable.h"

namespace authgate {
namespace {

// The text a chat shows: tenant and desired-state text inside it is inert there too. Control and
// reordering characters are shown as escapes, and &, < and > as the entities Slack and Teams
// read as plain characters, so that "<!channel>", "<https://x|click>" or HTML stay text.
std::string chat_inert(const std::string& text) {
    std::string inert;
    for (const char c : printable(text)) {
        if (c == '&') inert += "&amp;";
        else if (c == '<') inert += "&lt;";
        else if (c == '>') inert += "&gt;";
        else inert += c;
    }
    return inert;
}

}  // namespace

std::optional<std::string> webhook_url(const Notifications& notifications, const Environment& environment) {
    if (notifications.webhook_url) return notifications.webhook_url;
    if (notifications.webhook_url_env) return environment(*notifications.webhook_url_env);
    return std::nullopt;
}

void warn_if_unset(const Notifications& notifications, const Environment& environment, Logger& logger) {
    if (notifications.webhook_url || !notifications.webhook_url_env) return;
    if (!environment(*notifications.webhook_url_env))
        logger.warn("notification", "no notification will be sent: the variable named by webhook_url_env is not set",
                    {{"variable", *notifications.webhook_url_env}});
}

Notifier::Notifier(std::optional<std::string> url, std::optional<std::string> ca_bundle, std::string tenant,
                   Logger& logger, const Clock& clock)
    : url_(std::move(url)), tenant_(std::move(tenant)), logger_(logger), clock_(clock) {
    if (url_ && origin_of(*url_).empty()) {
        logger_.warn("notification",
                     "the webhook URL is refused: it must be https:// and carry no user name or password; no "
                     "notification will be sent",
                     {{"webhook", host_part(*url_)}});
        url_.reset();
    }
    if (url_) http_ = make_https_transport({std::move(ca_bundle), std::chrono::seconds(30)});
}

void Notifier::send(const std::string& event, const std::string& text, const LogFields& fields) {
    if (!url_) return;
    using web::json::value;
    value body = value::object(true);
    body["text"] = value::string(chat_inert("authgate (" + tenant_ + "): " + text));
    body["event"] = value::string(event);
    body["tenant"] = value::string(tenant_);
    body["time"] = value::string(format_instant(clock_.now()));
    for (const auto& [name, field] : fields) body[name] = value::string(field);
    const std::string host = origin_of(*url_);
    try {
        const HttpResponse response = http_->post({*url_, {{"Content-Type", "application/json"}}, body.serialize()});
        if (response.status < 200 || response.status >= 300) {
            logger_.warn("notification", "the webhook refused a notification",
                         {{"webhook", host}, {"status", std::to_string(response.status)}, {"notification", event}});
            return;
        }
        ++sent_;
        logger_.log(LogLevel::debug, "notification", "notification sent", {{"webhook", host}, {"notification", event}});
    } catch (const ConnectorError& error) {
        // Never fatal: the journal has the facts, the notification is a courtesy.
        logger_.warn("notification", "a notification could not be sent",
                     {{"webhook", host}, {"notification", event}, {"error", error.what()}});
    }
}

}  // namespace authgate
