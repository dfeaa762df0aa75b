#pragma once
// STS AssumeRole: temporary credentials for a destination's RoleARN, as Firehose
// assumes the role given in the delivery stream's configuration. The request
// (POST Action=AssumeRole, SigV4 service "sts") is signed with base credentials
// (static keys, environment or a profile); the answer is cached until five
// minutes before it expires.
//
// Errors carry Firehose's error codes (destinations/sink_errors.h): STS's
// AccessDenied (or a bad key) is S3.AccessDenied, a transport failure InternalError.
// Thread-safe.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http_client.h"
#include "common/clock.h"
#include "common/status.h"

namespace hydrant::remote {

struct AssumeRoleOptions {
  std::string role_arn;
  std::string session_name = "hydrant";
  std::string sts_endpoint;  // "" = https://sts.REGION.amazonaws.com
  std::string region = "us-east-1";
  int duration_seconds = 3600;
  std::chrono::milliseconds timeout{30000};
};

// The parts of an AssumeRole answer.
struct AssumedCredentials {
  aws::Credentials credentials;
  int64_t expiration_ms = 0;
};
// Parses an AssumeRoleResponse document; InvalidArgument when it lacks a key,
// secret, token or a parseable Expiration.
Result<AssumedCredentials> ParseAssumeRoleResponse(std::string_view xml);
// "2011-07-15T23:28:33.359Z" (fraction optional) → Unix milliseconds.
bool ParseIso8601(std::string_view s, int64_t* unix_ms);

class AssumeRoleCredentialsProvider final : public aws::CredentialsProvider {
 public:
  // `base` and `http` are shared (one per remote); `clock` must outlive this.
  AssumeRoleCredentialsProvider(AssumeRoleOptions opts,
                                std::shared_ptr<aws::CredentialsProvider> base,
                                std::shared_ptr<aws::HttpClient> http, const Clock* clock);
  Result<aws::Credentials> GetCredentials() override;
  std::string Name() const override { return "assume-role(" + opts_.role_arn + ")"; }

 private:
  Result<AssumedCredentials> Fetch();

  AssumeRoleOptions opts_;
  std::shared_ptr<aws::CredentialsProvider> base_;
  std::shared_ptr<aws::HttpClient> http_;
  const Clock* clock_;
  std::mutex mu_;  // held across a fetch: one STS call at a time per role
  AssumedCredentials cached_;
};

}  // namespace hydrant::remote
