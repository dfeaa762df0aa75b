#include "server/sse_sink.h"

#include <optional>

#include "destinations/sink_errors.h"
#include "server/delivery_role.h"
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
constexpr std::string_view kAccessDeniedText =
    "Access was denied. Ensure that the key policy of the AWS KMS key and the access policy of "
    "the IAM role allow kms:GenerateDataKey.";

// The object being written, encrypted chunk by chunk into the inner writer.
class EncryptingWriter final : public store::ObjectWriter {
 public:
  EncryptingWriter(std::unique_ptr<store::ObjectWriter> inner, std::string data_key)
      : inner_(std::move(inner)), enc_(std::move(data_key), inner_.get()) {}
  Status Write(std::string_view bytes) override {
    plain_size_ += bytes.size();
    return enc_.Write(bytes);
  }
  Result<store::ObjectInfo> Commit() override {
    HYDRANT_RETURN_IF_ERROR(enc_.Finish());
    auto info = inner_->Commit();
    if (info.ok()) info->size = plain_size_;
    return info;
  }

 private:
  std::unique_ptr<store::ObjectWriter> inner_;
  sse::ChunkEncryptor enc_;
  uint64_t plain_size_ = 0;
};

}  // namespace

Status KmsDeliveryError(const Status& st) {
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
    return with(store::kS3KmsAccessDenied, kAccessDeniedText);
  }
  return store::SinkError(store::kInternalError, st.message());
}

namespace {

// The data key of bucket/key under the stream's key, for its role's session.
Result<sse::NewDataKey> DeliveryKey(kms::KeyService* keys, const iam::ServiceRoles* roles,
                                    const std::string& via_service, std::string_view bucket,
                                    std::string_view key, const store::ObjectMeta& meta) {
  std::optional<iam::Principal> session;
  if (roles) {
    auto s = roles->ServiceSession(iam::kFirehoseService, meta.role_arn);
    if (!s.ok()) {
      return store::SinkError(store::kS3AccessDenied,
                              std::string(kS3AccessDeniedText) + " (" + s.status().message() + ")");
    }
    session = std::move(s).value();
  }
  sse::KeyRequest req;
  req.algorithm = sse::kAwsKms;
  req.key = meta.sse_kms_key_id;
  req.bucket = std::string(bucket);
  req.object_key = std::string(key);
  req.principal = session ? &*session : nullptr;
  req.via_service = via_service;
  auto made = sse::MakeDataKey(keys, req);
  if (!made.ok()) return KmsDeliveryError(made.status());
  return made;
}

}  // namespace

Result<std::unique_ptr<store::ObjectWriter>> SseSink::BeginPut(std::string_view bucket,
                                                               std::string_view key,
                                                               const store::ObjectMeta& meta) {
  if (meta.sse_kms_key_id.empty()) return inner_->BeginPut(bucket, key, meta);
  auto dk = DeliveryKey(keys_, roles_, via_service_, bucket, key, meta);
  if (!dk.ok()) return dk.status();
  store::ObjectMeta m = meta;
  m.encryption = sse::EncodeRecord(dk->record);
  auto w = inner_->BeginPut(bucket, key, m);
  if (!w.ok()) return w.status();
  return std::unique_ptr<store::ObjectWriter>(
      new EncryptingWriter(std::move(w).value(), std::move(dk->data_key)));
}

Status SseSink::CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) {
  if (!meta.sse_kms_key_id.empty()) {
    const std::string probe = std::string(store::kProbeKeyPrefix) + "check";
    auto dk = DeliveryKey(keys_, roles_, via_service_, bucket, probe, meta);
    if (!dk.ok()) return dk.status();
  }
  return inner_->CheckAccess(bucket, meta);
}

}  // namespace hydrant::server
