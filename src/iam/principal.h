#pragma once
// Who made a request, once its signature is verified (or, in open mode, the
// anonymous caller), and what identity policies apply to it. Shared by
// authentication (src/auth), the policy evaluator (iam/policy.h) and the IAM/STS
// store (iam/identity_store.h): the seam that cluster mode keeps, with the store
// behind it replicated instead of on local disk.

#include <cstdint>
#include <string>
#include <vector>

namespace hydrant::iam {

struct Principal {
  enum class Kind {
    kAnonymous,    // open mode: no signature checked; everything allowed
    kRoot,         // the account's root user (bootstrap credentials without policy)
    kUser,         // an IAM user (config [[auth.users]] or CreateUser)
    kAssumedRole,  // temporary credentials from sts:AssumeRole
    kFederated,    // temporary credentials from sts:GetSessionToken (acts as its user)
    // An AWS service acting for the account (e.g. firehose.amazonaws.com using a
    // delivery role): `arn` holds the service principal name, account_id the
    // account. Policies match it only through {"Principal": {"Service": ...}}
    // (or "*"); it has no identity policies.
    kService,
  };
  Kind kind = Kind::kAnonymous;
  std::string account_id;     // 12 digits
  // arn:aws:iam::111122223333:user/alice, arn:aws:iam::111122223333:root,
  // arn:aws:sts::111122223333:assumed-role/ROLE/SESSION
  std::string arn;
  std::string user_name;      // aws:username (users, and GetSessionToken sessions); "" otherwise
  // GetCallerIdentity's UserId: AIDA... for users, AROA...:SESSION for roles,
  // the account id for root.
  std::string user_id;
  std::string access_key_id;  // the key that signed the request
  // For assumed roles: the role's ARN (aws:PrincipalArn is this, not `arn`).
  std::string role_arn;
  // Identity policy documents (JSON text) that apply: inline and attached policies
  // of the user or role, in a stable order. Root has none and is allowed
  // everything except what a resource policy explicitly denies.
  std::vector<std::string> policy_documents;
  // Changes whenever policy_documents may have changed (a cache key for parsed
  // policies together with `arn`).
  uint64_t policy_version = 0;
};

}  // namespace hydrant::iam
