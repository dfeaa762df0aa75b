#pragma once
// TempFile: a new file in the store's .tmp folder that an object or a part is
// written to before it is published (destinations/object_store.h), with its MD5
// computed on the way and its write-back bounded (below). Not thread-safe: one
// writer writes, then calls Finish once.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/env.h"
#include "common/status.h"
#include "destinations/md5_stream.h"

namespace hydrant::store {

// Bytes gathered before a write(2).
inline constexpr size_t kWriteBuffer = 256 * 1024;
// An object's data is written back in steps of this size: each step's writeback is
// started, and the step before it waited for, before more is written (TempFile), so
// at most two steps of the object are dirty at any time (docs/architecture.md,
// "Object writes and the log's fdatasync").
inline constexpr uint64_t kWritebackStep = 1 << 20;

// A new file (in .tmp) written through a 256 KiB buffer, its MD5 computed on
// the way (beside the writes, on a helper thread, for large files: Md5Stream).
// Unlinked on destruction unless Keep() says it was moved elsewhere.
//
// Bounded writeback: every kWritebackStep bytes, the step just written is handed
// to the disk (sync_file_range WRITE) and the step before it is waited for
// (WAIT_BEFORE|WRITE|WAIT_AFTER) before more is written. Without it the kernel
// writes a large object back in big bursts and the final fsync flushes the rest at once; either
// fills the device queue, and a stream log's fdatasync issued meanwhile waits behind up to the
// whole object (tens of ms; measured in docs/architecture.md). sync_file_range makes nothing
// durable by itself (no metadata, no cache flush): Finish() still fsyncs, with
// almost nothing left to write. Where sync_file_range is not supported the file
// is simply written and fsynced as before.
class TempFile {
 public:
  // Takes ownership of `fd`, open for writing on the new, empty file `path`. Writes,
  // write-back and fsync go through `env` (common/env.h; must outlive this).
  TempFile(Env* env, int fd, std::string path);
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();

  Status Write(std::string_view bytes);
  // Flushes, fsyncs and closes the file; returns the raw MD5 of what was written.
  Result<std::string> Finish();

  void Keep() { kept_ = true; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  Status Flush();
  // Hashes, then writes at the end of the file, a writeback step at a time.
  Status WriteOut(std::string_view data);
  // Starts the writeback of the step just written, then waits for the one before
  // (so the disk always has the next step queued: full write speed, with at most
  // two steps in flight).
  Status WriteBackStep();

  Env* env_;
  int fd_;
  std::string path_;
  Md5Stream md5_;
  std::string buf_;
  uint64_t size_ = 0;
  uint64_t written_ = 0;  // bytes written to the file
  uint64_t synced_ = 0;   // bytes whose writeback was started and waited for
  bool step_writeback_ = true;
  bool done_ = false;
  bool kept_ = false;
  Status error_;
};

}  // namespace hydrant::store
