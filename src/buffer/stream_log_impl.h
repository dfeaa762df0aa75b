#pragma once
// Internal to the buffer module: the state behind a StreamLog (buffer/stream_log.h)
// and the helpers its parts share. Its methods live with the job they do:
//   stream_log.cc     Append, Sync, Read, MarkDelivered, Destroy; segment start,
//                     checkpoint;
//   recovery.cc       Open (scan, index files, damage at start-up), index files
//                     written after a Sync, damage that Read finds later;
//   segment_reuse.cc  delivered segment files kept and written over.
// Locking: `mu` guards the fields; checkpoint_mu serializes MarkDelivered and
// Destroy. Methods named ...Locked expect `mu` held; the others take it.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "buffer/segment.h"
#include "buffer/stream_log.h"
#include "common/env.h"
#include "common/latency_histogram.h"
#include "common/status.h"

namespace hydrant::buffer {

struct StreamLog::Impl {
  std::string dir;
  LogOptions opts;
  Env* env = nullptr;  // opts.env, or Env::Default()
  int dir_fd = -1;   // Open's; closed by ReleaseIdleFiles (later fsyncs open their own)
  int lock_fd = -1;  // held while open (LogOptions::lock_dir)

  mutable std::mutex mu;
  std::map<uint64_t, std::shared_ptr<Segment>> segments;  // by base seq
  uint64_t dir_changes = 0;  // segments started (names to make durable)
  uint64_t dir_synced = 0;   // dir_changes covered by a completed fsync of the directory
  std::shared_ptr<Segment> active;  // == last segment; null until the next Append creates one
  std::vector<std::shared_ptr<Segment>> unsynced_rotated;  // rotated, not yet fdatasync'ed
  std::vector<std::shared_ptr<Segment>> unindexed_sealed;  // rotated, index file not yet written
  uint64_t next_seq = 0;
  uint64_t first_undelivered = 0;
  uint64_t disk_bytes = 0;  // sum of segment sizes == what this log has charged to the quota
  Status failed;            // sticky: a write could not be rolled back or a sync failed
  bool destroyed = false;
  std::string append_buf;
  uint64_t next_segment_id = 1;
  // Delivered segment files kept for reuse (renamed to log_format::FreeFileName): at most
  // opts.reuse_segments. Appending to a reused file overwrites blocks the file
  // already owns, so its fdatasync needs no block allocation and no journal commit,
  // and deleting it never frees (and, on a `discard` mount, discards) 64 MiB.
  // Their sizes are charged to the quota; under quota pressure Append deletes them.
  struct FreeFile {
    std::string path;
    uint64_t bytes = 0;
  };
  std::vector<FreeFile> free_files;
  uint64_t free_bytes = 0;  // sum of free_files' bytes
  uint64_t next_free_number = 0;
  // Where the last Read() stopped: the delivery loop's next Read starts there.
  struct Cursor {
    uint64_t segment_id = 0;
    uint64_t seq = 0;
    uint64_t offset = 0;
  };
  mutable Cursor cursor;
  // Where Read found damage (segment id, offset), at most kMaxSuspects places (the
  // stages read the log with their own cursors): found there once more, it is cut;
  // found once, it is read again from the disk first.
  static constexpr size_t kMaxSuspects = 16;
  std::vector<std::pair<uint64_t, uint64_t>> suspects;

  std::mutex checkpoint_mu;  // serializes checkpoint file writes (MarkDelivered)
  std::atomic<uint64_t> sync_count{0};
  LatencyHistogram sync_latency;

  ~Impl() {
    if (dir_fd >= 0) ::close(dir_fd);
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }

  Status UsableLocked() const {
    if (destroyed) return Status::Internal("stream log " + dir + " was destroyed");
    return failed;
  }

  // ---- stream_log.cc

  // Opens seg's file if it is closed and counts a user who will use seg.fd
  // outside mu; Unpin (which takes mu) ends the use, closing the fd of a segment
  // that is no longer the active one. mu held for PinLocked.
  Status PinLocked(Segment& seg) const;
  void Unpin(const std::shared_ptr<Segment>& seg) const;
  // Opens seg's file if it is closed (mu held; the active segment for Append).
  Status OpenFileLocked(Segment& seg) const;
  // fsync of the log's folder through an fd of its own.
  Status FsyncDir() const;

  // Creates the segment for next_seq and makes it active. The caller has charged
  // kSegmentHeaderSize to the quota.
  Status StartSegmentLocked();
  // Writes CHECKPOINT atomically: temp file, fdatasync, rename, fsync dir.
  Status WriteCheckpoint(uint64_t up_to);

  // ---- recovery.cc (index files and damage found after Open)

  // Writes the index files of sealed segments whose frames are all durable. No
  // fdatasync: an index lost or torn by a crash fails its checksum and Open scans
  // the segment instead; an index is only ever written after its segment's frames
  // are durable, so a valid one never describes frames the disk does not hold.
  void WriteDueIndexes();
  // A clean close: writes END (the next seq) for the next Open (recovery.cc).
  void WriteEndFile();
  // Read found damage at `pos` (record `seq`) of a sealed segment: cut the segment
  // there, as Open's scan would have, so delivery goes on with the next segment
  // instead of failing on the same bytes forever. Returns false when the segment
  // cannot be cut (it is the active one, was dropped, or the truncation failed):
  // the caller then reports the damage as Corruption.
  bool CutDamagedSegment(const std::shared_ptr<Segment>& seg, uint64_t seq, uint64_t pos,
                         const std::string& reason);

  // ---- segment_reuse.cc (docs/wal-format.md, "Reused segment files")

  // Gives `seg` a file kept for reuse, renamed to seg->path, if there is one; its
  // old header and frames stay until overwritten (the new header's base seeds the
  // frame checksums, so they never pass for this segment's frames). The caller
  // writes the header, as for a new file; the next Sync fsyncs the directory.
  Status ReuseFreeFileLocked(Segment* seg);
  // Keeps a delivered segment's file for reuse when there is room; false when the
  // caller should delete it. Never while another thread (a Read, a Sync) still uses
  // the segment's fd: it would read the next life's bytes.
  bool KeepForReuse(std::shared_ptr<Segment>& seg);
  // Deletes the files kept for reuse and gives their bytes back to the quota.
  void DropFreeFilesLocked();
  // Open: takes over the files that the previous process kept for reuse
  // (free_numbers, sorted), or deletes them.
  void AdoptFreeFiles(const std::vector<uint64_t>& free_numbers, bool have_checkpoint);
};

}  // namespace hydrant::buffer
