// Reused segment files (docs/wal-format.md, "Reused segment files"): a delivered
// segment's file is renamed aside and written over by a later segment. The frames
// of its earlier life stay in the file until overwritten; these tests check that
// they never come back as records, after a clean close or after a crash.

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "buffer/log_test_util.h"
#include "buffer/stream_log.h"
#include "common/crc32c.h"

namespace hydrant::buffer {
namespace {

using testing::FileSize;
using testing::ReadAll;
using testing::ReadFile;
using testing::Rec;
using testing::SegmentFiles;
using testing::SegmentName;
using testing::TempDir;
using testing::TenPerSegment;
using testing::WriteAt;
using testing::FixedPayload;
using testing::FrameOffset;
using testing::Joined;
using testing::kHeader;
using testing::Le32;
using testing::Le64;
using testing::Range;
using testing::Seqs;

void Append(StreamLog& log, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    std::string p = FixedPayload(log.next_seq());
    std::string_view v[] = {p};
    ASSERT_TRUE(log.Append(42, v).ok());
  }
}

std::unique_ptr<StreamLog> Open(const std::string& dir, LogOptions opts,
                                RecoveryReport* report = nullptr) {
  return testing::OpenLog(dir, opts, report);
}

uint64_t Inode(const std::string& path) {
  struct stat sb {};
  EXPECT_EQ(::stat(path.c_str(), &sb), 0) << path;
  return sb.st_ino;
}

std::vector<std::string> FreeFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".free") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SegmentReuseTest : public ::testing::Test {
 protected:
  std::string Dir() const { return tmp_.Sub("log"); }
  std::string Segment(uint64_t base) const { return Dir() + "/" + SegmentName(base); }
  // Ten 100-byte records per segment.
  // Segments 0, 10 and 20 of ten records; segment 0 delivered and its file kept;
  // then seqs 30..32 written (and synced) over the first 3 frames of that file.
  std::unique_ptr<StreamLog> WriteThreeOverAKeptFile() const {
    auto log = Open(Dir(), TenPerSegment());
    Append(*log, 30);
    EXPECT_TRUE(log->Sync().ok());
    EXPECT_TRUE(log->MarkDelivered(10).ok());
    Append(*log, 3);
    EXPECT_TRUE(log->Sync().ok());
    return log;
  }
  // What the disk holds if the process dies now: every file as it is.
  std::string CrashImage() const {
    std::string to = tmp_.Sub("crash");
    std::filesystem::copy(Dir(), to, std::filesystem::copy_options::recursive);
    return to;
  }
  TempDir tmp_;
};

TEST_F(SegmentReuseTest, ADeliveredSegmentsFileBecomesTheNextSegment) {
  auto log = Open(Dir(), TenPerSegment());
  Append(*log, 30);  // segments 0, 10, 20
  ASSERT_TRUE(log->Sync().ok());
  const uint64_t inode = Inode(Segment(0));
  ASSERT_TRUE(log->MarkDelivered(10).ok());
  EXPECT_FALSE(std::filesystem::exists(Segment(0)));
  EXPECT_EQ(FreeFiles(Dir()), std::vector<std::string>{"00000000000000000000.free"});

  Append(*log, 1);  // segment 20 is full: seq 30 starts segment 30 in the kept file
  EXPECT_EQ(Inode(Segment(30)), inode);
  EXPECT_TRUE(FreeFiles(Dir()).empty());
  std::string head = ReadFile(Segment(30)).substr(0, kHeader);
  EXPECT_EQ(Le32(head, 8), 3u);    // version
  EXPECT_EQ(Le64(head, 12), 30u);  // base seq
  // The earlier life's frames 1..9 are still in the file, past the new frame.
  EXPECT_EQ(FileSize(Segment(30)), FrameOffset(10));
  EXPECT_EQ(Seqs(ReadAll(*log, 10)), Range(10, 31));
}

TEST_F(SegmentReuseTest, AfterACrashTheEarlierLifesFramesAreNotRecords) {
  {
    auto log = WriteThreeOverAKeptFile();
    std::filesystem::rename(CrashImage(), tmp_.Sub("image"));
  }
  RecoveryReport report;
  auto log = Open(tmp_.Sub("image"), TenPerSegment(), &report);
  // Frames 3..9 of the file's earlier life line up with where seq 33 would be,
  // and are whole, valid frames of segment 0: they fail only segment 30's seed.
  EXPECT_EQ(Seqs(ReadAll(*log, 10)), Range(10, 33));
  EXPECT_EQ(log->next_seq(), 33u);
  EXPECT_EQ(report.records_lost, 0u);
  // What a crash leaves: reported beside the recovery, not as damage.
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_NE(report.torn_tail.find("unused rest of a reused segment file"), std::string::npos)
      << report.torn_tail;
  EXPECT_EQ(FileSize(tmp_.Sub("image") + "/" + SegmentName(30)), FrameOffset(3));
  // Appends go on after the recovered frames.
  Append(*log, 2);
  EXPECT_EQ(Seqs(ReadAll(*log, 30)), Range(30, 35));
}

TEST_F(SegmentReuseTest, ACleanCloseCutsTheUnusedRestSoOpenReportsNothing) {
  WriteThreeOverAKeptFile();  // and close the log
  EXPECT_EQ(FileSize(Segment(30)), FrameOffset(3));
  RecoveryReport report;
  auto log = Open(Dir(), TenPerSegment(), &report);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_EQ(report.bytes_truncated, 0u);
  EXPECT_EQ(Seqs(ReadAll(*log, 10)), Range(10, 33));
}

TEST_F(SegmentReuseTest, ASealedReusedSegmentEndsWhereTheNextBeginsWithoutDamage) {
  {
    LogOptions big;
    big.segment_target_bytes = FrameOffset(20);
    auto log = Open(Dir(), big);
    Append(*log, 40);  // segments 0 and 20, twenty frames each
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->MarkDelivered(20).ok());  // segment 0's file is kept
  }
  {
    LogOptions small;
    small.segment_target_bytes = FrameOffset(5);
    auto log = Open(Dir(), small);  // takes over the kept file
    ASSERT_EQ(FreeFiles(Dir()).size(), 1u);
    Append(*log, 6);  // segment 40 (the kept file, 5 frames), then segment 45
    ASSERT_TRUE(log->Sync().ok());
    EXPECT_TRUE(FreeFiles(Dir()).empty());
  }
  // Without its index, Open scans segment 40: after its 5 frames come 15 whole
  // frames of segment 0, which must read as unused space, not as an overlap.
  for (const auto& e : std::filesystem::directory_iterator(Dir())) {
    if (e.path().extension() == ".idx") std::filesystem::remove(e.path());
  }
  ASSERT_EQ(FileSize(Segment(40)), FrameOffset(20));
  RecoveryReport report;
  LogOptions small;
  small.segment_target_bytes = FrameOffset(5);
  auto log = Open(Dir(), small, &report);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_EQ(report.bytes_truncated, 0u);
  EXPECT_EQ(Seqs(ReadAll(*log, 20)), Range(20, 46));
}

TEST_F(SegmentReuseTest, AtMostTheConfiguredNumberOfFilesIsKept) {
  LogOptions opts = TenPerSegment();
  opts.reuse_segments = 1;
  {
    auto log = Open(Dir(), opts);
    Append(*log, 40);
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->MarkDelivered(30).ok());  // three segments delivered, one kept
    EXPECT_EQ(FreeFiles(Dir()).size(), 1u);
    EXPECT_EQ(SegmentFiles(Dir()).size(), 1u);
  }
  {
    auto log = Open(Dir(), opts);  // the kept file stays kept across a restart
    EXPECT_EQ(FreeFiles(Dir()).size(), 1u);
  }
  opts.reuse_segments = 0;
  auto log = Open(Dir(), opts);  // and goes when no file is to be kept
  EXPECT_TRUE(FreeFiles(Dir()).empty());
  Append(*log, 1);
  EXPECT_EQ(Seqs(ReadAll(*log, 30)), Range(30, 41));
}

TEST_F(SegmentReuseTest, KeptFilesAreChargedToTheQuotaAndGiveWayToRecords) {
  DiskQuota quota(3 * FrameOffset(10));
  LogOptions opts = TenPerSegment();
  opts.quota = &quota;
  {
    auto log = Open(Dir(), opts);
    Append(*log, 30);  // the whole budget
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->MarkDelivered(20).ok());
    EXPECT_EQ(FreeFiles(Dir()).size(), 2u);
    EXPECT_EQ(quota.used(), 3 * FrameOffset(10));  // one segment and two kept files
  }
  EXPECT_EQ(quota.used(), 0u);
  auto log = Open(Dir(), opts);
  EXPECT_EQ(quota.used(), 3 * FrameOffset(10));
  // A record needs room the kept files hold: they are deleted for it.
  Append(*log, 1);
  EXPECT_TRUE(FreeFiles(Dir()).empty());
  EXPECT_EQ(quota.used(), FrameOffset(10) + FrameOffset(1));
  EXPECT_EQ(Seqs(ReadAll(*log, 20)), Range(20, 31));
}

TEST_F(SegmentReuseTest, WithoutRoomInTheQuotaADeliveredFileIsDeleted) {
  {
    auto log = Open(Dir(), TenPerSegment());
    Append(*log, 30);
    ASSERT_TRUE(log->Sync().ok());
  }
  DiskQuota quota(FrameOffset(10));  // the backlog found at start is over it
  LogOptions opts = TenPerSegment();
  opts.quota = &quota;
  auto log = Open(Dir(), opts);
  ASSERT_TRUE(log->MarkDelivered(10).ok());
  EXPECT_TRUE(FreeFiles(Dir()).empty());
  EXPECT_FALSE(std::filesystem::exists(Segment(0)));
  EXPECT_EQ(quota.used(), 2 * FrameOffset(10));
}

TEST_F(SegmentReuseTest, ASegmentStillBeingReadIsDeletedNotReused) {
  auto log = Open(Dir(), TenPerSegment());
  Append(*log, 30);
  ASSERT_TRUE(log->Sync().ok());
  // Delivery of segment 0 completes while a Read still holds segment 0's file.
  std::vector<uint64_t> seen;
  Status st = log->Read(0, UINT64_MAX, [&](const LogRecord& r) {
    if (r.seq == 5) {
      EXPECT_TRUE(log->MarkDelivered(10).ok());
    }
    EXPECT_EQ(std::string(r.data), FixedPayload(r.seq));
    seen.push_back(r.seq);
    return r.seq < 9;
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, Range(0, 10));
  EXPECT_FALSE(std::filesystem::exists(Segment(0)));
  EXPECT_TRUE(FreeFiles(Dir()).empty());
}

TEST_F(SegmentReuseTest, DestroyRemovesKeptFilesAndTheirCharge) {
  DiskQuota quota(1 << 20);
  LogOptions opts = TenPerSegment();
  opts.quota = &quota;
  auto log = Open(Dir(), opts);
  Append(*log, 30);
  ASSERT_TRUE(log->Sync().ok());
  ASSERT_TRUE(log->MarkDelivered(20).ok());
  ASSERT_EQ(FreeFiles(Dir()).size(), 2u);
  ASSERT_TRUE(log->Destroy().ok());
  EXPECT_FALSE(std::filesystem::exists(Dir()));
  EXPECT_EQ(quota.used(), 0u);
  log.reset();
  EXPECT_EQ(quota.used(), 0u);
}

TEST_F(SegmentReuseTest, ASegmentTakingOverAKeptFileIsChargedAsItFills) {
  DiskQuota quota(1 << 20);
  LogOptions opts = TenPerSegment();
  opts.quota = &quota;
  auto log = Open(Dir(), opts);
  Append(*log, 30);
  ASSERT_TRUE(log->Sync().ok());
  ASSERT_TRUE(log->MarkDelivered(20).ok());
  EXPECT_EQ(quota.used(), 3 * FrameOffset(10));  // segment 20 and two kept files
  Append(*log, 2);  // segment 30 takes one over: its charge becomes the new frames'
  EXPECT_EQ(FreeFiles(Dir()).size(), 1u);
  EXPECT_EQ(quota.used(), FrameOffset(10) + FrameOffset(2) + FrameOffset(10));
  EXPECT_EQ(log->disk_bytes(), FrameOffset(10) + FrameOffset(2));
  log.reset();
  EXPECT_EQ(quota.used(), 0u);
}

TEST_F(SegmentReuseTest, OpenDeletesKeptFilesTheQuotaHasNoRoomFor) {
  {
    auto log = Open(Dir(), TenPerSegment());
    Append(*log, 30);
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->MarkDelivered(20).ok());
  }
  DiskQuota quota(2 * FrameOffset(10));  // room for segment 20 and one kept file
  LogOptions opts = TenPerSegment();
  opts.quota = &quota;
  auto log = Open(Dir(), opts);
  EXPECT_EQ(FreeFiles(Dir()).size(), 1u);
  EXPECT_EQ(quota.used(), 2 * FrameOffset(10));
}

TEST_F(SegmentReuseTest, OpenDeletesKeptFilesWhenTheCheckpointIsLost) {
  {
    auto log = Open(Dir(), TenPerSegment());
    Append(*log, 20);
    ASSERT_TRUE(log->Sync().ok());
    ASSERT_TRUE(log->MarkDelivered(20).ok());  // everything delivered: only kept files
  }
  ASSERT_EQ(FreeFiles(Dir()).size(), 2u);
  std::filesystem::remove(Dir() + "/CHECKPOINT");
  // Seqs start again at 0 here, and a kept file's earlier life had base 0: its
  // frames would carry the same seed as the new segment's.
  auto log = Open(Dir(), TenPerSegment());
  EXPECT_TRUE(FreeFiles(Dir()).empty());
  EXPECT_EQ(log->next_seq(), 0u);
}

// A segment written before frames were seeded (format version 1) is still read,
// and appends to it stay unseeded.
TEST_F(SegmentReuseTest, VersionOneSegmentsAreStillRead) {
  auto masked = [](uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; };
  auto le32 = [](uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
    return s;
  };
  auto le64 = [](uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
    return s;
  };
  std::string body = "HYLG" + le32(1) + le64(0);
  std::string file = le32(masked(crc32c::Value(body.data(), body.size()))) + body;
  for (uint64_t seq = 0; seq < 3; ++seq) {
    std::string fields = le32(100) + le64(42) + FixedPayload(seq);
    file += le32(masked(crc32c::Value(fields.data(), fields.size()))) + fields;
  }
  std::filesystem::create_directories(Dir());
  WriteAt(Segment(0), 0, file);

  {
    RecoveryReport report;
    auto log = Open(Dir(), TenPerSegment(), &report);
    EXPECT_TRUE(report.problems.empty()) << Joined(report);
    EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 3));
    Append(*log, 2);
    ASSERT_TRUE(log->Sync().ok());
  }
  RecoveryReport report;
  auto log = Open(Dir(), TenPerSegment(), &report);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 5));
  EXPECT_EQ(Le32(ReadFile(Segment(0)), 8), 1u);
}

}  // namespace
}  // namespace hydrant::buffer
