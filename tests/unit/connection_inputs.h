#pragma once
// What a command is given besides the desired state, made up for a test: its connection flags,
// and a process environment of named variables.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/connection.h"

namespace authgate::testing {

// The connection options parsed from `args`, as a command parses them.
inline po::variables_map connection_flags(std::vector<std::string> args) {
    po::options_description options;
    add_connection_options(options);
    po::variables_map values;
    po::store(po::command_line_parser(args).options(options).run(), values);
    return values;
}

// An environment holding `variables` and nothing else.
inline Environment environment_of(std::map<std::string, std::string> variables) {
    return [variables](const std::string& name) -> std::optional<std::string> {
        const auto found = variables.find(name);
        if (found == variables.end()) return std::nullopt;
        return found->second;
    };
}

}  // namespace authgate::testing
