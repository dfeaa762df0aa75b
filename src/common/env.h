#pragma once
// Env: the file-system calls whose failures a durable store must handle, behind
// one seam (in the manner of leveldb's Env). Production code calls Env::Default(),
// which goes straight to the OS; tests pass a testing/fault_env.h FaultEnv to make
// chosen calls fail (EIO on fdatasync, ENOSPC on write, ...) and check that the
// failure is handled as the caller's contract says.
//
// Contract: each method behaves like the POSIX call of the same name: it returns
// what that call returns and sets errno when it fails. None retries on EINTR or
// after a short write; callers loop as they would around the system call. Only
// calls whose failure changes what the caller does are here: close, fstat, flock
// and directory listings go to the OS directly. Implementations are thread-safe,
// and the cost is one virtual call per system call (never per record).

#include <fcntl.h>
#include <sys/types.h>

#include <cstddef>

namespace hydrant {

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX implementation; lives for the whole process.
  static Env* Default();

  virtual int Open(const char* path, int flags, mode_t mode = 0) = 0;
  virtual ssize_t Pwrite(int fd, const void* data, size_t n, off_t offset) = 0;
  virtual ssize_t Pread(int fd, void* data, size_t n, off_t offset) = 0;
  virtual int Fdatasync(int fd) = 0;
  // Files and directories (a directory's fsync makes the names in it durable).
  virtual int Fsync(int fd) = 0;
  virtual int Ftruncate(int fd, off_t size) = 0;
  virtual int Rename(const char* from, const char* to) = 0;
  // Rename that fails with EEXIST instead of replacing `to` (renameat2 with
  // RENAME_NOREPLACE).
  virtual int RenameNoReplace(const char* from, const char* to) = 0;
  virtual int Unlink(const char* path) = 0;
  // Starts or waits for the write-back of a range of a file (Linux).
  virtual int SyncFileRange(int fd, off_t offset, off_t nbytes, unsigned flags) = 0;
};

}  // namespace hydrant
