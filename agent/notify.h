#pragma once
// Notifications: a JSON POST to a chat webhook (Slack, Teams) on drift, expiry reverts,
// warnings and failures. A failure to notify is logged and never fails the run. The webhook
// URL authorises posting, so it is treated like a secret: only its host is ever logged.
#include <memory>
#include <optional>
#include <string>

#include "agent/connection.h"
#include "agent/log.h"
#include "connectors/http.h"

namespace authgate {

// The webhook URL from [notifications]: webhook_url, else the variable named by webhook_url_env.
std::optional<std::string> webhook_url(const Notifications& notifications, const Environment& environment);
// A warning when [notifications] names a variable for the URL and it is not set.
void warn_if_unset(const Notifications& notifications, const Environment& environment, Logger& logger);

class Notifier {
public:
    // Without a URL nothing is sent. `ca_bundle` adds trust anchors, as for the tenant. A URL that
    // is not https://, or carries a user name or password, is refused with one warning that names
    // only its host: the URL authorises posting, so it is a secret.
    // `clock` stamps the notifications: the command's.
    Notifier(std::optional<std::string> url, std::optional<std::string> ca_bundle, std::string tenant, Logger& logger,
             const Clock& clock);

    // `event`: drift, expired, reverted, warning, failure. `text` reads well in a chat;
    // `fields` are for machines.
    void send(const std::string& event, const std::string& text, const LogFields& fields = {});
    int sent() const { return sent_; }

private:
    std::optional<std::string> url_;
    std::unique_ptr<HttpTransport> http_;
    std::string tenant_;
    Logger& logger_;
    const Clock& clock_;
    int sent_ = 0;
};

}  // namespace authgate
