#pragma once
// StreamLogKeys: the KMS side of stream encryption at rest
// (StartDeliveryStreamEncryption; buffer/encrypted_log.h), over hydrant's KMS.
// AWS_OWNED_CMK is hydrant's own key "firehose" (KeyService::OwnedKeyArn);
// CUSTOMER_MANAGED_CMK is a key of the KMS API, by ARN. Each data key is bound
// to its log by the encryption context {"aws:firehose:log": CONTEXT}, where
// CONTEXT names the stream and the log (source or transformed).
//
// Firehose uses a customer key through a grant that StartDeliveryStreamEncryption
// creates; hydrant has no grants, so only the key's state decides (enabled,
// disabled, pending deletion, gone), not its key policy (docs/security.md).
//
// Thread-safety: as the KeyService.

#include <string>
#include <string_view>

#include "buffer/encrypted_log.h"
#include "kms/key_service.h"

namespace hydrant::server {

inline constexpr char kOwnedFirehosePurpose[] = "firehose";

class StreamLogKeys final : public buffer::LogKeyService {
 public:
  explicit StreamLogKeys(kms::KeyService* keys) : keys_(keys) {}

  Result<std::string> ResolveKey(std::string_view kms_key) override;
  Result<buffer::LogDataKey> NewDataKey(std::string_view kms_key_arn,
                                        std::string_view context) override;
  Result<std::string> Unwrap(std::string_view blob, std::string_view context) override;
  Status CheckUsable(std::string_view kms_key_arn) override;

 private:
  kms::KeyService* keys_;  // not owned
};

}  // namespace hydrant::server
