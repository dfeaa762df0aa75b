// Failures of the file system, injected through testing/fault_env.h, and what the
// log promises about them (buffer/stream_log.h, docs/wal-format.md):
//  - a failed fdatasync or directory fsync fails the log: every later Append and
//    Sync returns IoError, even though a retry might succeed (the kernel may have
//    dropped the dirty pages);
//  - a write refused for lack of space (ENOSPC, EDQUOT) is ResourceExhausted with
//    kDiskFullErrorCode (the put's "Slow down."); the part that was written is cut
//    off again, so the log, and a crash image of it, holds only whole records, and
//    appends go on when there is space again;
//  - a short write that cannot be cut off fails the log.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "buffer/log_test_util.h"
#include "buffer/stream_log.h"
#include "testing/fault_env.h"

namespace hydrant::buffer {
namespace {

using testing::FileSize;
using testing::FixedPayload;
using testing::kFrame;
using testing::OpenLog;
using testing::Range;
using testing::ReadAll;
using testing::SegmentFiles;
using testing::Seqs;
using testing::TempDir;
using testing::TenPerSegment;
using Op = FaultEnv::Op;

// Appends FixedPayload(seq) for seq in [next_seq, next_seq + n) in one call.
Result<uint64_t> AppendFixed(StreamLog& log, uint64_t n) {
  std::vector<std::string> owned;
  for (uint64_t i = 0; i < n; ++i) owned.push_back(FixedPayload(log.next_seq() + i));
  std::vector<std::string_view> views(owned.begin(), owned.end());
  return log.Append(1, views);
}

bool Mentions(const Status& st, const std::string& text) {
  return st.message().find(text) != std::string::npos;
}

// What a crash would leave now: the log's files as the OS has them.
void CopyFiles(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    std::filesystem::copy_file(e.path(), std::filesystem::path(to) / e.path().filename());
  }
}

// Checks that the log failed for good: Append and Sync return IoError and make no
// further fdatasync or fsync.
void ExpectFailedForGood(StreamLog& log, FaultEnv& env) {
  const uint64_t fdatasyncs = env.calls(Op::kFdatasync);
  const uint64_t fsyncs = env.calls(Op::kFsync);
  for (int i = 0; i < 2; ++i) {
    Status st = log.Sync();
    EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
    EXPECT_TRUE(Mentions(st, "failed")) << st.ToString();
    auto r = AppendFixed(log, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().ToString();
  }
  EXPECT_EQ(env.calls(Op::kFdatasync), fdatasyncs);
  EXPECT_EQ(env.calls(Op::kFsync), fsyncs);
}

// A log in a fresh directory whose file-system calls go through env_.
class StreamLogFaultTest : public ::testing::Test {
 protected:
  std::unique_ptr<StreamLog> Open(LogOptions opts = {}, RecoveryReport* report = nullptr) {
    opts.env = &env_;
    return OpenLog(dir_, opts, report);
  }

  TempDir tmp_;
  const std::string dir_ = tmp_.Sub("log");
  FaultEnv env_;
};

TEST_F(StreamLogFaultTest, FailedFdatasyncFailsEveryLaterAppendAndSync) {
  auto log = Open();
  ASSERT_TRUE(AppendFixed(*log, 2).ok());
  ASSERT_TRUE(log->Sync().ok());
  ASSERT_TRUE(AppendFixed(*log, 1).ok());

  env_.FailNext(Op::kFdatasync, EIO);  // only this one: a retry would succeed
  Status st = log->Sync();
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
  EXPECT_TRUE(Mentions(st, "fdatasync")) << st.ToString();
  EXPECT_TRUE(Mentions(st, std::strerror(EIO))) << st.ToString();
  ExpectFailedForGood(*log, env_);
  EXPECT_EQ(log->next_seq(), 3u);
  // A failed log stays readable (delivery may go on with what is there).
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 3));
}

TEST_F(StreamLogFaultTest, FailedDirectoryFsyncAtTheFirstSyncFailsTheLog) {
  auto log = Open();
  ASSERT_TRUE(AppendFixed(*log, 1).ok());  // starts the first segment: a new name

  env_.FailNext(Op::kFsync, EIO);
  Status st = log->Sync();
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
  EXPECT_TRUE(Mentions(st, "fsync " + dir_)) << st.ToString();
  ExpectFailedForGood(*log, env_);
}

TEST_F(StreamLogFaultTest, FailedDirectoryFsyncAfterARotationFailsTheLog) {
  auto log = Open(TenPerSegment());
  ASSERT_TRUE(AppendFixed(*log, 10).ok());
  ASSERT_TRUE(log->Sync().ok());
  ASSERT_TRUE(AppendFixed(*log, 1).ok());  // rotates: a second segment file
  ASSERT_EQ(SegmentFiles(dir_).size(), 2u);

  env_.FailNext(Op::kFsync, EIO);
  Status st = log->Sync();
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
  ExpectFailedForGood(*log, env_);
}

TEST_F(StreamLogFaultTest, FailedDirectoryFsyncOfTheCheckpointFailsTheLog) {
  auto log = Open();
  ASSERT_TRUE(AppendFixed(*log, 3).ok());
  ASSERT_TRUE(log->Sync().ok());

  // The rename of CHECKPOINT may be lost; so may a segment's name that the next
  // Sync's fsync would then wrongly report durable.
  env_.FailNext(Op::kFsync, EIO);
  Status st = log->MarkDelivered(2);
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.ToString();
  ExpectFailedForGood(*log, env_);
}

TEST_F(StreamLogFaultTest, EnospcOnAppendIsDiskFullAndLeavesOnlyWholeRecords) {
  DiskQuota quota(1 << 20);
  LogOptions opts;
  opts.quota = &quota;
  auto log = Open(opts);
  ASSERT_TRUE(AppendFixed(*log, 3).ok());
  ASSERT_TRUE(log->Sync().ok());
  const std::string segment = SegmentFiles(dir_).at(0);
  const uint64_t size = FileSize(segment);

  // Room for one frame and a half of the next: a short write, then ENOSPC.
  env_.LimitSpace(kFrame + 50);
  auto r = AppendFixed(*log, 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_EQ(r.status().error_code(), kDiskFullErrorCode);
  EXPECT_TRUE(Mentions(r.status(), std::strerror(ENOSPC))) << r.status().ToString();
  EXPECT_TRUE(Mentions(r.status(), segment)) << r.status().ToString();
  EXPECT_EQ(log->next_seq(), 3u);
  EXPECT_EQ(FileSize(segment), size);  // the frame and a half written are cut off again
  EXPECT_EQ(log->disk_bytes(), size);
  EXPECT_EQ(quota.used(), size);  // the refused records' charge is given back
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 3));

  // A crash now: the files hold only whole records.
  CopyFiles(dir_, tmp_.Sub("crash-image"));
  {
    RecoveryReport report;
    auto image = OpenLog(tmp_.Sub("crash-image"), {}, &report);
    ASSERT_TRUE(image);
    EXPECT_TRUE(report.problems.empty()) << testing::Joined(report);
    EXPECT_EQ(report.bytes_truncated, 0u);
    EXPECT_EQ(Seqs(ReadAll(*image)), Range(0, 3));
  }

  // ENOSPC does not fail the log: with space again, appends go on.
  env_.Clear(Op::kPwrite);
  auto again = AppendFixed(*log, 2);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 3u);
  ASSERT_TRUE(log->Sync().ok());
  log.reset();
  RecoveryReport report;
  log = Open(opts, &report);
  EXPECT_TRUE(report.problems.empty()) << testing::Joined(report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 5));
}

TEST_F(StreamLogFaultTest, ShortWriteThatCannotBeCutOffFailsTheLog) {
  auto log = Open();
  ASSERT_TRUE(AppendFixed(*log, 1).ok());
  ASSERT_TRUE(log->Sync().ok());

  env_.LimitSpace(50);
  env_.FailNext(Op::kFtruncate, EIO);
  auto r = AppendFixed(*log, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().ToString();
  EXPECT_TRUE(Mentions(r.status(), "could not roll back")) << r.status().ToString();
  env_.Clear(Op::kPwrite);
  ExpectFailedForGood(*log, env_);
}

TEST_F(StreamLogFaultTest, EnospcWhenStartingASegmentLeavesNoFile) {
  DiskQuota quota(1 << 20);
  LogOptions opts = TenPerSegment();
  opts.quota = &quota;
  auto log = Open(opts);
  ASSERT_TRUE(AppendFixed(*log, 10).ok());
  const uint64_t bytes = log->disk_bytes();

  env_.FailNext(Op::kPwrite, ENOSPC);  // the new segment's header
  auto r = AppendFixed(*log, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_EQ(r.status().error_code(), kDiskFullErrorCode);
  EXPECT_EQ(SegmentFiles(dir_).size(), 1u);
  EXPECT_EQ(log->disk_bytes(), bytes);
  EXPECT_EQ(quota.used(), bytes);

  auto again = AppendFixed(*log, 1);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 10u);
  ASSERT_TRUE(log->Sync().ok());
  EXPECT_EQ(SegmentFiles(dir_).size(), 2u);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 11));
}

TEST_F(StreamLogFaultTest, EdquotIsDiskFullToo) {
  auto log = Open();
  env_.FailNext(Op::kPwrite, EDQUOT);
  auto r = AppendFixed(*log, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_EQ(r.status().error_code(), kDiskFullErrorCode);
  auto again = AppendFixed(*log, 1);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0u);
}

}  // namespace
}  // namespace hydrant::buffer
