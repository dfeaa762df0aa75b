#include "server/delivery_role.h"

#include "destinations/sink_errors.h"

namespace hydrant::server {

Status RoleCheckedSink::Authorize(std::string_view role_arn, const Access& access) const {
  auto session = roles_->ServiceSession(iam::kFirehoseService, role_arn);
  if (!session.ok()) {
    return store::SinkError(store::kS3AccessDenied,
                            std::string(kS3AccessDeniedText) + " (" + session.status().message() +
                                ")");
  }
  // Firehose reaches S3 over TLS; it has no source address a policy could name.
  if (auto denied = authz_->Decide(*session, access, {{"aws:SecureTransport", "true"}})) {
    return store::SinkError(store::kS3AccessDenied,
                            std::string(kS3AccessDeniedText) + " (" + *denied + ")");
  }
  return Status::Ok();
}

namespace {

Access ObjectAccess(std::string_view action, std::string_view bucket, std::string_view key,
                    const store::ObjectMeta& meta) {
  Access a;
  a.action = std::string(action);
  a.resource = "arn:aws:s3:::" + std::string(bucket) + "/" + std::string(key);
  a.bucket = std::string(bucket);
  if (!meta.sse_kms_key_id.empty()) a.keys.emplace_back("s3:x-amz-server-side-encryption", "aws:kms");
  return a;
}

}  // namespace

Result<std::unique_ptr<store::ObjectWriter>> RoleCheckedSink::BeginPut(
    std::string_view bucket, std::string_view key, const store::ObjectMeta& meta) {
  HYDRANT_RETURN_IF_ERROR(Authorize(meta.role_arn, ObjectAccess("s3:PutObject", bucket, key, meta)));
  return inner_->BeginPut(bucket, key, meta);
}

Status RoleCheckedSink::CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) {
  Access list;
  list.action = "s3:ListBucket";
  list.resource = "arn:aws:s3:::" + std::string(bucket);
  list.bucket = std::string(bucket);
  HYDRANT_RETURN_IF_ERROR(Authorize(meta.role_arn, list));
  const std::string probe = std::string(store::kProbeKeyPrefix) + "check";
  HYDRANT_RETURN_IF_ERROR(
      Authorize(meta.role_arn, ObjectAccess("s3:PutObject", bucket, probe, meta)));
  return inner_->CheckAccess(bucket, meta);
}

processing::InvokeResult RoleCheckedInvoker::Invoke(const processing::FunctionRef& fn,
                                                    const std::string& event_json,
                                                    std::chrono::milliseconds timeout) {
  if (fn.role_arn.empty()) return inner_->Invoke(fn, event_json, timeout);
  auto refuse = [](std::string_view code, std::string_view text, const std::string& why) {
    processing::InvokeResult r;
    r.kind = processing::InvokeResult::Kind::kFatal;
    r.error_code = std::string(code);
    r.error_message = std::string(text) + " (" + why + ")";
    return r;
  };
  auto session = roles_->ServiceSession(iam::kFirehoseService, fn.role_arn);
  if (!session.ok()) {
    return refuse(kLambdaAssumeRoleAccessDenied, kLambdaAssumeRoleDeniedText,
                  session.status().message());
  }
  const std::string fn_arn =
      "arn:aws:lambda:" + (fn.region.empty() ? account_.region : fn.region) + ":" +
      (fn.account.empty() ? account_.account_id : fn.account) + ":function:" + fn.name +
      (fn.qualifier.empty() ? "" : ":" + fn.qualifier);
  for (std::string_view action : kLambdaProcessorActions) {
    Access access;
    access.action = std::string(action);
    access.resource = fn_arn;
    if (auto denied = authz_->Decide(*session, access, {{"aws:SecureTransport", "true"}})) {
      return refuse(kLambdaInvokeAccessDenied, kLambdaInvokeDeniedText, *denied);
    }
  }
  return inner_->Invoke(fn, event_json, timeout);
}

}  // namespace hydrant::server
