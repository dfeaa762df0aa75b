#pragma once
// Internal to the buffer module (not part of its API): a segment file as the log
// holds it in memory, and the small I/O helpers that the log's parts share
// (stream_log.cc, recovery.cc, segment_reuse.cc). The bytes of a segment are
// defined in buffer/log_format.h.

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "buffer/log_format.h"
#include "common/env.h"
#include "common/status.h"

namespace hydrant::buffer {

// One sparse index entry per this many records: finding a seq costs at most
// kIndexInterval-1 frame-header hops, and the index costs 8 bytes per 16 records.
constexpr uint64_t kIndexInterval = 16;

// "what path: strerror(err)" as an IoError; for ENOSPC and EDQUOT as
// ResourceExhausted with kDiskFullErrorCode (buffer/disk_quota.h).
Status ErrnoStatus(std::string_view what, const std::string& path, int err);
// pwrite until everything is written; returns bytes written, sets *err on failure.
// One env.Pwrite per system call: a single one unless the write comes up short.
size_t PwriteAll(Env& env, int fd, const char* data, size_t n, uint64_t offset, int* err);
// pread until n bytes or end of file; returns bytes read or -1 (errno set).
ssize_t PreadAll(Env& env, int fd, char* data, size_t n, uint64_t offset);
std::string JoinPath(const std::string& dir, std::string_view name);

// Sequential/positioned reader over one file with a growable buffer, used by both
// recovery and Read(). `limit` is the end of the readable region.
class ChunkReader {
 public:
  ChunkReader(Env& env, int fd, uint64_t limit, size_t chunk, std::string* buf)
      : env_(env), fd_(fd), limit_(limit), chunk_(chunk), buf_(buf) {}

  // Makes [pos, pos+n) available and returns a pointer to it, or null with *st set.
  // The caller guarantees pos + n <= limit.
  const char* Get(uint64_t pos, size_t n, const std::string& path, Status* st) {
    if (pos >= buf_off_ && pos + n <= buf_off_ + buf_len_) return buf_->data() + (pos - buf_off_);
    size_t want = std::max(n, chunk_);
    want = static_cast<size_t>(std::min<uint64_t>(want, limit_ - pos));
    if (buf_->size() < want) buf_->resize(want);
    ssize_t r = PreadAll(env_, fd_, buf_->data(), want, pos);
    if (r < 0) {
      *st = ErrnoStatus("read", path, errno);
      return nullptr;
    }
    buf_off_ = pos;
    buf_len_ = static_cast<size_t>(r);
    if (buf_len_ < n) {
      *st = Status::Corruption(path + ": file ends at " + std::to_string(pos + buf_len_) +
                               ", expected at least " + std::to_string(pos + n));
      return nullptr;
    }
    return buf_->data();
  }

 private:
  Env& env_;
  int fd_;
  uint64_t limit_;
  size_t chunk_;
  std::string* buf_;
  uint64_t buf_off_ = 0;
  size_t buf_len_ = 0;
};

// One segment file. Identity is immutable; the rest is guarded by
// StreamLog::Impl::mu. Held by shared_ptr so Sync/Read can keep using the fd
// (without the lock) while MarkDelivered or Destroy drops the segment.
// The fd is open only while the segment is in use (StreamLog::Impl::PinLocked):
// a sealed segment's is closed when its last user unpins it, the active one's
// when the log is idle (ReleaseIdleFiles), so an idle log holds no fds.
struct Segment {
  uint64_t id = 0;  // unique per process, for the read cursor
  uint64_t base = 0;
  std::string path;
  int fd = -1;   // -1 = closed; opened and closed under mu, never while pinned
  int pins = 0;  // users of fd outside mu (Read, Sync)
  uint32_t version = log_format::kSegmentVersion;  // of the header
  uint32_t crc_seed = 0;  // log_format::FrameSeed(version, base)

  uint64_t size = 0;            // bytes: header + whole frames
  uint64_t count = 0;           // records
  uint64_t synced_size = 0;     // size covered by a completed fdatasync
  std::vector<uint64_t> index;  // index[k] = offset of record k*kIndexInterval
  bool indexed = false;         // Open took it from its index file (sealed and synced)

  uint64_t end() const { return base + count; }
  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace hydrant::buffer
