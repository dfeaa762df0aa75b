#include "destinations/store_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace hydrant::store {
namespace {
constexpr size_t kCopyChunk = 1 << 20;  // read/write fallback of the part concatenation
}  // namespace

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno("fsync " + path, err);
  return Status::Ok();
}

Status WriteFileSynced(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + path, errno);
  Status st = WriteAll(fd, data, path);
  if (st.ok() && ::fsync(fd) != 0) st = Status::FromErrno("fsync " + path, errno);
  ::close(fd);
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;  // metadata is small; refuse runaway files
  }
  ::close(fd);
  return out;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status AppendFile(int out_fd, const std::string& src, uint64_t size, const std::string& out_path) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::FromErrno("open " + src, errno);
  uint64_t left = size;
  bool kernel_copy = true;
  std::string buf;
  Status st;
  while (left > 0 && st.ok()) {
    if (kernel_copy) {
      ssize_t n = ::copy_file_range(in, nullptr, out_fd, nullptr,
                                    static_cast<size_t>(std::min<uint64_t>(left, 1u << 30)), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
                    errno == EPERM)) {
        kernel_copy = false;  // file offsets are where they were: go on by hand
        continue;
      }
      if (n < 0) {
        st = Status::FromErrno("copy " + src + " to " + out_path, errno);
      } else if (n == 0) {
        st = Status::IoError(src + " is shorter than recorded");
      } else {
        left -= static_cast<uint64_t>(n);
      }
      continue;
    }
    if (buf.empty()) buf.resize(kCopyChunk);
    ssize_t n = ::read(in, buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Status::FromErrno("read " + src, errno);
    } else if (n == 0) {
      st = Status::IoError(src + " is shorter than recorded");
    } else {
      st = WriteAll(out_fd, std::string_view(buf.data(), static_cast<size_t>(n)), out_path);
      left -= static_cast<uint64_t>(n);
    }
  }
  ::close(in);
  return st;
}

}  // namespace hydrant::store
