#pragma once
// Record processing as Firehose does it before delivery (ProcessingConfiguration):
// native processors (RecordDeAggregation, Decompression, CloudWatchLogProcessing,
// AppendDelimiterToRecord) and the Lambda processor with its status model
// (recordId / result Ok|Dropped|ProcessingFailed / data). Reference:
// AWS's "Transform source data in Amazon Data Firehose" guide; docs/processing.md.
//
// A batch goes through the processors in Firehose's order; every input record ends
// as exactly one of: transformed records to deliver, dropped on purpose, or failed
// (with Firehose's error code and message, for processing-failed objects).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "processing/invoker.h"
#include "processing/processing_spec.h"

namespace hydrant::processing {

// A record's Kinesis metadata, for delivery streams that read a Kinesis data
// stream (the Lambda event's kinesisRecordMetadata).
struct KinesisRecordMetadata {
  std::string_view shard_id;
  std::string_view partition_key;
  std::string_view sequence_number;
  uint32_t subsequence_number = 0;
  int64_t approximate_arrival_ms = 0;
};

struct SourceRecord {
  std::string_view data;
  int64_t arrival_ms = 0;
  const KinesisRecordMetadata* kinesis = nullptr;  // Kinesis sources only
};

// What happened to one source record.
struct RecordOutcome {
  enum class Kind { kOk, kDropped, kFailed };
  Kind kind = Kind::kOk;
  // kOk: the records to deliver in its place, in order (several after
  // de-aggregation; the Lambda's `data` otherwise). Concatenated as is.
  std::vector<std::string> outputs;
  // kFailed: fields of the processing-failed line.
  std::string error_code;       // e.g. "Lambda.MissingRecordId"
  std::string error_message;
  int attempts = 0;             // attemptsMade
  int64_t attempt_end_ms = 0;   // attemptEndingTimestamp
  std::string lambda_arn;       // the function, for Lambda failures
  std::string error_output_type = "processing-failed";
};

// Invocation statistics, for ExecuteProcessing.* metrics.
struct ProcessingStats {
  uint64_t invocations = 0;
  uint64_t failed_invocations = 0;
  uint64_t total_duration_ms = 0;
  uint64_t ok_records = 0, ok_bytes = 0;
};

// A stream's processing chain, built from its stored ProcessingConfiguration.
class Pipeline {
 public:
  struct Context {
    std::string delivery_stream_arn;
    // The Kinesis stream a KinesisStreamAsSource stream reads ("" otherwise):
    // the Lambda event's sourceKinesisStreamArn.
    std::string source_kinesis_stream_arn;
    std::string region;
    FunctionInvoker* invoker = nullptr;  // for Lambda processors; not owned
    const Clock* clock = nullptr;
    int max_parallel_invocations = 5;
    // Waits between Lambda retries; empty = std::this_thread::sleep_for. Tests
    // inject one so they neither wait nor depend on timing.
    std::function<void(std::chrono::milliseconds)> sleep_for;
  };
  // nullptr result = processing disabled (records pass through unchanged).
  static Result<std::unique_ptr<Pipeline>> Create(const ProcessingSpec& spec, Context ctx);
  virtual ~Pipeline() = default;

  // Processes a batch; returns one outcome per input record, in order.
  virtual std::vector<RecordOutcome> Process(std::span<const SourceRecord> records,
                                             ProcessingStats* stats) = 0;

  // The Lambda processor's BufferSizeInMBs and BufferIntervalInSeconds, for the
  // caller that decides when a batch is handed to Process(); nullopt when the
  // chain has no Lambda processor. Process() itself splits a batch into
  // invocations of at most size_bytes of source data whatever its size.
  struct LambdaBuffering {
    uint64_t size_bytes = 0;
    int64_t interval_ms = 0;
  };
  virtual std::optional<LambdaBuffering> lambda_buffering() const { return std::nullopt; }
};

// Checks a ProcessingConfiguration as Pipeline::Create would (processor types,
// parameters and their ranges), without needing an invoker: for the API layer,
// so a configuration hydrant cannot run is refused at Create/UpdateDestination.
Status ValidateProcessingConfiguration(const ProcessingSpec& spec);

// The processing-failed line Firehose writes for a failed record (one JSON object,
// newline-terminated): attemptsMade, arrivalTimestamp, errorCode, errorMessage,
// attemptEndingTimestamp, rawData (base64 of the original record), lambdaArn.
std::string ProcessingFailedLine(const RecordOutcome& failed, const SourceRecord& original);

}  // namespace hydrant::processing
