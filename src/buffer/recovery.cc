// StreamLog's recovery (docs/wal-format.md, "Recovery"): Open's scan of the
// directory, index files (read at Open, written after a Sync), and damage, found
// at start-up or later by Read. Every damaged place is reported and cut off,
// never a crash.

#include "buffer/stream_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include <spdlog/spdlog.h>

#include "buffer/log_format.h"
#include "buffer/resync.h"
#include "buffer/stream_log_impl.h"

namespace hydrant::buffer {

namespace fmt = log_format;

namespace {

struct ScannedSegment {
  std::shared_ptr<Segment> seg;  // null when no frame of the file could be kept in it
  // Segments written from the file's later valid frames (resync.h): Open scans them
  // next. May include the file's own base (rewritten after a bad header).
  std::vector<uint64_t> rebuilt;
};

std::string SeqText(const FrameRun& run) {
  return run.exact ? "seq " + std::to_string(run.seq)
                   : "seq " + std::to_string(run.seq) + " (at most; the damaged bytes' frames " +
                         "cannot be counted)";
}

// Reports the frames resynchronized after damage and the bytes skipped.
void ReportRuns(const std::string& path, const FrameScan& scan, size_t first_moved,
                const std::string& kept, RecoveryReport* report) {
  for (size_t i = 0; i < scan.skipped.size(); ++i) {
    const auto& sk = scan.skipped[i];
    const FrameRun& before = scan.runs[i];
    const FrameRun& after = scan.runs[i + 1];
    report->bytes_truncated += sk.to - sk.offset;
    report->problems.push_back(
        path + ": offset " + std::to_string(sk.offset) + " (seq " +
        std::to_string(before.seq + before.count) + "): " + sk.reason + "; skipped bytes " +
        std::to_string(sk.offset) + ".." + std::to_string(sk.to - 1) + " (kept in " + kept +
        "), valid frames resume at offset " + std::to_string(sk.to) + ", " + SeqText(after) +
        ": " + std::to_string(after.count) + " records kept" +
        (i + 1 >= first_moved ? " in segment " + fmt::SegmentFileName(after.seq) : ""));
  }
}

// Scans one segment file, verifying every frame. Damage is skipped when valid
// frames follow it (resync.h): those move to segments of their own, the damaged
// bytes are kept in a .damaged file, and the file is cut at the first damage.
// Damage at the end of the file is cut off (a torn write); in a sealed segment the
// cut bytes are kept too. A bad header keeps the whole file as .damaged and
// rewrites the frames it still proves. `next_base` is the base of the following
// segment, if any: records at or beyond it would overlap and count as damage.
Result<ScannedSegment> ScanSegment(Env& env, const std::string& dir, const std::string& path,
                                   uint64_t base, std::optional<uint64_t> next_base,
                                   RecoveryReport* report) {
  ScannedSegment out;
  int fd = env.Open(path.c_str(), O_RDWR | O_CLOEXEC);
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
    ssize_t r = PreadAll(env, fd, header, sizeof(header), 0);
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
    // The header cannot be trusted, but frames summed from this base's seed (either
    // version's) still prove themselves.
    const std::string kept = JoinPath(dir, fmt::DamagedFileName(base, 0));
    std::optional<uint32_t> seed;
    uint32_t version = fmt::kSegmentVersion;
    if (file_size > fmt::kSegmentHeaderSize) {
      for (uint32_t v : {fmt::kSegmentVersion, fmt::kOldestSegmentVersion}) {
        auto anchored = AnchoredFrameAt(env, fd, path, file_size, fmt::kSegmentHeaderSize,
                                        fmt::FrameSeed(v, base));
        if (!anchored.ok()) return anchored.status();
        if (*anchored) {
          seed = fmt::FrameSeed(v, base);
          version = v;
          break;
        }
      }
    }
    if (!seed) {
      report->bytes_truncated += file_size;
      // Nothing in it can be trusted; kept for inspection, out of the log. A torn
      // header of a brand-new segment (a crash right after rotation) holds nothing.
      if (file_size < fmt::kSegmentHeaderSize) {
        report->problems.push_back(path + ": offset 0: " + header_problem +
                                   "; removed the file (" + std::to_string(file_size) + " bytes)");
        if (env.Unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
      } else {
        report->problems.push_back(path + ": offset 0: " + header_problem +
                                   "; no valid frame follows; the file (" +
                                   std::to_string(file_size) + " bytes) is kept as " + kept);
        if (env.Rename(path.c_str(), kept.c_str()) != 0) return ErrnoStatus("rename", path, errno);
      }
      return out;
    }
    auto scan = ScanFrames(env, fd, path, file_size, fmt::kSegmentHeaderSize, base, *seed,
                           version, next_base);
    if (!scan.ok()) return scan.status();
    uint64_t kept_records = 0;
    for (const auto& r : scan->runs) kept_records += r.count;
    // The header and what no frame proves leave the log (the skipped bytes are
    // counted by ReportRuns).
    report->bytes_truncated +=
        fmt::kSegmentHeaderSize + (scan->unused_rest ? 0 : file_size - scan->end);
    auto bases = WriteRuns(env, fd, path, dir, *scan, 0, *seed, kept);
    if (!bases.ok()) return bases.status();
    report->problems.push_back(path + ": offset 0: " + header_problem + "; the file (" +
                               std::to_string(file_size) + " bytes) is kept as " + kept + "; " +
                               std::to_string(kept_records) +
                               " records its frames still prove were rewritten into segments");
    ReportRuns(path, *scan, 0, kept, report);
    out.rebuilt = std::move(bases).value();
    return out;
  }

  auto scan = ScanFrames(env, fd, path, file_size, fmt::kSegmentHeaderSize, base, seg->crc_seed,
                         seg->version, next_base);
  if (!scan.ok()) return scan.status();
  const FrameRun& first = scan->runs.front();
  const uint64_t cut_at = first.to;
  if (scan->runs.size() > 1) {
    // Valid frames after damage: keep the damaged bytes (and everything after them,
    // as they were), move the later frames, then cut.
    const uint64_t from = scan->skipped.front().offset;
    const std::string kept = JoinPath(dir, fmt::DamagedFileName(base, from));
    if (::access(kept.c_str(), F_OK) == 0) {
      // An earlier Open got this far and crashed: its moved segments are in place.
      report->problems.push_back(path + ": offset " + std::to_string(from) +
                                 ": damage already handled (see " + kept + "); cut there");
    } else {
      HYDRANT_RETURN_IF_ERROR(KeepDamagedBytes(env, fd, path, from, file_size, kept));
      auto bases = WriteRuns(env, fd, path, dir, *scan, 1, seg->crc_seed, "");
      if (!bases.ok()) return bases.status();
      out.rebuilt = std::move(bases).value();
      ReportRuns(path, *scan, 1, kept, report);
    }
  }
  const uint64_t tail = scan->unused_rest ? 0 : file_size - scan->end;
  if (tail > 0) {
    const FrameRun& last = scan->runs.back();
    std::string reason = scan->end_reason;
    std::string kept_note;
    if (next_base) {
      // A sealed segment's frames were acknowledged: keep what is cut.
      const std::string kept = JoinPath(dir, fmt::DamagedFileName(base, scan->end));
      if (scan->runs.size() == 1) {
        HYDRANT_RETURN_IF_ERROR(KeepDamagedBytes(env, fd, path, scan->end, file_size, kept));
        kept_note = " (kept in " + kept + ")";
      }
    } else if (seg->version >= 2) {
      reason += " (a write torn by a crash, or the unused rest of a reused segment file)";
    }
    report->bytes_truncated += tail;
    std::string line = path + ": offset " + std::to_string(scan->end) + " (seq " +
                       std::to_string(last.seq + last.count) + "): " + reason + "; truncated " +
                       std::to_string(tail) + " bytes" + kept_note;
    // The active segment's tail after its last valid frame, with nothing valid
    // beyond: what every crash leaves (writes never acknowledged). Open decides,
    // from END, whether it is damage.
    if (!next_base && scan->runs.size() == 1) {
      report->torn_tail = std::move(line);
    } else {
      report->problems.push_back(std::move(line));
    }
  }
  if (cut_at < file_size && !(scan->runs.size() == 1 && scan->unused_rest)) {
    if (env.Ftruncate(fd, static_cast<off_t>(cut_at)) != 0) {
      return ErrnoStatus("truncate", path, errno);
    }
    if (env.Fdatasync(fd) != 0) return ErrnoStatus("fdatasync", path, errno);
  }
  seg->count = first.count;
  seg->size = cut_at;
  seg->index = first.index;
  out.seg = std::move(seg);
  return out;
}

// A sealed segment described by its index file: only the segment header and the
// index are read, never the frames (Read checks each frame's CRC when it passes
// it). Null when the index is missing, damaged or disagrees with the segment file;
// the caller then removes it and scans the segment.
std::shared_ptr<Segment> LoadIndexedSegment(Env& env, const std::string& path,
                                            const std::string& index_path, uint64_t base,
                                            std::optional<uint64_t> next_base) {
  int ifd = env.Open(index_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ifd < 0) return nullptr;
  std::string bytes;
  struct stat isb;
  if (::fstat(ifd, &isb) == 0 && isb.st_size > 0 && isb.st_size < (256 << 20)) {
    bytes.resize(static_cast<size_t>(isb.st_size));
    if (PreadAll(env, ifd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
      bytes.clear();
    }
  }
  ::close(ifd);
  fmt::SegmentIndex index;
  if (bytes.empty() || !fmt::DecodeIndex(bytes, &index).empty()) return nullptr;
  if (index.base != base || index.interval != kIndexInterval) return nullptr;
  if (next_base && base + index.count > *next_base) return nullptr;

  auto seg = std::make_shared<Segment>();
  seg->fd = env.Open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (seg->fd < 0) return nullptr;
  struct stat sb;
  char header[fmt::kSegmentHeaderSize];
  uint64_t header_base = 0;
  uint32_t version = 0;
  if (::fstat(seg->fd, &sb) != 0 ||
      PreadAll(env, seg->fd, header, sizeof(header), 0) != static_cast<ssize_t>(sizeof(header)) ||
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
  impl->env = opts.env ? opts.env : Env::Default();
  Env& env = *impl->env;

  std::error_code ec;
  bool created = std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("create directory " + dir + ": " + ec.message());
  if (created) {
    // Make the new directory's name durable too.
    std::filesystem::path parent = std::filesystem::absolute(dir, ec).parent_path();
    if (!ec) {
      int pfd = env.Open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (pfd >= 0) {
        env.Fsync(pfd);
        ::close(pfd);
      }
    }
  }
  impl->dir_fd = env.Open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (impl->dir_fd < 0) return ErrnoStatus("open directory", dir, errno);

  std::string lock_path = JoinPath(dir, fmt::kLockName);
  if (opts.lock_dir) {
    impl->lock_fd = env.Open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (impl->lock_fd < 0) return ErrnoStatus("open", lock_path, errno);
    if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) return Status::Unavailable("stream log " + dir + " is already open");
      return ErrnoStatus("lock", lock_path, errno);
    }
  }
  // A leftover temp file means a crash mid-checkpoint: the old CHECKPOINT stands.
  env.Unlink(JoinPath(dir, fmt::kCheckpointTempName).c_str());

  // List the segments and their index files.
  std::vector<uint64_t> bases;
  std::vector<uint64_t> indexes;
  std::vector<uint64_t> free_numbers;
  {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return ErrnoStatus("list", dir, errno);
    std::vector<uint64_t> rebuilt;
    while (struct dirent* e = ::readdir(d)) {
      if (auto base = fmt::ParseSegmentFileName(e->d_name)) bases.push_back(*base);
      if (auto base = fmt::ParseIndexFileName(e->d_name)) indexes.push_back(*base);
      if (auto n = fmt::ParseFreeFileName(e->d_name)) free_numbers.push_back(*n);
      if (auto base = fmt::ParseRebuiltFileName(e->d_name)) rebuilt.push_back(*base);
    }
    ::closedir(d);
    // An earlier Open moved frames after damage and crashed before every moved
    // segment had its name: finish that (or drop a copy whose segment is in place).
    for (uint64_t base : rebuilt) {
      auto renamed = FinishRebuilt(env, dir, base);
      if (!renamed.ok()) return renamed.status();
      if (*renamed) bases.push_back(base);
    }
  }
  std::sort(bases.begin(), bases.end());
  std::sort(indexes.begin(), indexes.end());
  std::sort(free_numbers.begin(), free_numbers.end());

  // Sealed segments with a valid index are taken as they are (start-up time must
  // not grow with the backlog); the others are scanned frame by frame.
  std::vector<std::shared_ptr<Segment>> segs;
  std::vector<uint64_t> rewritten;  // bases rewritten after a bad header (scanned once more)
  for (size_t i = 0; i < bases.size(); ++i) {
    std::optional<uint64_t> next_base;
    if (i + 1 < bases.size()) next_base = bases[i + 1];
    const std::string path = JoinPath(dir, fmt::SegmentFileName(bases[i]));
    const std::string index_path = JoinPath(dir, fmt::IndexFileName(bases[i]));
    std::shared_ptr<Segment> seg;
    if (std::binary_search(indexes.begin(), indexes.end(), bases[i])) {
      seg = LoadIndexedSegment(env, path, index_path, bases[i], next_base);
      if (!seg && env.Unlink(index_path.c_str()) != 0 && errno != ENOENT) {
        return ErrnoStatus("unlink", index_path, errno);
      }
    }
    if (!seg) {
      auto scanned = ScanSegment(env, dir, path, bases[i], next_base, report);
      if (!scanned.ok()) return scanned.status();
      seg = std::move(scanned->seg);
      // Segments written from frames found after damage are scanned in their turn.
      bool again = false;
      for (uint64_t b : scanned->rebuilt) {
        if (b == bases[i]) {
          again = std::find(rewritten.begin(), rewritten.end(), b) == rewritten.end();
          rewritten.push_back(b);
        } else if (!std::binary_search(bases.begin() + static_cast<ptrdiff_t>(i), bases.end(), b)) {
          bases.insert(std::upper_bound(bases.begin() + static_cast<ptrdiff_t>(i), bases.end(), b), b);
        }
      }
      if (again) {
        --i;  // the file under this name was rewritten: scan the new one
        continue;
      }
    }
    if (seg) {
      seg->id = impl->next_segment_id++;
      segs.push_back(std::move(seg));
    }
  }
  // Index files whose segment is gone (a crash between the two deletions).
  for (uint64_t base : indexes) {
    if (!std::binary_search(bases.begin(), bases.end(), base)) {
      env.Unlink(JoinPath(dir, fmt::IndexFileName(base)).c_str());
    }
  }

  // Checkpoint.
  std::string cp_path = JoinPath(dir, fmt::kCheckpointName);
  uint64_t checkpoint = 0;
  std::string cp_problem;
  bool have_checkpoint = false;
  {
    int fd = env.Open(cp_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) return ErrnoStatus("open", cp_path, errno);
    if (fd >= 0) {
      char data[fmt::kCheckpointSize + 1];
      ssize_t r = PreadAll(env, fd, data, sizeof(data), 0);
      int err = errno;
      ::close(fd);
      if (r < 0) return ErrnoStatus("read", cp_path, err);
      cp_problem =
          fmt::DecodeCheckpoint(std::string_view(data, static_cast<size_t>(r)), &checkpoint);
      have_checkpoint = cp_problem.empty();
    }
  }
  // END: the next seq at the last clean close (removed now: from here on the log
  // moves again; the first Sync makes that durable).
  std::optional<uint64_t> closed_end;
  {
    const std::string end_path = JoinPath(dir, fmt::kEndName);
    int fd = env.Open(end_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char data[fmt::kCheckpointSize + 1];
      ssize_t r = PreadAll(env, fd, data, sizeof(data), 0);
      ::close(fd);
      uint64_t end = 0;
      if (r >= 0 && fmt::DecodeEnd(std::string_view(data, static_cast<size_t>(r)), &end).empty()) {
        closed_end = end;
      }
      env.Unlink(end_path.c_str());
    }
  }
  // After a clean close nothing may be torn: a cut tail is damage done while
  // hydrant was stopped. After a crash it is the expected torn write.
  if (closed_end && !report->torn_tail.empty()) {
    report->problems.push_back(std::move(report->torn_tail));
    report->torn_tail.clear();
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
    if (env.Unlink(segs.front()->path.c_str()) != 0) {
      return ErrnoStatus("unlink", segs.front()->path, errno);
    }
    env.Unlink(JoinPath(dir, fmt::IndexFileName(segs.front()->base)).c_str());
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

  // Seqs the last clean close had, past the end of every segment left: the newest
  // segment (or all of them) was removed behind the log's back, or its tail lost.
  if (closed_end && *closed_end > expected) {
    uint64_t lost = *closed_end - expected;
    report->records_lost += lost;
    report->problems.push_back(
        "seqs " + std::to_string(expected) + ".." + std::to_string(*closed_end - 1) + " (" +
        std::to_string(lost) + " undelivered records) are lost: the log ended at seq " +
        std::to_string(*closed_end) + " when it was last closed, " +
        (segs.empty() ? std::string("no segment holds any record now")
                      : "its last segment " + segs.back()->path + " now ends at seq " +
                            std::to_string(segs.back()->end())));
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
  impl->AdoptFreeFiles(free_numbers, have_checkpoint);

  std::unique_ptr<StreamLog> log(new StreamLog());
  log->impl_ = std::move(impl);
  return log;
}

// ---------------------------------------------------------------------------
// Index files and damage found after Open

void StreamLog::Impl::WriteEndFile() {
  char data[fmt::kCheckpointSize];
  fmt::EncodeEnd(next_seq, data);
  const std::string path = JoinPath(dir, fmt::kEndName);
  int fd = env->Open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    (void)PwriteAll(*env, fd, data, sizeof(data), 0, &err);
    ::close(fd);
  }
  // Only damage detection depends on it (a torn or missing END is ignored).
  if (err != 0) {
    spdlog::warn("log={} event=end_file_not_written error=\"{}\"", dir, std::strerror(err));
  }
}

void StreamLog::Impl::WriteDueIndexes() {
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
    int fd = env->Open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0 && PwriteAll(*env, fd, bytes.data(), bytes.size(), 0, &err) != bytes.size()) {
      env->Unlink(path.c_str());
    }
    if (fd >= 0) ::close(fd);
    // Only start-up time depends on it: the next Open scans this segment instead.
    if (err != 0) {
      spdlog::warn("log={} event=segment_index_not_written path={} error=\"{}\"", dir, path,
                   std::strerror(err));
    }
  }
}

bool StreamLog::Impl::CutDamagedSegment(const std::shared_ptr<Segment>& seg, uint64_t seq,
                                        uint64_t pos, const std::string& reason) {
  std::lock_guard l(mu);
  auto it = segments.find(seg->base);
  if (destroyed || it == segments.end() || it->second != seg || seg == active) return false;
  // Frames not yet durable may belong to puts about to be acknowledged: never cut those.
  if (seg->synced_size < seg->size) return false;
  const uint64_t keep = seq - seg->base;
  if (keep >= seg->count) return true;  // another Read cut it already
  // The index goes first: a crash after it leaves a segment that Open scans.
  std::string index_path = JoinPath(dir, fmt::IndexFileName(seg->base));
  if (env->Unlink(index_path.c_str()) != 0 && errno != ENOENT) return false;
  // The bytes cut were acknowledged records: kept out of the log, never deleted.
  const std::string kept = JoinPath(dir, fmt::DamagedFileName(seg->base, pos));
  if (Status st = KeepDamagedBytes(*env, seg->fd, seg->path, pos, seg->size, kept); !st.ok()) {
    spdlog::error("log={} event=log_damage_not_cut path={} error=\"{}\"", dir, seg->path,
                  st.ToString());
    return false;
  }
  if (env->Ftruncate(seg->fd, static_cast<off_t>(pos)) != 0 || env->Fdatasync(seg->fd) != 0) {
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
      "bytes_cut={} kept={}",
      dir, seg->path, pos, seq, reason, lost, cut, kept);
  return true;
}

}  // namespace hydrant::buffer
