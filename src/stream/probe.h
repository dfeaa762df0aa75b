#pragma once
// StreamProbe: the counters and gauges of one delivery stream, written by its data
// path (puts, delivery, processing) and read by observability (metrics, doctor).
// Lock-free on the put and delivery paths: every field is an atomic updated with
// relaxed ordering, except `errors_by_code`, which takes a mutex on the failure path
// only.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/latency_histogram.h"

namespace hydrant::stream {

// One API operation on a stream (Firehose's <Operation>.Requests and .Latency):
// requests that reached the stream, and their latency from the handler's receipt of
// the request to the answer (for puts: to the durable acknowledgement).
struct OperationProbe {
  std::atomic<uint64_t> requests{0};
  LatencyHistogram latency;
  void Record(uint64_t latency_us) {
    requests.fetch_add(1, std::memory_order_relaxed);
    latency.Record(latency_us);
  }
};

// Delivery errors of one stream by Firehose error code (S3.AccessDenied,
// Lambda.InvokeAccessDenied, KMS.DisabledException, InternalError, ...), for
// hydrant_delivery_errors_total{error_code}. Codes come from fixed sets, but the
// number of distinct codes kept is capped so that no code source can grow the metric
// without bound: the first kMaxCodes distinct codes are counted under their own
// name, any later one under kOtherCode (an empty code too). Written on the failure
// path only (each failure is retried with backoff), so a mutex is cheap here.
class ErrorCodeCounts {
 public:
  static constexpr size_t kMaxCodes = 32;
  static constexpr std::string_view kOtherCode = "Other";

  void Add(std::string_view code, uint64_t n = 1) {
    std::lock_guard lk(mu_);
    auto it = counts_.find(code);
    if (it == counts_.end()) {
      const bool full = counts_.size() - counts_.count(kOtherCode) >= kMaxCodes;
      it = counts_.try_emplace(std::string(full || code.empty() ? kOtherCode : code), 0).first;
    }
    it->second += n;
  }
  // (code, count) pairs ordered by code.
  std::vector<std::pair<std::string, uint64_t>> Read() const {
    std::lock_guard lk(mu_);
    return {counts_.begin(), counts_.end()};
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> counts_;
};

// Counters of one stream (names follow Firehose's CloudWatch metrics).
struct StreamProbe {
  std::atomic<uint64_t> incoming_bytes{0};
  std::atomic<uint64_t> incoming_records{0};
  std::atomic<uint64_t> incoming_put_requests{0};
  std::atomic<int64_t> last_put_ms{0};  // arrival time of the latest accepted put (0 = none)
  std::atomic<uint64_t> throttled_records{0};
  std::atomic<uint64_t> delivered_bytes{0};
  std::atomic<uint64_t> delivered_records{0};
  std::atomic<uint64_t> delivered_objects{0};
  std::atomic<uint64_t> delivery_failures{0};
  // One per error-log event: each failed stage attempt (as delivery_failures) and
  // each record a processor failed, by error code.
  ErrorCodeCounts errors_by_code;
  std::atomic<uint64_t> expired_records{0};      // dropped after the retention period
  std::atomic<uint64_t> redelivered_records{0};  // rewritten after a restart (possible duplicates)
  std::atomic<uint64_t> recovered_records{0};    // undelivered records found at start
  std::atomic<uint64_t> truncated_bytes{0};      // damaged log bytes cut off at start
  std::atomic<uint64_t> lost_records{0};         // undelivered records lost to damage (at start)
  // Puts refused because the disk was full (ENOSPC/EDQUOT); records, not requests.
  std::atomic<uint64_t> disk_full_records{0};
  std::atomic<int64_t> oldest_undelivered_ms{0}; // for DataFreshness; 0 = none
  std::atomic<uint64_t> backup_records{0};       // BackupToS3.Records
  std::atomic<uint64_t> backup_bytes{0};
  std::atomic<uint64_t> dropped_records{0};      // result Dropped
  std::atomic<uint64_t> processing_failed_records{0};
  std::atomic<uint64_t> processing_invocations{0};
  std::atomic<uint64_t> processing_failed_invocations{0};
  std::atomic<uint64_t> processing_duration_ms{0};
  std::atomic<uint64_t> processing_ok_records{0};  // SucceedProcessing.Records
  std::atomic<uint64_t> processing_ok_bytes{0};
  // Object writes (DeliveryToS3.Success = successes / attempts, per object put).
  std::atomic<uint64_t> s3_put_attempts{0};
  std::atomic<uint64_t> s3_put_successes{0};
  // Source record backup (BackupToS3.*): objects, attempts and the age of the oldest
  // record not yet backed up (BackupToS3.DataFreshness; 0 = none).
  std::atomic<uint64_t> backup_objects{0};
  std::atomic<uint64_t> backup_put_attempts{0};
  std::atomic<uint64_t> backup_put_successes{0};
  std::atomic<int64_t> backup_oldest_unsent_ms{0};

  // Kinesis source (KinesisStreamAsSource), maintained by sources/kinesis_source.cc:
  // DataReadFromKinesisStream.Bytes / .Records (the Kinesis records' data, before
  // de-aggregation), KinesisMillisBehindLatest (the latest GetRecords' answer, the
  // largest over the shards read in a poll), and the throttled calls.
  std::atomic<uint64_t> kinesis_read_bytes{0};
  std::atomic<uint64_t> kinesis_read_records{0};
  std::atomic<int64_t> kinesis_millis_behind{0};
  std::atomic<uint64_t> kinesis_throttled_get_records{0};
  std::atomic<uint64_t> kinesis_throttled_get_shard_iterator{0};
  std::atomic<uint64_t> kinesis_throttled_describe_stream{0};
  std::atomic<uint64_t> kinesis_read_errors{0};  // failed source calls (error log events)

  // Put side, maintained by sources/direct_put.cc. Bytes and records count accepted
  // requests only (as IncomingBytes/IncomingRecords do); requests and latency count
  // every request that reached the stream, throttled ones included.
  OperationProbe put_record;              // PutRecord.Requests / .Latency
  std::atomic<uint64_t> put_record_bytes{0};  // PutRecord.Bytes
  OperationProbe put_record_batch;        // PutRecordBatch.Requests / .Latency
  std::atomic<uint64_t> put_record_batch_bytes{0};    // PutRecordBatch.Bytes
  std::atomic<uint64_t> put_record_batch_records{0};  // PutRecordBatch.Records
  // Control plane on this stream (DescribeDeliveryStream, UpdateDestination =
  // UpdateDeliveryStream.*), recorded by server/firehose_api.cc where
  // stream::ControlPlane::ProbeFor says.
  OperationProbe describe;
  OperationProbe update;
};

// Account-level counters (no DeliveryStreamName dimension in CloudWatch).
struct AccountProbe {
  OperationProbe list_delivery_streams;  // ListDeliveryStreams.Requests / .Latency
  std::atomic<uint64_t> s3_disk_full_requests{0};  // S3 writes refused: the disk is full
};

}  // namespace hydrant::stream
