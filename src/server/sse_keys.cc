#include "server/sse_keys.h"

namespace hydrant::server::sse {

namespace {

kms::KeyAccessRequest Access(const KeyRequest& req, std::string action, std::string key,
                             kms::EncryptionContext ctx) {
  kms::KeyAccessRequest a;
  a.principal = req.principal;
  a.action = std::move(action);
  a.key = std::move(key);
  a.context = std::move(ctx);
  if (!req.via_service.empty()) a.condition_keys.emplace_back("kms:ViaService", req.via_service);
  return a;
}

}  // namespace

Result<NewDataKey> MakeDataKey(kms::KeyService* keys, const KeyRequest& req) {
  auto ctx = WrapContext(req.bucket, req.object_key, req.context_b64);
  if (!ctx) return Status::InvalidArgument("invalid encryption context");
  std::string key = req.key;
  const bool kms = req.algorithm == kAwsKms;
  if (!kms || key.empty()) {
    auto owned = keys->OwnedKeyArn(kms ? kOwnedKmsDefaultPurpose : kOwnedS3Purpose);
    if (!owned.ok()) return owned.status();
    key = std::move(owned).value();
  }
  if (kms) {
    HYDRANT_RETURN_IF_ERROR(keys->Authorize(Access(req, "kms:GenerateDataKey", key, *ctx)));
  }
  auto dk = keys->GenerateDataKey(key, *ctx, kDataKeyBytes);
  if (!dk.ok()) return dk.status();
  NewDataKey out;
  out.record = {kms ? kAwsKms : kAes256, dk->key_arn, std::move(dk->ciphertext_blob),
                kms ? req.context_b64 : std::string()};
  out.data_key = std::move(dk->plaintext);
  return out;
}

Result<std::string> OpenDataKey(kms::KeyService* keys, const Record& record,
                                const KeyRequest& req) {
  auto ctx = WrapContext(req.bucket, req.object_key, record.context_b64);
  if (!ctx) return Status::Corruption("encrypted object: unreadable encryption context");
  if (record.algorithm == kAwsKms) {
    HYDRANT_RETURN_IF_ERROR(keys->Authorize(Access(req, "kms:Decrypt", record.key_arn, *ctx)));
  }
  auto plain = keys->Decrypt(record.wrapped_key, *ctx, record.key_arn);
  if (!plain.ok()) return plain.status();
  if (plain->plaintext.size() != kDataKeyBytes) {
    return Status::Corruption("encrypted object: data key of the wrong size");
  }
  return std::move(plain->plaintext);
}

}  // namespace hydrant::server::sse
