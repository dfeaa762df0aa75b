#pragma once
// Whether a caller may assume a role, as STS decides AssumeRole within one
// account: sts:AssumeRole on the role's ARN, evaluated over the caller's identity
// policies with the role's trust policy as the resource policy (iam/policy.h: a
// trust policy naming the caller allows by itself; one naming only the account
// needs the caller's identity policy to allow too; a Deny in either wins).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "iam/principal.h"

namespace hydrant::iam {

// False also when the trust policy or one of the caller's policies does not parse.
// `keys`: the request's condition keys (aws:SourceIp, aws:SecureTransport).
bool MayAssumeRole(const Principal& caller, const std::string& role_arn,
                   const std::string& trust_policy_json, int64_t now_ms,
                   std::vector<std::pair<std::string, std::string>> keys = {});

}  // namespace hydrant::iam
