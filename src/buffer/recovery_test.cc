// Damaged logs, in the spirit of leveldb's log_test: flip bytes, cut files, write
// garbage, and check what Open recovers, what it cuts and what it reports.
// Also checks the on-disk layout against docs/wal-format.md with a decoder
// written here from the document (not from log_format.h).

#include <gtest/gtest.h>

#include <filesystem>

#include "buffer/log_test_util.h"
#include "buffer/stream_log.h"
#include "common/crc32c.h"

namespace hydrant::buffer {
namespace {

using testing::FileSize;
using testing::FlipByte;
using testing::ReadAll;
using testing::ReadFile;
using testing::Rec;
using testing::SegmentFiles;
using testing::SegmentName;
using testing::TempDir;
using testing::TenPerSegment;
using testing::TruncateFile;
using testing::WriteAt;
using testing::FixedPayload;
using testing::FrameOffset;
using testing::Joined;
using testing::kFrame;
using testing::kHeader;
using testing::Le32;
using testing::Le64;
using testing::Range;
using testing::Seqs;

std::unique_ptr<StreamLog> Open(const std::string& dir, LogOptions opts = {},
                                RecoveryReport* report = nullptr) {
  return testing::OpenLog(dir, opts, report);
}


// Writes `n` records (100-byte payloads) and closes the log. Most damage tests
// stand for a crash: the END file of a clean close is removed unless asked for.
void Fill(const std::string& dir, uint64_t n, LogOptions opts = {}, bool clean_close = false) {
  auto log = Open(dir, opts);
  for (uint64_t i = 0; i < n; ++i) {
    std::string p = FixedPayload(log->next_seq());
    std::string_view v[] = {p};
    ASSERT_TRUE(log->Append(42, v).ok());
  }
  ASSERT_TRUE(log->Sync().ok());
  log.reset();
  if (!clean_close) std::filesystem::remove(dir + "/END");
}

class RecoveryTest : public ::testing::Test {
 protected:
  std::string Dir() const { return tmp_.Sub("log"); }
  std::string Segment(uint64_t base) const { return Dir() + "/" + SegmentName(base); }
  std::string Index(uint64_t base) const {
    std::string s = Segment(base);
    return s.substr(0, s.size() - 4) + ".idx";
  }
  // Sealed segments carry an index file that Open trusts; the scan tests remove
  // them to make Open read every frame, as after a crash before the index landed.
  void RemoveIndexes() const {
    for (const auto& e : std::filesystem::directory_iterator(Dir())) {
      if (e.path().extension() == ".idx") std::filesystem::remove(e.path());
    }
  }
  TempDir tmp_;
};

TEST_F(RecoveryTest, CleanLogReportsNothing) {
  Fill(Dir(), 10);
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(report.records_recovered, 10u);
  EXPECT_EQ(report.bytes_truncated, 0u);
  EXPECT_EQ(report.records_lost, 0u);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 10));
}

// Range(a, b) without the seqs in `lost`.
std::vector<uint64_t> RangeWithout(uint64_t a, uint64_t b, std::vector<uint64_t> lost) {
  std::vector<uint64_t> out;
  for (uint64_t s = a; s < b; ++s) {
    if (std::find(lost.begin(), lost.end(), s) == lost.end()) out.push_back(s);
  }
  return out;
}

TEST_F(RecoveryTest, FlippedPayloadByteSkipsThatRecordOnly) {
  Fill(Dir(), 10);
  const std::string seg = Segment(0);
  const uint64_t size = FileSize(seg);
  const std::string original = ReadFile(seg);
  FlipByte(seg, FrameOffset(6) + 16 + 50);
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  // Like leveldb's log reader: the damaged frame is skipped, the valid ones after
  // it are kept (moved into a segment that starts at their seq).
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 10, {6}));
  EXPECT_EQ(report.records_recovered, 9u);
  EXPECT_EQ(report.records_lost, 1u);
  EXPECT_EQ(report.bytes_truncated, kFrame);
  EXPECT_EQ(FileSize(seg), FrameOffset(6));
  EXPECT_TRUE(std::filesystem::exists(Segment(7)));
  ASSERT_EQ(report.problems.size(), 2u) << Joined(report);
  const std::string& line = report.problems[0];
  EXPECT_NE(line.find(SegmentName(0)), std::string::npos) << line;
  EXPECT_NE(line.find("offset " + std::to_string(FrameOffset(6))), std::string::npos) << line;
  EXPECT_NE(line.find("checksum"), std::string::npos) << line;
  EXPECT_NE(line.find("seq 7: 3 records kept"), std::string::npos) << line;
  EXPECT_NE(report.problems[1].find("seqs 6..6 (1 undelivered records) are lost"),
            std::string::npos)
      << Joined(report);
  // The damaged bytes (and all after them, as they were) are kept out of the log.
  const std::string kept = Dir() + "/" + SegmentName(0).substr(0, 20) + "." +
                           std::to_string(FrameOffset(6)) + ".damaged";
  std::string damaged = ReadFile(kept);
  ASSERT_EQ(damaged.size(), size - FrameOffset(6));
  EXPECT_EQ(damaged.substr(kFrame), original.substr(FrameOffset(7)));
  // The log goes on after the moved records.
  std::string p = FixedPayload(10);
  std::string_view v[] = {p};
  EXPECT_EQ(log->Append(1, v).value(), 10u);
  ASSERT_TRUE(log->Sync().ok());
  log.reset();
  RecoveryReport again;
  log = Open(Dir(), {}, &again);
  EXPECT_EQ(again.bytes_truncated, 0u);
  EXPECT_EQ(again.records_lost, 1u) << Joined(again);  // until delivery passes it
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 11, {6}));
}

TEST_F(RecoveryTest, EightBytesFlippedMidSegmentLoseOnlyTheRecordsTheyTouch) {
  // The case: 1,000 records, 8 bytes flipped in the middle of the file,
  // across the end of one frame and the header of the next.
  Fill(Dir(), 1000);
  const uint64_t at = FrameOffset(500) - 4;
  for (uint64_t i = 0; i < 8; ++i) FlipByte(Segment(0), at + i);
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 1000, {499, 500}));
  EXPECT_EQ(report.records_lost, 2u) << Joined(report);
  EXPECT_EQ(report.records_recovered, 998u);
  EXPECT_EQ(log->next_seq(), 1000u);
}

TEST_F(RecoveryTest, AnOpenCrashedWhileMovingFramesIsFinishedWithoutDuplicates) {
  Fill(Dir(), 10);
  const std::string damaged_original = [&] {
    FlipByte(Segment(0), FrameOffset(6) + 16 + 50);
    return ReadFile(Segment(0));
  }();
  Open(Dir()).reset();  // moves 7..9 into segment 7, cuts segment 0
  // As if that Open had died before the moved segment got its name, and before
  // segment 0 was cut.
  std::filesystem::rename(Segment(7), Dir() + "/" + SegmentName(7).substr(0, 20) + ".rebuilt");
  WriteAt(Segment(0), 0, damaged_original);
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 10, {6}));
  EXPECT_EQ(report.records_lost, 1u);
  EXPECT_EQ(FileSize(Segment(0)), FrameOffset(6));
  EXPECT_NE(Joined(report).find("already handled"), std::string::npos) << Joined(report);
}

TEST_F(RecoveryTest, DeletedSegmentsAreReportedWithExactCounts) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 1000, opts);
  {
    auto log = Open(Dir(), opts);
    ASSERT_TRUE(log->MarkDelivered(105).ok());
  }  // a clean close
  // One in the middle and the newest: the records after the middle one stay.
  std::filesystem::remove(Segment(500));
  std::filesystem::remove(Segment(990));
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_EQ(Seqs(ReadAll(*log, 105)), RangeWithout(105, 990, Range(500, 510)));
  EXPECT_EQ(report.records_lost, 20u) << Joined(report);
  ASSERT_EQ(report.problems.size(), 2u) << Joined(report);
  EXPECT_NE(report.problems[0].find("seqs 500..509 (10 undelivered records) are lost"),
            std::string::npos)
      << Joined(report);
  EXPECT_NE(report.problems[1].find("seqs 990..999 (10 undelivered records) are lost"),
            std::string::npos)
      << Joined(report);
}

TEST_F(RecoveryTest, TheOnlySegmentDeletedIsReported) {
  Fill(Dir(), 1000, {}, /*clean_close=*/true);
  std::filesystem::remove(Segment(0));
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(report.records_lost, 1000u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("seqs 0..999"), std::string::npos) << Joined(report);
  // Reported once: the next start finds the log as this one left it.
  std::string p = FixedPayload(0);
  std::string_view v[] = {p};
  ASSERT_TRUE(log->Append(1, v).ok());
  ASSERT_TRUE(log->Sync().ok());
  log.reset();
  RecoveryReport again;
  log = Open(Dir(), {}, &again);
  EXPECT_TRUE(again.problems.empty()) << Joined(again);
}

TEST_F(RecoveryTest, FlippedHeaderFieldByteIsACheckSumMismatchToo) {
  Fill(Dir(), 5);
  FlipByte(Segment(0), FrameOffset(3) + 9);  // inside arrival_ms
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 5, {3}));
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_NE(report.problems[0].find("checksum"), std::string::npos);
}

TEST_F(RecoveryTest, TornTailMidHeader) {
  // After a crash the records cut cannot be counted; after a clean close (END) they
  // can: the tail was lost while hydrant was stopped.
  for (bool clean_close : {false, true}) {
    const std::string dir = tmp_.Sub(clean_close ? "clean" : "crash");
    Fill(dir, 10, {}, clean_close);
    TruncateFile(dir + "/" + SegmentName(0), FrameOffset(7) + 5);
    RecoveryReport report;
    auto log = Open(dir, {}, &report);
    EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 7));
    EXPECT_EQ(report.bytes_truncated, 5u);
    EXPECT_EQ(log->next_seq(), 7u);
    EXPECT_EQ(report.records_lost, clean_close ? 3u : 0u);
    // After a crash the torn tail is what the crash left, not damage.
    ASSERT_EQ(report.problems.size(), clean_close ? 2u : 0u);
    const std::string& line = clean_close ? report.problems[0] : report.torn_tail;
    EXPECT_NE(line.find("torn frame header"), std::string::npos) << Joined(report);
    EXPECT_EQ(report.torn_tail.empty(), clean_close);
    if (clean_close) {
      EXPECT_NE(report.problems[1].find("seqs 7..9 (3 undelivered records) are lost"),
                std::string::npos)
          << Joined(report);
    }
  }
}

TEST_F(RecoveryTest, TornTailMidPayload) {
  Fill(Dir(), 10);
  TruncateFile(Segment(0), FrameOffset(7) + 16 + 40);
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 7));
  EXPECT_EQ(report.bytes_truncated, 56u);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_NE(report.torn_tail.find("torn payload"), std::string::npos) << report.torn_tail;
  EXPECT_EQ(FileSize(Segment(0)), FrameOffset(7));
}

TEST_F(RecoveryTest, GarbageLengthField) {
  Fill(Dir(), 10);
  WriteAt(Segment(0), FrameOffset(4) + 4, std::string("\xf0\xff\xff\xff", 4));
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  // Only the length was damaged: the frame is found to be exactly one record.
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 10, {4}));
  EXPECT_EQ(report.records_lost, 1u);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_NE(report.problems[0].find("impossible payload length"), std::string::npos)
      << Joined(report);
}

TEST_F(RecoveryTest, PlausibleButWrongLengthFailsTheChecksum) {
  Fill(Dir(), 10);
  WriteAt(Segment(0), FrameOffset(4) + 4, std::string("\x32\x00\x00\x00", 4));  // 50, not 100
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 10, {4}));
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_NE(report.problems[0].find("checksum"), std::string::npos) << Joined(report);
}

TEST_F(RecoveryTest, LengthBeyondEndOfFileIsATornPayload) {
  Fill(Dir(), 3);
  WriteAt(Segment(0), FrameOffset(2) + 4, std::string("\x00\x10\x00\x00", 4));  // 4096
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 2));
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_NE(report.torn_tail.find("torn payload"), std::string::npos) << report.torn_tail;
}

TEST_F(RecoveryTest, ZeroFilledTailIsCut) {
  // What a filesystem can leave after a crash: the size grew, the data did not land.
  Fill(Dir(), 5);
  WriteAt(Segment(0), FrameOffset(5), std::string(4096, '\0'));
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 5));
  EXPECT_EQ(report.bytes_truncated, 4096u);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_FALSE(report.torn_tail.empty());
}

TEST_F(RecoveryTest, DamagedMiddleSegmentKeepsLaterSegments) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  ASSERT_EQ(SegmentFiles(Dir()).size(), 3u);
  RemoveIndexes();
  FlipByte(Segment(10), FrameOffset(4) + 16);  // record 14
  // And the length of record 17, so that the frames after it are found by
  // searching: a sealed segment ends at the next one's base, so they are still
  // placed at their own seqs.
  WriteAt(Segment(10), FrameOffset(7) + 4, std::string("\x10\x00\x00\x00", 4));
  WriteAt(Segment(10), FrameOffset(7) + 16 + 50, "garbage");
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 30, {14, 17}));
  EXPECT_EQ(report.records_recovered, 28u);
  EXPECT_EQ(report.records_lost, 2u) << Joined(report);
  EXPECT_EQ(report.bytes_truncated, 2 * kFrame);
  ASSERT_EQ(report.problems.size(), 4u) << Joined(report);
  EXPECT_NE(report.problems[0].find(SegmentName(10)), std::string::npos);
  EXPECT_NE(report.problems[0].find("checksum"), std::string::npos);
  EXPECT_NE(report.problems[2].find("14..14"), std::string::npos) << Joined(report);
  EXPECT_NE(report.problems[3].find("17..17"), std::string::npos) << Joined(report);
  // Reading across a gap from inside it starts at the next record.
  EXPECT_EQ(ReadAll(*log, 14).front().seq, 15u);
  EXPECT_EQ(log->next_seq(), 30u);
  std::string p = FixedPayload(30);
  std::string_view v[] = {p};
  EXPECT_EQ(log->Append(1, v).value(), 30u);

  // The cut is permanent (nothing more to truncate).
  log.reset();
  RecoveryReport again;
  log = Open(Dir(), opts, &again);
  EXPECT_EQ(again.bytes_truncated, 0u);
  EXPECT_EQ(again.records_recovered, 29u);
  // The gaps stay visible until delivery passes them.
  EXPECT_EQ(again.records_lost, 2u);
}

TEST_F(RecoveryTest, BadSegmentHeaderKeepsTheFileAndTheFramesItStillProves) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  const std::string original = ReadFile(Segment(10));
  FlipByte(Segment(10), 5);  // magic (checked with or without an index)
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 30));
  EXPECT_EQ(report.records_lost, 0u);
  EXPECT_EQ(report.records_recovered, 30u);
  EXPECT_EQ(report.bytes_truncated, kHeader);
  ASSERT_GE(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find(SegmentName(10)), std::string::npos) << Joined(report);
  EXPECT_NE(report.problems[0].find("10 records"), std::string::npos) << Joined(report);
  // The damaged file is kept whole, beside the rewritten segment.
  std::string kept = ReadFile(Dir() + "/" + SegmentName(10).substr(0, 20) + ".0.damaged");
  EXPECT_EQ(kept.size(), original.size());
  EXPECT_EQ(kept.substr(kHeader), original.substr(kHeader));
  log.reset();
  RecoveryReport again;
  log = Open(Dir(), opts, &again);
  EXPECT_TRUE(again.problems.empty()) << Joined(again);
}

TEST_F(RecoveryTest, BadSegmentHeaderWithoutValidFramesIsKeptNotRemoved) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  FlipByte(Segment(10), 5);
  FlipByte(Segment(10), kHeader + 16);  // the first frame too: nothing proves a seed
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), RangeWithout(0, 30, Range(10, 20)));
  EXPECT_EQ(report.records_lost, 10u);
  EXPECT_EQ(report.bytes_truncated, kHeader + 10 * kFrame);
  EXPECT_FALSE(std::filesystem::exists(Segment(10)));
  EXPECT_TRUE(std::filesystem::exists(Dir() + "/" + SegmentName(10).substr(0, 20) + ".0.damaged"));
}

TEST_F(RecoveryTest, SegmentHeaderDisagreeingWithItsNameIsDamage) {
  Fill(Dir(), 3);
  std::filesystem::rename(Segment(0), Segment(7));
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_TRUE(ReadAll(*log).empty());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("base seq 0"), std::string::npos) << Joined(report);
}

TEST_F(RecoveryTest, TornSegmentHeaderOfANewLastSegment) {
  // A crash right after rotation created the file but only part of its header landed.
  Fill(Dir(), 5);
  {
    std::string full = ReadFile(Segment(0)).substr(0, 7);
    int fd = ::open(Segment(5).c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_EQ(::write(fd, full.data(), full.size()), 7);
    ::close(fd);
  }
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 5));
  EXPECT_EQ(report.bytes_truncated, 7u);
  EXPECT_EQ(report.records_lost, 0u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("torn segment header"), std::string::npos) << Joined(report);
  std::string p = FixedPayload(5);
  std::string_view v[] = {p};
  EXPECT_EQ(log->Append(1, v).value(), 5u);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 6));
}

TEST_F(RecoveryTest, OverlappingSegmentsAreCutAtTheOverlap) {
  // Build a segment starting at seq 5 in another directory, then drop it next to a
  // segment holding 0..9: seqs 5..9 would exist twice.
  const std::string other = tmp_.Sub("other");
  {
    auto log = Open(other);
    for (int i = 0; i < 5; ++i) {
      std::string p = FixedPayload(i);
      std::string_view v[] = {p};
      ASSERT_TRUE(log->Append(1, v).ok());
    }
    ASSERT_TRUE(log->MarkDelivered(5).ok());
    for (int i = 5; i < 8; ++i) {
      std::string p = FixedPayload(i);
      std::string_view v[] = {p};
      ASSERT_TRUE(log->Append(1, v).ok());
    }
  }
  Fill(Dir(), 10);
  std::filesystem::copy_file(other + "/" + SegmentName(5), Segment(5));
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 8));
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("overlap"), std::string::npos) << Joined(report);
  EXPECT_EQ(log->next_seq(), 8u);
}

// ---- sealed segments' index files ----

TEST_F(RecoveryTest, SealedSegmentsGetAnIndexThatOpenTrusts) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  EXPECT_TRUE(std::filesystem::exists(Index(0)));
  EXPECT_TRUE(std::filesystem::exists(Index(10)));
  EXPECT_FALSE(std::filesystem::exists(Index(20)));  // the active segment has none
  // Damage inside an indexed segment is not seen by Open: it reads no frame there.
  FlipByte(Segment(0), FrameOffset(2) + 16);
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_EQ(report.records_recovered, 30u);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_EQ(log->next_seq(), 30u);
  // Reading from an index point in the middle of an indexed segment works.
  EXPECT_EQ(Seqs(ReadAll(*log, 13)), Range(13, 30));
}

TEST_F(RecoveryTest, DamageInAnIndexedSegmentIsCutWhenRead) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  FlipByte(Segment(10), FrameOffset(4) + 16);  // record 14
  auto log = Open(Dir(), opts);
  const uint64_t before = log->disk_bytes();
  Status st;
  // Found the first time, the damage is read again from the disk before any cut.
  std::vector<Rec> first = ReadAll(*log, 0, &st);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(Seqs(first), Range(0, 14));
  EXPECT_TRUE(std::filesystem::exists(Index(10)));
  std::vector<Rec> recs = ReadAll(*log, 0, &st);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::vector<uint64_t> expect = Range(0, 14);
  for (uint64_t s = 20; s < 30; ++s) expect.push_back(s);
  EXPECT_EQ(Seqs(recs), expect);
  // Cut as Open's scan would have: the file ends before record 14, its index is gone.
  EXPECT_EQ(FileSize(Segment(10)), FrameOffset(4));
  EXPECT_FALSE(std::filesystem::exists(Index(10)));
  EXPECT_EQ(log->disk_bytes(), before - 6 * kFrame);
  // What was cut is kept out of the log, not deleted.
  EXPECT_EQ(FileSize(Dir() + "/" + SegmentName(10).substr(0, 20) + "." +
                     std::to_string(FrameOffset(4)) + ".damaged"),
            6 * kFrame);
  // Reading into the lost range starts at the next segment.
  EXPECT_EQ(ReadAll(*log, 16).front().seq, 20u);

  log.reset();
  RecoveryReport again;
  log = Open(Dir(), opts, &again);
  EXPECT_EQ(again.bytes_truncated, 0u);
  EXPECT_EQ(again.records_lost, 6u);  // 14..19, as after a cut at Open
  EXPECT_EQ(Seqs(ReadAll(*log)), expect);
}

TEST_F(RecoveryTest, ReadersMeetingDifferentDamageEachGetItCut) {
  // Two stages read the same log with their own cursors: each one's damage is
  // remembered while the other's is found, so both are cut on their second read.
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  auto log = Open(Dir(), opts);
  FlipByte(Segment(0), FrameOffset(2) + 16);   // record 2
  FlipByte(Segment(10), FrameOffset(5) + 16);  // record 15
  Status st;
  ReadAll(*log, 0, &st);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  ReadAll(*log, 10, &st);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  std::vector<uint64_t> expect = Range(0, 2);
  for (uint64_t s = 10; s < 15; ++s) expect.push_back(s);
  for (uint64_t s = 20; s < 30; ++s) expect.push_back(s);
  EXPECT_EQ(Seqs(ReadAll(*log, 0, &st)), expect);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(FileSize(Segment(0)), FrameOffset(2));
  EXPECT_EQ(FileSize(Segment(10)), FrameOffset(5));
}

TEST_F(RecoveryTest, DamagedIndexIsRemovedAndTheSegmentScanned) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  FlipByte(Index(10), 30);
  FlipByte(Segment(10), FrameOffset(4) + 16);  // record 14: the scan must find it
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_EQ(report.records_lost, 1u);
  EXPECT_EQ(report.bytes_truncated, kFrame);
  EXPECT_FALSE(std::filesystem::exists(Index(10)));
  // The next Sync writes the index of the scanned (and cut) sealed segment again.
  ASSERT_TRUE(log->Sync().ok());
  ASSERT_TRUE(std::filesystem::exists(Index(10)));
  log.reset();
  RecoveryReport again;
  log = Open(Dir(), opts, &again);
  EXPECT_EQ(again.bytes_truncated, 0u);
  EXPECT_EQ(again.records_recovered, 29u);
  EXPECT_EQ(ReadAll(*log).size(), 29u);
}

TEST_F(RecoveryTest, IndexDescribingMoreThanItsSegmentHoldsIsIgnored) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  // The file lost its last frame: shorter than the index says.
  TruncateFile(Segment(0), FrameOffset(9));
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_FALSE(std::filesystem::exists(Index(0)));
  EXPECT_EQ(report.records_lost, 1u) << Joined(report);
  std::vector<uint64_t> want = Range(0, 9);
  for (uint64_t s : Range(10, 30)) want.push_back(s);
  EXPECT_EQ(Seqs(ReadAll(*log)), want);
}

TEST_F(RecoveryTest, BytesAfterTheFramesOfAnIndexedSegmentAreUnusedSpace) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  // What a reused file's earlier life leaves after the frames: not read, not cut.
  WriteAt(Segment(0), FileSize(Segment(0)), std::string(40, 'x'));
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_EQ(FileSize(Segment(0)), FrameOffset(10) + 40);
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 30));
}

TEST_F(RecoveryTest, IndexWithoutItsSegmentIsRemoved) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  std::filesystem::copy_file(Index(10), Dir() + "/" + SegmentName(40).substr(0, 20) + ".idx");
  std::filesystem::remove(Segment(0));
  auto log = Open(Dir(), opts);
  EXPECT_FALSE(std::filesystem::exists(Index(0)));
  EXPECT_FALSE(std::filesystem::exists(Index(40)));
  EXPECT_TRUE(std::filesystem::exists(Index(10)));
}

TEST_F(RecoveryTest, AnIndexedLastSegmentIsNotAppendedTo) {
  // The newest segment can be sealed when the one after it was dropped for a bad
  // header: appends then start a new segment rather than change an indexed one.
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 12, opts);
  ASSERT_TRUE(std::filesystem::exists(Index(0)));
  WriteAt(Segment(10), 5, "X");  // bad magic and a bad first frame: the segment
  FlipByte(Segment(10), kHeader + 16);  // holding 10, 11 is dropped
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  EXPECT_EQ(log->next_seq(), 10u);
  std::string p = FixedPayload(10);
  std::string_view v[] = {p};
  ASSERT_TRUE(log->Append(1, v).ok());
  ASSERT_TRUE(log->Sync().ok());
  EXPECT_EQ(FileSize(Segment(0)), FrameOffset(10));
  EXPECT_TRUE(std::filesystem::exists(Segment(10)));
  EXPECT_EQ(Seqs(ReadAll(*log)), Range(0, 11));
}

TEST_F(RecoveryTest, AnEmptyActiveSegmentSurvivesDeliveryOfEverythingBeforeIt) {
  // A crash right after rotation leaves a header-only last segment; delivering all
  // records before it must not drop it (its name is next seq's: a put would then
  // race the deferred unlink with O_EXCL).
  Fill(Dir(), 5);
  {
    std::string header = ReadFile(Segment(0)).substr(0, 20);
    std::string_view v[] = {"x"};
    auto other = Open(tmp_.Sub("other"));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(other->Append(1, v).ok());
    ASSERT_TRUE(other->MarkDelivered(5).ok());
    ASSERT_TRUE(other->Append(1, v).ok());  // starts segment 5
    ASSERT_TRUE(other->Sync().ok());
    header = ReadFile(tmp_.Sub("other") + "/" + SegmentName(5)).substr(0, 20);
    WriteAt(Segment(5), 0, header);
  }
  auto log = Open(Dir());
  ASSERT_EQ(log->next_seq(), 5u);
  ASSERT_TRUE(log->MarkDelivered(5).ok());
  EXPECT_FALSE(std::filesystem::exists(Segment(0)));
  EXPECT_TRUE(std::filesystem::exists(Segment(5)));
  std::string p = FixedPayload(5);
  std::string_view v[] = {p};
  auto seq = log->Append(1, v);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 5u);
  ASSERT_TRUE(log->Sync().ok());
  EXPECT_EQ(Seqs(ReadAll(*log, 5)), Range(5, 6));
}

TEST_F(RecoveryTest, DeliveredSegmentsTakeTheirIndexAlong) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  auto log = Open(Dir(), opts);
  ASSERT_TRUE(log->MarkDelivered(20).ok());
  EXPECT_FALSE(std::filesystem::exists(Segment(0)));
  EXPECT_FALSE(std::filesystem::exists(Index(0)));
  EXPECT_FALSE(std::filesystem::exists(Index(10)));
}

TEST_F(RecoveryTest, CorruptCheckpointFallsBackToTheOldestSegment) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  {
    auto log = Open(Dir(), opts);
    ASSERT_TRUE(log->MarkDelivered(15).ok());  // deletes segment 0..9
  }
  FlipByte(Dir() + "/CHECKPOINT", 15);
  RecoveryReport report;
  auto log = Open(Dir(), opts, &report);
  // At-least-once: 10..14 will be delivered again.
  EXPECT_EQ(log->first_undelivered(), 10u);
  EXPECT_EQ(report.records_recovered, 20u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("CHECKPOINT"), std::string::npos) << Joined(report);
  EXPECT_NE(report.problems[0].find("duplicates"), std::string::npos) << Joined(report);
  EXPECT_EQ(Seqs(ReadAll(*log, log->first_undelivered())), Range(10, 30));
}

TEST_F(RecoveryTest, ShortCheckpointFileIsCorrupt) {
  Fill(Dir(), 10);
  {
    auto log = Open(Dir());
    ASSERT_TRUE(log->MarkDelivered(4).ok());
  }
  TruncateFile(Dir() + "/CHECKPOINT", 11);
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(log->first_undelivered(), 0u);
  EXPECT_EQ(report.records_recovered, 10u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("11 bytes"), std::string::npos) << Joined(report);
}

TEST_F(RecoveryTest, LeftoverCheckpointTempFileIsIgnored) {
  Fill(Dir(), 10);
  {
    auto log = Open(Dir());
    ASSERT_TRUE(log->MarkDelivered(4).ok());
  }
  WriteAt(Dir() + "/CHECKPOINT.tmp", 0, "half");  // a crash mid-checkpoint
  RecoveryReport report;
  auto log = Open(Dir(), {}, &report);
  EXPECT_EQ(log->first_undelivered(), 4u);
  EXPECT_TRUE(report.problems.empty()) << Joined(report);
  EXPECT_FALSE(std::filesystem::exists(Dir() + "/CHECKPOINT.tmp"));
}

TEST_F(RecoveryTest, CorruptionAfterOpenIsReportedByRead) {
  Fill(Dir(), 10);
  auto log = Open(Dir());
  FlipByte(Segment(0), FrameOffset(3) + 20);
  for (StatusCode want : {StatusCode::kUnavailable, StatusCode::kCorruption}) {
    std::vector<uint64_t> seen;
    Status st = log->Read(0, UINT64_MAX, [&](const LogRecord& r) {
      seen.push_back(r.seq);
      return true;
    });
    EXPECT_EQ(st.code(), want) << st.ToString();
    EXPECT_EQ(seen, Range(0, 3));
  }
}

TEST_F(RecoveryTest, DamageGoneWhenReadAgainIsNotCut) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  auto log = Open(Dir(), opts);
  FlipByte(Segment(10), FrameOffset(4) + 16);  // record 14
  Status st;
  EXPECT_EQ(Seqs(ReadAll(*log, 0, &st)), Range(0, 14));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  // What a flaky read looks like: the next read from the disk is good again.
  FlipByte(Segment(10), FrameOffset(4) + 16);
  EXPECT_EQ(Seqs(ReadAll(*log, 0, &st)), Range(0, 30));
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(FileSize(Segment(10)), FrameOffset(10));
  EXPECT_TRUE(std::filesystem::exists(Index(10)));
}

// A sealed segment cut short behind the log's back (its index says more): Read
// names the file once, says where it ends, and then cuts what is missing.
TEST_F(RecoveryTest, SegmentShorterThanItsIndexIsNamedOnceAndCut) {
  LogOptions opts = TenPerSegment();
  Fill(Dir(), 30, opts);
  auto log = Open(Dir(), opts);
  std::filesystem::resize_file(Segment(10), FrameOffset(6));  // records 16..19 gone
  Status st;
  EXPECT_EQ(Seqs(ReadAll(*log, 0, &st)), Range(0, 16));
  ASSERT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  const std::string message = st.message();
  const std::string path = Segment(10);
  ASSERT_NE(message.find(path), std::string::npos) << message;
  EXPECT_EQ(message.find(path, message.find(path) + 1), std::string::npos) << message;
  EXPECT_NE(message.find("file ends at"), std::string::npos) << message;
  // Found again at the same place: cut, and reading goes on with the next segment.
  std::vector<uint64_t> want = Range(0, 16);
  for (uint64_t seq : Range(20, 30)) want.push_back(seq);
  EXPECT_EQ(Seqs(ReadAll(*log, 0, &st)), want);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

// ---- the documented layout, decoded independently ----

uint32_t MaskedCrc(const std::string& s, size_t from, size_t n, uint32_t seed = 0) {
  uint32_t c = crc32c::Extend(seed, s.data() + from, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;  // as docs/wal-format.md states
}

TEST_F(RecoveryTest, OnDiskLayoutMatchesTheDocument) {
  {
    auto log = Open(Dir());
    std::string_view v[] = {"abc", ""};
    ASSERT_TRUE(log->Append(0x0102030405060708, v).ok());
    ASSERT_TRUE(log->MarkDelivered(1).ok());
  }
  std::string seg = ReadFile(Segment(0));
  ASSERT_EQ(seg.size(), 20u + 16 + 3 + 16);
  EXPECT_EQ(seg.substr(4, 4), "HYLG");
  EXPECT_EQ(Le32(seg, 8), 3u);
  EXPECT_EQ(Le64(seg, 12), 0u);
  EXPECT_EQ(Le32(seg, 0), MaskedCrc(seg, 4, 16));
  // Version 2 and 3 frames: the CRC32C starts from the CRC32C of the base seq's 8 bytes.
  const uint32_t seed = crc32c::Value(std::string(8, '\0').data(), 8);
  // frame 0
  EXPECT_EQ(Le32(seg, 24), 3u);
  EXPECT_EQ(Le64(seg, 28), 0x0102030405060708u);
  EXPECT_EQ(seg.substr(36, 3), "abc");
  EXPECT_EQ(Le32(seg, 20), MaskedCrc(seg, 24, 12 + 3, seed));
  // frame 1: empty payload
  EXPECT_EQ(Le32(seg, 43), 0u);
  EXPECT_EQ(Le32(seg, 39), MaskedCrc(seg, 43, 12, seed));

  // Version 3: an encrypted record's frame has the length field's top bit set.
  {
    auto log = Open(tmp_.Sub("flagged"));
    std::string_view v[] = {"abc"};
    ASSERT_TRUE(log->Append(5, v, kRecordEncrypted).ok());
  }
  std::string flagged = ReadFile(tmp_.Sub("flagged") + "/" + SegmentName(0));
  ASSERT_EQ(flagged.size(), 20u + 16 + 3);
  EXPECT_EQ(Le32(flagged, 24), 3u | 0x80000000u);
  EXPECT_EQ(Le32(flagged, 20), MaskedCrc(flagged, 24, 12 + 3, seed));

  // A sealed segment's index: 17 one-byte records -> offsets of records 0 and 16.
  {
    LogOptions opts;
    opts.segment_target_bytes = 20 + 17 * 17;
    auto log = Open(tmp_.Sub("indexed"), opts);
    for (int i = 0; i < 18; ++i) {
      std::string_view v[] = {"x"};
      ASSERT_TRUE(log->Append(7, v).ok());
    }
    ASSERT_TRUE(log->Sync().ok());
  }
  std::string idx = ReadFile(tmp_.Sub("indexed") + "/" + SegmentName(0).substr(0, 20) + ".idx");
  ASSERT_EQ(idx.size(), 40u + 2 * 8);
  EXPECT_EQ(idx.substr(4, 4), "HYIX");
  EXPECT_EQ(Le32(idx, 8), 1u);
  EXPECT_EQ(Le32(idx, 12), 16u);
  EXPECT_EQ(Le64(idx, 16), 0u);
  EXPECT_EQ(Le64(idx, 24), 17u);
  EXPECT_EQ(Le64(idx, 32), 20u + 17 * 17);
  EXPECT_EQ(Le64(idx, 40), 20u);
  EXPECT_EQ(Le64(idx, 48), 20u + 16 * 17);
  EXPECT_EQ(Le32(idx, 0), MaskedCrc(idx, 4, idx.size() - 4));

  std::string cp = ReadFile(Dir() + "/CHECKPOINT");
  ASSERT_EQ(cp.size(), 20u);
  EXPECT_EQ(cp.substr(4, 4), "HYCK");
  EXPECT_EQ(Le32(cp, 8), 1u);
  EXPECT_EQ(Le64(cp, 12), 1u);
  EXPECT_EQ(Le32(cp, 0), MaskedCrc(cp, 4, 16));
}

}  // namespace
}  // namespace hydrant::buffer
