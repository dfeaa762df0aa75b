#pragma once
// KinesisStreamProbe: the counters of one Kinesis data stream, named after the
// stream-level CloudWatch metrics of Kinesis Data Streams (namespace AWS/Kinesis,
// dimension StreamName). Written by KinesisStream::Put and ::Read, which every
// put and read passes through (the Kinesis API's PutRecord, PutRecords and
// GetRecords, and Firehose delivery streams reading their source); read by
// observability (/metrics, docs/metrics.md "Kinesis data streams").
//
// Lock-free: every field is an atomic updated with relaxed ordering; a reader
// sees each field atomically, not one consistent cut of them all.
// Owned by its KinesisStream (KinesisStream::probe()), so it lives as long as
// the stream does and starts at 0 when the server starts.

#include <atomic>
#include <cstdint>

#include "common/latency_histogram.h"

namespace hydrant::kinesis {

// Which API call a put is, for the PutRecord.* and PutRecords.* metrics.
enum class PutOp { kPutRecord, kPutRecords };

// One operation: calls that reached the stream, the successful ones (CloudWatch's
// <Op>.Success is 1 per successful call and 0 per failed one: its Sum is
// `successes`, its Average successes / calls), and the latency of every call.
struct KinesisOperationProbe {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> successes{0};
  LatencyHistogram latency;

  void Record(bool success, uint64_t latency_us) {
    calls.fetch_add(1, std::memory_order_relaxed);
    if (success) successes.fetch_add(1, std::memory_order_relaxed);
    latency.Record(latency_us);
  }
};

struct KinesisStreamProbe {
  // IncomingBytes / IncomingRecords: records written and durable, by PutRecord
  // and PutRecords (bytes are the records' data, partition keys not included).
  std::atomic<uint64_t> incoming_bytes{0};
  std::atomic<uint64_t> incoming_records{0};

  // PutRecord.Bytes / .Latency / .Success. Latency: from the call to the
  // durable acknowledgement (after the shard logs' fdatasync).
  KinesisOperationProbe put_record;
  std::atomic<uint64_t> put_record_bytes{0};

  // PutRecords.Bytes / .Latency / .Success (a call succeeds when at least one
  // of its records does) / .Records (successful records, AWS's older metric)
  // and the newer .SuccessfulRecords / .FailedRecords (internal failures) /
  // .ThrottledRecords / .TotalRecords.
  KinesisOperationProbe put_records;
  std::atomic<uint64_t> put_records_bytes{0};
  std::atomic<uint64_t> put_records_successful_records{0};
  std::atomic<uint64_t> put_records_failed_records{0};
  std::atomic<uint64_t> put_records_throttled_records{0};  // hydrant does not throttle: 0
  std::atomic<uint64_t> put_records_total_records{0};

  // GetRecords.Bytes / .Records / .Latency / .Success, and
  // GetRecords.IteratorAgeMilliseconds of the latest successful call: now minus
  // the arrival time of the last record it returned, 0 when it returned none
  // (caught up), as AWS defines it.
  KinesisOperationProbe get_records;
  std::atomic<uint64_t> get_records_bytes{0};
  std::atomic<uint64_t> get_records_records{0};
  std::atomic<int64_t> get_records_iterator_age_ms{0};

  // WriteProvisionedThroughputExceeded / ReadProvisionedThroughputExceeded:
  // calls refused for exceeding a shard's throughput. hydrant has no per-shard
  // throughput limit, so these stay 0; they are kept so that dashboards and
  // alarms written for AWS find them.
  std::atomic<uint64_t> write_throughput_exceeded{0};
  std::atomic<uint64_t> read_throughput_exceeded{0};

  // One put of `records` records (`bytes` of data), `succeeded` of them durable.
  void RecordPut(PutOp op, uint64_t records, uint64_t succeeded, uint64_t bytes,
                 uint64_t latency_us) {
    constexpr auto kRelaxed = std::memory_order_relaxed;
    incoming_records.fetch_add(succeeded, kRelaxed);
    incoming_bytes.fetch_add(bytes, kRelaxed);
    if (op == PutOp::kPutRecord) {
      put_record.Record(succeeded > 0, latency_us);
      put_record_bytes.fetch_add(bytes, kRelaxed);
      return;
    }
    put_records.Record(succeeded > 0, latency_us);
    put_records_bytes.fetch_add(bytes, kRelaxed);
    put_records_total_records.fetch_add(records, kRelaxed);
    put_records_successful_records.fetch_add(succeeded, kRelaxed);
    put_records_failed_records.fetch_add(records - succeeded, kRelaxed);
  }
};

}  // namespace hydrant::kinesis
