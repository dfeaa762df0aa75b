#pragma once
// The doctor's static IAM checks (docs/doctor.md, "IAM checks"): what Firehose's
// delivery role may do, read from the policies themselves before any data is
// sent, with the statement that denies; and the KMS keys' state (kms-key,
// stream-encryption). The checks are Doctor's methods (doctor_iam.cc); this
// header has what the application needs to feed them.

#include <string_view>

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

}  // namespace hydrant::observability
