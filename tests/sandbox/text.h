// Small string helpers shared by the sandbox: case-insensitive comparison the way Exchange
// and Entra compare identities, and the trimming and splitting HTTP headers need.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sandbox {

std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
std::string_view trim(std::string_view text);
std::vector<std::string> split(std::string_view text, char separator);

}  // namespace sandbox
