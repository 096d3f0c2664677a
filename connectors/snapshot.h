#pragma once
// The snapshot connector: a live state saved as JSON (README.md, "Snapshot format"),
// including PowerShell ConvertTo-Json exports with extra properties and @odata annotations.
#include <string>

#include "connectors/connector.h"

namespace authgate {

// Parses snapshot text (with simdjson, as pages of the live API are); `name` is the file name used
// in messages. The agent writes the format (snapshot_json in agent/render.h). Throws ConnectorError
// naming the member and element at fault. A member that is absent leaves that part unknown.
LiveState parse_snapshot(const std::string& text, const std::string& name);

class SnapshotConnector : public TenantConnector {
public:
    explicit SnapshotConnector(std::string path) : path_(std::move(path)) {}
    LiveState read_live_state() override;
    // A snapshot is evidence of a past state; it is never changed.
    std::vector<WriteOutcome> write(const std::vector<Cmdlet>& cmdlets) override;

private:
    std::string path_;
};

}  // namespace authgate
