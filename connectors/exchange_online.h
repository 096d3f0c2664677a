#pragma once
// The Exchange Online connector: the live state read through InvokeCommand. Every read must
// succeed whole; a failed page fails the read (unknown is not absent).
#include "connectors/connector.h"
#include "connectors/exchange_client.h"

namespace authgate {

class ExchangeOnlineConnector : public TenantConnector {
public:
    explicit ExchangeOnlineConnector(ExchangeClient& client) : client_(client) {}
    LiveState read_live_state() override;
    // Independent cmdlets go through $batch, ten to a request, a few requests at a time.
    std::vector<WriteOutcome> write(const std::vector<Cmdlet>& cmdlets) override;

private:
    ExchangeClient& client_;
};

}  // namespace authgate
