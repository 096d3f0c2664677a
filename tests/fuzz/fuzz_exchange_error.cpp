// Fuzz target: the text of an Exchange error answer (exchange_error_text). The input is the
// body, or "x-ms-diagnostics value\n\n" then the body. Properties: it never throws; the text
// is a part of the answer (or a fixed sentence), never more; a body that is not an error
// envelope, with no x-ms-diagnostics, is shown as it is, cut at 500 bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include <cpprest/json.h>

#include "connectors/exchange_client.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    authgate::HttpResponse response{400, {}, input};
    if (const std::size_t split = input.find("\n\n"); split != std::string::npos) {
        response.headers["x-ms-diagnostics"] = input.substr(0, split);
        response.body = input.substr(split + 2);
    }
    const std::string text = authgate::exchange_error_text(response);
    authgate::fuzz::require(text.size() <= input.size() + 32, "the error text is a part of the answer");

    bool envelope = false;
    try {
        envelope = web::json::value::parse(response.body).has_object_field("error");
    } catch (const web::json::json_exception&) {
    }
    const bool has_nul = response.body.find('\0') != std::string::npos;
    if (!envelope && response.headers.empty() && !response.body.empty() && !has_nul)
        authgate::fuzz::require(text == response.body.substr(0, 500),
                                "a body that is not an envelope is shown as it is");
    return 0;
}
