#pragma once
// The doctor's static IAM checks (docs/doctor.md, "IAM checks"): what Firehose's
// delivery role may do, read from the policies themselves before any data is
// sent, with the statement that denies; and the KMS keys' state (kms-key,
// stream-encryption). The checks are Doctor's methods (doctor_iam.cc); this
// header has what the application needs to feed them.

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "observability/doctor.h"

namespace hydrant::iam {
class IdentityStore;
}

namespace hydrant::observability {

// The role `role_arn` (exact ARN, path included) from the IAM store: its trust
// policy, inline policies ("inline policy NAME") and attached managed policies
// (named by ARN). NotFound when there is no such role. Thread-safe as the store.
Result<DeliveryRoleDocuments> RoleDocumentsOf(const iam::IdentityStore& store,
                                              std::string_view role_arn);

// One permission the stream's role needs, as the checks list them (exposed for
// tests and docs): `required` false means a warning when missing.
struct NeededAction {
  std::string role_arn;
  std::string action;
  std::string resource;
  std::string bucket;  // S3: the bucket whose policy applies ("" = none)
  std::vector<std::pair<std::string, std::string>> keys;
  bool required = true;
  std::string error_code;  // what Firehose reports when it is denied
  std::string why;         // "destination bucket", "Lambda processor", ...
};
std::vector<NeededAction> NeededActions(const stream::StreamMeta& meta,
                                        const AccountContext& account);

// Delivery writes an object larger than this as a multipart upload
// (server::kDeliveryMultipartThreshold; delivery_role_test.cc keeps them equal).
inline constexpr uint64_t kMultipartObjectBytes = 8ull << 20;

// What the destination's role needs on the stream's SSE-KMS key
// (KMSEncryptionConfig; none without one), as the kms-key check asks KMS:
// kms:GenerateDataKey for every object; kms:Decrypt for each part of a multipart
// upload, so required when the stream's buffer (BufferingHints.SizeInMBs) makes
// objects of kMultipartObjectBytes or more, else a warning (Firehose's documented
// role policy grants it). Delivery fails without a required one with error_code
// (server::SseSink; sse_sink_test.cc holds them together).
std::vector<NeededAction> KmsNeeds(const api::S3DestinationSpec& s3);

}  // namespace hydrant::observability
