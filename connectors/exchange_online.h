#pragma once
// The Exchange Online connector: the live state read through InvokeCommand. Every read must
// succeed whole; a failed page fails the read (unknown is not absent).
#include <atomic>
#include <functional>

#include "connectors/connector.h"
#include "connectors/exchange_client.h"

namespace authgate {

class ExchangeOnlineConnector : public TenantConnector {
public:
    explicit ExchangeOnlineConnector(ExchangeClient& client) : client_(client) {}
    // Told what is being read as reads go ("Get-CASMailbox: 12000 read"), for a progress line.
    void on_progress(std::function<void(const std::string&)> progress) { progress_ = std::move(progress); }
    LiveState read_live_state() override;
    // Independent cmdlets go through $batch, ten to a request, a few requests at a time.
    std::vector<WriteOutcome> write(const std::vector<Cmdlet>& cmdlets) override;
    // Get-User -Identity: live tenants return StsRefreshTokensValidFrom.
    std::optional<std::string> read_tokens_valid_from(const std::string& identity) override;
    // Get-Recipient -Identity: mailboxes, groups, mail users and contacts alike.
    std::optional<Recipient> find_recipient(const std::string& address) override;

private:
    ExchangeClient& client_;
    // What is read beside the mailboxes: the organisation's settings; the authentication policies
    // and their users (ended at the next object once `stop` turns true).
    void read_settings(LiveState& state);
    void read_policies(LiveState& state, const std::atomic<bool>* stop);

    std::function<void(const std::string&)> progress_;
};

}  // namespace authgate
