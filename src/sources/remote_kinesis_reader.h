#pragma once
// RemoteKinesisReader: a KinesisReader for a Kinesis data stream that lives on
// ANOTHER Kinesis endpoint (AWS, kinesalite, LocalStack), for Firehose delivery
// streams of type KinesisStreamAsSource whose KinesisStreamARN is configured in
// a [[kinesis.sources]] entry (app/config.h, docs/kinesis.md "External Kinesis
// streams").
//
// Which reader a stream gets: a stream ARN that a [[kinesis.sources]] entry
// names (by stream_arn, or by region) is remote and read here; a stream ARN
// whose region and account are hydrant's own (Config::account) and that no
// entry names is hydrant's own stream (LocalKinesisReader). FindKinesisSource
// (app/config.h) answers only for configured entries.
//
// Calls, all `POST /` with JSON 1.1 (`X-Amz-Target: Kinesis_20131202.<Op>`,
// `Content-Type: application/x-amz-json-1.1`), SigV4-signed for the service
// `kinesis` in the stream's region:
//   ListShards       StreamName + StreamARN on the first page, then NextToken
//                    alone, until no NextToken (every shard, open and closed);
//   GetShardIterator StreamName + StreamARN, ShardId, the type, and
//                    Timestamp (epoch seconds) or StartingSequenceNumber;
//   GetRecords       ShardIterator, Limit (1..10000), StreamARN.
// Both StreamName and StreamARN are sent: AWS accepts either or both, and
// kinesalite knows only StreamName.
//
// Errors: an answer other than 2xx becomes a Status whose error_code() is one of
// the constants below (the JSON body's `__type`, any "prefix#" stripped;
// kOther for anything else) and whose message names the operation, the stream,
// the endpoint, the HTTP status and the endpoint's own message (never a secret).
// Status codes:
//   throttled (ProvisionedThroughputExceeded, LimitExceeded, KMSThrottling,
//     Throttling, or HTTP 429 / 503)                           → kResourceExhausted
//   ResourceNotFoundException                      → kNotFound
//   ExpiredIterator, ExpiredNextToken, InvalidArgument, validation errors
//                                                  → kInvalidArgument
//   access denied, bad or expired credentials, KMS errors, other 5xx, and
//   transport failures (timeout, refused, TLS)     → kUnavailable
//   an answer larger than the cap (kResponseTooLarge) or not the JSON Kinesis
//   answers with (kBadResponse)                    → kInternal
// Nothing is retried here: the source decides (and backs off).
//
// Thread-safety: the calls may be made from several threads at once. The
// HttpClient given must outlive the reader.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "aws/http_client.h"
#include "common/clock.h"
#include "common/status.h"
#include "sources/kinesis_reader.h"

namespace hydrant::sources {


// Maps a `__type` (with or without "prefix#", e.g.
// "com.amazonaws.kinesis.v20131202#ExpiredIteratorException") and the HTTP status
// to the Status described above. `context` starts the message ("Kinesis
// GetRecords on STREAM at ENDPOINT"); `message` is the endpoint's.
Status KinesisErrorStatus(std::string_view type, int http_status, std::string_view message,
                          std::string_view context);

// arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME.
struct KinesisStreamArn {
  std::string partition;  // "aws", "aws-cn", "aws-us-gov"
  std::string region;
  std::string account_id;  // 12 digits
  std::string name;        // [a-zA-Z0-9_.-]{1,128}
};
// InvalidArgument saying what is wrong when `arn` is not a Kinesis stream ARN.
Result<KinesisStreamArn> ParseKinesisStreamArn(std::string_view arn);

// One [[kinesis.sources]] entry (app/config.h): where the streams it names are,
// and the credentials to read them with.
struct RemoteKinesisConfig {
  // Exactly one of the two says which streams the entry is for.
  std::string stream_arn;  // one stream
  std::string region;      // every stream ARN of this region
  // "http(s)://host[:port]"; "" = https://kinesis.REGION.amazonaws.com
  // (.amazonaws.com.cn for cn- regions).
  std::string endpoint;
  // Static keys when access_key_id is set; else the named profile of
  // ~/.aws/credentials / ~/.aws/config; else the default chain (environment,
  // then the default profile), as for remote S3 (aws/credentials.h).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string profile;
  // For the HTTP client the reader makes when it is given none.
  bool tls_verify = true;
  std::string ca_file;  // "" = the system's CA bundle
  std::chrono::milliseconds request_timeout{30000};
};

// The endpoint `cfg` reaches for a stream of `region`: cfg.endpoint without a
// trailing '/', or AWS's.
std::string KinesisEndpointFor(const RemoteKinesisConfig& cfg, std::string_view region);

// Checks an entry as the config loader does: exactly one of stream_arn and
// region, a well-formed ARN and region, an http(s) endpoint, keys complete,
// not both keys and a profile. `where` names it in the message
// ("kinesis.sources[0]").
Status ValidateRemoteKinesisConfig(const RemoteKinesisConfig& cfg, std::string_view where);

class RemoteKinesisReader final : public KinesisReader {
 public:
  // Caps on the answers' sizes (HttpRequest::max_response_bytes). GetRecords
  // returns up to 10 MiB of data, which base64 makes ~14 MB, plus up to 10,000
  // records' sequence numbers and keys.
  static constexpr size_t kMaxGetRecordsResponseBytes = 32u << 20;
  static constexpr size_t kMaxControlResponseBytes = 4u << 20;  // ListShards, GetShardIterator
  static constexpr int kMaxListShardsPages = 10000;

  // InvalidArgument when the ARN, the endpoint or the keys are wrong. `http`
  // nullptr: the reader makes (and owns) a CurlHttpClient with cfg's TLS
  // options; otherwise it must outlive the reader. `credentials` nullptr: as cfg
  // says. `clock` (for signing) must outlive the reader.
  static Result<std::unique_ptr<RemoteKinesisReader>> Create(
      const RemoteKinesisConfig& cfg, std::string stream_arn, aws::HttpClient* http,
      std::shared_ptr<aws::CredentialsProvider> credentials = nullptr,
      const Clock* clock = &SystemClock::Get());
  ~RemoteKinesisReader() override;

  Result<std::vector<KinesisShard>> ListShards() override;
  Result<std::string> ShardIterator(const std::string& shard_id, StartAt at,
                                    const std::string& sequence_number,
                                    int64_t timestamp_ms) override;
  Result<KinesisBatch> GetRecords(const std::string& iterator, size_t limit) override;

  const std::string& endpoint() const { return endpoint_; }
  const std::string& stream_arn() const { return stream_arn_; }

  // One signed JSON 1.1 call; the 2xx answer's body, or the mapped error.
  // Exposed for tests (and for calls the interface does not have).
  Result<std::string> Call(std::string_view operation, std::string body, size_t max_response_bytes);

 private:
  RemoteKinesisReader(RemoteKinesisConfig cfg, KinesisStreamArn arn, std::string stream_arn,
                      std::string endpoint, aws::HttpClient* http,
                      std::unique_ptr<aws::HttpClient> owned_http,
                      std::shared_ptr<aws::CredentialsProvider> credentials, const Clock* clock);
  std::string Context(std::string_view operation) const;
  // kInternal, kKinesisBadResponse: the 2xx answer is not what Kinesis sends.
  Status BadAnswer(std::string_view operation, std::string_view why) const;

  RemoteKinesisConfig cfg_;
  KinesisStreamArn arn_;
  std::string stream_arn_;
  std::string endpoint_;  // without a trailing '/'
  std::string url_;       // endpoint_ + "/"
  std::string host_;      // the Host header
  std::unique_ptr<aws::HttpClient> owned_http_;
  aws::HttpClient* http_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  const Clock* clock_;
};

// The reader for `stream_arn` as `cfg` (an entry FindKinesisSource found) says,
// signing with the system clock. `http` nullptr: the reader makes its own
// CurlHttpClient. Never null: when the configuration or the ARN is wrong (the
// config loader checks entries, so only a bad stream ARN can be), every call of
// the reader answers the InvalidArgument that says so.
std::unique_ptr<KinesisReader> MakeRemoteKinesisReader(const RemoteKinesisConfig& cfg,
                                                       std::string stream_arn,
                                                       aws::HttpClient* http);

}  // namespace hydrant::sources
