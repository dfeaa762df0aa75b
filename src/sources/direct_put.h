#pragma once
// DirectPut: the one way records enter a stream from outside (Firehose's
// "DirectPut" source): PutRecord and PutRecordBatch from the Firehose API, and the
// records the CloudWatch Logs processor puts back into their stream (as the AWS
// blueprint does with PutRecordBatch). It stamps the arrival time from the
// registry's clock, appends, waits for durability, and counts the put metrics of
// the stream (Incoming*, PutRecord*, PutRecordBatch*, ThrottledRecords, and the
// records refused because the disk is full, with a log line at most every
// kDiskFullLogInterval saying how many).
// Answering in a protocol's words is the caller's job. Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hydrant::stream {
class DeliveryStream;
class StreamRegistry;
}  // namespace hydrant::stream

namespace hydrant::sources {

enum class PutKind { kPutRecord, kPutRecordBatch };

class DirectPut {
 public:
  using Steady = std::chrono::steady_clock;
  // `registry` must outlive this object.
  explicit DirectPut(stream::StreamRegistry* registry) : registry_(registry) {}

  // Puts `records` (`total_bytes` of payload) into `s` and calls done(first sequence
  // number) once they are durable, or done(error): ResourceExhausted when the disk
  // quota refuses them, or the disk is full (error code buffer::kDiskFullErrorCode);
  // nothing is written then. `received` is when the request arrived
  // (the operation's latency is measured from it). `done` runs on the committer's
  // thread, or on the caller's when the append fails.
  void Put(std::shared_ptr<stream::DeliveryStream> s, PutKind kind,
           std::span<const std::string_view> records, uint64_t total_bytes,
           Steady::time_point received, std::function<void(Result<uint64_t>)> done);

  // Puts records into the stream named `stream` as one PutRecordBatch and waits
  // until they are durable. NotFound when there is no such stream.
  Status PutAndWait(std::string_view stream, const std::vector<std::string>& records);

  static constexpr std::chrono::seconds kDiskFullLogInterval{10};

 private:
  // Counts records refused for a full disk and logs it, at most once an interval.
  void NoteDiskFull(const std::string& stream, size_t records, const Status& error);

  stream::StreamRegistry* registry_;
  std::atomic<int64_t> disk_full_logged_ns_{0};  // steady clock; 0 = never
  std::atomic<uint64_t> disk_full_unlogged_{0};  // records refused since that line
};

}  // namespace hydrant::sources
