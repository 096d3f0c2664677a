#pragma once
// The desired state's digest, "sha256:" and hex: each part added (a file's path, then its bytes)
// is framed by its length, so that moving bytes from one part to the next changes the digest.
#include <string>
#include <string_view>

#include <openssl/types.h>

namespace authgate {

class Digest {
public:
    Digest();
    ~Digest();
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;

    void add(std::string_view bytes);

    // Ends the digest: call once, after the last add.
    std::string hex();

private:
    EVP_MD_CTX* context_;
};

}  // namespace authgate
