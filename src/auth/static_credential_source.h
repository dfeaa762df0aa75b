#pragma once
// StaticCredentialSource: a fixed set of access keys, e.g. the [[auth.users]] of
// the configuration. Root entries are the account's root user (Principal
// kRoot, arn:aws:iam::ACCOUNT:root); the others IAM users (kUser,
// arn:aws:iam::ACCOUNT:user/NAME) with their inline policy as their one
// identity policy. An entry with a session token is a temporary key: requests
// must carry the token (tests of temporary credentials until the IAM/STS store
// issues them). Immutable after construction, so thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "iam/credential_source.h"

namespace hydrant::auth {

struct StaticUser {
  std::string name;
  std::string access_key_id;
  std::string secret_access_key;
  std::string policy;  // inline policy document (JSON); "" = none
  bool root = false;
  std::string session_token;  // non-empty: a temporary key
  int64_t expires_ms = 0;     // temporary keys: expiry (Unix ms); 0 = never
  bool active = true;
};

class StaticCredentialSource final : public iam::CredentialSource {
 public:
  StaticCredentialSource(std::string account_id, const std::vector<StaticUser>& users);
  std::optional<iam::KeyLookup> Lookup(std::string_view access_key_id) const override;

 private:
  std::unordered_map<std::string, iam::KeyLookup> keys_;
};

// The first source that knows a key answers for it (the IAM store, then keys
// given otherwise). The sources must outlive it.
class ChainedCredentialSource final : public iam::CredentialSource {
 public:
  explicit ChainedCredentialSource(std::vector<const iam::CredentialSource*> sources)
      : sources_(std::move(sources)) {}
  std::optional<iam::KeyLookup> Lookup(std::string_view access_key_id) const override {
    for (const iam::CredentialSource* s : sources_) {
      if (auto found = s->Lookup(access_key_id)) return found;
    }
    return std::nullopt;
  }

 private:
  std::vector<const iam::CredentialSource*> sources_;
};

}  // namespace hydrant::auth
