#include "kms/key_policy.h"

#include "kms/key_service.h"

namespace hydrant::kms {

std::string DefaultKeyPolicy(std::string_view account_id) {
  // AWS's own formatting (" : ", two-space indent), as GetKeyPolicy returns it.
  std::string p = "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n";
  p += "  \"Statement\" : [ {\n    \"Sid\" : \"Enable IAM User Permissions\",\n";
  p += "    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::";
  p += account_id;
  p += ":root\"\n    },\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}";
  return p;
}

Result<std::shared_ptr<const iam::Policy>> ParseKeyPolicy(std::string_view document) {
  auto parsed = iam::ParsePolicy(document, iam::PolicyKind::kResource);
  if (!parsed.ok()) {
    return Status::InvalidArgument(parsed.status().message())
        .WithErrorCode(kMalformedPolicyDocumentException);
  }
  return parsed;
}

namespace {

// An identity policy allowing everything: asks "would the key policy let the
// account's identity policies decide?" when explaining a denial.
const std::shared_ptr<const iam::Policy>& AllowAll() {
  static const std::shared_ptr<const iam::Policy> p =
      iam::ParsePolicy(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})",
                       iam::PolicyKind::kIdentity)
          .value();
  return p;
}

}  // namespace

KeyDecision EvaluateKeyAccess(const iam::AuthzContext& ctx,
                              std::span<const std::shared_ptr<const iam::Policy>> identity_policies,
                              const iam::Policy* key_policy) {
  KeyDecision d;
  const iam::Principal* p = ctx.principal;
  if (p == nullptr || p->kind == iam::Principal::Kind::kAnonymous) {
    d.evaluation.decision = iam::Decision::kAllow;
    return d;
  }
  if (key_policy == nullptr) {
    // Deny, as if no statement allowed (with a resource-policy message).
    d.evaluation.decision = iam::Decision::kImplicitDeny;
  } else {
    d.evaluation = iam::EvaluateRoleTrust(ctx, identity_policies, *key_policy);
  }
  if (d.allowed()) return d;
  if (d.evaluation.decision == iam::Decision::kExplicitDeny) {
    d.message = iam::AccessDeniedMessage(ctx, d.evaluation);
    return d;
  }
  // Implicit: either the key policy does not let the account's policies decide
  // (no resource-based policy allows), or it does and none of them allows.
  const std::shared_ptr<const iam::Policy> all[] = {AllowAll()};
  const bool delegated =
      key_policy != nullptr && iam::EvaluateRoleTrust(ctx, all, *key_policy).allowed();
  if (delegated) {
    d.message = iam::AccessDeniedMessage(ctx, d.evaluation);
  } else {
    d.message = "User: " + p->arn + " is not authorized to perform: " + ctx.action +
                " on resource: " + ctx.resource + " because no resource-based policy allows the " +
                ctx.action + " action";
  }
  return d;
}

Result<std::vector<std::shared_ptr<const iam::Policy>>> ParseIdentityPolicies(
    const iam::AuthzContext& ctx) {
  std::vector<std::shared_ptr<const iam::Policy>> out;
  if (ctx.principal == nullptr) return out;
  for (const std::string& doc : ctx.principal->policy_documents) {
    auto parsed = iam::ParsePolicy(doc, iam::PolicyKind::kIdentity);
    if (!parsed.ok()) {
      iam::Evaluation broken;  // an implicit deny: the policies could not be read
      return Status::InvalidArgument(iam::AccessDeniedMessage(ctx, broken))
          .WithErrorCode(kAccessDeniedException);
    }
    out.push_back(std::move(parsed).value());
  }
  return out;
}

Status CheckLockout(iam::AuthzContext ctx, const iam::Policy& key_policy) {
  const iam::Principal* p = ctx.principal;
  if (p == nullptr || p->kind == iam::Principal::Kind::kAnonymous) return Status::Ok();
  ctx.action = "kms:PutKeyPolicy";
  auto identity = ParseIdentityPolicies(ctx);
  if (identity.ok() && EvaluateKeyAccess(ctx, *identity, &key_policy).allowed()) return Status::Ok();
  return Status::InvalidArgument(
             "The new key policy will not allow you to update the key policy in the future.")
      .WithErrorCode(kMalformedPolicyDocumentException);
}

}  // namespace hydrant::kms
