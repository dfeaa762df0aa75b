#pragma once
// Helpers shared by the buffer module's tests (not part of the library):
// reading a whole log back and damaging files on purpose (temporary directories
// come from the test-support library, testing/temp_dir.h).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "buffer/stream_log.h"
#include "testing/temp_dir.h"

namespace hydrant::buffer::testing {

using ::hydrant::testing::TempDir;

struct Rec {
  uint64_t seq;
  int64_t arrival_ms;
  std::string data;
  bool operator==(const Rec&) const = default;
};

// Every record with seq >= from, read in one call.
inline std::vector<Rec> ReadAll(const RecordLog& log, uint64_t from = 0, Status* status = nullptr) {
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

// ---- logs of 100-byte records (recovery_test.cc, segment_reuse_test.cc) ----

inline constexpr uint64_t kHeader = 20;
inline constexpr uint64_t kFrame = 16 + 100;  // every record has a 100-byte payload

inline uint64_t FrameOffset(uint64_t index) { return kHeader + kFrame * index; }
// Options that start a new segment every ten such records.
inline LogOptions TenPerSegment() {
  LogOptions o;
  o.segment_target_bytes = FrameOffset(10);
  return o;
}

// 100 bytes that name their seq. All the same size: in a reused file the frames of
// the earlier life then sit exactly where the new life's next frame would start.
inline std::string FixedPayload(uint64_t seq) {
  std::string s = "record-" + std::to_string(seq) + "-";
  s.resize(100, static_cast<char>('a' + seq % 26));
  return s;
}

inline std::unique_ptr<StreamLog> OpenLog(const std::string& dir, LogOptions opts = {},
                                          RecoveryReport* report = nullptr) {
  auto r = StreamLog::Open(dir, opts, report);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// The seqs of recs, checking that each holds FixedPayload(seq).
inline std::vector<uint64_t> Seqs(const std::vector<Rec>& recs) {
  std::vector<uint64_t> out;
  for (const auto& r : recs) {
    EXPECT_EQ(r.data, FixedPayload(r.seq)) << "seq " << r.seq;
    out.push_back(r.seq);
  }
  return out;
}

inline std::vector<uint64_t> Range(uint64_t a, uint64_t b) {
  std::vector<uint64_t> out;
  for (uint64_t i = a; i < b; ++i) out.push_back(i);
  return out;
}

inline std::string Joined(const RecoveryReport& r) {
  std::string s;
  for (const auto& p : r.problems) s += p + "\n";
  return s;
}

// Little-endian fields, decoded here rather than with log_format.h.
inline uint32_t Le32(const std::string& s, size_t at) {
  return uint32_t(uint8_t(s[at])) | uint32_t(uint8_t(s[at + 1])) << 8 |
         uint32_t(uint8_t(s[at + 2])) << 16 | uint32_t(uint8_t(s[at + 3])) << 24;
}
inline uint64_t Le64(const std::string& s, size_t at) {
  return uint64_t(Le32(s, at)) | uint64_t(Le32(s, at + 4)) << 32;
}

}  // namespace hydrant::buffer::testing
