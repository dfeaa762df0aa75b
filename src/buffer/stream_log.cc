// StreamLog's everyday work (buffer/stream_log.h): Append, Sync, Read,
// MarkDelivered and Destroy. Opening and recovery are in recovery.cc, reused
// segment files in segment_reuse.cc; the state they share is in stream_log_impl.h.

#include "buffer/stream_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "buffer/log_format.h"
#include "buffer/stream_log_impl.h"
#include "common/latency_histogram.h"

namespace hydrant::buffer {

namespace fmt = log_format;

namespace {

// Read() fetches at least this much per pread (bounded by the caller's max_bytes).
constexpr size_t kMinReadChunk = 64 << 10;
constexpr size_t kMaxReadChunk = 4 << 20;
// Append keeps its serialization buffer between calls unless it grew beyond this.
constexpr size_t kMaxRetainedAppendBuffer = 16 << 20;

Status FsyncFd(Env& env, int fd, const std::string& path) {
  if (env.Fsync(fd) != 0) return ErrnoStatus("fsync", path, errno);
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------
// Open files: a segment's fd is open only while it is used

Status StreamLog::Impl::OpenFileLocked(Segment& seg) const {
  if (seg.fd >= 0) return Status::Ok();
  seg.fd = env->Open(seg.path.c_str(), O_RDWR | O_CLOEXEC);
  if (seg.fd < 0) return ErrnoStatus("open", seg.path, errno);
  return Status::Ok();
}

Status StreamLog::Impl::PinLocked(Segment& seg) const {
  HYDRANT_RETURN_IF_ERROR(OpenFileLocked(seg));
  ++seg.pins;
  return Status::Ok();
}

void StreamLog::Impl::Unpin(const std::shared_ptr<Segment>& seg) const {
  std::lock_guard l(mu);
  // The active segment's fd stays for the next Append (the put path must not open
  // a file per request); a sealed one's is needed again only by the next Read.
  if (--seg->pins == 0 && seg != active && seg->fd >= 0) {
    ::close(seg->fd);
    seg->fd = -1;
  }
}

Status StreamLog::Impl::FsyncDir() const {
  int fd = env->Open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory", dir, errno);
  Status st = FsyncFd(*env, fd, dir);
  ::close(fd);
  return st;
}

void StreamLog::ReleaseIdleFiles() {
  Impl& d = *impl_;
  std::lock_guard l(d.mu);
  for (auto& [base, seg] : d.segments) {
    // Writes not yet synced may be closed over: the next Sync's fdatasync on a new
    // fd still reports a writeback error that no fd has seen (Linux >= 4.16).
    if (seg->pins == 0 && seg->fd >= 0) {
      ::close(seg->fd);
      seg->fd = -1;
    }
  }
  if (d.dir_fd >= 0) {
    ::close(d.dir_fd);
    d.dir_fd = -1;
  }
}

size_t StreamLog::open_files() const {
  const Impl& d = *impl_;
  std::lock_guard l(d.mu);
  size_t n = (d.dir_fd >= 0) + (d.lock_fd >= 0);
  for (const auto& [base, seg] : d.segments) n += seg->fd >= 0;
  return n;
}

// ---------------------------------------------------------------------------
// Segments and checkpoint

Status StreamLog::Impl::StartSegmentLocked() {
  auto seg = std::make_shared<Segment>();
  seg->id = next_segment_id++;
  seg->base = next_seq;
  seg->path = JoinPath(dir, fmt::SegmentFileName(seg->base));
  seg->crc_seed = fmt::FrameSeed(fmt::kSegmentVersion, seg->base);
  HYDRANT_RETURN_IF_ERROR(ReuseFreeFileLocked(seg.get()));
  if (seg->fd < 0) {
    seg->fd = env->Open(seg->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
  if (seg->fd < 0) return ErrnoStatus("create", seg->path, errno);
  char header[fmt::kSegmentHeaderSize];
  fmt::EncodeSegmentHeader(seg->base, header);
  int err = 0;
  if (PwriteAll(*env, seg->fd, header, sizeof(header), 0, &err) != sizeof(header)) {
    Status st = ErrnoStatus("write", seg->path, err);
    env->Unlink(seg->path.c_str());
    return st;
  }
  // The new name must survive a crash before any record in it is acknowledged:
  // the next Sync fsyncs the directory (not here, under the lock: that is a
  // journal commit, tens of ms while objects are being written, and every
  // Append would wait for it).
  ++dir_changes;
  seg->size = sizeof(header);
  if (active && active->synced_size < active->size) unsynced_rotated.push_back(active);
  if (active && active->synced_size >= active->size && active->pins == 0 && active->fd >= 0) {
    ::close(active->fd);  // sealed and synced: only a later Read opens it again
    active->fd = -1;
  }
  if (active) unindexed_sealed.push_back(active);
  segments[seg->base] = seg;
  active = std::move(seg);
  disk_bytes += sizeof(header);
  return Status::Ok();
}

Status StreamLog::Impl::WriteCheckpoint(uint64_t up_to) {
  char data[fmt::kCheckpointSize];
  fmt::EncodeCheckpoint(up_to, data);
  std::string tmp = JoinPath(dir, fmt::kCheckpointTempName);
  std::string final_path = JoinPath(dir, fmt::kCheckpointName);
  int fd = env->Open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", tmp, errno);
  int err = 0;
  bool ok = PwriteAll(*env, fd, data, sizeof(data), 0, &err) == sizeof(data);
  if (ok && env->Fdatasync(fd) != 0) {
    ok = false;
    err = errno;
  }
  ::close(fd);
  if (!ok) return ErrnoStatus("write", tmp, err);
  if (env->Rename(tmp.c_str(), final_path.c_str()) != 0) {
    return ErrnoStatus("rename to", final_path, errno);
  }
  Status st = FsyncDir();
  if (!st.ok()) {
    // The error is reported once per open directory: Sync's next fsync of it
    // could succeed although a new segment's name was lost. Fail the log.
    std::lock_guard l(mu);
    if (failed.ok()) failed = Status::IoError("stream log " + dir + " failed: " + st.message());
  }
  return st;
}

StreamLog::~StreamLog() {
  if (!impl_) return;
  std::lock_guard l(impl_->mu);
  // In a reused file the earlier life's bytes follow the last frame: cut them on a
  // clean close, so the next Open's scan does not report them as a torn write.
  if (Segment* a = impl_->active.get(); a && !impl_->destroyed && impl_->failed.ok() &&
                                         impl_->OpenFileLocked(*a).ok()) {
    struct stat sb;
    if (::fstat(a->fd, &sb) == 0 && static_cast<uint64_t>(sb.st_size) > a->size) {
      if (impl_->env->Ftruncate(a->fd, static_cast<off_t>(a->size)) != 0) {
        spdlog::warn("log={} event=segment_tail_not_cut path={} error=\"{}\"", impl_->dir, a->path,
                     std::strerror(errno));
      }
    }
  }
  if (!impl_->destroyed && impl_->failed.ok()) impl_->WriteEndFile();
  const uint64_t charged = impl_->disk_bytes + impl_->free_bytes;
  if (impl_->opts.quota && charged > 0) impl_->opts.quota->Release(charged);
}

// ---------------------------------------------------------------------------
// Append / Sync

Result<uint64_t> StreamLog::Append(int64_t arrival_ms, std::span<const std::string_view> payloads,
                                   uint32_t flags) {
  static_assert(kRecordEncrypted == fmt::kFrameEncrypted);
  Impl& d = *impl_;
  if ((flags & ~fmt::kFrameFlagsMask) != 0) {
    return Status::InvalidArgument("unknown record flags " + std::to_string(flags));
  }
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
    fmt::EncodeFrameHeader(arrival_ms, p, seed, header, flags);
    buf.append(header, sizeof(header));
    buf.append(p.data(), p.size());
  }

  Segment& seg = *d.active;
  if (Status st = d.OpenFileLocked(seg); !st.ok()) {  // closed while the log was idle
    release(frame_bytes);
    return st;
  }
  const uint64_t start = seg.size;
  int err = 0;
  size_t written = PwriteAll(*d.env, seg.fd, buf.data(), buf.size(), start, &err);
  if (written != buf.size()) {
    Status st = ErrnoStatus("write", seg.path, err);
    release(frame_bytes);
    // Never leave half a frame for later appends to follow.
    if (written > 0 && d.env->Ftruncate(seg.fd, static_cast<off_t>(start)) != 0) {
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
    for (size_t i = 0; i < todo.size(); ++i) {
      if (Status st = d.PinLocked(*todo[i].first); !st.ok()) {
        for (size_t j = 0; j < i; ++j) --todo[j].first->pins;  // still open: closed later
        return st;
      }
    }
  }
  struct Unpinner {
    const Impl& d;
    std::vector<std::pair<std::shared_ptr<Segment>, uint64_t>>& todo;
    ~Unpinner() {
      for (auto& [seg, size] : todo) d.Unpin(seg);
    }
  } unpinner{d, todo};
  const auto started = std::chrono::steady_clock::now();
  // fdatasync without the lock: appends continue meanwhile (that is what makes
  // group commit pay off).
  for (auto& [seg, size] : todo) {
    if (d.env->Fdatasync(seg->fd) != 0) {
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
    if (Status st = d.FsyncDir(); !st.ok()) {
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
      HYDRANT_RETURN_IF_ERROR(d.PinLocked(*seg));
    }
    struct Unpinner {
      const Impl& d;
      const std::shared_ptr<Segment>& seg;
      ~Unpinner() { d.Unpin(seg); }
    } unpinner{d, seg};

    ChunkReader reader(*d.env, seg->fd, end_pos, chunk, &buf);
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
      rec.flags = fmt::FrameFlags(f);
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
    d.env->Unlink(JoinPath(d.dir, fmt::IndexFileName(seg->base)).c_str());  // may not exist
    // A file that cannot be deleted now is delivered: the next Open deletes it.
    if (!d.KeepForReuse(seg) && d.env->Unlink(seg->path.c_str()) != 0 && errno != ENOENT &&
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
