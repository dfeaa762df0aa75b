#include "server/sse_sink.h"

#include <functional>
#include <optional>

#include "destinations/sink_errors.h"
#include "server/delivery_role.h"
#include "server/s3_sse.h"
#include "server/sse_keys.h"

namespace hydrant::server {

namespace {

// Firehose's text for S3.KMS.NotFoundException; the others follow it.
constexpr std::string_view kNotFoundText =
    "The provided AWS KMS key was not found. If you are using what you believe to be a valid "
    "AWS KMS key with the correct role, check if there is a problem with the account to which "
    "the AWS KMS key is attached.";
constexpr std::string_view kDisabledText =
    "The provided AWS KMS key is disabled. Enable the key, or provide a key that is enabled.";
constexpr std::string_view kInvalidStateText =
    "The provided AWS KMS key is pending deletion. Cancel the key deletion, or provide another "
    "key.";
// Followed by the action asked for.
constexpr std::string_view kAccessDeniedText =
    "Access was denied. Ensure that the key policy of the AWS KMS key and the access policy of "
    "the IAM role allow ";

// The object being written, encrypted chunk by chunk into the inner writer. As
// each part of a multipart upload begins (MultipartTracker), the data key is
// opened again for the role, as S3 does for an UploadPart of an SSE-KMS upload
// (kms:Decrypt; the key must still be usable).
class EncryptingWriter final : public store::ObjectWriter {
 public:
  // `reopen` is null when parts need no KMS call (SSE-S3).
  EncryptingWriter(std::unique_ptr<store::ObjectWriter> inner, std::string data_key,
                   std::function<Status()> reopen)
      : inner_(std::move(inner)), enc_(std::move(data_key), inner_.get()),
        reopen_(std::move(reopen)) {}
  Status Write(std::string_view bytes) override {
    if (parts_.Add(bytes.size()) && reopen_) HYDRANT_RETURN_IF_ERROR(reopen_());
    return enc_.Write(bytes);
  }
  Result<store::ObjectInfo> Commit() override {
    HYDRANT_RETURN_IF_ERROR(enc_.Finish());
    auto info = inner_->Commit();
    if (info.ok()) info->size = parts_.size();
    return info;
  }

 private:
  std::unique_ptr<store::ObjectWriter> inner_;
  sse::ChunkEncryptor enc_;
  std::function<Status()> reopen_;
  MultipartTracker parts_;
};

}  // namespace

Status KmsDeliveryError(const Status& st, std::string_view action) {
  std::string_view code = st.error_code();
  auto with = [&](std::string_view fh, std::string_view text) {
    return store::SinkError(fh, std::string(text) + " (" + st.message() + ")");
  };
  if (code == kms::kNotFoundException) return with(store::kS3KmsNotFound, kNotFoundText);
  if (code == kms::kDisabledException) return with(store::kS3KmsDisabled, kDisabledText);
  if (code == kms::kInvalidStateException) {
    return with(store::kS3KmsInvalidState, kInvalidStateText);
  }
  if (code == kms::kAccessDeniedException) {
    return with(store::kS3KmsAccessDenied, std::string(kAccessDeniedText) + std::string(action) + ".");
  }
  return store::SinkError(store::kInternalError, st.message());
}

namespace {

// The role's session as Firehose's (nullopt: roles not enforced), or S3.AccessDenied.
Result<std::optional<iam::Principal>> DeliverySession(const iam::ServiceRoles* roles,
                                                      const store::ObjectMeta& meta) {
  if (!roles) return std::optional<iam::Principal>();
  auto s = roles->ServiceSession(iam::kFirehoseService, meta.role_arn);
  if (!s.ok()) {
    return store::SinkError(store::kS3AccessDenied,
                            std::string(kS3AccessDeniedText) + " (" + s.status().message() + ")");
  }
  return std::optional<iam::Principal>(std::move(s).value());
}

}  // namespace

std::optional<sse::KeyRequest> SseSink::Wanted(std::string_view bucket, std::string_view key,
                                               const store::ObjectMeta& meta) const {
  sse::KeyRequest req;
  if (!meta.sse_kms_key_id.empty()) {
    req.algorithm = sse::kAwsKms;
    req.key = meta.sse_kms_key_id;
  } else if (!bucket_defaults_ || !s3::ApplyBucketDefault(bucket_defaults_, bucket, &req)) {
    return std::nullopt;
  }
  req.bucket = std::string(bucket);
  req.object_key = std::string(key);
  req.via_service = via_service_;
  return req;
}

Result<std::unique_ptr<store::ObjectWriter>> SseSink::BeginPut(std::string_view bucket,
                                                               std::string_view key,
                                                               const store::ObjectMeta& meta) {
  std::optional<sse::KeyRequest> wanted = Wanted(bucket, key, meta);
  if (!wanted) return inner_->BeginPut(bucket, key, meta);
  auto session = DeliverySession(roles_, meta);
  if (!session.ok()) return session.status();
  // Shared with the writer, which asks KMS again for each part.
  auto principal = std::make_shared<const std::optional<iam::Principal>>(std::move(*session));
  wanted->principal = *principal ? &**principal : nullptr;
  auto dk = sse::MakeDataKey(keys_, *wanted);
  if (!dk.ok()) return KmsDeliveryError(dk.status());
  store::ObjectMeta m = meta;
  m.encryption = sse::EncodeRecord(dk->record);
  auto w = inner_->BeginPut(bucket, key, m);
  if (!w.ok()) return w.status();
  std::function<Status()> reopen;
  if (dk->record.algorithm == sse::kAwsKms) {
    reopen = [keys = keys_, record = dk->record, req = *wanted, principal]() {
      auto opened = sse::OpenDataKey(keys, record, req);
      return opened.ok() ? Status::Ok() : KmsDeliveryError(opened.status(), "kms:Decrypt");
    };
  }
  return std::unique_ptr<store::ObjectWriter>(
      new EncryptingWriter(std::move(w).value(), std::move(dk->data_key), std::move(reopen)));
}

Status SseSink::CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) {
  const std::string probe = std::string(store::kProbeKeyPrefix) + "check";
  if (std::optional<sse::KeyRequest> wanted = Wanted(bucket, probe, meta)) {
    auto session = DeliverySession(roles_, meta);
    if (!session.ok()) return session.status();
    wanted->principal = *session ? &**session : nullptr;
    auto dk = sse::MakeDataKey(keys_, *wanted);
    if (!dk.ok()) return KmsDeliveryError(dk.status());
  }
  return inner_->CheckAccess(bucket, meta);
}

}  // namespace hydrant::server
