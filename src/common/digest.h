#pragma once
// SHA-256 through OpenSSL, one copy for every module (request signing, the object
// store's key hashes, log stream names).

#include <string>
#include <string_view>

namespace hydrant {

// The 32-byte digest.
std::string Sha256(std::string_view data);
// Its 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

}  // namespace hydrant
