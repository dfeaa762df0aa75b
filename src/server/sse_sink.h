#pragma once
// SseSink: SSE-KMS for what delivery writes into the embedded store. A stream
// whose S3 destination has EncryptionConfiguration.KMSEncryptionConfig
// (ObjectMeta::sse_kms_key_id) gets objects encrypted as an S3 PutObject with
// `x-amz-server-side-encryption: aws:kms` would be (server/sse_format.h): a data
// key from KMS GenerateDataKey under that key, bound to the object's aws:s3:arn.
// With delivery roles enforced (`roles` not null) the stream's role session
// must be allowed kms:GenerateDataKey on the key by KMS's rule (key policy and
// identity policies; kms:ViaService s3.REGION.amazonaws.com).
//
// Failures are delivery failures with Firehose's codes, as Unavailable (retried;
// delivery resumes by itself once the key is usable again): a missing key
// S3.KMS.NotFoundException, a disabled one S3.KMS.DisabledException, one pending
// deletion S3.KMS.KMSInvalidStateException, a role KMS refuses
// S3.KMS.AccessDeniedException, a role Firehose cannot assume S3.AccessDenied.
// Objects without a KMS key pass through untouched. Only the embedded store is
// wrapped: a remote S3 gets the SSE headers and decides itself. Thread-safe.

#include <memory>
#include <string>
#include <string_view>

#include "destinations/object_sink.h"
#include "iam/service_roles.h"
#include "kms/key_service.h"

namespace hydrant::server {

class SseSink final : public store::ObjectSink {
 public:
  // None owned; all must outlive the sink. `roles` null: roles not enforced.
  SseSink(store::ObjectSink* inner, kms::KeyService* keys, const iam::ServiceRoles* roles,
          std::string region)
      : inner_(inner),
        keys_(keys),
        roles_(roles),
        via_service_("s3." + region + ".amazonaws.com") {}

  Result<std::unique_ptr<store::ObjectWriter>> BeginPut(std::string_view bucket,
                                                        std::string_view key,
                                                        const store::ObjectMeta& meta) override;
  // Also checks that the key is usable and the role may use it.
  Status CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) override;
  bool WritesLocalDisk(std::string_view bucket) const override {
    return inner_->WritesLocalDisk(bucket);
  }

 private:
  store::ObjectSink* inner_;
  kms::KeyService* keys_;
  const iam::ServiceRoles* roles_;
  const std::string via_service_;
};

// A KeyService failure as Firehose's S3.KMS.* delivery error (Unavailable).
Status KmsDeliveryError(const Status& st);

}  // namespace hydrant::server
