#include "server/stream_keys.h"

namespace hydrant::server {

namespace {

kms::EncryptionContext LogContext(std::string_view context) {
  return {{"aws:firehose:log", std::string(context)}};
}

}  // namespace

Result<std::string> StreamLogKeys::ResolveKey(std::string_view kms_key) {
  if (kms_key.empty()) return keys_->OwnedKeyArn(kOwnedFirehosePurpose);
  auto meta = keys_->DescribeKey(kms_key);
  if (!meta.ok()) return meta.status();
  HYDRANT_RETURN_IF_ERROR(keys_->CheckUsable(meta->arn));
  return meta->arn;
}

Result<buffer::LogDataKey> StreamLogKeys::NewDataKey(std::string_view kms_key_arn,
                                                     std::string_view context) {
  auto dk = keys_->GenerateDataKey(kms_key_arn, LogContext(context), 32);
  if (!dk.ok()) return dk.status();
  return buffer::LogDataKey{std::move(dk->key_arn), std::move(dk->plaintext),
                            std::move(dk->ciphertext_blob)};
}

Result<std::string> StreamLogKeys::Unwrap(std::string_view blob, std::string_view context) {
  auto d = keys_->Decrypt(blob, LogContext(context));
  if (!d.ok()) return d.status();
  return std::move(d->plaintext);
}

Status StreamLogKeys::CheckUsable(std::string_view kms_key_arn) {
  return keys_->CheckUsable(kms_key_arn);
}

}  // namespace hydrant::server
