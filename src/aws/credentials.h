#pragma once
// Where hydrant finds AWS credentials for the calls it makes (Lambda Invoke, remote S3).
//
// A provider answers GetCredentials() with:
//   - credentials, or
//   - NotFound: this source has none (the chain moves on), or
//   - another error: the source exists but is broken (a half-set environment, an
//     unreadable file); the chain stops and reports it rather than silently using
//     a later source.
// The default chain, in order (the AWS SDKs' order, minus the network sources):
//   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]
//   2. shared credentials file: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
//      section [PROFILE]
//   3. shared config file: AWS_CONFIG_FILE or ~/.aws/config, section [profile PROFILE]
//      ([default] for the default profile)
// PROFILE is the one given, else AWS_PROFILE, else "default". Instance metadata
// (IMDS), ECS, SSO and assume-role are not implemented.
//
// Thread-safety: every provider here may be called from several threads at once.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "common/status.h"

namespace hydrant::aws {

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<Credentials> GetCredentials() = 0;
  // For logs and errors: "static", "environment", "shared-credentials-file(/path)".
  virtual std::string Name() const = 0;
};

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials creds) : creds_(std::move(creds)) {}
  Result<Credentials> GetCredentials() override;
  std::string Name() const override { return "static"; }

 private:
  Credentials creds_;
};

// Reads the environment at every call, so a test or an operator can change it.
class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  Result<Credentials> GetCredentials() override;
  std::string Name() const override { return "environment"; }
};

// An INI file in the AWS CLI's format. `path` empty = the environment's choice
// (AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, else ~/.aws/credentials or
// ~/.aws/config); `profile` empty = AWS_PROFILE, else "default". The file is
// re-read when its modification time or size changes.
class ProfileFileCredentialsProvider final : public CredentialsProvider {
 public:
  enum class Kind { kCredentials, kConfig };
  ProfileFileCredentialsProvider(Kind kind, std::string path = "", std::string profile = "");
  Result<Credentials> GetCredentials() override;
  std::string Name() const override;

 private:
  std::string ResolvePath() const;
  std::string ResolveProfile() const;

  Kind kind_;
  std::string path_;
  std::string profile_;
  std::mutex mu_;
  std::string cached_path_;
  int64_t cached_mtime_ns_ = -1;
  int64_t cached_size_ = -1;
  std::string cached_text_;
};

// Tries each provider in order (see the header comment for the error rules).
class ChainCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ChainCredentialsProvider(std::vector<std::unique_ptr<CredentialsProvider>> providers)
      : providers_(std::move(providers)) {}
  Result<Credentials> GetCredentials() override;
  std::string Name() const override;

 private:
  std::vector<std::unique_ptr<CredentialsProvider>> providers_;
};

// environment → shared credentials file → shared config file, for `profile`
// ("" = AWS_PROFILE or "default"). A non-empty `profile` skips the environment
// keys: the operator named the profile on purpose.
std::unique_ptr<CredentialsProvider> MakeDefaultCredentialsChain(const std::string& profile = "");

// Parses AWS CLI INI text and returns the credentials of `section` (the literal
// section name: "default", "prod", "profile prod"). NotFound when the section or
// its aws_access_key_id is absent; InvalidArgument when the key id is there
// without a secret.
Result<Credentials> ParseProfileCredentials(std::string_view ini_text, std::string_view section);

}  // namespace hydrant::aws
