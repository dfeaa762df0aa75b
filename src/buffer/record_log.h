#pragma once
// RecordLog: what a delivery stream needs of a durable, ordered log of records:
// append, make durable, read from a position, and acknowledge up to a position.
// The delivery stages read and acknowledge through this interface only, so a log
// replicated across machines (the cluster mode) can take the place of the local
// one (buffer::StreamLog) without the stages changing.
//
// Contract shared by every implementation: records get consecutive sequence
// numbers from next_seq(); Append returns before the records are durable, Sync
// makes everything appended so far durable; records below first_undelivered() are
// gone for readers, except that the records of one Append call stay readable
// together while any of them is at or past it (an encrypted call is verified
// as a whole: buffer/encrypted_log.h); every method may be called concurrently
// from any thread.

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "common/status.h"

namespace hydrant {
class LatencyHistogram;
}

namespace hydrant::buffer {

// Record flags, kept with each record by every implementation.
// kRecordEncrypted: `data` is an encryption envelope (buffer/encrypted_log.h).
inline constexpr uint32_t kRecordEncrypted = 1u << 31;

struct LogRecord {
  uint64_t seq = 0;
  int64_t arrival_ms = 0;
  std::string_view data;  // valid only during the callback
  uint32_t flags = 0;     // kRecord* bits given to Append
};

class RecordLog {
 public:
  virtual ~RecordLog() = default;

  // Appends records, all stamped with arrival_ms and `flags` (kRecord* bits);
  // returns the first one's sequence number. ResourceExhausted when a quota
  // refuses them (nothing appended). A call's records become readable together.
  virtual Result<uint64_t> Append(int64_t arrival_ms, std::span<const std::string_view> payloads,
                                  uint32_t flags) = 0;
  Result<uint64_t> Append(int64_t arrival_ms, std::span<const std::string_view> payloads) {
    return Append(arrival_ms, payloads, 0);
  }
  // Makes everything appended so far durable.
  virtual Status Sync() = 0;
  // Calls fn for records with seq >= from in order, until fn returns false, the
  // records run out, or max_bytes of payload have been passed (at least one record
  // is always passed if there is one).
  virtual Status Read(uint64_t from, uint64_t max_bytes,
                      const std::function<bool(const LogRecord&)>& fn) const = 0;
  // All records with seq < up_to are delivered and may be dropped.
  virtual Status MarkDelivered(uint64_t up_to) = 0;

  virtual uint64_t first_undelivered() const = 0;
  virtual uint64_t next_seq() const = 0;
  // Bytes the log holds on this machine's disk.
  virtual uint64_t disk_bytes() const = 0;
  // Duration of each Sync that made something durable.
  virtual const LatencyHistogram& sync_latency() const = 0;
  // The log is idle for now: closes the files it keeps open between calls (the
  // next call opens what it needs). A hint; the default does nothing.
  virtual void ReleaseIdleFiles() {}
  // Deletes the log (stream deletion); it is unusable afterwards.
  virtual Status Destroy() = 0;
};

}  // namespace hydrant::buffer
