#pragma once
// SseSink: server-side encryption of what delivery writes into the embedded
// store, as S3 applies it to Firehose's requests (server/sse_format.h):
//   - a stream whose S3 destination has EncryptionConfiguration.KMSEncryptionConfig
//     (ObjectMeta::sse_kms_key_id) sends `x-amz-server-side-encryption: aws:kms`
//     with that key: the object is SSE-KMS under it;
//   - otherwise the request has no SSE headers and the bucket's default
//     encryption (PutBucketEncryption; s3::ApplyBucketDefault, the same reading
//     the S3 API uses) applies: SSE-KMS under its KMSMasterKeyID (or the aws/s3
//     key), or SSE-S3 (hydrant's own key, no KMS permission needed);
//   - neither: the object passes through untouched.
// Each object gets a data key from KMS GenerateDataKey, bound to its aws:s3:arn.
// With delivery roles enforced (`roles` not null) the stream's role session must
// be allowed kms:GenerateDataKey on an SSE-KMS key by KMS's rule (key policy and
// identity policies; kms:ViaService s3.REGION.amazonaws.com). An object larger
// than kDeliveryMultipartThreshold is a multipart upload (server/delivery_role.h):
// each of its parts after the threshold is an UploadPart, for which S3 needs
// kms:Decrypt on an SSE-KMS object's key (S3 API Reference, CreateMultipartUpload
// and UploadPart, "Permissions"); the writer checks it (and that the key is still
// usable) as each part begins.
//
// Failures are delivery failures with Firehose's codes, as Unavailable (retried;
// delivery resumes by itself once the key is usable again): a missing key
// S3.KMS.NotFoundException, a disabled one S3.KMS.DisabledException, one pending
// deletion S3.KMS.KMSInvalidStateException, a role KMS refuses
// S3.KMS.AccessDeniedException, a role Firehose cannot assume S3.AccessDenied.
// Only the embedded store is wrapped: a remote S3 gets the SSE headers and
// decides itself. Thread-safe; a writer is used by one thread.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "destinations/object_sink.h"
#include "iam/service_roles.h"
#include "kms/key_service.h"
#include "server/sse_keys.h"

namespace hydrant::store {
class ObjectStore;
}

namespace hydrant::server {

class SseSink final : public store::ObjectSink {
 public:
  // None owned; all must outlive the sink and its writers. `roles` null: roles
  // not enforced. `bucket_defaults`: the store whose buckets' default encryption
  // applies (null: none does).
  SseSink(store::ObjectSink* inner, kms::KeyService* keys, const iam::ServiceRoles* roles,
          std::string region, const store::ObjectStore* bucket_defaults)
      : inner_(inner),
        keys_(keys),
        roles_(roles),
        via_service_("s3." + region + ".amazonaws.com"),
        bucket_defaults_(bucket_defaults) {}

  Result<std::unique_ptr<store::ObjectWriter>> BeginPut(std::string_view bucket,
                                                        std::string_view key,
                                                        const store::ObjectMeta& meta) override;
  // Also checks that the key is usable and the role may use it.
  Status CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) override;
  bool WritesLocalDisk(std::string_view bucket) const override {
    return inner_->WritesLocalDisk(bucket);
  }

 private:
  // The encryption S3 would apply to Firehose's PutObject of bucket/key (the
  // stream's key, else the bucket default); nullopt = none. Principal unset.
  std::optional<sse::KeyRequest> Wanted(std::string_view bucket, std::string_view key,
                                        const store::ObjectMeta& meta) const;

  store::ObjectSink* inner_;
  kms::KeyService* keys_;
  const iam::ServiceRoles* roles_;
  const std::string via_service_;
  const store::ObjectStore* bucket_defaults_;
};

// A KeyService failure as Firehose's S3.KMS.* delivery error (Unavailable);
// `action` is the KMS action asked for (named in the access-denied text).
Status KmsDeliveryError(const Status& st, std::string_view action = "kms:GenerateDataKey");

}  // namespace hydrant::server
