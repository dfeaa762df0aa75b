#pragma once
// BuiltinInvoker: AWS's Firehose Lambda blueprints compiled into hydrant, so a
// stream can transform records without a Lambda endpoint. A blueprint is chosen
// by the function NAME in the configured LambdaArn, e.g.
//   arn:aws:lambda:us-east-1:000000000000:function:hydrant-syslog-to-json
// (region, account and qualifier are ignored). docs/blueprints.md lists the
// names, what each one does and every place where hydrant's copy differs.
//
// Contract: Invoke() answers exactly what the Python blueprint, run by the Lambda
// Python runtime on the same event, would answer: kOk with the handler's result
// (the same records, results and - after base64 decoding - the same bytes), or
// kFunctionError with a Lambda-style error document
// {"errorMessage": ..., "errorType": ...} wherever the Python code would raise
// (e.g. UnicodeDecodeError for a syslog record that is not UTF-8, BadGzipFile for
// a CloudWatch Logs record that is not gzip). Unknown names give kFatal
// (Lambda.ResourceNotFound).
//
// Thread-safety: Invoke may run concurrently; the invoker holds no mutable state
// besides the re-ingestion callback, which must itself be thread-safe.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "processing/invoker.h"

namespace hydrant::processing {

// The CloudWatch Logs processor blueprint puts records back into the delivery
// stream (PutRecordBatch) when a response would exceed Lambda's 6 MB limit.
// `stream_name` is the name after '/' in the event's deliveryStreamArn; `records`
// are the raw (not base64) record payloads, at most 500 per call. The callback
// must either accept every record and return OK, or return an error: on error the
// whole call is repeated (20 attempts in all, as the blueprint does), after which
// the invocation fails with RuntimeError like the blueprint's.
using ReingestFn =
    std::function<Status(std::string_view stream_name, std::vector<std::string> records)>;
// The same for a delivery stream that reads a Kinesis data stream (the event has
// sourceKinesisStreamArn): Kinesis PutRecords of (partition key, data) pairs into
// the stream of that ARN, the partition key being the original record's
// kinesisRecordMetadata.partitionKey, as the blueprint does.
using KinesisReingestFn = std::function<Status(
    std::string_view stream_arn, std::vector<std::pair<std::string, std::string>> records)>;

class BuiltinInvoker : public FunctionInvoker {
 public:
  static constexpr std::string_view kGeneralProcessing = "hydrant-general-processing";
  static constexpr std::string_view kSyslogToJson = "hydrant-syslog-to-json";
  static constexpr std::string_view kSyslogToCsv = "hydrant-syslog-to-csv";
  static constexpr std::string_view kKinesisStreamsProcessing =
      "hydrant-kinesis-streams-processing";
  static constexpr std::string_view kCloudWatchLogsProcessor = "hydrant-cloudwatch-logs-processor";

  // `reingest` may be empty: records the CloudWatch Logs processor would
  // re-ingest then come back as ProcessingFailed (and a warning is logged), so
  // they land in the processing-failed output instead of being lost.
  explicit BuiltinInvoker(ReingestFn reingest = nullptr, KinesisReingestFn kinesis_reingest = nullptr);

  // `timeout` is not enforced: the blueprints run in-process, bounded by the
  // event's size. Lambda's 6,291,556-byte response limit is enforced (kFunctionError).
  InvokeResult Invoke(const FunctionRef& fn, const std::string& event_json,
                      std::chrono::milliseconds timeout) override;

  // The function names that select a blueprint, in a stable order.
  static std::vector<std::string> Names();
  static bool Has(std::string_view name);

 private:
  ReingestFn reingest_;
  KinesisReingestFn kinesis_reingest_;
};

namespace blueprints {

// The fields the syslog blueprints extract from one line with the blueprint's
// regular expression, under Python 3 `re` semantics for str patterns (Unicode
// \s, \w and \b; '.' matches any code point but '\n'). `line` must be valid UTF-8.
struct SyslogFields {
  std::string timestamp;           // group 1
  std::string hostname;            // group 2
  std::string program;             // group 3
  std::optional<std::string> pid;  // group 4 (None when the line has no [pid])
  std::string message;             // group 5: up to the first '\n'
};
std::optional<SyslogFields> MatchSyslog(std::string_view line);

// json.dumps(s) with Python's defaults (ensure_ascii=True): the quoted, escaped
// string. `utf8` must be valid UTF-8.
std::string PythonJsonString(std::string_view utf8);

}  // namespace blueprints
}  // namespace hydrant::processing
