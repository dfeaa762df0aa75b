#pragma once
// AES-256-GCM and random bytes through OpenSSL 3, for the KMS formats
// (kms/format.h). Pure functions; thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hydrant::kms {

inline constexpr size_t kAesKeyBytes = 32;
inline constexpr size_t kGcmIvBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;

// `n` bytes from OpenSSL's CSPRNG (RAND_bytes). Aborts if the generator fails:
// a key must never be guessable.
std::string RandomBytes(size_t n);

// AES-256-GCM of `plaintext` under `key` (32 bytes) and `iv` (12 bytes), with
// `aad` authenticated: returns ciphertext || tag (16 bytes).
std::string GcmSeal(std::string_view key, std::string_view iv, std::string_view aad,
                    std::string_view plaintext);
// The inverse; nullopt when the tag does not match (wrong key, wrong aad,
// damaged bytes) or the input is shorter than a tag.
std::optional<std::string> GcmOpen(std::string_view key, std::string_view iv, std::string_view aad,
                                   std::string_view sealed);

}  // namespace hydrant::kms
