#pragma once
// `hydrant logs`: prints log events of a running hydrant through its CloudWatch Logs
// API (FilterLogEvents), one line per event: "TIME LOG_STREAM MESSAGE". For a
// delivery stream (STREAM) the group is the one of its destination's
// CloudWatchLoggingOptions, read with DescribeDeliveryStream, else
// /aws/kinesisfirehose/STREAM; --group names any group (e.g. /aws/lambda/NAME).
// With follow, polls until interrupted.

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace hydrant::aws {
class HttpClient;
}

namespace hydrant::app {

struct LogsCommandOptions {
  std::string endpoint = "http://127.0.0.1:4573";
  std::string delivery_stream;           // STREAM; or
  std::string group;                     // --group
  std::vector<std::string> log_streams;  // --log-stream (repeatable); empty = all
  std::string filter_pattern;            // --filter-pattern
  std::optional<int64_t> start_ms;       // --since, resolved to epoch ms
  bool follow = false;
  int poll_interval_ms = 2000;
};

// "90s", "10m", "2h", "1d" (before now_ms), or epoch milliseconds. InvalidArgument
// otherwise.
Result<int64_t> ParseSince(std::string_view text, int64_t now_ms);

// Runs the command; returns the exit code (0 ok, 1 error, 2 usage). `stop` ends a
// follow loop (checked between polls); `sleep_ms` waits between polls (tests inject
// one).
int RunLogsCommand(const LogsCommandOptions& opts, aws::HttpClient* http, std::ostream& out,
                   std::ostream& err, const std::atomic<bool>* stop = nullptr,
                   std::function<void(int)> sleep_ms = {});

}  // namespace hydrant::app
