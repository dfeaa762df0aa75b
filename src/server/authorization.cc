#include "server/authorization.h"

#include <spdlog/spdlog.h>

#include <iterator>

#include "destinations/object_store.h"
#include "iam/policy.h"
#include "iam/principal.h"
#include "server/aws_query.h"

namespace hydrant::server {

namespace {

std::string Param(const query::Params& params, std::string_view name) {
  return params.Get(name).value_or("");
}

// "/" + ... + "/" as IAM paths are written; "/" when absent.
std::string PathOr(std::string path) {
  if (path.empty()) return "/";
  return path;
}

bool OneOf(std::string_view s, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (s == n) return true;
  }
  return false;
}

}  // namespace

Access FirehoseAccess(std::string_view op, std::string_view stream_name,
                      const AccountContext& account) {
  Access a;
  a.action = "firehose:" + std::string(op);
  a.resource = op == "ListDeliveryStreams"
                   ? "*"
                   : "arn:aws:firehose:" + account.region + ":" + account.account_id +
                         ":deliverystream/" + std::string(stream_name);
  return a;
}

Access LogsAccess(std::string_view op, std::string_view group, std::string_view stream,
                  const AccountContext& account) {
  Access a;
  a.action = "logs:" + std::string(op);
  const std::string base = "arn:aws:logs:" + account.region + ":" + account.account_id + ":log-group:";
  if (op == "DescribeLogGroups") {
    a.resource = base + ":log-stream:";
  } else if (op == "PutLogEvents" || op == "GetLogEvents") {
    a.resource = base + std::string(group) + ":log-stream:" + std::string(stream);
  } else {
    a.resource = base + std::string(group) + ":log-stream:";
  }
  return a;
}

Access LambdaAccess(std::string_view action, std::string_view function_arn) {
  Access a;
  a.action = "lambda:" + std::string(action);
  a.resource = function_arn.empty() ? "*" : std::string(function_arn);
  return a;
}

Access IamAccess(std::string_view action, const query::Params& params,
                 const iam::Principal* caller, const AccountContext& account) {
  Access a;
  a.action = "iam:" + std::string(action);
  const std::string prefix = "arn:aws:iam::" + account.account_id + ":";
  if (OneOf(action, {"ListUsers", "ListRoles", "ListPolicies"})) {
    const char* type = action == "ListUsers" ? "user" : action == "ListRoles" ? "role" : "policy";
    a.resource = prefix + type + PathOr(Param(params, "PathPrefix"));
    return a;
  }
  if (action == "CreatePolicy") {
    a.resource = prefix + "policy" + PathOr(Param(params, "Path")) + Param(params, "PolicyName");
    return a;
  }
  if (OneOf(action, {"GetPolicy", "GetPolicyVersion", "DeletePolicy", "CreatePolicyVersion",
                     "DeletePolicyVersion", "ListPolicyVersions", "SetDefaultPolicyVersion"})) {
    a.resource = Param(params, "PolicyArn");
    if (a.resource.empty()) a.resource = "*";
    return a;
  }
  if (action.find("Role") != std::string_view::npos) {
    const std::string path = action == "CreateRole" ? PathOr(Param(params, "Path")) : "/";
    a.resource = prefix + "role" + path + Param(params, "RoleName");
  } else {
    // The user calls; without UserName they act on the caller's own user.
    std::string name = Param(params, "UserName");
    if (name.empty() && caller && !caller->arn.empty()) {
      a.resource = caller->arn;
    } else {
      const std::string path = action == "CreateUser" ? PathOr(Param(params, "Path")) : "/";
      a.resource = prefix + "user" + path + name;
    }
  }
  if (action.starts_with("Attach") || action.starts_with("Detach")) {
    a.keys.emplace_back("iam:PolicyARN", Param(params, "PolicyArn"));
  }
  return a;
}

Authorizer::Authorizer(const BucketPolicySource* buckets, const Clock* clock)
    : buckets_(buckets), clock_(clock) {}

Authorizer::~Authorizer() = default;

bool Authorizer::Applies(const http::Request& req) {
  return req.principal && req.principal->kind != iam::Principal::Kind::kAnonymous;
}

std::shared_ptr<const Authorizer::Policies> Authorizer::IdentityPolicies(
    const iam::Principal& p) const {
  {
    std::lock_guard l(mu_);
    auto it = identities_.find(p.arn);
    if (it != identities_.end() && it->second.version == p.policy_version) return it->second.policies;
  }
  std::shared_ptr<Policies> parsed = std::make_shared<Policies>();
  for (const std::string& doc : p.policy_documents) {
    auto policy = iam::ParsePolicy(doc, iam::PolicyKind::kIdentity);
    if (!policy.ok()) {
      // Documents are validated when stored. One that no longer parses (a newer
      // hydrant's, or damaged) could hold a Deny: nothing is allowed until fixed.
      spdlog::warn("event=policy_unparsable principal={} error=\"{}\"", p.arn,
                   policy.status().message());
      parsed.reset();
      break;
    }
    parsed->push_back(std::move(policy).value());
  }
  std::lock_guard l(mu_);
  if (identities_.size() >= kAuthorizerCacheEntries) identities_.clear();
  identities_[p.arn] = {p.policy_version, parsed};
  return parsed;
}

std::shared_ptr<const iam::Policy> Authorizer::BucketPolicyOf(const std::string& bucket,
                                                              bool* unreadable) const {
  *unreadable = false;
  if (!buckets_) return nullptr;
  std::shared_ptr<const std::string> doc = buckets_->BucketPolicy(bucket);
  if (!doc) return nullptr;
  {
    std::lock_guard l(mu_);
    auto it = bucket_policies_.find(bucket);
    if (it != bucket_policies_.end() && it->second.document == doc) {
      *unreadable = !it->second.policy;
      return it->second.policy;
    }
  }
  std::shared_ptr<const iam::Policy> policy;
  if (auto parsed = iam::ParsePolicy(*doc, iam::PolicyKind::kResource); parsed.ok()) {
    policy = std::move(parsed).value();
  } else {
    spdlog::warn("event=policy_unparsable bucket={} error=\"{}\"", bucket, parsed.status().message());
  }
  *unreadable = !policy;
  std::lock_guard l(mu_);
  if (bucket_policies_.size() >= kAuthorizerCacheEntries) bucket_policies_.clear();
  bucket_policies_[bucket] = {doc, policy};
  return policy;
}

std::shared_ptr<const std::string> StoreBucketPolicies::BucketPolicy(std::string_view bucket) const {
  if (!store_) return nullptr;
  auto p = store_->BucketPolicy(bucket);
  return p.ok() ? *p : nullptr;
}

std::optional<std::string> Authorizer::Check(const http::Request& req, const Access& access) const {
  if (!Applies(req)) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> keys;
  if (!req.remote_address.empty()) keys.emplace_back("aws:SourceIp", req.remote_address);
  keys.emplace_back("aws:SecureTransport", req.secure ? "true" : "false");
  return Decide(*req.principal, access, std::move(keys));
}

std::optional<std::string> Authorizer::Decide(
    const iam::Principal& p, const Access& access,
    std::vector<std::pair<std::string, std::string>> keys) const {
  if (p.kind == iam::Principal::Kind::kAnonymous) return std::nullopt;
  iam::AuthzContext ctx;
  ctx.principal = &p;
  ctx.action = access.action;
  ctx.resource = access.resource;
  ctx.keys = access.keys;
  ctx.keys.insert(ctx.keys.end(), std::make_move_iterator(keys.begin()),
                  std::make_move_iterator(keys.end()));
  ctx.now_ms = clock_->NowMillis();
  std::shared_ptr<const Policies> identity = IdentityPolicies(p);
  if (!identity) {
    iam::Evaluation broken;  // an implicit deny: the policies could not be read
    return iam::AccessDeniedMessage(ctx, broken);
  }
  bool unreadable = false;
  std::shared_ptr<const iam::Policy> resource =
      access.bucket.empty() ? nullptr : BucketPolicyOf(access.bucket, &unreadable);
  // As S3: the root user of the bucket's account may always read, replace or
  // delete its policy, whatever the policy says (the way out of a lockout).
  if (p.kind == iam::Principal::Kind::kRoot &&
      (access.action == "s3:GetBucketPolicy" || access.action == "s3:PutBucketPolicy" ||
       access.action == "s3:DeleteBucketPolicy")) {
    return std::nullopt;
  }
  if (unreadable) {
    iam::Evaluation broken;
    return iam::AccessDeniedMessage(ctx, broken);
  }
  iam::Evaluation e = iam::Evaluate(ctx, *identity, resource.get());
  if (e.allowed()) return std::nullopt;
  return iam::AccessDeniedMessage(ctx, e);
}

}  // namespace hydrant::server
