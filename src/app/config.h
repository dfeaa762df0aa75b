#pragma once
// hydrant's configuration: defaults, then the TOML file (--config), then
// command-line options, each overriding the one before. Every top-level key is
// listed once in the table of app/config_keys.h (name, flag, default, help), which
// drives the TOML loader and the command line and is also the documentation
// printed by `hydrant serve --help` and shown in the README.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/account.h"
#include "common/status.h"
#include "processing/invoker_registry.h"
#include "remote/remote_s3_sink.h"
#include "sources/remote_kinesis_reader.h"

namespace hydrant::app {

struct Config {
  std::string listen = "127.0.0.1:4573";
  std::string data_dir = "./hydrant-data";
  AccountContext account;  // region, account_id
  int64_t retention_seconds = 24 * 3600;
  uint64_t disk_quota_mb = 0;  // 0 = unlimited
  std::string log_level = "info";
  int http_threads = 2;
  uint64_t http_body_memory_mb = 256;    // partial request bodies, all connections
  int http_header_timeout_seconds = 30;  // headers, from their first byte
  int http_body_timeout_seconds = 30;    // the longest pause within a body
  // Recent metric time series (GET /metrics/series, the doctor): one datapoint per
  // period, kept for the retention.
  int64_t metrics_period_seconds = 10;
  int64_t metrics_retention_seconds = 3600;
  // [lambda]: how Lambda processors are run (see processing/invoker_registry.h).
  std::string lambda_endpoint;  // default Invoke API endpoint; "" = AWS Lambda
  std::vector<processing::FunctionConfig> functions;  // [[lambda.functions]]
  // [s3]: destination buckets on remote S3 services (docs/remote-s3.md). The keys of
  // [s3] itself make the default remote for buckets not listed; without any, those
  // buckets are in the embedded store. Each [[s3.buckets]] entry starts from the
  // [s3] keys and overrides them; `embedded = true` pins a bucket to the embedded store.
  struct S3Bucket {
    std::string name;
    bool embedded = false;
    remote::RemoteS3Options remote;
  };
  bool s3_default_remote = false;
  remote::RemoteS3Options s3_default;
  std::vector<S3Bucket> s3_buckets;

  // [[kinesis.sources]] (docs/kinesis.md, "External Kinesis streams"): Kinesis
  // data streams on other endpoints (AWS, kinesalite, LocalStack) that delivery
  // streams of type KinesisStreamAsSource read. Each entry names one stream
  // (stream_arn) or every stream of a region (region); checked at load
  // (sources::ValidateRemoteKinesisConfig), no stream_arn or region twice.
  std::vector<sources::RemoteKinesisConfig> kinesis_sources;

  // [auth] (docs/security.md): "open" accepts any request (any key, or none);
  // "sigv4" verifies every signature against the IAM store and authorizes it.
  std::string auth_mode = "open";
  // Open mode is refused on a non-loopback address unless this is set
  // (--allow-anonymous).
  bool allow_anonymous = false;
  // GET /health and /metrics answered without a signature in sigv4 mode.
  bool auth_public_health = true;
  // Delivery with each stream's RoleARN as Firehose does it (the role must exist
  // and trust firehose.amazonaws.com; each action authorized against its
  // policies and the bucket policy): always in sigv4 mode, and in open mode
  // when set (docs/security.md, "Delivery roles").
  bool auth_enforce_roles = false;
  bool EnforceRoles() const { return auth_mode == "sigv4" || auth_enforce_roles; }
  // [[auth.users]]: bootstrap identities, created or updated in the IAM store at
  // start. `policy` holds the inline policy document (read from `policy_file`
  // when that is given); `root` makes the key the account's root user.
  struct AuthUser {
    std::string name;
    std::string access_key_id;
    std::string secret_access_key;
    std::string policy;
    bool root = false;
    // Makes the key temporary: requests must carry this X-Amz-Security-Token
    // (for tests of temporary credentials; STS issues real ones).
    std::string session_token;
  };
  std::vector<AuthUser> auth_users;
  // [tls]: HTTPS on `listen` from these PEM files (both or neither); reloaded on
  // SIGHUP. `listen_plain`, when set, is a second, plain-HTTP listener (e.g.
  // loopback while `listen` serves HTTPS outside).
  std::string tls_cert;
  std::string tls_key;
  std::string listen_plain;
  // [kms]: the master key file ("" = <data_dir>/kms/master.key).
  std::string kms_master_key_file;

  std::string host() const;
  uint16_t port() const;
};

// "HOST:PORT" / "[V6]:PORT" → HOST (without brackets) and PORT (0 if absent).
std::string HostOf(std::string_view host_port);
uint16_t PortOf(std::string_view host_port);
// 127.0.0.0/8, ::1 (and ::ffff:127.x), "localhost".
bool IsLoopbackHost(std::string_view host);

// Applies the TOML file at `path` over *cfg. InvalidArgument on an unknown key,
// a wrong type or a bad value, naming the key.
Status LoadConfigFile(const std::string& path, Config* cfg);
// The [[kinesis.sources]] entry that covers `stream_arn`, or nullptr: an entry
// naming the ARN itself wins over a region entry. A region entry covers the
// streams of its region except hydrant's own (the region and account of
// cfg.account), which only a stream_arn entry can send elsewhere. nullptr for a
// stream ARN of hydrant's own region and account means hydrant's own stream
// (LocalKinesisReader); nullptr for any other ARN means a stream hydrant has no
// way to reach (the caller says so). Not a Kinesis stream ARN: nullptr.
const sources::RemoteKinesisConfig* FindKinesisSource(const Config& cfg,
                                                      std::string_view stream_arn);

// Checks values that any source may have set (listen address, account id, ...).
Status Validate(const Config& cfg);
// Secure defaults: open mode (auth_mode "open") on a `listen` or `listen_plain`
// address that is not loopback is refused unless allow_anonymous; the error
// says why and what to do.
Status CheckExposure(const Config& cfg);

}  // namespace hydrant::app
