#pragma once
// IAM policy documents: parsing with validation (MalformedPolicyDocument and the
// message IAM gives), and AWS's evaluation logic for one account: an explicit
// Deny in any applicable policy wins, then an Allow in an identity policy or in
// the resource policy, else the implicit deny. docs/security.md describes what is
// supported (elements, condition operators, keys) and what is not.
//
// This header is the seam between authentication (who), the policy stores (IAM
// users and roles, bucket policies, later KMS key policies) and the API handlers
// (what is asked): cluster mode keeps it and only moves the stores.
//
// Thread-safety: a parsed Policy is immutable and may be shared across threads;
// all functions are pure.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "iam/principal.h"

namespace hydrant::iam {

class Policy;  // a parsed, validated policy document (defined in iam/policy.cc)

enum class PolicyKind {
  kIdentity,  // attached to a user or role: no Principal/NotPrincipal allowed
  kResource,  // a bucket (or key) policy: Principal or NotPrincipal required
  kTrust,     // a role's trust policy (AssumeRolePolicyDocument): Principal required,
              // actions sts:AssumeRole* only
};

// Parses and validates `json`. On failure the Status is InvalidArgument with a
// message for MalformedPolicyDocument (e.g. "Syntax errors in policy.",
// "Policy document should not specify a principal.", "Missing required field
// Principal"), as IAM and S3 answer.
Result<std::shared_ptr<const Policy>> ParsePolicy(std::string_view json, PolicyKind kind);

// One request to authorize.
struct AuthzContext {
  const Principal* principal = nullptr;
  std::string action;    // "firehose:PutRecordBatch", "s3:GetObject", ...
  std::string resource;  // "arn:aws:s3:::bucket/key", "*" for actions without one
  // Condition keys with their values (a key may appear more than once:
  // multi-valued). The evaluator adds the global keys it knows from the principal
  // (aws:username, aws:PrincipalArn, aws:PrincipalAccount, aws:userid) and
  // aws:CurrentTime / aws:EpochTime from `now_ms`; callers add aws:SourceIp,
  // aws:SecureTransport and the service keys (s3:prefix, ...).
  std::vector<std::pair<std::string, std::string>> keys;
  int64_t now_ms = 0;
};

enum class Decision { kAllow, kExplicitDeny, kImplicitDeny };

struct Evaluation {
  Decision decision = Decision::kImplicitDeny;
  // Where the explicit deny was (for the AccessDenied message).
  enum class Source { kNone, kIdentity, kResource } deny_source = Source::kNone;
  // Which statement denied explicitly (for explanations such as `hydrant
  // doctor`'s): the index of the policy in `identity_policies` (kIdentity; 0 for
  // the resource policy) and of the statement in its "Statement" (0 when that is
  // a single object). -1 when there is no explicit deny.
  int deny_policy = -1;
  int deny_statement = -1;
  bool allowed() const { return decision == Decision::kAllow; }
};

// AWS's logic for a principal of the same account as the resource: explicit
// Deny in `identity` or `resource` → kExplicitDeny; else an Allow in either →
// kAllow; else kImplicitDeny. A root principal is allowed unless a resource
// policy denies it explicitly. An anonymous principal (open mode) is always
// allowed. `resource_policy` may be null.
Evaluation Evaluate(const AuthzContext& ctx,
                    std::span<const std::shared_ptr<const Policy>> identity_policies,
                    const Policy* resource_policy);

// sts:AssumeRole of a role: unlike other resource policies, the role's trust
// policy must allow the caller, by name (enough on its own) or by its account
// (then an identity policy must allow too); an explicit Deny in either wins.
Evaluation EvaluateRoleTrust(const AuthzContext& ctx,
                             std::span<const std::shared_ptr<const Policy>> identity_policies,
                             const Policy& trust);

// The AccessDenied message as AWS writes it, e.g. "User: arn:aws:iam::1:user/a is
// not authorized to perform: firehose:PutRecordBatch on resource: ARN because no
// identity-based policy allows the firehose:PutRecordBatch action" (or "with an
// explicit deny in an identity-based policy" / "... a resource-based policy").
std::string AccessDeniedMessage(const AuthzContext& ctx, const Evaluation& e);

}  // namespace hydrant::iam
