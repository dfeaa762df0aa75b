#pragma once
// StreamLog: one delivery stream's durable buffer. An append-only sequence of
// segment files of CRC32C-framed records (format: buffer/log_format.h and
// docs/wal-format.md). Records get consecutive sequence numbers; a checkpoint
// file remembers the first record not yet delivered. Records leave the log only
// after their object has been written (MarkDelivered), and whole segments are
// deleted once every record in them is delivered.
//
// Durability: Append() hands bytes to the OS; they are durable once Sync()
// returns OK (fdatasync). GroupCommitter batches Sync() calls across requests.
// Recovery (Open): sealed segments with a valid index file are taken from it
// without reading their frames; every other segment is scanned and checked. A torn
// or corrupt tail is reported in RecoveryReport and cut off (truncate), never a
// crash. Damage that Read finds later in a sealed segment is cut the same way.
//
// Thread-safety: all methods may be called concurrently from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "buffer/disk_quota.h"
#include "buffer/group_commit.h"  // GroupCommitter, declared here before
#include "buffer/record_log.h"
#include "common/status.h"

namespace hydrant {
class Env;
class LatencyHistogram;
}

namespace hydrant::buffer {

struct RecoveryReport {
  uint64_t records_recovered = 0;  // undelivered records found
  uint64_t bytes_truncated = 0;    // bytes cut off torn/corrupt tails
  // Undelivered seqs known to be gone: the ranges between a segment cut by damage
  // (or dropped for a bad header) and the next segment. Records cut from the tail of
  // the last segment cannot be counted (they are normally unacknowledged writes
  // torn by the crash); they show up in bytes_truncated and problems.
  uint64_t records_lost = 0;
  std::vector<std::string> problems;  // one human-readable line per damage found
  // After a crash (no END file): the last segment's cut tail, when nothing valid
  // followed it. The normal result of a crash (writes torn before their
  // acknowledgement), so not a problem; "" when none. After a clean close the
  // same cut is damage and goes to problems.
  std::string torn_tail;
};

struct LogOptions {
  uint64_t segment_target_bytes = 64ull << 20;  // rotate to a new segment past this
  DiskQuota* quota = nullptr;                   // optional, not owned; must outlive the log
  // Delivered segment files kept to be written over by later segments instead of
  // being deleted (docs/wal-format.md, "Reused segment files"); 0 deletes them.
  // Each is charged to `quota` (if any) while kept, and kept only if it fits.
  size_t reuse_segments = 4;
  // The file system (common/env.h); null is Env::Default(). Not owned; must
  // outlive the log. Tests pass a FaultEnv to make chosen calls fail.
  Env* env = nullptr;
  // flock the folder's LOCK file while open (a second Open fails). Costs an fd per
  // log; the server locks its data directory once instead and sets this false.
  bool lock_dir = true;
};

// The local implementation of RecordLog (buffer/record_log.h).
class StreamLog final : public RecordLog {
 public:
  // Opens or creates the log in `dir`, recovering what is there. With
  // opts.lock_dir the directory is flock'ed: a second Open of the same directory
  // fails (Unavailable) while the first StreamLog object exists. The log's bytes are charged to opts.quota while
  // it is open and released by the destructor. `report` may be null.
  static Result<std::unique_ptr<StreamLog>> Open(const std::string& dir, const LogOptions& opts,
                                                 RecoveryReport* report);
  ~StreamLog() override;

  // Appends records, all stamped with arrival_ms and flags (kRecordEncrypted is
  // the frame flag log_format::kFrameEncrypted). Returns the sequence number of
  // the first; the rest follow consecutively. ResourceExhausted when the quota is
  // reached (nothing appended). Not durable until Sync().
  using RecordLog::Append;
  Result<uint64_t> Append(int64_t arrival_ms, std::span<const std::string_view> payloads,
                          uint32_t flags) override;

  // Makes everything appended so far durable (fdatasync). Does not block Append
  // while the disk works. A failed fdatasync makes the log fail every later Append
  // and Sync (the kernel may have dropped the dirty pages; see docs/wal-format.md).
  Status Sync() override;

  // Calls fn for records with seq >= from in order, until fn returns false, the
  // records run out, or max_bytes of payload have been passed (at least one record
  // is always passed if there is one). Precisely: a record is passed when it is the
  // first one or when the payload bytes passed so far plus its own stay <= max_bytes;
  // the first record that does not fit ends the call. Seqs lost to damage are skipped.
  // Every frame read is checked against its CRC. Damage found the first time at a
  // place returns Unavailable after dropping the cached pages (the next Read gets
  // the bytes from the disk); found again, in a sealed segment it is cut off there
  // (logged; reading goes on with the next segment), in the active segment it
  // returns Corruption. fn runs
  // without any lock held and may call other methods of the log.
  Status Read(uint64_t from, uint64_t max_bytes,
              const std::function<bool(const LogRecord&)>& fn) const override;

  // All records with seq < up_to are delivered: persists the checkpoint and deletes
  // segments that hold only delivered records. up_to <= first_undelivered() is a
  // no-op; up_to > next_seq() is InvalidArgument.
  Status MarkDelivered(uint64_t up_to) override;

  uint64_t first_undelivered() const override;  // checkpoint
  uint64_t next_seq() const override;           // seq the next appended record will get
  uint64_t disk_bytes() const override;         // bytes of segment files on disk
  uint64_t sync_count() const;         // fdatasync calls made on segments (for tests/metrics)
  // Duration of each Sync that flushed something (segments, and the folder when a
  // segment was started): what an acknowledgement waits for, once or twice.
  const LatencyHistogram& sync_latency() const override;

  // Closes the fds the log keeps between calls (the active segment's, the
  // folder's); the next Append, Sync or Read opens what it needs. Sealed segments'
  // files are open only while a Read or Sync uses them.
  void ReleaseIdleFiles() override;
  // Files the log holds open now (tests).
  size_t open_files() const;

  // Deletes every file of this log (stream deletion). The log is unusable afterwards.
  Status Destroy() override;

 private:
  StreamLog() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydrant::buffer
