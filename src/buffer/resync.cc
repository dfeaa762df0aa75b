// Open's frame scan with resynchronization after damage (buffer/resync.h,
// docs/wal-format.md "Damage").

#include "buffer/resync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "buffer/log_format.h"

namespace hydrant::buffer {

namespace fmt = log_format;

namespace {

constexpr size_t kChunk = 1 << 20;

// Frame checks at any offset of one file, through one reused read buffer. The
// first read error is kept in error() and every later check fails.
class FrameCheck {
 public:
  FrameCheck(Env& env, int fd, const std::string& path, uint64_t size)
      : reader_(env, fd, size, kChunk, &buf_), path_(path), size_(size) {}

  const Status& error() const { return error_; }

  // The payload length of the frame header at `at` when it is readable, at most
  // max_len and its payload fits in the file.
  bool Length(uint64_t at, uint32_t max_len, uint32_t* len) {
    if (!error_.ok() || at > size_ || size_ - at < fmt::kFrameHeaderSize) return false;
    const char* h = reader_.Get(at, fmt::kFrameHeaderSize, path_, &error_);
    if (!h) return false;
    *len = fmt::FramePayloadLength(h);
    return *len <= max_len && size_ - at - fmt::kFrameHeaderSize >= *len;
  }

  // A header that could be a frame's: its length fits (see Length) and its arrival
  // time is in [0, kResyncMaxArrivalMs). Checked before a checksum is computed
  // while searching byte by byte: random bytes pass one in about 2^33.
  bool Plausible(uint64_t at, uint32_t max_len) {
    uint32_t len = 0;
    if (!Length(at, max_len, &len)) return false;
    const char* h = reader_.Get(at, fmt::kFrameHeaderSize, path_, &error_);
    if (!h) return false;
    const int64_t arrival = fmt::FrameArrivalMs(h);
    return arrival >= 0 && arrival < fmt::kResyncMaxArrivalMs;
  }

  // Plausible, and so is what follows it (the end of the file, or a header).
  bool PlausiblePair(uint64_t at, uint32_t max_len) {
    uint32_t len = 0;
    if (!Plausible(at, max_len) || !Length(at, max_len, &len)) return false;
    const uint64_t next = at + fmt::kFrameHeaderSize + len;
    return next == size_ || Plausible(next, fmt::kMaxPayloadBytes);
  }

  // A whole frame whose checksum holds.
  bool Valid(uint64_t at, uint32_t seed, uint32_t max_len, uint32_t* len) {
    if (!Length(at, max_len, len)) return false;
    const char* f = reader_.Get(at, fmt::kFrameHeaderSize + *len, path_, &error_);
    return f && fmt::FrameChecksumOk(f, f + fmt::kFrameHeaderSize, seed);
  }

  // A valid frame followed by another one or by the end of the file.
  bool Anchored(uint64_t at, uint32_t seed, uint32_t max_len) {
    uint32_t len = 0, next_len = 0;
    if (!Valid(at, seed, max_len, &len)) return false;
    const uint64_t next = at + fmt::kFrameHeaderSize + len;
    return next == size_ || Valid(next, seed, fmt::kMaxPayloadBytes, &next_len);
  }

  // The frame at `at` would be valid if its length field said `len`: only that
  // field was damaged, and the frame is exactly one record.
  bool ValidWithLength(uint64_t at, uint32_t len, uint32_t seed) {
    if (!error_.ok() || size_ - at < fmt::kFrameHeaderSize + uint64_t{len}) return false;
    const char* f = reader_.Get(at, fmt::kFrameHeaderSize + len, path_, &error_);
    if (!f) return false;
    char h[fmt::kFrameHeaderSize];
    std::memcpy(h, f, sizeof(h));
    coding::EncodeFixed32(h + 4, len);
    return fmt::FrameChecksumOk(h, f + fmt::kFrameHeaderSize, seed);
  }

  // Why the bytes at `at` are not a valid frame (only called on damage).
  std::string Describe(uint64_t at, uint32_t seed) {
    if (size_ - at < fmt::kFrameHeaderSize) {
      return "torn frame header (" + std::to_string(size_ - at) + " of " +
             std::to_string(fmt::kFrameHeaderSize) + " bytes)";
    }
    uint32_t len = 0;
    const char* h = reader_.Get(at, fmt::kFrameHeaderSize, path_, &error_);
    if (!h) return "unreadable";
    len = fmt::FramePayloadLength(h);
    if (len > fmt::kMaxPayloadBytes) return "impossible payload length " + std::to_string(len);
    if (size_ - at - fmt::kFrameHeaderSize < len) {
      return "torn payload (" + std::to_string(size_ - at - fmt::kFrameHeaderSize) + " of " +
             std::to_string(len) + " bytes)";
    }
    (void)seed;
    return "checksum mismatch";
  }

  // The frame at `at` (known valid): header and payload.
  const char* Frame(uint64_t at, uint32_t len) {
    return reader_.Get(at, fmt::kFrameHeaderSize + len, path_, &error_);
  }

 private:
  std::string buf_;
  ChunkReader reader_;
  const std::string& path_;
  uint64_t size_;
  Status error_;
};

struct Resync {
  uint64_t offset = 0;
  uint64_t seq = 0;
  bool exact = true;
};

// Where valid frames start again after damage at `p` (whose frame would have had
// seq `seq`): by the damaged frames' own lengths first (then the seq is exact),
// else byte by byte within the window (then the seq is the highest possible: every
// frame takes at least a frame header's bytes).
std::optional<Resync> FindResync(FrameCheck& fc, uint64_t size, uint64_t p, uint64_t seq,
                                 uint32_t seed) {
  uint64_t at = p;
  for (int hop = 1; hop <= fmt::kResyncMaxHops; ++hop) {
    uint32_t len = 0;
    if (!fc.Length(at, fmt::kMaxPayloadBytes, &len)) break;
    at += fmt::kFrameHeaderSize + len;
    if (at >= size) break;
    if (fc.Anchored(at, seed, fmt::kMaxPayloadBytes)) {
      return Resync{at, seq + static_cast<uint64_t>(hop), true};
    }
  }
  const uint64_t stop = std::min(size, p + fmt::kResyncWindowBytes);
  for (uint64_t q = p + fmt::kFrameHeaderSize; q + fmt::kFrameHeaderSize <= stop; ++q) {
    if (fc.PlausiblePair(q, fmt::kResyncMaxPayloadBytes) &&
        fc.Anchored(q, seed, fmt::kResyncMaxPayloadBytes)) {
      if (fc.ValidWithLength(p, static_cast<uint32_t>(q - p - fmt::kFrameHeaderSize), seed)) {
        return Resync{q, seq + 1, true};
      }
      return Resync{q, seq + (q - p) / fmt::kFrameHeaderSize, false};
    }
    if (!fc.error().ok()) break;
  }
  return std::nullopt;
}

// Sealed segments hold exactly base .. next_base-1: runs placed at their highest
// possible seq that would reach past next_base are moved down to end there, as
// long as they stay after the run before them; a run that cannot be placed is
// dropped with everything after it (left as damage).
void FitRuns(uint64_t next_base, FrameScan* scan) {
  auto& runs = scan->runs;
  uint64_t limit = next_base;
  size_t keep = runs.size();
  for (size_t i = runs.size(); i-- > 1;) {
    FrameRun& r = runs[i];
    if (r.seq + r.count > limit) {
      if (r.count > limit) {
        keep = i;
        break;
      }
      r.seq = limit - r.count;
    }
    const FrameRun& prev = runs[i - 1];
    if (r.seq <= prev.seq + prev.count) {  // at least the damaged frame lies between
      keep = i;
      break;
    }
    limit = r.seq;
  }
  if (keep < runs.size()) {
    scan->end = scan->skipped[keep - 1].offset;
    scan->end_reason = scan->skipped[keep - 1].reason;
    scan->unused_rest = false;
    runs.resize(keep);
    scan->skipped.resize(keep - 1);
  }
}

Status SyncDirOf(Env& env, const std::string& dir) {
  int dfd = env.Open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("open directory", dir, errno);
  int rc = env.Fsync(dfd);
  int err = errno;
  ::close(dfd);
  return rc == 0 ? Status::Ok() : ErrnoStatus("fsync", dir, err);
}

}  // namespace

Result<FrameScan> ScanFrames(Env& env, int fd, const std::string& path, uint64_t file_size,
                             uint64_t start, uint64_t first_seq, uint32_t seed, uint32_t version,
                             std::optional<uint64_t> next_base) {
  FrameCheck fc(env, fd, path, file_size);
  FrameScan out;
  FrameRun run{start, start, first_seq, 0, true, {}};
  uint64_t pos = start;
  while (true) {
    if (pos >= file_size) {
      out.end = file_size;
      break;
    }
    uint32_t len = 0;
    const bool ok = fc.Valid(pos, seed, fmt::kMaxPayloadBytes, &len);
    if (!fc.error().ok()) return fc.error();
    if (next_base && run.exact && run.seq + run.count >= *next_base) {
      // A sealed segment ends where the next one begins. In a reused file (version
      // 2) the bytes after its last frame are the file's earlier life, which never
      // validate: unused space, not damage. A valid frame there is an overlap.
      out.end = pos;
      if (!ok && version >= 2) {
        out.unused_rest = true;
      } else {
        out.end_reason =
            "records overlap the next segment (base seq " + std::to_string(*next_base) + ")";
      }
      break;
    }
    if (ok) {
      if (out.runs.empty() && run.count % kIndexInterval == 0) run.index.push_back(pos);
      ++run.count;
      pos += fmt::kFrameHeaderSize + len;
      continue;
    }
    std::string why = fc.Describe(pos, seed);
    std::optional<Resync> rs;
    if (pos + fmt::kFrameHeaderSize <= file_size) {
      rs = FindResync(fc, file_size, pos, run.seq + run.count, seed);
      if (!fc.error().ok()) return fc.error();
    }
    if (!rs) {
      out.end = pos;
      out.end_reason = std::move(why);
      break;
    }
    run.to = pos;
    out.runs.push_back(std::move(run));
    out.skipped.push_back({pos, rs->offset, std::move(why)});
    run = FrameRun{rs->offset, rs->offset, rs->seq, 0, rs->exact, {}};
    pos = rs->offset;
  }
  run.to = out.end;
  out.runs.push_back(std::move(run));
  if (next_base && out.runs.size() > 1) FitRuns(*next_base, &out);
  return out;
}

Result<bool> AnchoredFrameAt(Env& env, int fd, const std::string& path, uint64_t file_size,
                             uint64_t at, uint32_t seed) {
  FrameCheck fc(env, fd, path, file_size);
  bool ok = fc.Anchored(at, seed, fmt::kMaxPayloadBytes);
  if (!fc.error().ok()) return fc.error();
  return ok;
}

Result<std::vector<uint64_t>> WriteRuns(Env& env, int fd, const std::string& path,
                                        const std::string& dir, const FrameScan& scan,
                                        size_t first, uint32_t old_seed,
                                        const std::string& keep_original) {
  struct stat sb;
  if (::fstat(fd, &sb) != 0) return ErrnoStatus("stat", path, errno);
  FrameCheck fc(env, fd, path, static_cast<uint64_t>(sb.st_size));
  std::vector<uint64_t> bases;
  std::string out;
  for (size_t i = first; i < scan.runs.size(); ++i) {
    const FrameRun& run = scan.runs[i];
    if (run.count == 0) continue;
    const std::string tmp = JoinPath(dir, fmt::RebuiltFileName(run.seq));
    int wfd = env.Open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (wfd < 0) return ErrnoStatus("open", tmp, errno);
    const uint32_t seed = fmt::FrameSeed(fmt::kSegmentVersion, run.seq);
    out.resize(fmt::kSegmentHeaderSize);
    fmt::EncodeSegmentHeader(run.seq, out.data());
    uint64_t written = 0;
    int err = 0;
    auto flush = [&] {
      if (PwriteAll(env, wfd, out.data(), out.size(), written, &err) != out.size()) return false;
      written += out.size();
      out.clear();
      return true;
    };
    bool ok = true;
    for (uint64_t at = run.from; ok && at < run.to;) {
      uint32_t len = 0;
      if (!fc.Valid(at, old_seed, fmt::kMaxPayloadBytes, &len)) {
        err = fc.error().ok() ? EIO : 0;
        ok = false;
        break;
      }
      const char* f = fc.Frame(at, len);
      char header[fmt::kFrameHeaderSize];
      const std::string_view payload(f + fmt::kFrameHeaderSize, len);
      fmt::EncodeFrameHeader(fmt::FrameArrivalMs(f), payload, seed, header, fmt::FrameFlags(f));
      out.append(header, sizeof(header));
      out.append(payload);
      at += fmt::kFrameHeaderSize + len;
      if (out.size() >= kChunk) ok = flush();
    }
    if (ok) ok = flush();
    if (ok && env.Fdatasync(wfd) != 0) {
      err = errno;
      ok = false;
    }
    ::close(wfd);
    if (!ok) {
      env.Unlink(tmp.c_str());
      if (!fc.error().ok()) return fc.error();
      return ErrnoStatus("write", tmp, err);
    }
    bases.push_back(run.seq);
  }
  if (!keep_original.empty() && env.Rename(path.c_str(), keep_original.c_str()) != 0) {
    return ErrnoStatus("rename", path, errno);
  }
  for (uint64_t base : bases) {
    const std::string tmp = JoinPath(dir, fmt::RebuiltFileName(base));
    const std::string seg = JoinPath(dir, fmt::SegmentFileName(base));
    if (env.RenameNoReplace(tmp.c_str(), seg.c_str()) != 0) {
      if (errno != EEXIST) return ErrnoStatus("rename", tmp, errno);
      env.Unlink(tmp.c_str());  // placed by an earlier Open that then crashed
    }
  }
  HYDRANT_RETURN_IF_ERROR(SyncDirOf(env, dir));
  return bases;
}

Status KeepDamagedBytes(Env& env, int fd, const std::string& path, uint64_t from, uint64_t to,
                        const std::string& damaged_path) {
  int wfd = env.Open(damaged_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (wfd < 0) return ErrnoStatus("open", damaged_path, errno);
  std::string buf(static_cast<size_t>(std::min<uint64_t>(to - from, kChunk)), '\0');
  Status st;
  for (uint64_t at = from; st.ok() && at < to;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(to - at, buf.size()));
    ssize_t r = PreadAll(env, fd, buf.data(), n, at);
    if (r < 0) {
      st = ErrnoStatus("read", path, errno);
      break;
    }
    if (r == 0) break;  // the file is shorter than it was thought to be: keep what is there
    int err = 0;
    if (PwriteAll(env, wfd, buf.data(), static_cast<size_t>(r), at - from, &err) !=
        static_cast<size_t>(r)) {
      st = ErrnoStatus("write", damaged_path, err);
    }
    at += static_cast<uint64_t>(r);
  }
  if (st.ok() && env.Fdatasync(wfd) != 0) st = ErrnoStatus("fdatasync", damaged_path, errno);
  ::close(wfd);
  return st;
}

Result<bool> FinishRebuilt(Env& env, const std::string& dir, uint64_t base) {
  const std::string tmp = JoinPath(dir, fmt::RebuiltFileName(base));
  const std::string seg = JoinPath(dir, fmt::SegmentFileName(base));
  if (env.RenameNoReplace(tmp.c_str(), seg.c_str()) == 0) return true;
  if (errno != EEXIST) return ErrnoStatus("rename", tmp, errno);
  if (env.Unlink(tmp.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", tmp, errno);
  return false;
}

}  // namespace hydrant::buffer
