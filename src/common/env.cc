#include "common/env.h"

#include <stdio.h>
#include <unistd.h>

namespace hydrant {

namespace {

// Each call is the system call itself.
class PosixEnv final : public Env {
 public:
  int Open(const char* path, int flags, mode_t mode) override { return ::open(path, flags, mode); }
  ssize_t Pwrite(int fd, const void* data, size_t n, off_t offset) override {
    return ::pwrite(fd, data, n, offset);
  }
  ssize_t Pread(int fd, void* data, size_t n, off_t offset) override {
    return ::pread(fd, data, n, offset);
  }
  int Fdatasync(int fd) override { return ::fdatasync(fd); }
  int Fsync(int fd) override { return ::fsync(fd); }
  int Ftruncate(int fd, off_t size) override { return ::ftruncate(fd, size); }
  int Rename(const char* from, const char* to) override { return ::rename(from, to); }
  int RenameNoReplace(const char* from, const char* to) override {
    return ::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
  }
  int Unlink(const char* path) override { return ::unlink(path); }
  int SyncFileRange(int fd, off_t offset, off_t nbytes, unsigned flags) override {
    return ::sync_file_range(fd, offset, nbytes, flags);
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

}  // namespace hydrant
