// StreamLog's open files: sealed segments are open only while used, an idle log
// (ReleaseIdleFiles) holds none, and everything works again after a release.

#include <dirent.h>

#include <gtest/gtest.h>

#include "buffer/log_test_util.h"
#include "buffer/stream_log.h"

namespace hydrant::buffer {
namespace {

using testing::PayloadFor;
using testing::ReadAll;
using testing::TempDir;

// fds of this process, counted in /proc/self/fd.
size_t ProcessFds() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return 0;
  while (struct dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the listing's own fd
}

void AppendRange(StreamLog& log, uint64_t from, uint64_t to) {
  for (uint64_t seq = from; seq < to; ++seq) {
    std::string p = PayloadFor(seq, 2000);
    std::string_view v[] = {p};
    ASSERT_TRUE(log.Append(1000 + static_cast<int64_t>(seq), v).ok());
  }
}

LogOptions SmallSegments() {
  LogOptions o;
  o.segment_target_bytes = 16 << 10;  // many segments
  o.lock_dir = false;
  return o;
}

TEST(StreamLogFilesTest, IdleLogHoldsNoFilesAndReopensWhatItNeeds) {
  TempDir dir;
  const size_t before = ProcessFds();
  auto log = StreamLog::Open(dir.Sub("log"), SmallSegments(), nullptr).value();
  AppendRange(*log, 0, 200);
  ASSERT_TRUE(log->Sync().ok());
  // Synced sealed segments are closed: only the active segment (and Open's folder
  // fd) stay.
  EXPECT_LE(log->open_files(), 2u);
  log->ReleaseIdleFiles();
  EXPECT_EQ(log->open_files(), 0u);
  EXPECT_EQ(ProcessFds(), before);

  // A Read opens the sealed segments it passes and closes them again.
  auto all = ReadAll(*log);
  ASSERT_EQ(all.size(), 200u);
  EXPECT_EQ(all[150].data, PayloadFor(150, 2000));
  EXPECT_LE(log->open_files(), 1u);  // at most the active segment

  // Append and Sync after a release reopen the active segment.
  log->ReleaseIdleFiles();
  AppendRange(*log, 200, 210);
  ASSERT_TRUE(log->Sync().ok());
  ASSERT_TRUE(log->MarkDelivered(100).ok());
  log->ReleaseIdleFiles();
  EXPECT_EQ(ProcessFds(), before);
  EXPECT_EQ(ReadAll(*log, 100).size(), 110u);
  log.reset();

  // Recovery opens every segment; a release right after leaves none open.
  RecoveryReport report;
  log = StreamLog::Open(dir.Sub("log"), SmallSegments(), &report).value();
  EXPECT_EQ(report.records_recovered, 110u);
  log->ReleaseIdleFiles();
  EXPECT_EQ(log->open_files(), 0u);
  EXPECT_EQ(ProcessFds(), before);
  auto again = ReadAll(*log, 100);
  ASSERT_EQ(again.size(), 110u);
  EXPECT_EQ(again.back().data, PayloadFor(209, 2000));
}

TEST(StreamLogFilesTest, LockDirIsWhatMakesASecondOpenFail) {
  TempDir dir;
  LogOptions locked;
  auto first = StreamLog::Open(dir.Sub("log"), locked, nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(StreamLog::Open(dir.Sub("log"), locked, nullptr).status().code(),
            StatusCode::kUnavailable);
  (*first)->ReleaseIdleFiles();  // the lock is kept: it is not an idle file
  EXPECT_EQ((*first)->open_files(), 1u);
  EXPECT_EQ(StreamLog::Open(dir.Sub("log"), locked, nullptr).status().code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace hydrant::buffer
