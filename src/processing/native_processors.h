#pragma once
// Firehose's native (built-in, non-Lambda) processors:
//   Decompression            GZIP-decompresses each record (CloudWatch Logs subscriptions)
//   CloudWatchLogProcessing  DataMessageExtraction: a CloudWatch Logs envelope becomes
//                            one record per log event, holding only its message
//   RecordDeAggregation      JSON: one record per concatenated JSON object;
//                            DELIMITED: one record per delimiter-separated piece
//   AppendDelimiterToRecord  a "\n" after every record
// Each one maps one record to zero or more records, or fails it. They hold only
// their parameters, so Apply() is const and thread-safe. Error codes, outputs and
// the choices AWS leaves open are listed in docs/processing.md.

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "processing/processor.h"

namespace hydrant::processing {

// Error codes of native processor failures (errorCode of processing-failed lines).
inline constexpr std::string_view kDecompressionFailed = "Decompression.Failed";
inline constexpr std::string_view kCloudWatchLogsInvalidMessage = "CloudWatchLogs.InvalidMessage";
inline constexpr std::string_view kDeAggregationInvalidJson = "RecordDeAggregation.InvalidJson";
inline constexpr std::string_view kDeAggregationTooManyRecords =
    "RecordDeAggregation.TooManySubRecords";

// Most sub-records one record may be split into (AWS: "capped at 500 per record").
inline constexpr size_t kMaxSubRecords = 500;
// Decompressed records larger than this fail (a guard against gzip bombs).
inline constexpr size_t kMaxDecompressedBytes = 64u << 20;


class NativeProcessor {
 public:
  virtual ~NativeProcessor() = default;
  // Applies the processor to one record. On success appends the records to
  // deliver in its place to *outputs (none = the record is dropped) and returns
  // true. On failure returns false and fills error_code, error_message and
  // error_output_type of *failure (other fields untouched).
  virtual bool Apply(std::string_view data, std::vector<std::string>* outputs,
                     RecordOutcome* failure) const = 0;
};

// Builds the processor for `type` ("Decompression", "CloudWatchLogProcessing",
// "RecordDeAggregation", "AppendDelimiterToRecord") from its parameters.
// InvalidArgument for a missing or invalid parameter; nullptr (no error) when the
// processor does nothing with these parameters (CloudWatchLogProcessing with
// DataMessageExtraction false).
Result<std::unique_ptr<NativeProcessor>> MakeNativeProcessor(
    std::string_view type, const std::map<std::string, std::string, std::less<>>& params);

// The pieces, exposed for tests and tools.
std::unique_ptr<NativeProcessor> MakeGzipDecompressor();
std::unique_ptr<NativeProcessor> MakeCloudWatchLogsMessageExtractor();
std::unique_ptr<NativeProcessor> MakeJsonDeAggregator();
// `delimiter` is the raw delimiter (already base64-decoded); must not be empty.
std::unique_ptr<NativeProcessor> MakeDelimitedDeAggregator(std::string delimiter);
std::unique_ptr<NativeProcessor> MakeDelimiterAppender();

}  // namespace hydrant::processing
