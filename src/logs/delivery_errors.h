#pragma once
// DeliveryErrorLog: writes a delivery stream's delivery and processing errors as
// CloudWatch Logs events, the way Firehose does when the destination's
// CloudWatchLoggingOptions has Enabled=true (reference: firehose-spec.md section 6).
//
//   group:  CloudWatchLoggingOptions.LogGroupName, default /aws/kinesisfirehose/STREAM
//   stream: CloudWatchLoggingOptions.LogStreamName, default DestinationDelivery
//           (BackupDelivery for errors of the source-record backup)
//   event:  {"deliveryStreamARN":..., "destination":..., "deliveryStreamVersionId":N,
//            "message":..., "errorCode":..., "processor":...}   (processor only when set)
//
// Sampling (Firehose: "best effort, sampled at high error rates"; the rule is
// hydrant's, docs/logs.md): per (log group, log stream, errorCode), at most
// kSampleBurst events are written in each fixed window of kSampleWindowMs; the rest
// of the window's events are counted, and the count is reported on the server log
// (event=error_log_sampled) when the next window opens.
//
// Best effort: a failure to write is logged on the server log (at most once per
// window per key) and otherwise ignored; Write never blocks on anything but the
// LogStore's append. Thread-safety: Write may be called from any thread.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "common/clock.h"
#include "logs/logging_options.h"

namespace hydrant::logs {

class LogStore;

struct DeliveryErrorEvent {
  std::string delivery_stream_arn;
  std::string destination;  // "arn:aws:s3:::BUCKET"
  int64_t version_id = 1;   // deliveryStreamVersionId
  std::string message;
  std::string error_code;  // e.g. "S3.NoSuchBucket", "Lambda.FunctionError"
  std::string processor;   // Lambda ARN for processing errors; empty otherwise (omitted)
};

// The event's message text (the JSON object above), as written.
std::string FormatDeliveryErrorEvent(const DeliveryErrorEvent& ev);

class DeliveryErrorLog {
 public:
  static constexpr int kSampleBurst = 10;
  static constexpr int64_t kSampleWindowMs = 60'000;

  // `store` and `clock` must outlive this object. `store` may be null (nothing is
  // written; useful for tests of callers).
  explicit DeliveryErrorLog(LogStore* store, const Clock* clock = &SystemClock::Get());

  // Writes one event when `options` (the CloudWatchLoggingOptions of the stream's
  // destination, or of its backup for `backup`) are enabled; does nothing
  // otherwise. Creates the group and stream as needed.
  // `role_arn`: the role Firehose writes the event as (the destination's, or the
  // backup's); with a WriteCheck set, a role it refuses writes nothing (as in
  // Firehose, where a role without logs:PutLogEvents loses its error events) and
  // the refusal goes to the server log like any failed write.
  void Write(const LoggingOptions& options, std::string_view stream_name, bool backup,
             const DeliveryErrorEvent& ev, std::string_view role_arn = {});

  // nullopt when `role_arn` may put events into group/stream; else the reason.
  using WriteCheck = std::function<std::optional<std::string>(
      std::string_view role_arn, const std::string& group, const std::string& stream)>;
  // Set before the first Write (delivery roles enforced); unset = every role may.
  void SetWriteCheck(WriteCheck check) { check_ = std::move(check); }

  // The group and stream Write would use (whether or not logging is enabled).
  static std::string GroupName(const LoggingOptions& options, std::string_view stream_name);
  static std::string StreamName(const LoggingOptions& options, bool backup);

  // Events written and dropped by sampling since construction (for tests and metrics).
  uint64_t written() const;
  uint64_t sampled_out() const;

 private:
  struct Window {
    int64_t start_ms = 0;
    int count = 0;            // events seen in this window
    bool failure_logged = false;
  };
  // True when the event should be written; reports the previous window's
  // suppressed count when a new window opens.
  bool Admit(const std::string& group, const std::string& stream, const std::string& code,
             std::string_view stream_name, int64_t now_ms);

  LogStore* store_;
  const Clock* clock_;
  WriteCheck check_;
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, Window> windows_;  // guarded by mu_
  uint64_t written_ = 0;      // guarded by mu_
  uint64_t sampled_out_ = 0;  // guarded by mu_
};

}  // namespace hydrant::logs
