#pragma once
// Key policies and KMS's authorization rule, as pure functions over the IAM
// evaluator (iam/policy.h):
// - The key policy is the primary authority. A statement naming the principal
//   (its user or role ARN, or "*") grants by itself; a statement naming only the
//   principal's account (the default key policy's "Enable IAM User Permissions":
//   arn:aws:iam::ACCOUNT:root) delegates to the account's IAM identity policies,
//   which must then allow too. Without such a statement identity policies
//   cannot grant anything, even to the account's root user.
// - An explicit Deny in the key policy or in an identity policy wins.
// This is iam::EvaluateRoleTrust's rule (a trust policy is a resource policy
// that must allow the caller), so both share one implementation.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "iam/policy.h"

namespace hydrant::kms {

// The key policy AWS gives a key created without Policy, byte for byte as
// GetKeyPolicy returns it.
std::string DefaultKeyPolicy(std::string_view account_id);

// A key policy document checked with the IAM parser as a resource policy
// (Principal required); on failure InvalidArgument with error_code
// MalformedPolicyDocumentException and the parser's message.
Result<std::shared_ptr<const iam::Policy>> ParseKeyPolicy(std::string_view document);

struct KeyDecision {
  iam::Evaluation evaluation;
  std::string message;  // KMS's AccessDeniedException message when denied; "" when allowed
  bool allowed() const { return evaluation.allowed(); }
};

// KMS's rule for ctx (action kms:X, resource the key ARN). `key_policy` null
// means "no statement allows" (a key policy that no longer parses).
KeyDecision EvaluateKeyAccess(const iam::AuthzContext& ctx,
                              std::span<const std::shared_ptr<const iam::Policy>> identity_policies,
                              const iam::Policy* key_policy);

// The principal's identity policies, parsed; AccessDeniedException (with the
// message for `ctx`) when one no longer parses: it could hold a Deny.
Result<std::vector<std::shared_ptr<const iam::Policy>>> ParseIdentityPolicies(
    const iam::AuthzContext& ctx);

// CreateKey's and PutKeyPolicy's lockout safety check: OK when `ctx.principal`
// (with its identity policies) could still call kms:PutKeyPolicy on the key
// `ctx.resource` under `key_policy`; otherwise MalformedPolicyDocumentException
// with AWS's message. Callers skip it for BypassPolicyLockoutSafetyCheck.
Status CheckLockout(iam::AuthzContext ctx, const iam::Policy& key_policy);

}  // namespace hydrant::kms
