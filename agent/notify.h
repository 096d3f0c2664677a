#pragma once
// Notifications: a JSON POST to a chat webhook (Slack, Teams) on drift, expiry reverts,
// warnings and failures. A failure to notify is logged and never fails the run. The webhook
// URL authorises posting, so it is treated like a secret: only its host is ever logged.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <cpprest/json.h>

#include "agent/connection.h"
#include "agent/log.h"
#include "connectors/http.h"

namespace authgate {

// The webhook URL from [notifications]: webhook_url, else the variable named by webhook_url_env.
std::optional<std::string> webhook_url(const Notifications& notifications, const Environment& environment);
// A warning when [notifications] names a variable for the URL and it is not set.
void warn_if_unset(const Notifications& notifications, const Environment& environment, Logger& logger);

// True for the URL of a Teams workflow ("When a Teams webhook request is received", on Logic Apps'
// or the Power Platform's hosts), which expects an Adaptive Card.
bool is_teams_workflow(const std::string& url);

// One notification, as the webhook is sent it.
struct WebhookNotice {
    std::string event;  // drift, expired, reverted, warning, failure, certificate_expiring
    std::string text;
    std::string tenant;
    std::string time;
    LogFields fields;                                        // text fields: mailbox, owner, expires
    std::vector<std::pair<std::string, long long>> numbers;  // number fields: days_left, threshold_days, count
};

// The JSON body: {"text", "event", "tenant", "time", fields…, numbers…} (Slack and any JSON
// consumer), or for Teams an Adaptive Card 1.4 in a message. Text is inert in both.
web::json::value webhook_payload(const WebhookNotice& notice, WebhookFormat format);

class Notifier {
public:
    // Without a URL nothing is sent. `ca_bundle` adds trust anchors, as for the tenant. A URL that
    // is not https://, or carries a user name or password, is refused with one warning that names
    // only its host: the URL authorises posting, so it is a secret.
    // `clock` stamps the notifications: the command's.
    Notifier(std::optional<std::string> url, std::optional<std::string> ca_bundle, std::string tenant, Logger& logger,
             const Clock& clock, WebhookFormat format = WebhookFormat::automatic);

    // `event`: drift, expired, reverted, warning, failure. `text` reads well in a chat;
    // `fields` are for machines.
    void send(const std::string& event, const std::string& text, const LogFields& fields = {},
              const std::vector<std::pair<std::string, long long>>& numbers = {});
    int sent() const { return sent_; }

private:
    std::optional<std::string> url_;
    WebhookFormat format_;
    std::unique_ptr<HttpTransport> http_;
    std::string tenant_;
    Logger& logger_;
    const Clock& clock_;
    int sent_ = 0;
};

}  // namespace authgate
