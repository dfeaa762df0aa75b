#pragma once
// Roles an AWS service assumes for the account: Firehose delivering with a
// stream's RoleARN. The seam between delivery (which asks for the role's
// session, to authorize each action against its policies) and the IAM store
// that holds roles (iam/identity_store.h; replicated in cluster mode).

#include <string_view>

#include "common/status.h"
#include "iam/principal.h"

namespace hydrant::iam {

// The service principal Firehose uses in trust policies.
inline constexpr std::string_view kFirehoseService = "firehose.amazonaws.com";

class ServiceRoles {
 public:
  virtual ~ServiceRoles() = default;
  // The session `service` gets when it assumes `role_arn` (exact ARN, path
  // included): a Principal of kind kAssumedRole named
  // arn:aws:sts::ACCOUNT:assumed-role/ROLE/<service's session name>, with the
  // role's identity policies. Errors carry IAM's code as error_code():
  // kNotFound "NoSuchEntity" when no such role exists; kInvalidArgument
  // "AccessDenied" when the role's trust policy does not let the service
  // assume it. Thread-safe.
  virtual Result<Principal> ServiceSession(std::string_view service,
                                           std::string_view role_arn) const = 0;
};

}  // namespace hydrant::iam
