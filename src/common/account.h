#pragma once
// AccountContext: the AWS account and region hydrant answers as. One value, made
// from the configuration (region, account_id) and handed to every part that
// builds ARNs or signs requests, instead of each option struct repeating the
// defaults.

#include <string>

namespace hydrant {

struct AccountContext {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

}  // namespace hydrant
