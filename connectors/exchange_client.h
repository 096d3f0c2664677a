#pragma once
// Exchange Online's admin REST API: InvokeCommand with paging, error envelopes, retries with
// backoff, and the replay rules for writes: a write is sent again only after a 429, a refused token
// or a connection that failed before sending; a server error or another transient answer leaves it
// uncertain until a read settles it.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/http.h"
#include "connectors/token_client.h"
#include "policies/jitter.h"
#include "policies/plan.h"

namespace simdjson::dom {
class element;
}

namespace authgate {

struct RetryPolicy {
    int max_retries = 5;  // as the PowerShell module does
    std::chrono::milliseconds first_delay{2000};
    std::chrono::milliseconds max_delay{60000};
};

struct ExchangeSettings {
    std::string exchange_endpoint;  // https://outlook.office365.com
    std::string tenant;             // GUID or *.onmicrosoft.com
    int page_size = 1000;           // Prefer: odata.maxpagesize (1 to 1000)
    int max_read_restarts = 3;      // after an expired nextLink
    RetryPolicy retry{};
    int max_pages = 20000;  // of one read: 20 million objects; a server that never ends is refused
    // Cmdlets given longer than the transport's timeout, as the Exchange Online module does.
    std::map<std::string, std::chrono::seconds> cmdlet_timeouts{{"Set-OrganizationConfig", std::chrono::seconds{1800}}};
};

// A cmdlet failed. The message carries the cmdlet, the HTTP status, Exchange's text and the
// client-request-id, so that every failure can be looked up.
class ExchangeError : public ConnectorError {
public:
    ExchangeError(const std::string& message, std::string cmdlet, int status, std::string text,
                  std::string client_request_id, bool uncertain = false)
        : ConnectorError(message),
          cmdlet_(std::move(cmdlet)),
          status_(status),
          text_(std::move(text)),
          client_request_id_(std::move(client_request_id)),
          uncertain_(uncertain) {}
    const std::string& cmdlet() const { return cmdlet_; }
    int status() const { return status_; }
    const std::string& text() const { return text_; }
    const std::string& client_request_id() const { return client_request_id_; }
    // A write whose outcome is unknown: it may or may not have been made; read before retrying.
    bool uncertain() const { return uncertain_; }

private:
    std::string cmdlet_;
    int status_;
    std::string text_;
    std::string client_request_id_;
    bool uncertain_;
};

struct CmdletResult {
    std::vector<std::string> objects;   // the answer's "value", each object as JSON text
    std::vector<std::string> warnings;  // @adminapi.warnings, e.g. "no settings … have been modified"
    std::string client_request_id;
};

struct ExchangeCounters {
    int requests = 0;
    int retries = 0;
    int pages = 0;
    long long bytes_received = 0;
    int refused_continuations = 0;  // nextLinks the service would not follow
};

// The useful text of an error answer, the first there of: details[0].message (pipe form
// or JSON string), innererror.internalexception.message, error.message, x-ms-diagnostics.
std::string exchange_error_text(const HttpResponse& response);

class ExchangeClient {
public:
    using Sleep = std::function<void(std::chrono::milliseconds)>;

    ExchangeClient(HttpTransport& http, TokenClient& tokens, ExchangeSettings settings, Sleep sleep = {},
                   unsigned random_seed = 0);

    // Runs a read cmdlet and follows every page. `begin` is called before the first object of
    // each attempt (a read restarted after an expired link starts over); `each` gets every element
    // of every page, as simdjson parsed it (json_pages.h), valid only during the call.
    void read(const Cmdlet& cmdlet, const std::vector<std::string>& select, const std::function<void()>& begin,
              const std::function<void(const simdjson::dom::element&)>& each);

    // Runs a write cmdlet. Retried only where Exchange cannot have acted: after 429, or when the
    // connection failed before sending. Otherwise a failure whose effect is unknown is an
    // ExchangeError with uncertain() set.
    CmdletResult write(const Cmdlet& cmdlet);

    // Sends independent writes through $batch, 10 to a request and at most `in_flight` requests
    // at a time; items are matched to answers by id. An item throttled inside a batch, or a
    // batch the server does not take, is sent on its own. Outcomes are in the order of `writes`.
    std::vector<WriteOutcome> write_many(const std::vector<Cmdlet>& writes, int in_flight = 4);

    ExchangeCounters counters() const;

    // The cmdlets the app's roles let it run, as the Exchange Online module learns them: GET
    // {exchange}/adminapi/v1.0/{tenant}/EXOModuleFile?Version=3.7.1 with `CommandName: *`.
    std::vector<std::string> allowed_cmdlets();
    // The tenant as the URLs and X-AnchorMailbox name it: its GUID from the token's `tid` claim
    // (signing in first if need be), whatever form the settings give it in; else as given.
    std::string tenant();
    std::string invoke_url();

private:
    enum class Replay { read, write };
    // `paged`: ask for pages of settings_.page_size (Prefer: odata.maxpagesize); otherwise the
    // server's own answer size, for a read whose continuations were refused.
    HttpResponse send(const std::string& url, const std::string& cmdlet, const std::string& body, Replay replay,
                      std::string& client_request_id, bool paged = true);
    std::chrono::milliseconds backoff(int attempt, const HttpResponse* response);
    void write_batch(const std::vector<Cmdlet>& writes, std::size_t first, std::size_t count,
                     std::vector<WriteOutcome>& outcomes);
    WriteOutcome write_one(const Cmdlet& write);
    std::string batch_url();
    // The bearer, the anchor and the correlation id that every admin API request carries.
    std::map<std::string, std::string> signed_headers(const std::string& client_request_id);
    template <class Update>
    void count(Update update) {
        std::lock_guard lock(mutex_);
        update(counters_);
    }

    HttpTransport& http_;
    TokenClient& tokens_;
    ExchangeSettings settings_;
    Sleep sleep_;
    mutable std::mutex mutex_;  // guards jitter_ and counters_ for concurrent batches
    Jitter jitter_;
    ExchangeCounters counters_;
};

}  // namespace authgate
