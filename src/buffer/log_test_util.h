#pragma once
// Helpers shared by the buffer module's tests (not part of the library):
// temporary directories, reading a whole log back, and damaging files on purpose.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "buffer/stream_log.h"

namespace hydrant::buffer::testing {

// A fresh directory under TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/hydrant-buffer-XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    if (p) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct Rec {
  uint64_t seq;
  int64_t arrival_ms;
  std::string data;
  bool operator==(const Rec&) const = default;
};

// Every record with seq >= from, read in one call.
inline std::vector<Rec> ReadAll(const StreamLog& log, uint64_t from = 0, Status* status = nullptr) {
  std::vector<Rec> out;
  Status st = log.Read(from, UINT64_MAX, [&](const LogRecord& r) {
    out.push_back(Rec{r.seq, r.arrival_ms, std::string(r.data)});
    return true;
  });
  if (status) *status = st;
  return out;
}

// Deterministic content for seq: its size varies with seq, and every byte depends on it.
inline std::string PayloadFor(uint64_t seq, size_t max_size = 300) {
  size_t n = static_cast<size_t>((seq * 7919u) % (max_size + 1));
  std::string s(n, '\0');
  uint64_t x = seq * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s[i] = static_cast<char>(x);
  }
  return s;
}

// Segment files of a log directory, sorted by name (= by base seq).
inline std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() == 24 && name.ends_with(".log")) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline uint64_t FileSize(const std::string& path) { return std::filesystem::file_size(path); }

inline std::string ReadFile(const std::string& path) {
  std::string s(FileSize(path), '\0');
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return "";
  ssize_t r = ::pread(fd, s.data(), s.size(), 0);
  ::close(fd);
  s.resize(r < 0 ? 0 : static_cast<size_t>(r));
  return s;
}

// Writes bytes at offset, creating the file if needed.
inline void WriteAt(const std::string& path, uint64_t offset, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  if (fd < 0) std::abort();
  if (::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)) !=
      static_cast<ssize_t>(bytes.size())) {
    std::abort();
  }
  ::close(fd);
}

inline void FlipByte(const std::string& path, uint64_t offset) {
  std::string b = ReadFile(path).substr(offset, 1);
  b[0] = static_cast<char>(b[0] ^ 0x5a);
  WriteAt(path, offset, b);
}

inline void TruncateFile(const std::string& path, uint64_t size) {
  std::filesystem::resize_file(path, size);
}

inline std::string SegmentName(uint64_t base) {
  std::string digits = std::to_string(base);
  return std::string(20 - digits.size(), '0') + digits + ".log";
}

}  // namespace hydrant::buffer::testing
