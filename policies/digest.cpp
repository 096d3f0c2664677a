#include "policies/digest.h"

#include <openssl/evp.h>

namespace authgate {

Digest::Digest() : context_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(context_, EVP_sha256(), nullptr); }

Digest::~Digest() { EVP_MD_CTX_free(context_); }

void Digest::add(std::string_view bytes) {
    const std::string length = std::to_string(bytes.size()) + ":";  // framing keeps boundaries unambiguous
    EVP_DigestUpdate(context_, length.data(), length.size());
    EVP_DigestUpdate(context_, bytes.data(), bytes.size());
}

std::string Digest::hex() {
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(context_, bytes, &size);
    static const char digits[] = "0123456789abcdef";
    std::string text = "sha256:";
    for (unsigned int i = 0; i < size; ++i) {
        text += digits[bytes[i] >> 4];
        text += digits[bytes[i] & 15];
    }
    return text;
}

}  // namespace authgate
