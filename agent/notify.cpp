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
                   Logger& logger, const Clock& clock, WebhookFormat format)
    : url_(std::move(url)), format_(format), tenant_(std::move(tenant)), logger_(logger), clock_(clock) {
    if (url_ && origin_of(*url_).empty()) {
        logger_.warn("notification",
                     "the webhook URL is refused: it must be https:// and carry no user name or password; no "
                     "notification will be sent",
                     {{"webhook", host_part(*url_)}});
        url_.reset();
    }
    if (url_) http_ = make_https_transport({std::move(ca_bundle), std::chrono::seconds(30)});
}

bool is_teams_workflow(const std::string& url) {
    std::string host = origin_of(url);  // "https://host:port", lower case; empty for anything else
    if (host.empty()) return false;
    host.erase(0, std::string_view("https://").size());
    if (const std::size_t colon = host.find(':'); colon != std::string::npos) host.resize(colon);
    // Power Automate's "When a Teams webhook request is received": Logic Apps' hosts, or the
    // Power Platform's environment API.
    return host.ends_with(".logic.azure.com") || host.ends_with(".api.powerplatform.com") ||
           host.ends_with(".powerautomate.com");
}

web::json::value webhook_payload(const WebhookNotice& notice, WebhookFormat format) {
    using web::json::value;
    value body = value::object(true);
    const std::string text = "authgate (" + notice.tenant + "): " + notice.text;
    if (format == WebhookFormat::teams) {
        // An Adaptive Card (1.4) in a message, as Teams' workflows expect. Every piece of text is a
        // TextRun, which Teams shows as written (a TextBlock or a fact would render Markdown).
        const auto run = [](const std::string& content, bool bold) {
            value text_run = value::object(true);
            text_run["type"] = value::string("TextRun");
            text_run["text"] = value::string(printable(content));
            if (bold) text_run["weight"] = value::string("Bolder");
            return text_run;
        };
        const auto paragraph = [](std::vector<value> runs) {
            value block = value::object(true);
            block["type"] = value::string("RichTextBlock");
            block["inlines"] = value::array(std::move(runs));
            return block;
        };
        std::vector<value> blocks;
        blocks.push_back(paragraph({run("authgate: " + notice.event + " in " + notice.tenant, true)}));
        blocks.push_back(paragraph({run(notice.text, false)}));
        for (const auto& [name, field] : notice.fields)
            blocks.push_back(paragraph({run(name + ": ", true), run(field, false)}));
        for (const auto& [name, number] : notice.numbers)
            blocks.push_back(paragraph({run(name + ": ", true), run(std::to_string(number), false)}));
        value card = value::object(true);
        card["$schema"] = value::string("http://adaptivecards.io/schemas/adaptive-card.json");
        card["type"] = value::string("AdaptiveCard");
        card["version"] = value::string("1.4");
        card["body"] = value::array(std::move(blocks));
        value attachment = value::object(true);
        attachment["contentType"] = value::string("application/vnd.microsoft.card.adaptive");
        attachment["contentUrl"] = value::null();
        attachment["content"] = card;
        body["type"] = value::string("message");
        body["attachments"] = value::array({attachment});
        return body;
    }
    body["text"] = value::string(chat_inert(text));
    body["event"] = value::string(notice.event);
    body["tenant"] = value::string(notice.tenant);
    body["time"] = value::string(notice.time);
    for (const auto& [name, field] : notice.fields) body[name] = value::string(field);
    for (const auto& [name, number] : notice.numbers) body[name] = value::number(static_cast<int64_t>(number));
    return body;
}

void Notifier::send(const std::string& event, const std::string& text, const LogFields& fields,
                    const std::vector<std::pair<std::string, long long>>& numbers) {
    if (!url_) return;
    const WebhookFormat format = format_ == WebhookFormat::automatic
                                     ? (is_teams_workflow(*url_) ? WebhookFormat::teams : WebhookFormat::json)
                                     : format_;
    const web::json::value body = webhook_payload({event, text, tenant_, format_instant(clock_.now()), fields, numbers},
                                                  format);
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
