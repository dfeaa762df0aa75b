#pragma once
// AccountContext: the AWS account and region hydrant answers as. One value, made
// from the configuration (region, account_id) and handed to every part that
// builds ARNs or signs requests, instead of each option struct repeating the
// defaults.

#include <string>
#include <string_view>

namespace hydrant {

struct AccountContext {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";

  // arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE, e.g. Arn("lambda", "function:f").
  std::string Arn(std::string_view service, std::string_view resource) const {
    std::string arn = "arn:aws:";
    arn.append(service).append(":").append(region).append(":").append(account_id);
    arn.append(":").append(resource);
    return arn;
  }
};

}  // namespace hydrant
