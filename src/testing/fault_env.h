#pragma once
// FaultEnv: an Env for tests that passes every call to a base Env and fails the
// calls it is told to fail, with the errno it is told: the next fdatasync with
// EIO, every write with ENOSPC, a disk that fills up after N more bytes. A failed
// call never reaches the base (nothing is written, synced or renamed), except the
// one write that fills the disk, which writes the part that still fits, as a
// kernel does.
//
// Thread-safe; the base must outlive it. Meant for tests: each call takes a mutex.

#include <array>
#include <cstdint>
#include <mutex>

#include "common/env.h"

namespace hydrant {

class FaultEnv : public Env {
 public:
  // The calls that can be made to fail. kRename covers Rename and RenameNoReplace.
  enum class Op {
    kOpen, kPwrite, kPread, kFdatasync, kFsync, kFtruncate, kRename, kUnlink, kSyncFileRange
  };

  explicit FaultEnv(Env* base = Env::Default()) : base_(base) {}

  // The next `times` calls of op fail with err; the ones after pass through.
  void FailNext(Op op, int err, int times = 1);
  // Every call of op fails with err, until Clear(op).
  void FailAlways(Op op, int err);
  // op passes through again (for kPwrite, the space limit goes too).
  void Clear(Op op);
  // A disk with `bytes` free: writes pass through until they total `bytes`; the
  // write that crosses the limit writes only what fits (a short write) and every
  // later write fails with ENOSPC, until Clear(Op::kPwrite).
  void LimitSpace(uint64_t bytes);
  // Calls of op made so far, failed ones included.
  uint64_t calls(Op op) const;

  int Open(const char* path, int flags, mode_t mode) override;
  ssize_t Pwrite(int fd, const void* data, size_t n, off_t offset) override;
  ssize_t Pread(int fd, void* data, size_t n, off_t offset) override;
  int Fdatasync(int fd) override;
  int Fsync(int fd) override;
  int Ftruncate(int fd, off_t size) override;
  int Rename(const char* from, const char* to) override;
  int RenameNoReplace(const char* from, const char* to) override;
  int Unlink(const char* path) override;
  int SyncFileRange(int fd, off_t offset, off_t nbytes, unsigned flags) override;

 private:
  static constexpr size_t kOps = static_cast<size_t>(Op::kSyncFileRange) + 1;
  struct Fault {
    int err = 0;    // 0: no fault
    int times = 0;  // calls left to fail; < 0: every call
    uint64_t calls = 0;
  };

  // Counts the call; true (errno set) when it must fail.
  bool Failed(Op op);

  Env* const base_;
  mutable std::mutex mu_;
  std::array<Fault, kOps> faults_{};
  bool space_limited_ = false;
  uint64_t space_left_ = 0;
};

}  // namespace hydrant
