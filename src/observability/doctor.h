#pragma once
// Doctor: runs AWS's checklist for "Firehose delivers nothing to my S3 bucket"
// (AWS's "troubleshooting delivery to Amazon S3" guide) against a live delivery stream and returns one verdict per
// check, with the evidence it looked at and the fix. Behind GET /doctor?stream=NAME
// and `hydrant doctor STREAM`; every check is described in docs/doctor.md.
//
// The doctor only reads, except for two probes that act like delivery does:
//   - bucket access: ObjectSink::CheckAccess (list, write and delete a probe object)
//     with the destination's RoleARN and KMS key, on the destination bucket and on
//     the backup bucket when S3BackupMode is Enabled;
//   - lambda function: one invocation with a Firehose-shaped event of zero records,
//     bounded by a short timeout.
// With delivery roles enforced, the IAM checks (role-trust, role-permissions, and
// the key policy part of kms-key; doctor_iam.h) read the roles', bucket policies'
// and key policies statically, naming the statement that denies. The KMS checks
// (kms-key, stream-encryption) read the keys' state from hydrant's KMS. For a
// KinesisStreamAsSource stream, kinesis-source reads the source's counters and
// asks whether its Kinesis stream can be read.
// Run() blocks for as long as those probes take (a few seconds at most with the
// default options): call it off any I/O thread.
//
// Thread-safety: Run may be called from several threads at once; the dependencies
// must be thread-safe (they are) and outlive the Doctor.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/account.h"
#include "common/clock.h"
#include "common/status.h"
#include "stream/stream_meta.h"

namespace hydrant::store {
class ObjectSink;
}
namespace hydrant::processing {
class FunctionInvoker;
}
namespace hydrant::logs {
class LogStore;
}
namespace hydrant::kms {
class KeyService;
}
namespace hydrant::stream {
struct StreamProbe;
class StreamRegistry;
}  // namespace hydrant::stream

namespace hydrant::observability {

class MetricsSeries;

enum class CheckStatus { kPassed, kFailed, kWarning, kNotApplicable };
// "passed", "failed", "warning", "not_applicable".
std::string_view CheckStatusName(CheckStatus s);
std::optional<CheckStatus> ParseCheckStatus(std::string_view name);

struct CheckResult {
  std::string id;    // stable, for machines: "stream", "incoming-data", "bucket-access", ...
  std::string name;  // for people: "stream", "incoming data", "bucket access", ...
  CheckStatus status = CheckStatus::kPassed;
  std::string evidence;    // what was seen: numbers, error codes, messages
  std::string fix;         // what to do; "" when nothing is to be done
  std::string error_code;  // the Firehose/Lambda error code behind a failure, if any
};

// A check's verdict (for the checks' implementations).
CheckResult MakeCheck(std::string id, std::string name, CheckStatus status, std::string evidence,
                      std::string fix = "", std::string code = "");

struct DoctorReport {
  std::string stream;
  int64_t time_ms = 0;  // when the checks ran
  std::vector<CheckResult> checks;

  bool HasFailure() const;
  // The check with this id; null when the report has none.
  const CheckResult* Find(std::string_view id) const;
  size_t Count(CheckStatus s) const;
  // {"stream":..., "time": ms, "healthy": bool, "summary": {"passed": n, ...},
  //  "checks": [{"id","name","status","evidence","fix","errorCode"}]}
  std::string ToJson() const;
  // The inverse of ToJson (for the CLI, which gets the report over HTTP).
  static Result<DoctorReport> FromJson(std::string_view text);
  // One line per check ("PASS  bucket access     s3://b reachable ...", a failed or
  // warning check adds "  → fix: ..."), then a summary line.
  std::string ToText() const;
};

// A delivery role as the IAM checks read it: its trust policy and its identity
// policies, each with the name the doctor reports ("inline policy NAME" or the
// managed policy's ARN).
struct NamedPolicy {
  std::string name;
  std::string document;
};
struct DeliveryRoleDocuments {
  std::string arn;
  std::string trust_policy;
  std::vector<NamedPolicy> policies;  // inline policies first, then attached ones
};

// What the static IAM checks (role-trust, role-permissions, and the key policy
// part of kms-key) read; docs/doctor.md "IAM checks".
struct DoctorIamDeps {
  // Delivery roles are enforced ([auth] mode "sigv4" or enforce_roles): without
  // it the role checks are not applicable.
  bool enforce_roles = false;
  // The role named by an ARN; NotFound when there is none. Required when enforced.
  std::function<Result<DeliveryRoleDocuments>(std::string_view role_arn)> role;
  // The embedded store's bucket policy; null when none. Optional.
  std::function<std::shared_ptr<const std::string>(std::string_view bucket)> bucket_policy;
  // hydrant's KMS: the key's state and key policy. Optional.
  const kms::KeyService* keys = nullptr;
  // The key policy document of a key (to name a denying statement). Optional.
  std::function<Result<std::string>(std::string_view key)> key_policy;
  AccountContext account;  // completes function names and log-stream ARNs
};

struct DoctorDeps {
  store::ObjectSink* sink = nullptr;               // bucket probes; null = not checked
  processing::FunctionInvoker* invoker = nullptr;  // Lambda probe; null = not checked
  const MetricsSeries* series = nullptr;           // recent metrics; null = live counters only
  const logs::LogStore* logs = nullptr;            // error events; null = not checked
  const Clock* clock = nullptr;                    // null = system clock
  // The configured timeout (seconds) of a function hydrant runs itself, by name;
  // nullopt when unknown (a remote function). Optional.
  std::function<std::optional<int>(std::string_view function_name)> function_timeout_seconds;
  // Whether delivery to `bucket` goes to a remote S3 service (false = the embedded
  // store, which does not apply SSE-KMS). Optional (unknown).
  std::function<bool(std::string_view bucket)> bucket_is_remote;
  int64_t retention_ms = 24ll * 3600 * 1000;  // the delivery retention period
  // A Kinesis-sourced stream stops reading while it holds more than this many
  // bytes undelivered (sources::KinesisSourceOptions::max_backlog_bytes, whose
  // default this is: doctor.cc asserts it).
  uint64_t kinesis_max_backlog_bytes = 256ull << 20;
  DoctorIamDeps iam;
};

struct DoctorOptions {
  int64_t window_ms = 15 * 60'000;        // "recently" for metrics
  int64_t errors_window_ms = 60 * 60'000;  // error events looked at
  std::chrono::milliseconds invoke_timeout{10'000};  // the Lambda probe's longest wait
  // A Kinesis-sourced stream further behind its source stream than this
  // (KinesisMillisBehindLatest) is a warning; at kinesis_behind_fail_ms, half
  // of a Kinesis stream's default retention (24 h), records are at risk of
  // expiring unread: a failure.
  int64_t kinesis_behind_warn_ms = 5 * 60'000;
  int64_t kinesis_behind_fail_ms = 12 * 3600'000;
};

// What the doctor looks at in one stream.
struct DoctorTarget {
  stream::StreamMeta meta;
  const stream::StreamProbe* probe = nullptr;  // live counters; must not be null
  uint64_t backlog_records = 0;               // buffered, not yet delivered
  uint64_t backlog_disk_bytes = 0;            // the stream's log on disk
  // KinesisStreamAsSource: whether its Kinesis stream can be read
  // (stream::RegistryOptions::kinesis_source_check); nullopt: not checked.
  std::optional<Status> kinesis_source;
  // Damage found on disk at start: the logs' recovery lines and the definition
  // rebuilt from its copy (stream::DeliveryStream::recovery_problems).
  std::vector<std::string> damage;
};

class Doctor {
 public:
  Doctor(DoctorDeps deps, DoctorOptions options = {});

  DoctorReport Run(const DoctorTarget& target) const;
  // The stream from `registry`; NotFound when there is no such stream. A stream that
  // could not be opened (quarantined) gets one failed check saying why.
  Result<DoctorReport> Run(const stream::StreamRegistry& registry, const std::string& name) const;

 private:
  CheckResult CheckStream(const DoctorTarget& t) const;
  CheckResult CheckDamage(const DoctorTarget& t) const;
  CheckResult CheckIncoming(const DoctorTarget& t) const;
  // Why a KinesisStreamAsSource stream may not get its records: the source
  // stream is missing, reads fail or are throttled, it is far behind, or
  // reading is paused by the backlog.
  CheckResult CheckKinesisSource(const DoctorTarget& t) const;
  CheckResult CheckBucket(const DoctorTarget& t, bool backup) const;
  CheckResult CheckKms(const DoctorTarget& t, const CheckResult& bucket) const;
  // The static IAM checks (doctor_iam.cc).
  CheckResult CheckRoleTrust(const DoctorTarget& t) const;
  CheckResult CheckRolePermissions(const DoctorTarget& t) const;
  // The kms-key check from hydrant's KMS (state, key policy); nullopt when the
  // key is not one of hydrant's and the probe's verdict stands.
  std::optional<CheckResult> CheckKmsStatically(const DoctorTarget& t) const;
  // The key of the stream's encryption at rest (StreamMeta::key_at_rest) and the
  // outcome of the last StartDeliveryStreamEncryption (doctor_iam.cc).
  CheckResult CheckStreamEncryption(const DoctorTarget& t) const;
  std::vector<CheckResult> CheckLambda(const DoctorTarget& t) const;
  CheckResult CheckProcessing(const DoctorTarget& t) const;
  CheckResult CheckDelivery(const DoctorTarget& t) const;
  CheckResult CheckRetention(const DoctorTarget& t) const;
  CheckResult CheckLogging(const DoctorTarget& t) const;
  CheckResult CheckErrorEvents(const DoctorTarget& t) const;
  int64_t Now() const;

  DoctorDeps deps_;
  DoctorOptions options_;
};

// The fix for a Firehose S3 error code met on `bucket` ("" for an unknown code).
std::string BucketFix(std::string_view error_code, std::string_view bucket,
                      std::string_view role_arn, std::string_view kms_key);
// The fix for a Lambda error code met invoking `function_arn`.
std::string LambdaFix(std::string_view error_code, std::string_view function_arn);

}  // namespace hydrant::observability
