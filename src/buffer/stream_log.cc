#include "buffer/stream_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include <spdlog/spdlog.h>

#include "buffer/log_format.h"
#include "common/latency_histogram.h"

namespace hydrant::buffer {

namespace fmt = log_format;

// ---------------------------------------------------------------------------
// DiskQuota

bool DiskQuota::TryReserve(uint64_t n) {
  uint64_t cur = used_.load();
  do {
    if (n > limit_ || cur > limit_ - n) return false;
  } while (!used_.compare_exchange_weak(cur, cur + n));
  return true;
}

void DiskQuota::Release(uint64_t n) { used_.fetch_sub(n); }

namespace {

// One sparse index entry per this many records: finding a seq costs at most
// kIndexInterval-1 frame-header hops, and the index costs 8 bytes per 16 records.
constexpr uint64_t kIndexInterval = 16;
// Read() fetches at least this much per pread (bounded by the caller's max_bytes).
constexpr size_t kMinReadChunk = 64 << 10;
constexpr size_t kMaxReadChunk = 4 << 20;
// Append keeps its serialization buffer between calls unless it grew beyond this.
constexpr size_t kMaxRetainedAppendBuffer = 16 << 20;

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string m(what);
  m += ' ';
  m += path;
  return Status::FromErrno(m, err);
}

// pwrite until everything is written; returns bytes written, sets *err on failure.
size_t PwriteAll(int fd, const char* data, size_t n, uint64_t offset, int* err) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::pwrite(fd, data + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return done;
    }
    if (w == 0) {
      *err = EIO;
      return done;
    }
    done += static_cast<size_t>(w);
  }
  return done;
}

// pread until n bytes or end of file; returns bytes read or -1 (errno set).
ssize_t PreadAll(int fd, char* data, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, data + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

Status FsyncFd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) return ErrnoStatus("fsync", path, errno);
  return Status::Ok();
}

std::string JoinPath(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (p.empty() || p.back() != '/') p += '/';
  p += name;
  return p;
}

// Sequential/positioned reader over one file with a growable buffer, used by both
// recovery and Read(). `limit` is the end of the readable region.
class ChunkReader {
 public:
  ChunkReader(int fd, uint64_t limit, size_t chunk, std::string* buf)
      : fd_(fd), limit_(limit), chunk_(chunk), buf_(buf) {}

  // Makes [pos, pos+n) available and returns a pointer to it, or null with *st set.
  // The caller guarantees pos + n <= limit.
  const char* Get(uint64_t pos, size_t n, const std::string& path, Status* st) {
    if (pos >= buf_off_ && pos + n <= buf_off_ + buf_len_) return buf_->data() + (pos - buf_off_);
    size_t want = std::max(n, chunk_);
    want = static_cast<size_t>(std::min<uint64_t>(want, limit_ - pos));
    if (buf_->size() < want) buf_->resize(want);
    ssize_t r = PreadAll(fd_, buf_->data(), want, pos);
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
  int fd_;
  uint64_t limit_;
  size_t chunk_;
  std::string* buf_;
  uint64_t buf_off_ = 0;
  size_t buf_len_ = 0;
};

}  // namespace

// One segment file. fd and identity are immutable; the rest is guarded by
// StreamLog::Impl::mu. Held by shared_ptr so Sync/Read can keep using the fd
// (without the lock) while MarkDelivered or Destroy drops the segment.
struct Segment {
  uint64_t id = 0;  // unique per process, for the read cursor
  uint64_t base = 0;
  std::string path;
  int fd = -1;
  uint32_t version = fmt::kSegmentVersion;  // of the header
  uint32_t crc_seed = 0;  // fmt::FrameSeed(version, base)

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

struct StreamLog::Impl {
  std::string dir;
  LogOptions opts;
  int dir_fd = -1;
  int lock_fd = -1;

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
  // Delivered segment files kept for reuse (renamed to fmt::FreeFileName): at most
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

  // Creates the segment for next_seq and makes it active. The caller has charged
  // kSegmentHeaderSize to the quota.
  Status StartSegmentLocked() {
    auto seg = std::make_shared<Segment>();
    seg->id = next_segment_id++;
    seg->base = next_seq;
    seg->path = JoinPath(dir, fmt::SegmentFileName(seg->base));
    seg->crc_seed = fmt::FrameSeed(fmt::kSegmentVersion, seg->base);
    HYDRANT_RETURN_IF_ERROR(ReuseFreeFileLocked(seg.get()));
    if (seg->fd < 0) seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (seg->fd < 0) return ErrnoStatus("create", seg->path, errno);
    char header[fmt::kSegmentHeaderSize];
    fmt::EncodeSegmentHeader(seg->base, header);
    int err = 0;
    if (PwriteAll(seg->fd, header, sizeof(header), 0, &err) != sizeof(header)) {
      Status st = ErrnoStatus("write", seg->path, err);
      ::unlink(seg->path.c_str());
      return st;
    }
    // The new name must survive a crash before any record in it is acknowledged:
    // the next Sync fsyncs the directory (not here, under the lock: that is a
    // journal commit, tens of ms while objects are being written, and every
    // Append would wait for it).
    ++dir_changes;
    seg->size = sizeof(header);
    if (active && active->synced_size < active->size) unsynced_rotated.push_back(active);
    if (active) unindexed_sealed.push_back(active);
    segments[seg->base] = seg;
    active = std::move(seg);
    disk_bytes += sizeof(header);
    return Status::Ok();
  }

  // Gives `seg` a file kept for reuse, renamed to seg->path, if there is one; its
  // old header and frames stay until overwritten (the new header's base seeds the
  // frame checksums, so they never pass for this segment's frames). The caller
  // writes the header, as for a new file; the next Sync fsyncs the directory.
  Status ReuseFreeFileLocked(Segment* seg) {
    while (!free_files.empty()) {
      FreeFile kept = std::move(free_files.back());
      free_files.pop_back();
      free_bytes -= kept.bytes;
      // From here on the file is charged as a segment, by Append, as it fills.
      if (opts.quota) opts.quota->Release(kept.bytes);
      const std::string& from = kept.path;
      // Never replace an existing file, as O_EXCL does for a new one.
      if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, seg->path.c_str(), RENAME_NOREPLACE) != 0) {
        int err = errno;
        spdlog::warn("log={} event=segment_reuse_failed path={} error=\"{}\"", dir, from,
                     std::strerror(err));
        if (err == EEXIST) {
          ::unlink(from.c_str());
          return Status::Ok();  // the create below reports the name that exists
        }
        ::unlink(from.c_str());
        continue;
      }
      seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CLOEXEC);
      if (seg->fd < 0) {
        Status st = ErrnoStatus("open", seg->path, errno);
        ::unlink(seg->path.c_str());
        return st;
      }
      return Status::Ok();
    }
    return Status::Ok();
  }

  // Keeps a delivered segment's file for reuse when there is room; false when the
  // caller should delete it. Never while another thread (a Read, a Sync) still uses
  // the segment's fd: it would read the next life's bytes.
  bool KeepForReuse(std::shared_ptr<Segment>& seg) {
    if (seg.use_count() != 1) return false;
    struct stat sb;
    if (::fstat(seg->fd, &sb) != 0) return false;
    const uint64_t bytes = static_cast<uint64_t>(sb.st_size);
    std::string to;
    {
      std::lock_guard l(mu);
      if (destroyed || free_files.size() >= opts.reuse_segments) return false;
      // Kept only while the budget has room for it.
      if (opts.quota && !opts.quota->TryReserve(bytes)) return false;
      to = JoinPath(dir, fmt::FreeFileName(next_free_number++));
    }
    // No fsync of the directory: after a crash the file is either still the
    // delivered segment (Open deletes it) or a free file (Open keeps it).
    if (::rename(seg->path.c_str(), to.c_str()) != 0) {
      if (opts.quota) opts.quota->Release(bytes);
      return false;
    }
    std::lock_guard l(mu);
    free_files.push_back(FreeFile{std::move(to), bytes});
    free_bytes += bytes;
    return true;
  }

  // Deletes the files kept for reuse and gives their bytes back to the quota.
  void DropFreeFilesLocked() {
    for (const FreeFile& f : free_files) ::unlink(f.path.c_str());
    if (opts.quota && free_bytes > 0) opts.quota->Release(free_bytes);
    free_files.clear();
    free_bytes = 0;
  }

  // Writes CHECKPOINT atomically: temp file, fdatasync, rename, fsync dir.
  Status WriteCheckpoint(uint64_t up_to) {
    char data[fmt::kCheckpointSize];
    fmt::EncodeCheckpoint(up_to, data);
    std::string tmp = JoinPath(dir, fmt::kCheckpointTempName);
    std::string final_path = JoinPath(dir, fmt::kCheckpointName);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("create", tmp, errno);
    int err = 0;
    bool ok = PwriteAll(fd, data, sizeof(data), 0, &err) == sizeof(data);
    if (ok && ::fdatasync(fd) != 0) {
      ok = false;
      err = errno;
    }
    ::close(fd);
    if (!ok) return ErrnoStatus("write", tmp, err);
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
      return ErrnoStatus("rename to", final_path, errno);
    }
    Status st = FsyncFd(dir_fd, dir);
    if (!st.ok()) {
      // The error is reported once per open directory: Sync's next fsync of it
      // could succeed although a new segment's name was lost. Fail the log.
      std::lock_guard l(mu);
      if (failed.ok()) failed = Status::IoError("stream log " + dir + " failed: " + st.message());
    }
    return st;
  }

  // Writes the index files of sealed segments whose frames are all durable. No
  // fdatasync: an index lost or torn by a crash fails its checksum and Open scans
  // the segment instead; an index is only ever written after its segment's frames
  // are durable, so a valid one never describes frames the disk does not hold.
  void WriteDueIndexes() {
    std::vector<std::pair<std::string, fmt::SegmentIndex>> due;
    {
      std::lock_guard l(mu);
      std::erase_if(unindexed_sealed, [&](const std::shared_ptr<Segment>& seg) {
        auto it = segments.find(seg->base);
        if (it == segments.end() || it->second != seg) return true;  // deleted meanwhile
        if (seg->synced_size < seg->size) return false;
        due.emplace_back(JoinPath(dir, fmt::IndexFileName(seg->base)),
                         fmt::SegmentIndex{seg->base, seg->count, seg->size,
                                           static_cast<uint32_t>(kIndexInterval), seg->index});
        return true;
      });
    }
    for (const auto& [path, index] : due) {
      std::string bytes = fmt::EncodeIndex(index);
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      int err = fd < 0 ? errno : 0;
      if (fd >= 0 && PwriteAll(fd, bytes.data(), bytes.size(), 0, &err) != bytes.size()) {
        ::unlink(path.c_str());
      }
      if (fd >= 0) ::close(fd);
      // Only start-up time depends on it: the next Open scans this segment instead.
      if (err != 0) {
        spdlog::warn("log={} event=segment_index_not_written path={} error=\"{}\"", dir, path,
                     std::strerror(err));
      }
    }
  }

  // Read found damage at `pos` (record `seq`) of a sealed segment: cut the segment
  // there, as Open's scan would have, so delivery goes on with the next segment
  // instead of failing on the same bytes forever. Returns false when the segment
  // cannot be cut (it is the active one, was dropped, or the truncation failed):
  // the caller then reports the damage as Corruption.
  bool CutDamagedSegment(const std::shared_ptr<Segment>& seg, uint64_t seq, uint64_t pos,
                         const std::string& reason) {
    std::lock_guard l(mu);
    auto it = segments.find(seg->base);
    if (destroyed || it == segments.end() || it->second != seg || seg == active) return false;
    // Frames not yet durable may belong to puts about to be acknowledged: never cut those.
    if (seg->synced_size < seg->size) return false;
    const uint64_t keep = seq - seg->base;
    if (keep >= seg->count) return true;  // another Read cut it already
    // The index goes first: a crash after it leaves a segment that Open scans.
    std::string index_path = JoinPath(dir, fmt::IndexFileName(seg->base));
    if (::unlink(index_path.c_str()) != 0 && errno != ENOENT) return false;
    if (::ftruncate(seg->fd, static_cast<off_t>(pos)) != 0 || ::fdatasync(seg->fd) != 0) {
      spdlog::error("log={} event=log_damage_not_cut path={} error=\"{}\"", dir, seg->path,
                    std::strerror(errno));
      return false;
    }
    const uint64_t lost = seg->count - keep;
    const uint64_t cut = seg->size - pos;
    seg->count = keep;
    seg->size = pos;
    seg->synced_size = std::min(seg->synced_size, pos);
    seg->index.resize((keep + kIndexInterval - 1) / kIndexInterval);
    disk_bytes -= cut;
    if (opts.quota) opts.quota->Release(cut);
    if (cursor.segment_id == seg->id) cursor = Cursor{};
    spdlog::error(
        "log={} event=log_damage_cut path={} offset={} seq={} reason=\"{}\" records_lost={} "
        "bytes_cut={}",
        dir, seg->path, pos, seq, reason, lost, cut);
    return true;
  }
};

// ---------------------------------------------------------------------------
// Recovery

namespace {

struct ScannedSegment {
  std::shared_ptr<Segment> seg;  // null when the file was dropped (bad header)
};

// Scans one segment file, verifying every frame, and truncates it at the first
// damage. `next_base` is the base of the following segment, if any: records at
// or beyond it would overlap and count as damage.
Result<ScannedSegment> ScanSegment(const std::string& path, uint64_t base,
                                   std::optional<uint64_t> next_base, RecoveryReport* report) {
  ScannedSegment out;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  auto seg = std::make_shared<Segment>();
  seg->fd = fd;  // owned by seg from here on
  seg->base = base;
  seg->path = path;
  struct stat sb;
  if (::fstat(fd, &sb) != 0) return ErrnoStatus("stat", path, errno);
  const uint64_t file_size = static_cast<uint64_t>(sb.st_size);

  std::string header_problem;
  char header[fmt::kSegmentHeaderSize];
  if (file_size < fmt::kSegmentHeaderSize) {
    header_problem = "torn segment header (" + std::to_string(file_size) + " of " +
                     std::to_string(fmt::kSegmentHeaderSize) + " bytes)";
  } else {
    ssize_t r = PreadAll(fd, header, sizeof(header), 0);
    if (r < 0) return ErrnoStatus("read", path, errno);
    uint64_t header_base = 0;
    uint32_t version = 0;
    header_problem = fmt::DecodeSegmentHeader(header, &header_base, &version);
    seg->version = version;
    seg->crc_seed = fmt::FrameSeed(version, base);
    if (header_problem.empty() && header_base != base) {
      header_problem = "segment header names base seq " + std::to_string(header_base) +
                       ", file name says " + std::to_string(base);
    }
  }
  if (!header_problem.empty()) {
    // Without a trustworthy header nothing in the file can be trusted: drop it.
    report->bytes_truncated += file_size;
    report->problems.push_back(path + ": offset 0: " + header_problem + "; removed the file (" +
                               std::to_string(file_size) + " bytes)");
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return out;
  }

  std::string buf;
  ChunkReader reader(fd, file_size, 1 << 20, &buf);
  // Checks the frame at pos: its length, or the reason it is not a whole valid frame.
  auto frame_at = [&](uint64_t at, uint32_t* len, std::string* why) -> Status {
    if (file_size - at < fmt::kFrameHeaderSize) {
      *why = "torn frame header (" + std::to_string(file_size - at) + " of " +
             std::to_string(fmt::kFrameHeaderSize) + " bytes)";
      return Status::Ok();
    }
    Status st;
    const char* h = reader.Get(at, fmt::kFrameHeaderSize, path, &st);
    if (!h) return st;
    *len = fmt::FramePayloadLength(h);
    if (*len > fmt::kMaxPayloadBytes) {
      *why = "impossible payload length " + std::to_string(*len);
      return Status::Ok();
    }
    if (file_size - at - fmt::kFrameHeaderSize < *len) {
      *why = "torn payload (" + std::to_string(file_size - at - fmt::kFrameHeaderSize) + " of " +
             std::to_string(*len) + " bytes)";
      return Status::Ok();
    }
    const char* f = reader.Get(at, fmt::kFrameHeaderSize + *len, path, &st);
    if (!f) return st;
    if (!fmt::FrameChecksumOk(f, f + fmt::kFrameHeaderSize, seg->crc_seed)) {
      *why = "checksum mismatch";
    }
    return Status::Ok();
  };
  uint64_t pos = fmt::kSegmentHeaderSize;
  std::string reason;
  bool unused_rest = false;  // what follows the last frame is not damage
  while (pos < file_size) {
    uint32_t len = 0;
    std::string why;
    HYDRANT_RETURN_IF_ERROR(frame_at(pos, &len, &why));
    if (next_base && seg->end() >= *next_base) {
      // A sealed segment ends where the next one begins. In a reused file (version
      // 2) the bytes after its last frame are the file's earlier life, which never
      // validate: unused space, not damage. A valid frame there is an overlap.
      if (!why.empty() && seg->version >= 2) {
        unused_rest = true;
      } else {
        reason = "records overlap the next segment (base seq " + std::to_string(*next_base) + ")";
      }
      break;
    }
    if (!why.empty()) {
      reason = std::move(why);
      break;
    }
    if (seg->count % kIndexInterval == 0) seg->index.push_back(pos);
    ++seg->count;
    pos += fmt::kFrameHeaderSize + len;
  }
  if (pos < file_size && !unused_rest) {
    if (!next_base && seg->version >= 2) {
      reason += " (a write torn by a crash, or the unused rest of a reused segment file)";
    }
    uint64_t cut = file_size - pos;
    report->bytes_truncated += cut;
    report->problems.push_back(path + ": offset " + std::to_string(pos) + " (seq " +
                               std::to_string(seg->end()) + "): " + reason + "; truncated " +
                               std::to_string(cut) + " bytes");
    if (::ftruncate(fd, static_cast<off_t>(pos)) != 0) return ErrnoStatus("truncate", path, errno);
    if (::fdatasync(fd) != 0) return ErrnoStatus("fdatasync", path, errno);
  }
  seg->size = pos;
  out.seg = std::move(seg);
  return out;
}

// A sealed segment described by its index file: only the segment header and the
// index are read, never the frames (Read checks each frame's CRC when it passes
// it). Null when the index is missing, damaged or disagrees with the segment file;
// the caller then removes it and scans the segment.
std::shared_ptr<Segment> LoadIndexedSegment(const std::string& path, const std::string& index_path,
                                            uint64_t base, std::optional<uint64_t> next_base) {
  int ifd = ::open(index_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ifd < 0) return nullptr;
  std::string bytes;
  struct stat isb;
  if (::fstat(ifd, &isb) == 0 && isb.st_size > 0 && isb.st_size < (256 << 20)) {
    bytes.resize(static_cast<size_t>(isb.st_size));
    if (PreadAll(ifd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
      bytes.clear();
    }
  }
  ::close(ifd);
  fmt::SegmentIndex index;
  if (bytes.empty() || !fmt::DecodeIndex(bytes, &index).empty()) return nullptr;
  if (index.base != base || index.interval != kIndexInterval) return nullptr;
  if (next_base && base + index.count > *next_base) return nullptr;

  auto seg = std::make_shared<Segment>();
  seg->fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (seg->fd < 0) return nullptr;
  struct stat sb;
  char header[fmt::kSegmentHeaderSize];
  uint64_t header_base = 0;
  uint32_t version = 0;
  if (::fstat(seg->fd, &sb) != 0 ||
      PreadAll(seg->fd, header, sizeof(header), 0) != static_cast<ssize_t>(sizeof(header)) ||
      !fmt::DecodeSegmentHeader(header, &header_base, &version).empty() || header_base != base) {
    return nullptr;
  }
  // A reused file (version 2) may be longer than its frames; never shorter.
  const uint64_t file_size = static_cast<uint64_t>(sb.st_size);
  if (file_size < index.size || (version < 2 && file_size != index.size)) return nullptr;
  seg->base = base;
  seg->path = path;
  seg->version = version;
  seg->crc_seed = fmt::FrameSeed(version, base);
  seg->count = index.count;
  seg->size = index.size;
  seg->synced_size = index.size;  // the index was written after its frames were durable
  seg->index = std::move(index.offsets);
  seg->indexed = true;
  return seg;
}

}  // namespace

Result<std::unique_ptr<StreamLog>> StreamLog::Open(const std::string& dir, const LogOptions& opts,
                                                   RecoveryReport* report) {
  RecoveryReport local_report;
  if (!report) report = &local_report;
  *report = RecoveryReport{};

  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->opts = opts;

  std::error_code ec;
  bool created = std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("create directory " + dir + ": " + ec.message());
  if (created) {
    // Make the new directory's name durable too.
    std::filesystem::path parent = std::filesystem::absolute(dir, ec).parent_path();
    if (!ec) {
      int pfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (pfd >= 0) {
        ::fsync(pfd);
        ::close(pfd);
      }
    }
  }
  impl->dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (impl->dir_fd < 0) return ErrnoStatus("open directory", dir, errno);

  std::string lock_path = JoinPath(dir, fmt::kLockName);
  impl->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (impl->lock_fd < 0) return ErrnoStatus("open", lock_path, errno);
  if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Unavailable("stream log " + dir + " is already open");
    return ErrnoStatus("lock", lock_path, errno);
  }
  // A leftover temp file means a crash mid-checkpoint: the old CHECKPOINT stands.
  ::unlink(JoinPath(dir, fmt::kCheckpointTempName).c_str());

  // List the segments and their index files.
  std::vector<uint64_t> bases;
  std::vector<uint64_t> indexes;
  std::vector<uint64_t> free_numbers;
  {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return ErrnoStatus("list", dir, errno);
    while (struct dirent* e = ::readdir(d)) {
      if (auto base = fmt::ParseSegmentFileName(e->d_name)) bases.push_back(*base);
      if (auto base = fmt::ParseIndexFileName(e->d_name)) indexes.push_back(*base);
      if (auto n = fmt::ParseFreeFileName(e->d_name)) free_numbers.push_back(*n);
    }
    ::closedir(d);
  }
  std::sort(bases.begin(), bases.end());
  std::sort(indexes.begin(), indexes.end());
  std::sort(free_numbers.begin(), free_numbers.end());

  // Sealed segments with a valid index are taken as they are (start-up time must
  // not grow with the backlog); the others are scanned frame by frame.
  std::vector<std::shared_ptr<Segment>> segs;
  for (size_t i = 0; i < bases.size(); ++i) {
    std::optional<uint64_t> next_base;
    if (i + 1 < bases.size()) next_base = bases[i + 1];
    const std::string path = JoinPath(dir, fmt::SegmentFileName(bases[i]));
    const std::string index_path = JoinPath(dir, fmt::IndexFileName(bases[i]));
    std::shared_ptr<Segment> seg;
    if (std::binary_search(indexes.begin(), indexes.end(), bases[i])) {
      seg = LoadIndexedSegment(path, index_path, bases[i], next_base);
      if (!seg && ::unlink(index_path.c_str()) != 0 && errno != ENOENT) {
        return ErrnoStatus("unlink", index_path, errno);
      }
    }
    if (!seg) {
      auto scanned = ScanSegment(path, bases[i], next_base, report);
      if (!scanned.ok()) return scanned.status();
      seg = std::move(scanned->seg);
    }
    if (seg) {
      seg->id = impl->next_segment_id++;
      segs.push_back(std::move(seg));
    }
  }
  // Index files whose segment is gone (a crash between the two deletions).
  for (uint64_t base : indexes) {
    if (!std::binary_search(bases.begin(), bases.end(), base)) {
      ::unlink(JoinPath(dir, fmt::IndexFileName(base)).c_str());
    }
  }

  // Checkpoint.
  std::string cp_path = JoinPath(dir, fmt::kCheckpointName);
  uint64_t checkpoint = 0;
  std::string cp_problem;
  bool have_checkpoint = false;
  {
    int fd = ::open(cp_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) return ErrnoStatus("open", cp_path, errno);
    if (fd >= 0) {
      char data[fmt::kCheckpointSize + 1];
      ssize_t r = PreadAll(fd, data, sizeof(data), 0);
      int err = errno;
      ::close(fd);
      if (r < 0) return ErrnoStatus("read", cp_path, err);
      cp_problem =
          fmt::DecodeCheckpoint(std::string_view(data, static_cast<size_t>(r)), &checkpoint);
      have_checkpoint = cp_problem.empty();
    }
  }
  uint64_t oldest = segs.empty() ? 0 : segs.front()->base;
  if (!have_checkpoint) {
    // Redeliver everything still on disk: at-least-once, duplicates possible.
    checkpoint = oldest;
    if (!cp_problem.empty()) {
      report->problems.push_back(cp_path + ": " + cp_problem +
                                 "; redelivering from the oldest segment (seq " +
                                 std::to_string(oldest) + "), duplicates possible");
    } else if (oldest != 0) {
      report->problems.push_back(cp_path + ": missing although the oldest segment starts at seq " +
                                 std::to_string(oldest) +
                                 "; redelivering from there, duplicates possible");
    }
  }

  // Segments wholly delivered (a crash between checkpoint and deletion) go now.
  while (!segs.empty() && segs.front()->end() <= checkpoint) {
    if (::unlink(segs.front()->path.c_str()) != 0) {
      return ErrnoStatus("unlink", segs.front()->path, errno);
    }
    ::unlink(JoinPath(dir, fmt::IndexFileName(segs.front()->base)).c_str());
    segs.erase(segs.begin());
  }

  // Undelivered seqs that no segment holds were lost to damage.
  uint64_t expected = checkpoint;
  for (const auto& s : segs) {
    if (s->base > expected) {
      uint64_t lost = s->base - expected;
      report->records_lost += lost;
      report->problems.push_back("seqs " + std::to_string(expected) + ".." +
                                 std::to_string(s->base - 1) + " (" + std::to_string(lost) +
                                 " undelivered records) are lost: no segment holds them; " +
                                 s->path + " continues at seq " + std::to_string(s->base));
    }
    expected = std::max(expected, s->end());
    uint64_t undelivered_from = std::max(checkpoint, s->base);
    if (s->end() > undelivered_from) report->records_recovered += s->end() - undelivered_from;
  }

  impl->first_undelivered = checkpoint;
  // The names found here may not be durable yet (the previous process died between
  // starting a segment and the Sync that fsyncs the directory), and Open's own
  // deletions and truncations are not either: the first Sync fsyncs the directory.
  impl->dir_changes = 1;
  impl->next_seq = std::max(checkpoint, segs.empty() ? 0 : segs.back()->end());
  for (size_t i = 0; i < segs.size(); ++i) {
    auto& s = segs[i];
    impl->disk_bytes += s->size;
    impl->segments[s->base] = s;
    if (s->indexed) continue;  // sealed and durable
    // Recovered bytes may still be only in the page cache (the previous process
    // died before syncing them): the first Sync covers them too.
    s->synced_size = 0;
    if (i + 1 < segs.size()) {
      impl->unsynced_rotated.push_back(s);
      impl->unindexed_sealed.push_back(s);
    }
  }
  // Appends continue in the last segment unless it is sealed (then the next Append
  // starts a new one: an indexed segment never changes).
  if (!segs.empty() && !segs.back()->indexed) impl->active = segs.back();
  if (opts.quota) opts.quota->ForceReserve(impl->disk_bytes);
  // Files kept for reuse by the previous process stay kept, up to the limit and
  // while the quota has room for them. Not when the checkpoint was lost: seqs may
  // then start again at a base that a kept file's earlier life had, with the same
  // checksum seed.
  for (uint64_t n : free_numbers) {
    std::string path = JoinPath(dir, fmt::FreeFileName(n));
    struct stat sb;
    bool keep = have_checkpoint && impl->free_files.size() < opts.reuse_segments &&
                ::stat(path.c_str(), &sb) == 0;
    const uint64_t bytes = keep ? static_cast<uint64_t>(sb.st_size) : 0;
    if (keep && opts.quota && !opts.quota->TryReserve(bytes)) keep = false;
    if (keep) {
      impl->free_bytes += bytes;
      impl->free_files.push_back(Impl::FreeFile{std::move(path), bytes});
    } else {
      ::unlink(path.c_str());
    }
    impl->next_free_number = n + 1;
  }

  std::unique_ptr<StreamLog> log(new StreamLog());
  log->impl_ = std::move(impl);
  return log;
}

StreamLog::~StreamLog() {
  if (!impl_) return;
  std::lock_guard l(impl_->mu);
  // In a reused file the earlier life's bytes follow the last frame: cut them on a
  // clean close, so the next Open's scan does not report them as a torn write.
  if (Segment* a = impl_->active.get(); a && !impl_->destroyed && impl_->failed.ok()) {
    struct stat sb;
    if (::fstat(a->fd, &sb) == 0 && static_cast<uint64_t>(sb.st_size) > a->size) {
      if (::ftruncate(a->fd, static_cast<off_t>(a->size)) != 0) {
        spdlog::warn("log={} event=segment_tail_not_cut path={} error=\"{}\"", impl_->dir, a->path,
                     std::strerror(errno));
      }
    }
  }
  const uint64_t charged = impl_->disk_bytes + impl_->free_bytes;
  if (impl_->opts.quota && charged > 0) impl_->opts.quota->Release(charged);
}

// ---------------------------------------------------------------------------
// Append / Sync

Result<uint64_t> StreamLog::Append(int64_t arrival_ms, std::span<const std::string_view> payloads) {
  Impl& d = *impl_;
  uint64_t frame_bytes = 0;
  for (std::string_view p : payloads) {
    if (p.size() > fmt::kMaxPayloadBytes) {
      return Status::InvalidArgument("record of " + std::to_string(p.size()) +
                                     " bytes exceeds the log's limit of " +
                                     std::to_string(fmt::kMaxPayloadBytes));
    }
    frame_bytes += fmt::kFrameHeaderSize + p.size();
  }

  std::lock_guard l(d.mu);
  HYDRANT_RETURN_IF_ERROR(d.UsableLocked());
  if (payloads.empty()) return d.next_seq;

  const bool rotate = !d.active || (d.active->count > 0 &&
                                    d.active->size + frame_bytes > d.opts.segment_target_bytes);
  const uint64_t charge = frame_bytes + (rotate ? fmt::kSegmentHeaderSize : 0);
  bool reserved = !d.opts.quota || d.opts.quota->TryReserve(charge);
  if (!reserved && !d.free_files.empty()) {
    d.DropFreeFilesLocked();  // records come before files kept for speed
    reserved = d.opts.quota->TryReserve(charge);
  }
  if (!reserved) {
    return Status::ResourceExhausted("disk quota reached: " + std::to_string(d.opts.quota->used()) +
                                     " of " + std::to_string(d.opts.quota->limit()) +
                                     " bytes used, " + std::to_string(charge) + " more needed");
  }
  auto release = [&](uint64_t n) {
    if (d.opts.quota) d.opts.quota->Release(n);
  };
  if (rotate) {
    Status st = d.StartSegmentLocked();
    if (!st.ok()) {
      release(charge);
      return st;
    }
  }

  // Serialize every frame into one buffer: one large sequential write.
  std::string& buf = d.append_buf;
  buf.clear();
  buf.reserve(frame_bytes);
  char header[fmt::kFrameHeaderSize];
  const uint32_t seed = d.active->crc_seed;
  for (std::string_view p : payloads) {
    fmt::EncodeFrameHeader(arrival_ms, p, seed, header);
    buf.append(header, sizeof(header));
    buf.append(p.data(), p.size());
  }

  Segment& seg = *d.active;
  const uint64_t start = seg.size;
  int err = 0;
  size_t written = PwriteAll(seg.fd, buf.data(), buf.size(), start, &err);
  if (written != buf.size()) {
    Status st = ErrnoStatus("write", seg.path, err);
    release(frame_bytes);
    // Never leave half a frame for later appends to follow.
    if (written > 0 && ::ftruncate(seg.fd, static_cast<off_t>(start)) != 0) {
      d.failed =
          Status::IoError("stream log " + d.dir + " failed: could not roll back a short write (" +
                          st.message() + ")");
      return d.failed;
    }
    return st;
  }

  uint64_t pos = start;
  for (std::string_view p : payloads) {
    if (seg.count % kIndexInterval == 0) seg.index.push_back(pos);
    ++seg.count;
    pos += fmt::kFrameHeaderSize + p.size();
  }
  seg.size = pos;
  d.disk_bytes += frame_bytes;
  uint64_t first = d.next_seq;
  d.next_seq += payloads.size();
  if (buf.capacity() > kMaxRetainedAppendBuffer) std::string().swap(buf);
  return first;
}

Status StreamLog::Sync() {
  Impl& d = *impl_;
  std::vector<std::pair<std::shared_ptr<Segment>, uint64_t>> todo;
  uint64_t dir_due = 0;
  {
    std::lock_guard l(d.mu);
    HYDRANT_RETURN_IF_ERROR(d.UsableLocked());
    if (d.dir_changes > d.dir_synced) dir_due = d.dir_changes;
    for (auto& s : d.unsynced_rotated) todo.emplace_back(s, s->size);
    if (d.active && d.active->synced_size < d.active->size)
      todo.emplace_back(d.active, d.active->size);
  }
  const auto started = std::chrono::steady_clock::now();
  // fdatasync without the lock: appends continue meanwhile (that is what makes
  // group commit pay off).
  for (auto& [seg, size] : todo) {
    if (::fdatasync(seg->fd) != 0) {
      Status st = ErrnoStatus("fdatasync", seg->path, errno);
      std::lock_guard l(d.mu);
      // After a failed fdatasync the kernel may have dropped the dirty pages and
      // a retry could falsely succeed: refuse to acknowledge anything further.
      if (d.failed.ok())
        d.failed = Status::IoError("stream log " + d.dir + " failed: " + st.message());
      return st;
    }
    d.sync_count.fetch_add(1);
  }
  // Segments started since the last round: their names, too, must be durable
  // before their records are acknowledged.
  if (dir_due != 0) {
    if (::fsync(d.dir_fd) != 0) {
      Status st = ErrnoStatus("fsync", d.dir, errno);
      std::lock_guard l(d.mu);
      if (d.failed.ok())
        d.failed = Status::IoError("stream log " + d.dir + " failed: " + st.message());
      return st;
    }
  }
  if (!todo.empty() || dir_due != 0) {
    d.sync_latency.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                              started)
            .count()));
  }
  bool index_due = false;
  {
    std::lock_guard l(d.mu);
    d.dir_synced = std::max(d.dir_synced, dir_due);
    for (auto& [seg, size] : todo) seg->synced_size = std::max(seg->synced_size, size);
    std::erase_if(d.unsynced_rotated, [](const auto& s) { return s->synced_size >= s->size; });
    index_due = !d.unindexed_sealed.empty();
  }
  if (index_due) d.WriteDueIndexes();
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Read

Status StreamLog::Read(uint64_t from, uint64_t max_bytes,
                       const std::function<bool(const LogRecord&)>& fn) const {
  const Impl& d = *impl_;
  // Read roughly what the caller wants in one pread (plus room for headers).
  const size_t chunk = static_cast<size_t>(std::clamp<uint64_t>(
      std::min<uint64_t>(max_bytes, kMaxReadChunk) + 4096, kMinReadChunk, kMaxReadChunk));
  std::string buf;
  uint64_t seq = from;
  uint64_t passed_bytes = 0;
  bool passed_any = false;
  uint64_t skip = 0;

  for (;;) {
    // Locate the segment holding seq (or the next one after a gap) under the lock,
    // then read it without the lock.
    std::shared_ptr<Segment> seg;
    uint64_t pos = 0, end_seq = 0, end_pos = 0;
    {
      std::lock_guard l(d.mu);
      if (d.destroyed) return d.UsableLocked();  // a failed log stays readable
      auto it = d.segments.upper_bound(seq);
      if (it != d.segments.begin() && std::prev(it)->second->end() > seq) --it;
      while (it != d.segments.end() && it->second->count == 0) ++it;
      if (it == d.segments.end()) return Status::Ok();
      seg = it->second;
      seq = std::max(seq, seg->base);
      skip = 0;
      if (d.cursor.segment_id == seg->id && d.cursor.seq == seq) {
        pos = d.cursor.offset;
      } else {
        uint64_t rel = seq - seg->base;
        pos = seg->index[rel / kIndexInterval];
        skip = rel % kIndexInterval;
      }
      end_seq = seg->end();
      end_pos = seg->size;
    }

    ChunkReader reader(seg->fd, end_pos, chunk, &buf);
    bool stop = false;
    bool cut = false;
    bool judged = false;  // st already comes from damaged()
    Status st;
    // Damage in a sealed segment (found here because Open trusted its index, or
    // because the disk changed under us) is cut off like Open's scan would, and
    // reading goes on with the next segment; anywhere else it is an error.
    auto damaged = [&](std::string reason) {
      judged = true;
      const uint64_t at = seq - skip;  // the seq of the frame at pos
      std::string where = seg->path + ": offset " + std::to_string(pos) + " (seq " +
                          std::to_string(at) + "): ";
      // Bytes can also go bad on their way (a flaky read, a damaged page in the
      // cache): the first time, drop the cached pages and let the caller read again
      // from the disk (delivery retries); damage found again at
      // the same place is real.
      bool first_sight = false;
      {
        std::lock_guard l(d.mu);
        auto& seen = impl_->suspects;
        auto it = std::find(seen.begin(), seen.end(), std::pair<uint64_t, uint64_t>{seg->id, pos});
        first_sight = it == seen.end();
        if (first_sight) {
          if (seen.size() >= Impl::kMaxSuspects) seen.erase(seen.begin());
          seen.emplace_back(seg->id, pos);
        } else {
          seen.erase(it);
        }
      }
      if (first_sight) {
        // Whole pages only are dropped: start at the page holding pos, up to the end.
        const off_t page = static_cast<off_t>(::sysconf(_SC_PAGESIZE));
        ::posix_fadvise(seg->fd, static_cast<off_t>(pos) / page * page, 0, POSIX_FADV_DONTNEED);
        return Status::Unavailable(where + reason + "; reading it again from the disk");
      }
      if (impl_->CutDamagedSegment(seg, at, pos, reason)) {
        cut = true;
        return Status::Ok();
      }
      return Status::Corruption(where + reason);
    };
    while (seq < end_seq) {
      if (end_pos - pos < fmt::kFrameHeaderSize) {
        st = damaged("frame header runs past the end of the segment");
        break;
      }
      const char* h = reader.Get(pos, fmt::kFrameHeaderSize, seg->path, &st);
      if (!h) break;
      uint32_t len = fmt::FramePayloadLength(h);
      if (end_pos - pos - fmt::kFrameHeaderSize < len) {
        st = damaged("length " + std::to_string(len) + " runs past the end of the segment");
        break;
      }
      if (skip > 0) {  // hopping from an index point to seq (seq stays put)
        --skip;
        pos += fmt::kFrameHeaderSize + len;
        continue;
      }
      if (passed_any && (passed_bytes + len > max_bytes)) {
        stop = true;
        break;
      }
      const char* f = reader.Get(pos, fmt::kFrameHeaderSize + len, seg->path, &st);
      if (!f) break;
      if (!fmt::FrameChecksumOk(f, f + fmt::kFrameHeaderSize, seg->crc_seed)) {
        st = damaged("checksum mismatch");
        break;
      }
      LogRecord rec;
      rec.seq = seq;
      rec.arrival_ms = fmt::FrameArrivalMs(f);
      rec.data = std::string_view(f + fmt::kFrameHeaderSize, len);
      passed_any = true;
      passed_bytes += len;
      ++seq;
      pos += fmt::kFrameHeaderSize + len;
      if (!fn(rec)) {
        stop = true;
        break;
      }
    }
    if (!st.ok() && st.code() == StatusCode::kCorruption && !judged) {
      // The file is shorter than the segment (reader.Get); `where` names the file.
      std::string reason = st.message();
      if (reason.starts_with(seg->path + ": ")) reason.erase(0, seg->path.size() + 2);
      st = damaged(reason);
    }
    if (!st.ok()) return st;
    if (cut) {
      skip = 0;
      continue;  // seq now lies past the cut segment's end: the next segment holds it
    }
    if (stop) {
      if (seq < end_seq) {
        std::lock_guard l(d.mu);
        d.cursor = Impl::Cursor{seg->id, seq, pos};
      }
      return Status::Ok();
    }
    // seq == end_seq: continue with the next segment.
  }
}

// ---------------------------------------------------------------------------
// Checkpoint and deletion

Status StreamLog::MarkDelivered(uint64_t up_to) {
  Impl& d = *impl_;
  std::lock_guard cl(d.checkpoint_mu);
  {
    std::lock_guard l(d.mu);
    if (d.destroyed) return d.UsableLocked();
    if (up_to > d.next_seq) {
      return Status::InvalidArgument("MarkDelivered(" + std::to_string(up_to) +
                                     ") beyond the last appended seq " +
                                     std::to_string(d.next_seq));
    }
    if (up_to <= d.first_undelivered) return Status::Ok();
  }
  // The checkpoint is durable before any segment goes, so a crash in between
  // only leaves segments that the next Open deletes.
  HYDRANT_RETURN_IF_ERROR(d.WriteCheckpoint(up_to));

  // Segments leave the log's map under the lock, but their files are deleted
  // outside it: unlinking (and the last close of) a 64 MiB file takes tens of ms on
  // ext4 (more with the `discard` mount option), and Append must not wait for it.
  std::vector<std::shared_ptr<Segment>> gone;
  uint64_t freed = 0;
  {
    std::lock_guard l(d.mu);
    d.first_undelivered = std::max(d.first_undelivered, up_to);
    while (!d.segments.empty()) {
      std::shared_ptr<Segment> seg = d.segments.begin()->second;
      if (seg->end() > d.first_undelivered) break;
      // An empty active segment stays: its file name is next_seq's, which the next
      // Append would create again while the unlink below may still be pending.
      if (seg == d.active && seg->count == 0) break;
      d.segments.erase(d.segments.begin());
      if (d.active == seg) d.active = nullptr;  // the next Append starts a new segment
      std::erase(d.unsynced_rotated, seg);
      std::erase(d.unindexed_sealed, seg);
      freed += seg->size;
      gone.push_back(std::move(seg));
    }
    d.disk_bytes -= freed;
  }
  if (d.opts.quota && freed > 0) d.opts.quota->Release(freed);
  Status result;
  for (auto& seg : gone) {
    ::unlink(JoinPath(d.dir, fmt::IndexFileName(seg->base)).c_str());  // may not exist
    // A file that cannot be deleted now is delivered: the next Open deletes it.
    if (!d.KeepForReuse(seg) && ::unlink(seg->path.c_str()) != 0 && errno != ENOENT &&
        result.ok()) {
      result = ErrnoStatus("delete", seg->path, errno);
    }
    seg.reset();  // the last reference closes the file (unless a Read still holds it)
  }
  return result;
}

uint64_t StreamLog::first_undelivered() const {
  std::lock_guard l(impl_->mu);
  return impl_->first_undelivered;
}

uint64_t StreamLog::next_seq() const {
  std::lock_guard l(impl_->mu);
  return impl_->next_seq;
}

uint64_t StreamLog::disk_bytes() const {
  std::lock_guard l(impl_->mu);
  return impl_->disk_bytes;
}

uint64_t StreamLog::sync_count() const { return impl_->sync_count.load(); }
const LatencyHistogram& StreamLog::sync_latency() const { return impl_->sync_latency; }

Status StreamLog::Destroy() {
  Impl& d = *impl_;
  std::lock_guard cl(d.checkpoint_mu);
  std::lock_guard l(d.mu);
  if (d.destroyed) return Status::Ok();
  d.destroyed = true;
  d.segments.clear();
  d.active = nullptr;
  d.unsynced_rotated.clear();
  d.unindexed_sealed.clear();
  if (d.opts.quota && d.disk_bytes > 0) d.opts.quota->Release(d.disk_bytes);
  d.disk_bytes = 0;
  d.DropFreeFilesLocked();  // the directory goes below anyway; this returns their bytes
  std::error_code ec;
  std::filesystem::remove_all(d.dir, ec);
  if (ec) return Status::IoError("delete " + d.dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace hydrant::buffer
