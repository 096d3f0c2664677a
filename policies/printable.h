#pragma once
// Text from the tenant or the desired state, shown inert on a terminal or in a log: control
// characters (newlines and escapes included) and the Unicode controls that reorder or hide text
// are written as visible escapes ("\n", "\x1b", "\u{202e}"), so that such text can neither move
// the cursor, recolour the screen, start a workflow command on a line of its own, nor read
// differently from what it is.
#include <string>
#include <string_view>

namespace authgate {

std::string printable(std::string_view text);

}  // namespace authgate
