// Reused segment files (docs/wal-format.md, "Reused segment files"): a delivered
// segment's file is kept, renamed to a free file, and written over by a later
// segment instead of being deleted, so the log's fdatasync never waits for block
// allocation. Kept files are charged to the disk quota and dropped under pressure.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "buffer/log_format.h"
#include "buffer/stream_log_impl.h"

namespace hydrant::buffer {

namespace fmt = log_format;

Status StreamLog::Impl::ReuseFreeFileLocked(Segment* seg) {
  while (!free_files.empty()) {
    FreeFile kept = std::move(free_files.back());
    free_files.pop_back();
    free_bytes -= kept.bytes;
    // From here on the file is charged as a segment, by Append, as it fills.
    if (opts.quota) opts.quota->Release(kept.bytes);
    const std::string& from = kept.path;
    // Never replace an existing file, as O_EXCL does for a new one.
    if (env->RenameNoReplace(from.c_str(), seg->path.c_str()) != 0) {
      int err = errno;
      spdlog::warn("log={} event=segment_reuse_failed path={} error=\"{}\"", dir, from,
                   std::strerror(err));
      if (err == EEXIST) {
        env->Unlink(from.c_str());
        return Status::Ok();  // the create below reports the name that exists
      }
      env->Unlink(from.c_str());
      continue;
    }
    seg->fd = env->Open(seg->path.c_str(), O_RDWR | O_CLOEXEC);
    if (seg->fd < 0) {
      Status st = ErrnoStatus("open", seg->path, errno);
      env->Unlink(seg->path.c_str());
      return st;
    }
    return Status::Ok();
  }
  return Status::Ok();
}

bool StreamLog::Impl::KeepForReuse(std::shared_ptr<Segment>& seg) {
  if (seg.use_count() != 1) return false;
  struct stat sb;
  if ((seg->fd >= 0 ? ::fstat(seg->fd, &sb) : ::stat(seg->path.c_str(), &sb)) != 0) return false;
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
  if (env->Rename(seg->path.c_str(), to.c_str()) != 0) {
    if (opts.quota) opts.quota->Release(bytes);
    return false;
  }
  std::lock_guard l(mu);
  free_files.push_back(FreeFile{std::move(to), bytes});
  free_bytes += bytes;
  return true;
}

void StreamLog::Impl::DropFreeFilesLocked() {
  for (const FreeFile& f : free_files) env->Unlink(f.path.c_str());
  if (opts.quota && free_bytes > 0) opts.quota->Release(free_bytes);
  free_files.clear();
  free_bytes = 0;
}

void StreamLog::Impl::AdoptFreeFiles(const std::vector<uint64_t>& free_numbers,
                                     bool have_checkpoint) {
  // Files kept for reuse by the previous process stay kept, up to the limit and
  // while the quota has room for them. Not when the checkpoint was lost: seqs may
  // then start again at a base that a kept file's earlier life had, with the same
  // checksum seed.
  for (uint64_t n : free_numbers) {
    std::string path = JoinPath(dir, fmt::FreeFileName(n));
    struct stat sb;
    bool keep = have_checkpoint && free_files.size() < opts.reuse_segments &&
                ::stat(path.c_str(), &sb) == 0;
    const uint64_t bytes = keep ? static_cast<uint64_t>(sb.st_size) : 0;
    if (keep && opts.quota && !opts.quota->TryReserve(bytes)) keep = false;
    if (keep) {
      free_bytes += bytes;
      free_files.push_back(FreeFile{std::move(path), bytes});
    } else {
      env->Unlink(path.c_str());
    }
    next_free_number = n + 1;
  }
}

}  // namespace hydrant::buffer
