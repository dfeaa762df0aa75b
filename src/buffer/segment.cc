#include "buffer/segment.h"

#include "buffer/disk_quota.h"

#include <algorithm>
#include <cerrno>

namespace hydrant::buffer {

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string m(what);
  m += ' ';
  m += path;
  if (err == ENOSPC || err == EDQUOT) {
    return Status::ResourceExhausted(Status::FromErrno(m, err).message())
        .WithErrorCode(kDiskFullErrorCode);
  }
  return Status::FromErrno(m, err);
}

size_t PwriteAll(Env& env, int fd, const char* data, size_t n, uint64_t offset, int* err) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = env.Pwrite(fd, data + done, n - done, static_cast<off_t>(offset + done));
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

ssize_t PreadAll(Env& env, int fd, char* data, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = env.Pread(fd, data + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

std::string JoinPath(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (p.empty() || p.back() != '/') p += '/';
  p += name;
  return p;
}

}  // namespace hydrant::buffer
