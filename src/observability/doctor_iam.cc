#include "observability/doctor_iam.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <boost/json.hpp>

#include "destinations/sink_errors.h"
#include "iam/identity_store.h"
#include "iam/policy.h"
#include "iam/service_roles.h"
#include "kms/key_policy.h"
#include "kms/key_service.h"
#include "processing/invoker.h"
#include "stream/delivery_stream.h"

namespace hydrant::observability {

namespace json = boost::json;

namespace {

constexpr std::string_view kTrustFix =
    "let Firehose assume the role: aws iam update-assume-role-policy --role-name ROLE "
    "--policy-document '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
    "\"Principal\":{\"Service\":\"firehose.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}'";

// The account of an ARN (its fifth field); "" when it has none.
std::string ArnAccount(std::string_view arn) {
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return "";
    ++pos;
  }
  size_t end = arn.find(':', pos);
  return std::string(arn.substr(pos, end == std::string_view::npos ? end : end - pos));
}

std::string ArnLeaf(std::string_view arn) {
  size_t slash = arn.rfind('/');
  return std::string(slash == std::string_view::npos ? arn : arn.substr(slash + 1));
}

// Statement `index` of a policy document: " statement "Sid" (#N) ... : {json}".
std::string DescribeStatement(const std::string& document, int index) {
  boost::system::error_code ec;
  json::value doc = json::parse(document, ec);
  const json::value* st = nullptr;
  if (!ec && doc.is_object()) {
    if (const json::value* s = doc.as_object().if_contains("Statement")) {
      if (s->is_array() && index >= 0 && static_cast<size_t>(index) < s->as_array().size()) {
        st = &s->as_array()[index];
      } else if (s->is_object() && index == 0) {
        st = s;
      }
    }
  }
  std::string out = "statement #" + std::to_string(index + 1);
  if (st == nullptr) return out;
  if (st->is_object()) {
    if (const json::value* sid = st->as_object().if_contains("Sid"); sid && sid->is_string()) {
      out = "statement \"" + std::string(sid->as_string()) + "\" (#" + std::to_string(index + 1) +
            ")";
    }
  }
  return out + " " + json::serialize(*st);
}

// "... denied explicitly by <statement> of <policy>; document: <doc>".
std::string ExplainDeny(const std::string& policy_name, const std::string& document, int index) {
  std::string doc = document;
  boost::system::error_code ec;
  json::value v = json::parse(document, ec);
  if (!ec) doc = json::serialize(v);  // one line
  return "denied explicitly by " + DescribeStatement(document, index) + " of " + policy_name +
         "; document: " + doc;
}

struct ParsedRole {
  DeliveryRoleDocuments docs;
  std::vector<std::shared_ptr<const iam::Policy>> policies;
  std::string unreadable;  // the name of a policy that does not parse (it could deny)
  iam::Principal session;  // the role's session as Firehose's
};

std::string FirehoseCode(std::string_view action) {
  if (action.starts_with("lambda:")) return "Lambda.InvokeAccessDenied";
  if (action.starts_with("kms:")) return std::string(store::kS3KmsAccessDenied);
  if (action.starts_with("logs:")) return "";  // error events are dropped, not a delivery error
  return std::string(store::kS3AccessDenied);
}

NeededAction Need(const std::string& role, std::string action, std::string resource,
                  std::string bucket, bool required, std::string why) {
  NeededAction n;
  n.role_arn = role;
  n.error_code = FirehoseCode(action);
  n.action = std::move(action);
  n.resource = std::move(resource);
  n.bucket = std::move(bucket);
  n.required = required;
  n.why = std::move(why);
  return n;
}

// The static part of a prefix (up to its first !{...} expression).
std::string StaticPrefix(const std::string& prefix) {
  return prefix.substr(0, prefix.find("!{"));
}

void BucketNeeds(const api::S3DestinationSpec& s3, const std::string& why,
                 std::vector<NeededAction>* out) {
  if (s3.role_arn.empty() || s3.bucket.empty()) return;
  const std::string bucket_arn = "arn:aws:s3:::" + s3.bucket;
  NeededAction put = Need(s3.role_arn, "s3:PutObject",
                          bucket_arn + "/" + StaticPrefix(s3.prefix) + "object", s3.bucket, true,
                          why);
  if (!s3.kms_key_arn.empty()) put.keys.emplace_back("s3:x-amz-server-side-encryption", "aws:kms");
  out->push_back(std::move(put));
  out->push_back(Need(s3.role_arn, "s3:AbortMultipartUpload",
                      bucket_arn + "/" + StaticPrefix(s3.prefix) + "object", s3.bucket, false, why));
  out->push_back(Need(s3.role_arn, "s3:GetBucketLocation", bucket_arn, s3.bucket, false, why));
  out->push_back(Need(s3.role_arn, "s3:ListBucket", bucket_arn, s3.bucket, false, why));
}

void LogNeeds(const logs::LoggingOptions& logging, const std::string& role,
              const std::string& stream, std::string_view default_log_stream,
              const AccountContext& account, std::vector<NeededAction>* out) {
  if (!logging.enabled || role.empty()) return;
  const std::string group = logging.log_group_name.empty() ? "/aws/kinesisfirehose/" + stream
                                                           : logging.log_group_name;
  const std::string log_stream = logging.log_stream_name.empty() ? std::string(default_log_stream)
                                                                 : logging.log_stream_name;
  out->push_back(Need(role, "logs:PutLogEvents",
                      "arn:aws:logs:" + account.region + ":" + account.account_id +
                          ":log-group:" + group + ":log-stream:" + log_stream,
                      "", true, "error logging (CloudWatchLoggingOptions)"));
}

}  // namespace

Result<DeliveryRoleDocuments> RoleDocumentsOf(const iam::IdentityStore& store,
                                              std::string_view role_arn) {
  const std::string name = ArnLeaf(role_arn);
  auto role = store.GetRole(name);
  if (!role.ok() || role->arn != role_arn) {
    return Status::NotFound("The role " + std::string(role_arn) + " cannot be found.");
  }
  DeliveryRoleDocuments d;
  d.arn = role->arn;
  d.trust_policy = role->trust_policy;
  auto inline_names = store.ListInlinePolicies(iam::EntityKind::kRole, role->name);
  if (inline_names.ok()) {
    for (const std::string& p : *inline_names) {
      auto doc = store.GetInlinePolicy(iam::EntityKind::kRole, role->name, p);
      if (doc.ok()) d.policies.push_back({"inline policy " + p + " of role " + role->name, *doc});
    }
  }
  auto attached = store.ListAttachedPolicies(iam::EntityKind::kRole, role->name);
  if (attached.ok()) {
    for (const iam::AttachedPolicy& a : *attached) {
      auto info = store.GetPolicy(a.arn);
      if (info.ok()) d.policies.push_back({"managed policy " + a.arn, info->document});
    }
  }
  return d;
}

std::vector<NeededAction> NeededActions(const stream::StreamMeta& meta,
                                        const AccountContext& account) {
  std::vector<NeededAction> out;
  const api::DestinationSpec& spec = meta.spec();
  BucketNeeds(spec.s3, "destination bucket s3://" + spec.s3.bucket, &out);
  if (spec.backup) BucketNeeds(*spec.backup, "backup bucket s3://" + spec.backup->bucket, &out);
  if (spec.processing_enabled()) {
    for (const processing::ProcessorSpec& p : spec.processing->processors) {
      if (p.type != "Lambda") continue;
      auto arn = p.parameters.find("LambdaArn");
      auto role = p.parameters.find("RoleArn");
      if (arn == p.parameters.end() || role == p.parameters.end() || role->second.empty()) continue;
      processing::FunctionRef fn;
      if (!processing::ParseFunctionRef(arn->second, &fn)) continue;
      const std::string fn_arn =
          "arn:aws:lambda:" + (fn.region.empty() ? account.region : fn.region) + ":" +
          (fn.account.empty() ? account.account_id : fn.account) + ":function:" + fn.name +
          (fn.qualifier.empty() ? "" : ":" + fn.qualifier);
      // Delivery checks both before invoking (server::RoleCheckedInvoker), each
      // denial Lambda.InvokeAccessDenied.
      for (const char* action : {"lambda:InvokeFunction", "lambda:GetFunctionConfiguration"}) {
        out.push_back(Need(role->second, action, fn_arn, "", true, "Lambda processor " + arn->second));
      }
    }
  }
  LogNeeds(spec.s3.logging, spec.s3.role_arn, meta.name, "DestinationDelivery", account, &out);
  if (spec.backup) {
    LogNeeds(spec.backup_logging, spec.backup->role_arn, meta.name, "BackupDelivery", account,
             &out);
  }
  return out;
}

std::vector<NeededAction> KmsNeeds(const api::S3DestinationSpec& s3) {
  std::vector<NeededAction> out;
  if (s3.kms_key_arn.empty()) return out;
  const std::string why = "SSE-KMS key of s3://" + s3.bucket;
  out.push_back(Need(s3.role_arn, "kms:GenerateDataKey", s3.kms_key_arn, "", true, why));
  out.push_back(Need(s3.role_arn, "kms:Decrypt", s3.kms_key_arn, "",
                     s3.buffer_size_bytes >= kMultipartObjectBytes,
                     why + " (each part of a multipart upload)"));
  return out;
}

namespace {

// The roles a stream uses, in a stable order.
std::vector<std::string> RolesOf(const std::vector<NeededAction>& needs,
                                 const stream::StreamMeta& meta) {
  std::vector<std::string> roles;
  auto add = [&](const std::string& r) {
    if (!r.empty() && std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  };
  add(meta.spec().s3.role_arn);
  if (meta.spec().backup) add(meta.spec().backup->role_arn);
  for (const NeededAction& n : needs) add(n.role_arn);
  return roles;
}

}  // namespace

CheckResult Doctor::CheckRoleTrust(const DoctorTarget& t) const {
  const std::string id = "role-trust", name = "role trust";
  if (!deps_.iam.enforce_roles || !deps_.iam.role) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable,
                     "delivery roles are not enforced ([auth] mode \"sigv4\" or enforce_roles)");
  }
  const std::vector<std::string> roles = RolesOf(NeededActions(t.meta, deps_.iam.account), t.meta);
  if (roles.empty()) return MakeCheck(id, name, CheckStatus::kNotApplicable, "the stream names no role");
  std::vector<std::string> ok, bad;
  for (const std::string& arn : roles) {
    auto role = deps_.iam.role(arn);
    if (!role.ok()) {
      bad.push_back(arn + " does not exist (NoSuchEntity)");
      continue;
    }
    auto trust = iam::ParsePolicy(role->trust_policy, iam::PolicyKind::kTrust);
    if (!trust.ok()) {
      bad.push_back(arn + ": its trust policy does not parse (" + trust.status().message() + ")");
      continue;
    }
    iam::Principal svc;
    svc.kind = iam::Principal::Kind::kService;
    svc.account_id = ArnAccount(arn);
    svc.arn = std::string(iam::kFirehoseService);
    iam::AuthzContext ctx;
    ctx.principal = &svc;
    ctx.action = "sts:AssumeRole";
    ctx.resource = arn;
    ctx.now_ms = Now();
    iam::Evaluation e = iam::EvaluateRoleTrust(ctx, {}, **trust);
    if (e.allowed()) {
      ok.push_back(arn);
    } else if (e.decision == iam::Decision::kExplicitDeny) {
      bad.push_back(arn + ": sts:AssumeRole by firehose.amazonaws.com " +
                    ExplainDeny("the trust policy of " + arn, role->trust_policy, e.deny_statement));
    } else {
      bad.push_back(arn + ": its trust policy has no statement allowing sts:AssumeRole to "
                          "{\"Service\": \"firehose.amazonaws.com\"}");
    }
  }
  if (bad.empty()) {
    std::string ev;
    for (const auto& r : ok) ev += (ev.empty() ? "" : ", ") + r;
    return MakeCheck(id, name, CheckStatus::kPassed, ev + ": exists and trusts firehose.amazonaws.com");
  }
  std::string ev;
  for (const auto& b : bad) ev += (ev.empty() ? "" : "; ") + b;
  return MakeCheck(id, name, CheckStatus::kFailed, ev,
                   "create the role (aws iam create-role) or fix RoleARN; " + std::string(kTrustFix),
                   std::string(store::kS3AccessDenied));
}

CheckResult Doctor::CheckRolePermissions(const DoctorTarget& t) const {
  const std::string id = "role-permissions", name = "role permissions";
  if (!deps_.iam.enforce_roles || !deps_.iam.role) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable,
                     "delivery roles are not enforced ([auth] mode \"sigv4\" or enforce_roles)");
  }
  std::vector<NeededAction> needs = NeededActions(t.meta, deps_.iam.account);
  // A remote bucket's own service decides its S3 actions (as in delivery).
  std::vector<std::string> remote;
  std::erase_if(needs, [&](const NeededAction& n) {
    if (n.bucket.empty() || !deps_.bucket_is_remote || !deps_.bucket_is_remote(n.bucket)) return false;
    if (std::find(remote.begin(), remote.end(), n.bucket) == remote.end()) remote.push_back(n.bucket);
    return true;
  });
  if (needs.empty()) return MakeCheck(id, name, CheckStatus::kNotApplicable, "the stream names no role");
  std::map<std::string, ParsedRole> roles;
  for (const NeededAction& n : needs) {
    if (roles.count(n.role_arn)) continue;
    ParsedRole& pr = roles[n.role_arn];
    auto docs = deps_.iam.role(n.role_arn);
    if (!docs.ok()) continue;  // role-trust reports it
    pr.docs = std::move(docs).value();
    for (const NamedPolicy& p : pr.docs.policies) {
      auto parsed = iam::ParsePolicy(p.document, iam::PolicyKind::kIdentity);
      if (!parsed.ok()) {
        pr.unreadable = p.name;
        break;
      }
      pr.policies.push_back(std::move(parsed).value());
    }
    pr.session.kind = iam::Principal::Kind::kAssumedRole;
    pr.session.account_id = ArnAccount(n.role_arn);
    pr.session.role_arn = n.role_arn;
    pr.session.arn = "arn:aws:sts::" + pr.session.account_id + ":assumed-role/" +
                     ArnLeaf(n.role_arn) + "/firehose";
  }
  std::vector<std::string> missing_required, missing_optional, checked;
  std::string code;
  for (const NeededAction& n : needs) {
    const ParsedRole& pr = roles[n.role_arn];
    std::string line = n.action + " on " + n.resource + " (" + n.why + ", role " + n.role_arn + ")";
    std::string reason;
    if (pr.docs.arn.empty()) {
      reason = "the role does not exist";
    } else if (!pr.unreadable.empty()) {
      reason = pr.unreadable + " does not parse: everything is denied";
    } else {
      std::shared_ptr<const iam::Policy> bucket_policy;
      std::shared_ptr<const std::string> bucket_doc;
      if (!n.bucket.empty() && deps_.iam.bucket_policy) {
        bucket_doc = deps_.iam.bucket_policy(n.bucket);
        if (bucket_doc) {
          auto parsed = iam::ParsePolicy(*bucket_doc, iam::PolicyKind::kResource);
          if (parsed.ok()) bucket_policy = std::move(parsed).value();
          else reason = "the bucket policy of " + n.bucket + " does not parse: everything is denied";
        }
      }
      if (reason.empty()) {
        iam::AuthzContext ctx;
        ctx.principal = &pr.session;
        ctx.action = n.action;
        ctx.resource = n.resource;
        ctx.keys = n.keys;
        ctx.keys.emplace_back("aws:SecureTransport", "true");
        ctx.now_ms = Now();
        iam::Evaluation e = iam::Evaluate(ctx, pr.policies, bucket_policy.get());
        if (e.allowed()) {
          checked.push_back(n.action);
          continue;
        }
        if (e.decision == iam::Decision::kExplicitDeny) {
          if (e.deny_source == iam::Evaluation::Source::kResource) {
            reason = ExplainDeny("bucket policy of " + n.bucket, *bucket_doc, e.deny_statement);
          } else {
            const NamedPolicy& p = pr.docs.policies[e.deny_policy];
            reason = ExplainDeny(p.name, p.document, e.deny_statement);
          }
        } else {
          reason = "no policy of the role allows it";
        }
      }
    }
    line += ": " + reason;
    if (n.required) {
      missing_required.push_back(line);
      if (code.empty()) code = n.error_code;
    } else {
      missing_optional.push_back(line);
    }
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
    return s;
  };
  const std::string fix =
      "add the missing actions to the role's policy (aws iam put-role-policy) on the resources "
      "shown, and remove or narrow any statement that denies explicitly (aws iam "
      "put-role-policy / delete-role-policy, aws s3api put-bucket-policy / delete-bucket-policy)";
  if (!missing_required.empty()) {
    std::string ev = "missing: " + join(missing_required);
    if (!missing_optional.empty()) ev += "; also missing (warnings): " + join(missing_optional);
    return MakeCheck(id, name, CheckStatus::kFailed, ev, fix, code);
  }
  if (!missing_optional.empty()) {
    return MakeCheck(id, name, CheckStatus::kWarning,
                     "the required actions are allowed; missing (Firehose's documented role "
                     "policy lists them): " + join(missing_optional),
                     fix);
  }
  std::string ev = "the stream's roles may do all " + std::to_string(checked.size()) +
                   " actions it needs (" + join(checked) + ")";
  if (!remote.empty()) ev += "; not checked here: the S3 actions on remote buckets (" + join(remote) + ")";
  return MakeCheck(id, name, CheckStatus::kPassed, ev);
}

std::optional<CheckResult> Doctor::CheckKmsStatically(const DoctorTarget& t) const {
  const api::S3DestinationSpec& cfg = t.meta.spec().s3;
  const std::string id = "kms-key", name = "SSE-KMS key";
  if (!deps_.iam.keys || cfg.kms_key_arn.empty()) return std::nullopt;
  const bool remote = deps_.bucket_is_remote && deps_.bucket_is_remote(cfg.bucket);
  auto meta = deps_.iam.keys->DescribeKey(cfg.kms_key_arn);
  if (!meta.ok()) {
    if (remote) return std::nullopt;  // a key of the remote's KMS: the probe decides
    return MakeCheck(id, name, CheckStatus::kFailed,
                     "key " + cfg.kms_key_arn + ": " + meta.status().message(),
                     "create the key (aws kms create-key) or fix KMSEncryptionConfig.AWSKMSKeyARN",
                     std::string(store::kS3KmsNotFound));
  }
  Status usable = deps_.iam.keys->CheckUsable(cfg.kms_key_arn);
  if (!usable.ok()) {
    const std::string kms_code(usable.error_code());
    // The code delivery logs for the same key.
    std::string code(store::S3KmsCode(kms_code));
    if (code.empty()) code = std::string(store::kInternalError);
    return MakeCheck(id, name, CheckStatus::kFailed,
                     "key " + meta->arn + " is " + std::string(kms::KeyStateName(meta->state)) +
                         ": " + usable.message(),
                     kms_code == kms::kDisabledException
                         ? "enable the key: aws kms enable-key --key-id " + meta->key_id
                         : "cancel the deletion (aws kms cancel-key-deletion --key-id " +
                               meta->key_id + ", then enable-key) or use another key",
                     code);
  }
  std::string ev = "key " + meta->arn + " is Enabled";
  if (!deps_.iam.enforce_roles || cfg.role_arn.empty() || !deps_.iam.role) {
    return MakeCheck(id, name, CheckStatus::kPassed,
                     ev + " (its key policy is not checked: delivery roles are not enforced)");
  }
  auto docs = deps_.iam.role(cfg.role_arn);
  if (!docs.ok()) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable,
                     ev + "; the role " + cfg.role_arn + " does not exist (see role-trust)");
  }
  iam::Principal session;
  session.kind = iam::Principal::Kind::kAssumedRole;
  session.account_id = ArnAccount(cfg.role_arn);
  session.role_arn = cfg.role_arn;
  session.arn = "arn:aws:sts::" + session.account_id + ":assumed-role/" + ArnLeaf(cfg.role_arn) +
                "/firehose";
  for (const NamedPolicy& p : docs->policies) session.policy_documents.push_back(p.document);
  std::vector<std::string> denied_required, denied_optional;
  for (const NeededAction& need : KmsNeeds(cfg)) {
    const std::string& action = need.action;
    kms::KeyAccessRequest req;
    req.principal = &session;
    req.action = action;
    req.key = meta->arn;
    req.context["aws:s3:arn"] = "arn:aws:s3:::" + cfg.bucket + "/" + StaticPrefix(cfg.prefix) + "object";
    req.condition_keys.emplace_back("kms:ViaService", "s3." + deps_.iam.account.region + ".amazonaws.com");
    req.condition_keys.emplace_back("aws:SecureTransport", "true");
    Status st = deps_.iam.keys->Authorize(req);
    if (st.ok()) continue;
    std::string line = action + ": " + st.message();
    // Which statement denies, when one does explicitly (the same rule, evaluated here).
    if (deps_.iam.key_policy) {
      auto key_doc = deps_.iam.key_policy(meta->arn);
      auto key_policy = key_doc.ok() ? kms::ParseKeyPolicy(*key_doc)
                                     : Result<std::shared_ptr<const iam::Policy>>(key_doc.status());
      iam::AuthzContext ctx;
      ctx.principal = &session;
      ctx.action = req.action;
      ctx.resource = meta->arn;
      ctx.keys = req.condition_keys;
      ctx.now_ms = Now();
      auto identity = kms::ParseIdentityPolicies(ctx);
      if (key_policy.ok() && identity.ok()) {
        iam::Evaluation e = kms::EvaluateKeyAccess(ctx, *identity, key_policy->get()).evaluation;
        if (e.decision == iam::Decision::kExplicitDeny) {
          line += "; " + (e.deny_source == iam::Evaluation::Source::kResource
                              ? ExplainDeny("key policy of " + meta->arn, *key_doc, e.deny_statement)
                              : ExplainDeny(docs->policies[e.deny_policy].name,
                                            docs->policies[e.deny_policy].document,
                                            e.deny_statement));
        }
      }
    }
    if (!need.required) {
      line += " (needed for objects delivered as multipart uploads, over " +
              std::to_string(kMultipartObjectBytes >> 20) + " MiB: BufferingHints.SizeInMBs is " +
              std::to_string(cfg.buffer_size_bytes >> 20) + ")";
    }
    (need.required ? denied_required : denied_optional).push_back(line);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
    return s;
  };
  const std::string fix = "let the role " + cfg.role_arn +
                          " use the key: allow kms:GenerateDataKey and kms:Decrypt in the key "
                          "policy (aws kms put-key-policy) or, when the key policy delegates to "
                          "the account, in the role's policy; remove a denying statement";
  if (!denied_required.empty()) {
    return MakeCheck(id, name, CheckStatus::kFailed,
                     ev + ", but the role " + cfg.role_arn + " may not use it: " +
                         join(denied_required) +
                         (denied_optional.empty() ? "" : "; " + join(denied_optional)),
                     fix, std::string(store::kS3KmsAccessDenied));
  }
  if (!denied_optional.empty()) {
    return MakeCheck(id, name, CheckStatus::kWarning, ev + "; " + join(denied_optional), fix);
  }
  return MakeCheck(id, name, CheckStatus::kPassed,
                   ev + " and the role " + cfg.role_arn +
                       " may kms:GenerateDataKey and kms:Decrypt with it");
}

CheckResult Doctor::CheckStreamEncryption(const DoctorTarget& t) const {
  const std::string id = "stream-encryption", name = "stream encryption";
  const json::object& enc = t.meta.encryption;
  auto field = [](const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const std::string status = field(enc, "Status");
  // 1. The key in effect: what puts and delivery use now.
  CheckStatus verdict = CheckStatus::kPassed;
  std::string ev, fix, code;
  if (!t.meta.key_at_rest) {
    verdict = CheckStatus::kNotApplicable;
    ev = "encryption at rest is off (no StartDeliveryStreamEncryption in effect)";
  } else if (t.meta.key_at_rest->empty()) {
    ev = "the buffered records are encrypted with hydrant's own key (AWS_OWNED_CMK)";
  } else if (!deps_.iam.keys) {
    verdict = CheckStatus::kNotApplicable;
    ev = "key " + *t.meta.key_at_rest + " (CUSTOMER_MANAGED_CMK) not checked: no KMS";
  } else {
    const std::string& key = *t.meta.key_at_rest;
    Status usable = deps_.iam.keys->CheckUsable(key);
    if (usable.ok()) {
      ev = "the buffered records are encrypted with key " + key + " (CUSTOMER_MANAGED_CMK), "
           "which is Enabled";
    } else {
      auto meta = deps_.iam.keys->DescribeKey(key);
      const std::string key_id = meta.ok() ? meta->key_id : key;
      verdict = CheckStatus::kFailed;
      code = std::string(stream::LogReadErrorCode(usable));
      ev = "key " + key + " of the stream's encryption at rest (CUSTOMER_MANAGED_CMK) " +
           (meta.ok() ? "is " + std::string(kms::KeyStateName(meta->state))
                      : std::string("does not exist")) +
           ": " + usable.message() +
           "; puts fail with InvalidKMSResourceException and buffered records are not "
           "delivered (" + code + ")";
      if (usable.error_code() == kms::kDisabledException) {
        fix = "enable the key: aws kms enable-key --key-id " + key_id +
              "; the buffered records are then delivered";
      } else if (meta.ok()) {
        fix = "cancel the key's deletion: aws kms cancel-key-deletion --key-id " + key_id +
              ", then aws kms enable-key --key-id " + key_id +
              "; the buffered records are then delivered";
      } else {
        fix = "the key is gone and the records buffered under it can never be decrypted; "
              "accept puts again with start-delivery-stream-encryption and another key (or "
              "stop-delivery-stream-encryption)";
      }
    }
  }
  if (status == "ENABLING" || status == "DISABLING") {
    ev += "; a change is under way (Status " + status + ")";
  }
  // 2. The last StartDeliveryStreamEncryption: a failure leaves encryption as it was.
  if (status == "ENABLING_FAILED") {
    std::string type, details;
    if (const json::value* fd = enc.if_contains("FailureDescription"); fd && fd->is_object()) {
      type = field(fd->as_object(), "Type");
      details = field(fd->as_object(), "Details");
    }
    const std::string attempted = field(enc, "KeyARN");
    ev += "; the last StartDeliveryStreamEncryption failed: " + type + ": " + details +
          "; encryption stays as it was";
    const std::string again =
        "start-delivery-stream-encryption again"
        + (attempted.empty() ? std::string() : " (key " + attempted + ")");
    std::string start_fix =
        type == "DISABLED_KMS_KEY"   ? "enable the key (aws kms enable-key), then " + again
        : type == "INVALID_KMS_KEY"  ? "cancel the key's deletion (aws kms cancel-key-deletion, "
                                       "then enable-key), then " + again
        : type == "KMS_KEY_NOT_FOUND" ? "create the key (aws kms create-key) or fix KeyARN, "
                                        "then " + again
        : type == "KMS_ACCESS_DENIED" ? "allow the key's use in its key policy (aws kms "
                                        "put-key-policy), then " + again
                                      : "see hydrant's log (event=encryption_failed), then " + again;
    fix = fix.empty() ? start_fix : fix + "; " + start_fix;
    if (verdict != CheckStatus::kFailed) verdict = CheckStatus::kWarning;
  }
  return MakeCheck(id, name, verdict, ev, fix, code);
}

}  // namespace hydrant::observability
