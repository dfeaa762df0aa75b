#pragma once
// StreamProbe: the counters and gauges of one delivery stream, written by its data
// path (puts, delivery, processing) and read by observability (metrics, doctor).
// Lock-free: every field is an atomic updated with relaxed ordering.

#include <atomic>
#include <cstdint>

namespace hydrant::stream {

// Counters of one stream (names follow Firehose's CloudWatch metrics).
struct StreamProbe {
  std::atomic<uint64_t> incoming_bytes{0};
  std::atomic<uint64_t> incoming_records{0};
  std::atomic<uint64_t> incoming_put_requests{0};
  std::atomic<uint64_t> throttled_records{0};
  std::atomic<uint64_t> delivered_bytes{0};
  std::atomic<uint64_t> delivered_records{0};
  std::atomic<uint64_t> delivered_objects{0};
  std::atomic<uint64_t> delivery_attempts{0};
  std::atomic<uint64_t> delivery_failures{0};
  std::atomic<uint64_t> expired_records{0};      // dropped after the retention period
  std::atomic<uint64_t> redelivered_records{0};  // rewritten after a restart (possible duplicates)
  std::atomic<uint64_t> recovered_records{0};    // undelivered records found at start
  std::atomic<uint64_t> truncated_bytes{0};      // damaged log bytes cut off at start
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
};

}  // namespace hydrant::stream
