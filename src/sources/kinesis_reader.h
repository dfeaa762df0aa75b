#pragma once
// KinesisReader: how a Firehose delivery stream of type KinesisStreamAsSource
// reads its Kinesis data stream, whether the stream is hydrant's own
// (LocalKinesisReader, straight into kinesis::KinesisRegistry) or on another
// Kinesis endpoint (RemoteKinesisReader: kinesalite, LocalStack, AWS; signed
// JSON 1.1 calls). The source (sources/kinesis_source.h) only speaks this
// interface: shards, iterators and batches of records, as the Kinesis API has
// them.
//
// Errors carry the Kinesis exception in Status::error_code() where there is one
// (ResourceNotFoundException, ExpiredIteratorException, ...); a throttled call
// (ProvisionedThroughputExceededException, LimitExceededException) is
// ResourceExhausted, to be retried later.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hydrant::sources {

// The error codes a KinesisReader's Status carries (Status::error_code()).
// Kinesis's own exception names, and two of hydrant's for what is not one.
inline constexpr std::string_view kKinesisResourceNotFound = "ResourceNotFoundException";
inline constexpr std::string_view kKinesisResourceInUse = "ResourceInUseException";
inline constexpr std::string_view kKinesisExpiredIterator = "ExpiredIteratorException";
inline constexpr std::string_view kKinesisExpiredNextToken = "ExpiredNextTokenException";
inline constexpr std::string_view kKinesisProvisionedThroughputExceeded =
    "ProvisionedThroughputExceededException";
inline constexpr std::string_view kKinesisLimitExceeded = "LimitExceededException";
inline constexpr std::string_view kKinesisInvalidArgument = "InvalidArgumentException";
inline constexpr std::string_view kKinesisValidation = "ValidationException";
inline constexpr std::string_view kKinesisSerialization = "SerializationException";
inline constexpr std::string_view kKinesisAccessDenied = "AccessDeniedException";
inline constexpr std::string_view kKinesisUnrecognizedClient = "UnrecognizedClientException";
inline constexpr std::string_view kKinesisInvalidSignature = "InvalidSignatureException";
inline constexpr std::string_view kKinesisIncompleteSignature = "IncompleteSignatureException";
inline constexpr std::string_view kKinesisMissingAuthenticationToken =
    "MissingAuthenticationTokenException";
inline constexpr std::string_view kKinesisExpiredToken = "ExpiredTokenException";
inline constexpr std::string_view kKinesisKMSThrottling = "KMSThrottlingException";
inline constexpr std::string_view kKinesisKMSAccessDenied = "KMSAccessDeniedException";
inline constexpr std::string_view kKinesisKMSDisabled = "KMSDisabledException";
inline constexpr std::string_view kKinesisKMSInvalidState = "KMSInvalidStateException";
inline constexpr std::string_view kKinesisKMSNotFound = "KMSNotFoundException";
inline constexpr std::string_view kKinesisKMSOptInRequired = "KMSOptInRequired";
inline constexpr std::string_view kKinesisInternalFailure = "InternalFailure";
inline constexpr std::string_view kKinesisServiceUnavailable = "ServiceUnavailable";
inline constexpr std::string_view kKinesisThrottling = "ThrottlingException";
// Any other `__type`, or none (the message says which, and the HTTP status).
inline constexpr std::string_view kKinesisOther = "Kinesis.Other";
// The answer passed the size cap (kInternal) or was not Kinesis's JSON (kInternal).
inline constexpr std::string_view kKinesisResponseTooLarge = "Kinesis.ResponseTooLarge";
inline constexpr std::string_view kKinesisBadResponse = "Kinesis.BadResponse";
// Transport failures, kUnavailable: no answer in time, or none at all (refused,
// DNS, reset, TLS).
inline constexpr std::string_view kKinesisTimeout = "Kinesis.Timeout";
inline constexpr std::string_view kKinesisUnreachable = "Kinesis.Unreachable";

struct KinesisShard {
  std::string id;  // "shardId-000000000003"
  std::optional<std::string> parent;
  std::optional<std::string> adjacent_parent;
  bool closed = false;  // has an EndingSequenceNumber
};

struct KinesisRecord {
  std::string sequence_number;
  int64_t arrival_ms = 0;  // ApproximateArrivalTimestamp
  std::string partition_key;
  std::string data;  // decoded
};

struct KinesisBatch {
  std::vector<KinesisRecord> records;
  std::string next_iterator;  // empty: the shard is closed and read to its end
  int64_t millis_behind = 0;  // MillisBehindLatest
};

enum class StartAt { kTrimHorizon, kLatest, kAtTimestamp, kAfterSequenceNumber };

class KinesisReader {
 public:
  virtual ~KinesisReader() = default;
  // Every shard the stream still has, open and closed (ListShards, all pages).
  virtual Result<std::vector<KinesisShard>> ListShards() = 0;
  // An iterator for `shard_id` at `at` (timestamp_ms for kAtTimestamp,
  // sequence_number for kAfterSequenceNumber).
  virtual Result<std::string> ShardIterator(const std::string& shard_id, StartAt at,
                                            const std::string& sequence_number,
                                            int64_t timestamp_ms) = 0;
  // Up to `limit` records from `iterator`.
  virtual Result<KinesisBatch> GetRecords(const std::string& iterator, size_t limit) = 0;
};

}  // namespace hydrant::sources
