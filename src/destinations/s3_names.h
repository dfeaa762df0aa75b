#pragma once
// S3's naming rules for buckets and object keys, checked by the embedded store
// (destinations/object_store.h) before a name reaches its files. Pure functions.

#include <optional>
#include <string>
#include <string_view>

namespace hydrant::store {

// S3's rules: 3-63 chars, lower-case letters, digits, '.', '-', starts and ends with
// a letter or digit, no "..", not an IP address, no xn-- prefix / -s3alias suffix.
bool IsValidBucketName(std::string_view name);
// 1-1024 bytes of valid UTF-8, no NUL. Segments such as "..", "" (from "//") or a
// leading "/" are valid S3 keys and are stored safely (the path is a hash).
// Returns the error message, or nullopt when valid.
std::optional<std::string> ValidateKey(std::string_view key);

}  // namespace hydrant::store
