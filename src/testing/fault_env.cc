#include "testing/fault_env.h"

#include <cerrno>

namespace hydrant {

void FaultEnv::FailNext(Op op, int err, int times) {
  std::lock_guard l(mu_);
  Fault& f = faults_[static_cast<size_t>(op)];
  f.err = err;
  f.times = times;
}

void FaultEnv::FailAlways(Op op, int err) { FailNext(op, err, -1); }

void FaultEnv::Clear(Op op) {
  std::lock_guard l(mu_);
  Fault& f = faults_[static_cast<size_t>(op)];
  f.err = 0;
  f.times = 0;
  if (op == Op::kPwrite) space_limited_ = false;
}

void FaultEnv::LimitSpace(uint64_t bytes) {
  std::lock_guard l(mu_);
  space_limited_ = true;
  space_left_ = bytes;
}

uint64_t FaultEnv::calls(Op op) const {
  std::lock_guard l(mu_);
  return faults_[static_cast<size_t>(op)].calls;
}

bool FaultEnv::Failed(Op op) {
  std::lock_guard l(mu_);
  Fault& f = faults_[static_cast<size_t>(op)];
  ++f.calls;
  if (f.err == 0 || f.times == 0) return false;
  if (f.times > 0) --f.times;
  errno = f.err;
  return true;
}

int FaultEnv::Open(const char* path, int flags, mode_t mode) {
  if (Failed(Op::kOpen)) return -1;
  return base_->Open(path, flags, mode);
}

ssize_t FaultEnv::Pwrite(int fd, const void* data, size_t n, off_t offset) {
  if (Failed(Op::kPwrite)) return -1;
  {
    std::lock_guard l(mu_);
    if (space_limited_) {
      if (space_left_ == 0 && n > 0) {
        errno = ENOSPC;
        return -1;
      }
      if (n > space_left_) n = static_cast<size_t>(space_left_);
      space_left_ -= n;
    }
  }
  return base_->Pwrite(fd, data, n, offset);
}

ssize_t FaultEnv::Pread(int fd, void* data, size_t n, off_t offset) {
  if (Failed(Op::kPread)) return -1;
  return base_->Pread(fd, data, n, offset);
}

int FaultEnv::Fdatasync(int fd) {
  if (Failed(Op::kFdatasync)) return -1;
  return base_->Fdatasync(fd);
}

int FaultEnv::Fsync(int fd) {
  if (Failed(Op::kFsync)) return -1;
  return base_->Fsync(fd);
}

int FaultEnv::Ftruncate(int fd, off_t size) {
  if (Failed(Op::kFtruncate)) return -1;
  return base_->Ftruncate(fd, size);
}

int FaultEnv::Rename(const char* from, const char* to) {
  if (Failed(Op::kRename)) return -1;
  return base_->Rename(from, to);
}

int FaultEnv::RenameNoReplace(const char* from, const char* to) {
  if (Failed(Op::kRename)) return -1;
  return base_->RenameNoReplace(from, to);
}

int FaultEnv::Unlink(const char* path) {
  if (Failed(Op::kUnlink)) return -1;
  return base_->Unlink(path);
}

int FaultEnv::SyncFileRange(int fd, off_t offset, off_t nbytes, unsigned flags) {
  if (Failed(Op::kSyncFileRange)) return -1;
  return base_->SyncFileRange(fd, offset, nbytes, flags);
}

}  // namespace hydrant
