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

// A number for people, its thousands grouped: "4,016".
std::string grouped(std::size_t number);
// A count and its noun, pluralised: "1 change", "4,016 changes" (`plural` defaults to noun + "s").
std::string counted(std::size_t number, std::string_view noun, std::string_view plural = {});

// `text` percent-encoded for a URL: every byte but RFC 3986's unreserved characters and those in
// `also_kept` (a path keeps "/") becomes %XX, so that no text can end or redirect the URL.
std::string percent_encode(std::string_view text, std::string_view also_kept = {});

}  // namespace authgate
