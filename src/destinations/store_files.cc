#include "destinations/store_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/file_util.h"

namespace hydrant::store {
namespace {
constexpr size_t kCopyChunk = 1 << 20;  // read/write fallback of the part concatenation
}  // namespace

Status WriteFileSynced(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + path, errno);
  Status st = fs::WriteAll(fd, data, path);
  if (st.ok() && ::fsync(fd) != 0) st = Status::FromErrno("fsync " + path, errno);
  ::close(fd);
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  auto r = fs::ReadFile(path, 1u << 20);  // metadata is small; refuse runaway files
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
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
      st = fs::WriteAll(out_fd, std::string_view(buf.data(), static_cast<size_t>(n)), out_path);
      left -= static_cast<uint64_t>(n);
    }
  }
  ::close(in);
  return st;
}

}  // namespace hydrant::store
