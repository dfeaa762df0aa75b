#pragma once
// LambdaProcessor: Firehose's Lambda data transformation (spec section 5).
//
// Process() splits its records into invocations (each at most BufferSizeInMBs of
// source data and at most 6 MiB of event JSON), runs up to
// max_parallel_invocations of them at once through a FunctionInvoker, retries
// failed calls NumberOfRetries times with exponential backoff, and checks each
// response against the status model (recordId / result / data). Every input
// record ends as exactly one outcome: Ok (decoded data), Dropped, or Failed with
// Firehose's error code, message and attemptsMade. Codes and choices:
// docs/processing.md.
//
// Thread-safety: Process() may be called from several threads at once; the
// invoker must be thread-safe (FunctionInvoker's contract) and outlive this.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "processing/invoker.h"
#include "processing/processor.h"

namespace hydrant::processing {

// Lambda's synchronous payload limit, request and response alike (6 MiB).
inline constexpr size_t kLambdaPayloadLimit = 6 * 1024 * 1024;
// Firehose's longest invocation.
inline constexpr std::chrono::milliseconds kLambdaInvokeTimeout = std::chrono::minutes(5);

// Firehose's error codes and messages for processing-failed records.
inline constexpr std::string_view kLambdaFunctionError = "Lambda.FunctionError";
inline constexpr std::string_view kLambdaFunctionErrorMessage =
    "The Lambda function was successfully invoked but it returned an error result.";
inline constexpr std::string_view kLambdaTimeoutMessage =
    "Firehose encountered timeout errors when calling AWS Lambda. The maximum supported "
    "function timeout is 5 minutes.";
inline constexpr std::string_view kLambdaJsonProcessingException = "Lambda.JsonProcessingException";
inline constexpr std::string_view kLambdaMissingRecordId = "Lambda.MissingRecordId";
inline constexpr std::string_view kLambdaMissingRecordIdMessage =
    "One or more record Ids were not returned. Ensure that the Lambda function returns all "
    "received record Ids.";
inline constexpr std::string_view kLambdaDuplicatedRecordId = "Lambda.DuplicatedRecordId";
inline constexpr std::string_view kLambdaDuplicatedRecordIdMessage =
    "One or more record Ids were returned more than once. Ensure that the Lambda function "
    "returns each received record Id exactly once.";
inline constexpr std::string_view kLambdaProcessingFailedStatus = "Lambda.ProcessingFailedStatus";
inline constexpr std::string_view kLambdaProcessingFailedStatusMessage =
    "ProcessingFailed status set for record";

// The Lambda processor's parameters, as Describe echoes them.
struct LambdaOptions {
  std::string lambda_arn;  // LambdaArn as configured: the lambdaArn of failed records
  FunctionRef function;
  int number_of_retries = 3;                 // NumberOfRetries, 0..300
  uint64_t buffer_size_bytes = 3ull << 20;  // BufferSizeInMBs (MiB, fractional allowed; default 3)
  int64_t buffer_interval_ms = 60'000;       // BufferIntervalInSeconds
  // Retry backoff: initial wait, doubled after each retry, capped.
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{10'000};
};

// Parses a Lambda processor's parameters (LambdaArn required; RoleArn goes into
// function.role_arn). InvalidArgument names the offending parameter.
Result<LambdaOptions> ParseLambdaOptions(
    const std::map<std::string, std::string, std::less<>>& params);

class LambdaProcessor {
 public:
  // ctx.invoker must be non-null; ctx.clock and ctx.sleep_for may be empty (system
  // clock, real sleeps).
  LambdaProcessor(LambdaOptions options, Pipeline::Context ctx);

  // One outcome per record, in order. `stats` may be null.
  std::vector<RecordOutcome> Process(std::span<const SourceRecord> records,
                                     ProcessingStats* stats) const;

  const LambdaOptions& options() const { return options_; }

 private:
  void RunInvocation(std::span<const SourceRecord> records, const std::vector<size_t>& indices,
                     std::vector<RecordOutcome>* outcomes, ProcessingStats* stats) const;
  int64_t NowMs() const;
  // The bytes of the event's sourceKinesisStreamArn member (0 when there is none).
  size_t SourceArnJsonSize() const;

  LambdaOptions options_;
  Pipeline::Context ctx_;
};

}  // namespace hydrant::processing
