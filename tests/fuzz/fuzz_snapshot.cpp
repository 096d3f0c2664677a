// Fuzz target: the snapshot loader (plan --snapshot). Properties: bad input is a
// ConnectorError and nothing else, and a snapshot authgate writes of what it read reads back
// as the same live state.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/render.h"
#include "connectors/snapshot.h"
#include "fuzz_check.h"

using namespace authgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    LiveState live;
    try {
        live = parse_snapshot(text, "fuzz.json");
    } catch (const ConnectorError&) {
        return 0;
    }
    const LiveState again = parse_snapshot(snapshot_json(live).serialize(), "again.json");
    fuzz::require(live == again, "a snapshot written from what was read reads back the same");
    return 0;
}
