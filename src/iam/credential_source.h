#pragma once
// Where SigV4 verification finds the secret of an access key and the identity
// behind it. Implemented by the IAM store (iam/identity_store.h: config users,
// CreateAccessKey keys, STS session credentials); tests implement it with a map.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "iam/principal.h"

namespace hydrant::iam {

struct KeyLookup {
  std::string secret_access_key;
  // Required in X-Amz-Security-Token when non-empty (temporary credentials).
  std::string session_token;
  bool active = true;         // UpdateAccessKey --status Inactive makes it false
  int64_t expires_ms = 0;     // temporary credentials: Unix ms after which they fail; 0 = never
  Principal principal;
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // nullopt when no such access key exists. Thread-safe; called on every request.
  virtual std::optional<KeyLookup> Lookup(std::string_view access_key_id) const = 0;
};

}  // namespace hydrant::iam
