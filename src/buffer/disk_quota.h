#pragma once
// DiskQuota: the disk budget shared by every StreamLog of a process. Each log
// charges it the bytes of its segment files (and of the delivered files it keeps
// for reuse) while it is open, and gives them back as they are deleted and when
// it closes.
//
// Thread-safety: all methods may be called concurrently from any thread.

#include "common/status.h"

#include <atomic>
#include <cstdint>
#include <string_view>

namespace hydrant::buffer {

// The file system itself is full (ENOSPC, or EDQUOT: the user's quota): the log's
// calls fail with ResourceExhausted carrying this error code (common/status.h),
// as the quota's do without it. Nothing is appended (a partial write is cut off
// again), so the producer's retry is safe: Firehose's "Slow down.".
using ::hydrant::kDiskFullErrorCode;

// Shared disk budget across all logs (the configurable disk quota).
// Append() fails with ResourceExhausted when it would exceed the limit.
class DiskQuota {
 public:
  explicit DiskQuota(uint64_t limit_bytes) : limit_(limit_bytes) {}
  // Reserves n bytes; false (nothing reserved) when over the limit.
  bool TryReserve(uint64_t n);
  void Release(uint64_t n);
  // Counts bytes found at start-up; may exceed the limit.
  void ForceReserve(uint64_t n) { used_.fetch_add(n); }
  uint64_t used() const { return used_.load(); }
  uint64_t limit() const { return limit_; }

 private:
  std::atomic<uint64_t> used_{0};
  uint64_t limit_;
};

}  // namespace hydrant::buffer
