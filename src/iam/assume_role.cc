#include "iam/assume_role.h"

#include <memory>
#include <vector>

#include "iam/policy.h"

namespace hydrant::iam {

bool MayAssumeRole(const Principal& caller, const std::string& role_arn,
                   const std::string& trust_policy_json, int64_t now_ms,
                   std::vector<std::pair<std::string, std::string>> keys) {
  auto trust = ParsePolicy(trust_policy_json, PolicyKind::kTrust);
  if (!trust.ok()) return false;
  std::vector<std::shared_ptr<const Policy>> identity;
  for (const std::string& doc : caller.policy_documents) {
    auto p = ParsePolicy(doc, PolicyKind::kIdentity);
    if (!p.ok()) return false;  // it could hold a Deny
    identity.push_back(std::move(p).value());
  }
  AuthzContext ctx;
  ctx.principal = &caller;
  ctx.action = "sts:AssumeRole";
  ctx.resource = role_arn;
  ctx.now_ms = now_ms;
  ctx.keys = std::move(keys);
  return EvaluateRoleTrust(ctx, identity, **trust).allowed();
}

}  // namespace hydrant::iam
