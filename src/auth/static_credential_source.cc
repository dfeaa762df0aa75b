#include "auth/static_credential_source.h"

#include <cctype>

#include "common/digest.h"

namespace hydrant::auth {

StaticCredentialSource::StaticCredentialSource(std::string account_id,
                                               const std::vector<StaticUser>& users) {
  for (const StaticUser& u : users) {
    iam::KeyLookup k;
    k.secret_access_key = u.secret_access_key;
    k.session_token = u.session_token;
    k.expires_ms = u.expires_ms;
    k.active = u.active;
    iam::Principal& p = k.principal;
    p.account_id = account_id;
    if (u.root) {
      p.kind = iam::Principal::Kind::kRoot;
      p.arn = "arn:aws:iam::" + account_id + ":root";
      p.user_id = account_id;
    } else {
      p.kind = iam::Principal::Kind::kUser;
      p.arn = "arn:aws:iam::" + account_id + ":user/" + u.name;
      p.user_name = u.name;
      // IAM's unique ids look like AIDA + 17 upper-case characters; stable per name.
      std::string id = Sha256Hex(account_id + "/" + u.name).substr(0, 17);
      for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      p.user_id = "AIDA" + id;
      if (!u.policy.empty()) p.policy_documents.push_back(u.policy);
    }
    p.access_key_id = u.access_key_id;
    keys_[u.access_key_id] = std::move(k);
  }
}

std::optional<iam::KeyLookup> StaticCredentialSource::Lookup(std::string_view access_key_id) const {
  auto it = keys_.find(std::string(access_key_id));
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

}  // namespace hydrant::auth
