#include "server/delivery_role.h"

#include <spdlog/spdlog.h>

#include "destinations/object_store.h"
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

// The object's writer: each part of a multipart upload is authorized as it
// begins; giving up on a multipart upload aborts it (AbortUpload).
class RoleCheckedSink::Writer final : public store::ObjectWriter {
 public:
  Writer(const RoleCheckedSink* sink, std::unique_ptr<store::ObjectWriter> inner,
         std::string_view bucket, std::string_view key, const store::ObjectMeta& meta)
      : sink_(sink), inner_(std::move(inner)), bucket_(bucket), key_(key), meta_(meta) {}
  ~Writer() override {
    if (!committed_ && parts_.multipart()) AbortUpload();
  }
  Status Write(std::string_view bytes) override {
    if (parts_.Add(bytes.size())) {
      // UploadPart: s3:PutObject, as for the whole object.
      HYDRANT_RETURN_IF_ERROR(
          sink_->Authorize(meta_.role_arn, ObjectAccess("s3:PutObject", bucket_, key_, meta_)));
    }
    return inner_->Write(bytes);
  }
  Result<store::ObjectInfo> Commit() override {
    auto info = inner_->Commit();
    committed_ = info.ok();
    return info;
  }

 private:
  // AbortMultipartUpload. The inner writer discards what was written (when this
  // writer is destroyed); a role that may not abort leaves the upload behind.
  void AbortUpload() {
    Status st = sink_->Authorize(meta_.role_arn,
                                 ObjectAccess("s3:AbortMultipartUpload", bucket_, key_, meta_));
    if (st.ok()) return;
    std::string left = "nowhere";
    if (sink_->uploads_) {
      store::ObjectMeta m = meta_;
      m.role_arn.clear();
      m.sse_kms_key_id.clear();
      auto up = sink_->uploads_->CreateMultipartUpload(bucket_, key_, m);
      left = up.ok() ? "upload_id=" + up->upload_id : "failed: " + up.status().ToString();
    }
    spdlog::warn(
        "event=multipart_abort_denied bucket={} key=\"{}\" role={} left={} error=\"{}\"",
        bucket_, key_, meta_.role_arn, left, st.message());
  }

  const RoleCheckedSink* sink_;
  std::unique_ptr<store::ObjectWriter> inner_;
  const std::string bucket_, key_;
  const store::ObjectMeta meta_;
  MultipartTracker parts_;
  bool committed_ = false;
};

Result<std::unique_ptr<store::ObjectWriter>> RoleCheckedSink::BeginPut(
    std::string_view bucket, std::string_view key, const store::ObjectMeta& meta) {
  HYDRANT_RETURN_IF_ERROR(Authorize(meta.role_arn, ObjectAccess("s3:PutObject", bucket, key, meta)));
  auto w = inner_->BeginPut(bucket, key, meta);
  if (!w.ok()) return w.status();
  return std::unique_ptr<store::ObjectWriter>(
      new Writer(this, std::move(w).value(), bucket, key, meta));
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
