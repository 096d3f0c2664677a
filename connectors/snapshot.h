#pragma once
// The snapshot connector: a live state saved as JSON (README.md, "Snapshot format"),
// including PowerShell ConvertTo-Json exports with extra properties and @odata annotations.
#include <string>

#include <cpprest/json.h>

#include "connectors/connector.h"

namespace authgate {

// Parses snapshot text; `name` is the file name used in messages. Throws ConnectorError
// naming the member and element at fault. A member that is absent leaves that part unknown.
LiveState parse_snapshot(const std::string& text, const std::string& name);

// The live state in the snapshot format, with Exchange's property names; parts that are unknown
// are left out (so they stay unknown when it is read back).
web::json::value snapshot_json(const LiveState& live);

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
