// StreamLog basics: round trips, segments, reads, checkpoints, quota, lifecycle.

#include "buffer/stream_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "buffer/log_test_util.h"
#include "common/latency_histogram.h"

namespace hydrant::buffer {
namespace {

using testing::FileSize;
using testing::PayloadFor;
using testing::ReadAll;
using testing::Rec;
using testing::SegmentFiles;
using testing::TempDir;

std::unique_ptr<StreamLog> OpenOrDie(const std::string& dir, LogOptions opts = {},
                                     RecoveryReport* report = nullptr) {
  auto r = StreamLog::Open(dir, opts, report);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

uint64_t AppendOne(StreamLog& log, int64_t ts, std::string_view payload) {
  std::string_view p[] = {payload};
  auto r = log.Append(ts, p);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value() : UINT64_MAX;
}

uint64_t SumFileSizes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& f : SegmentFiles(dir)) n += FileSize(f);
  return n;
}

TEST(StreamLogTest, RoundTripEmptySmallAndOneMebibytePayloads) {
  TempDir tmp;
  auto log = OpenOrDie(tmp.Sub("log"));
  ASSERT_TRUE(log);
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + (i >> 9));
  std::string_view batch[] = {"", "hello", big, std::string_view("\0\x01\xff", 3)};
  auto first = log->Append(1700000000123, batch);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value(), 0u);
  EXPECT_EQ(AppendOne(*log, -5, "after"), 4u);
  EXPECT_EQ(log->next_seq(), 5u);
  ASSERT_TRUE(log->Sync().ok());

  std::vector<Rec> expect = {{0, 1700000000123, ""},
                             {1, 1700000000123, "hello"},
                             {2, 1700000000123, big},
                             {3, 1700000000123, std::string("\0\x01\xff", 3)},
                             {4, -5, "after"}};
  EXPECT_EQ(ReadAll(*log), expect);

  // And the same after a restart.
  log.reset();
  RecoveryReport report;
  log = OpenOrDie(tmp.Sub("log"), {}, &report);
  EXPECT_EQ(ReadAll(*log), expect);
  EXPECT_EQ(report.records_recovered, 5u);
  EXPECT_EQ(report.bytes_truncated, 0u);
  EXPECT_TRUE(report.problems.empty());
}

TEST(StreamLogTest, EmptyAppendReturnsNextSeqAndWritesNothing) {
  TempDir tmp;
  auto log = OpenOrDie(tmp.Sub("log"));
  AppendOne(*log, 1, "a");
  uint64_t bytes = log->disk_bytes();
  auto r = log->Append(2, std::span<const std::string_view>());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(log->next_seq(), 1u);
  EXPECT_EQ(log->disk_bytes(), bytes);
}

TEST(StreamLogTest, ManyRecordsAcrossSegments) {
  TempDir tmp;
  const std::string dir = tmp.Sub("log");
  LogOptions opts;
  opts.segment_target_bytes = 4096;
  auto log = OpenOrDie(dir, opts);
  std::vector<Rec> expect;
  uint64_t seq = 0;
  for (int b = 0; seq < 3000; ++b) {
    size_t n = 1 + b % 7;
    std::vector<std::string> owned;
    for (size_t i = 0; i < n; ++i) owned.push_back(PayloadFor(seq + i));
    std::vector<std::string_view> views(owned.begin(), owned.end());
    auto r = log->Append(1000 + b, views);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r.value(), seq);
    for (size_t i = 0; i < n; ++i) expect.push_back(Rec{seq + i, 1000 + b, owned[i]});
    seq += n;
  }
  ASSERT_TRUE(log->Sync().ok());
  auto files = SegmentFiles(dir);
  EXPECT_GT(files.size(), 50u);
  // A segment only exceeds the target when one batch alone does (max 7*316 bytes here).
  for (const auto& f : files) EXPECT_LE(FileSize(f), 4096u) << f;
  EXPECT_EQ(log->disk_bytes(), SumFileSizes(dir));
  EXPECT_EQ(ReadAll(*log), expect);

  // Reads starting anywhere (segment starts, index points, in between).
  for (uint64_t from : {0ull, 1ull, 15ull, 16ull, 17ull, 999ull, 1500ull, 2999ull}) {
    auto got = ReadAll(*log, from);
    ASSERT_EQ(got.size(), expect.size() - from) << from;
    EXPECT_EQ(got.front(), expect[from]);
  }
  EXPECT_TRUE(ReadAll(*log, seq).empty());
  EXPECT_TRUE(ReadAll(*log, seq + 100).empty());

  log.reset();
  RecoveryReport report;
  log = OpenOrDie(dir, opts, &report);
  EXPECT_EQ(report.records_recovered, expect.size());
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(log->next_seq(), seq);
  EXPECT_EQ(ReadAll(*log), expect);
}

TEST(StreamLogTest, ReadStopsAtMaxBytesButPassesAtLeastOneRecord) {
  TempDir tmp;
  auto log = OpenOrDie(tmp.Sub("log"));
  std::string p100(100, 'x');
  for (int i = 0; i < 10; ++i) AppendOne(*log, i, p100);

  auto count = [&](uint64_t from, uint64_t max_bytes) {
    std::vector<uint64_t> seqs;
    EXPECT_TRUE(log->Read(from, max_bytes,
                          [&](const LogRecord& r) {
                            seqs.push_back(r.seq);
                            return true;
                          })
                    .ok());
    return seqs;
  };
  EXPECT_EQ(count(0, 250), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(count(0, 300), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(count(4, 10), (std::vector<uint64_t>{4}));
  EXPECT_EQ(count(8, 0), (std::vector<uint64_t>{8}));
  EXPECT_EQ(count(7, 100000), (std::vector<uint64_t>{7, 8, 9}));

  // fn returning false ends the read after that record.
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(log->Read(2, UINT64_MAX,
                        [&](const LogRecord& r) {
                          seqs.push_back(r.seq);
                          return r.seq < 4;
                        })
                  .ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 3, 4}));
}

TEST(StreamLogTest, BatchedSequentialReadsSeeEveryRecordOnce) {
  // The delivery loop's pattern: Read(from, budget), continue after the last seq.
  TempDir tmp;
  LogOptions opts;
  opts.segment_target_bytes = 8192;
  auto log = OpenOrDie(tmp.Sub("log"), opts);
  for (uint64_t s = 0; s < 2000; ++s) AppendOne(*log, 7, PayloadFor(s));
  uint64_t from = 0;
  uint64_t calls = 0;
  while (from < log->next_seq()) {
    ++calls;
    uint64_t before = from;
    ASSERT_TRUE(log->Read(from, 1000,
                          [&](const LogRecord& r) {
                            EXPECT_EQ(r.seq, from);
                            EXPECT_EQ(r.data, PayloadFor(r.seq));
                            from = r.seq + 1;
                            return true;
                          })
                    .ok());
    ASSERT_GT(from, before);
  }
  EXPECT_EQ(from, 2000u);
  EXPECT_GT(calls, 100u);  // the budget really split the reads
}

TEST(StreamLogTest, ReadSeesAppendedButUnsyncedRecords) {
  TempDir tmp;
  auto log = OpenOrDie(tmp.Sub("log"));
  AppendOne(*log, 1, "one");
  EXPECT_EQ(log->sync_count(), 0u);
  auto got = ReadAll(*log);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, "one");
}

TEST(StreamLogTest, SyncOnlyCallsFdatasyncWhenSomethingIsUnsynced) {
  TempDir tmp;
  auto log = OpenOrDie(tmp.Sub("log"));
  ASSERT_TRUE(log->Sync().ok());
  EXPECT_EQ(log->sync_count(), 0u);
  // The first Sync after Open flushes the folder: a flush, timed.
  EXPECT_EQ(log->sync_latency().Read().count, 1u);
  AppendOne(*log, 1, "one");
  ASSERT_TRUE(log->Sync().ok());
  EXPECT_EQ(log->sync_count(), 1u);
  EXPECT_EQ(log->sync_latency().Read().count, 2u);
  ASSERT_TRUE(log->Sync().ok());
  EXPECT_EQ(log->sync_count(), 1u);
  EXPECT_EQ(log->sync_latency().Read().count, 2u);  // nothing to flush: not timed
}

TEST(StreamLogTest, SyncCoversRotatedSegments) {
  TempDir tmp;
  LogOptions opts;
  opts.segment_target_bytes = 200;
  auto log = OpenOrDie(tmp.Sub("log"), opts);
  for (int i = 0; i < 3; ++i) AppendOne(*log, 1, std::string(150, 'a'));  // three segments
  ASSERT_EQ(SegmentFiles(tmp.Sub("log")).size(), 3u);
  ASSERT_TRUE(log->Sync().ok());
  EXPECT_EQ(log->sync_count(), 3u);
}

TEST(StreamLogTest, SeqContinuesAcrossReopen) {
  TempDir tmp;
  const std::string dir = tmp.Sub("log");
  {
    auto log = OpenOrDie(dir);
    for (int i = 0; i < 10; ++i) AppendOne(*log, i, "r" + std::to_string(i));
    ASSERT_TRUE(log->Sync().ok());
  }
  {
    auto log = OpenOrDie(dir);
    EXPECT_EQ(log->next_seq(), 10u);
    for (int i = 10; i < 15; ++i)
      EXPECT_EQ(AppendOne(*log, i, "r" + std::to_string(i)), uint64_t(i));
  }
  auto log = OpenOrDie(dir);
  auto got = ReadAll(*log);
  ASSERT_EQ(got.size(), 15u);
  for (int i = 0; i < 15; ++i) {
    EXPECT_EQ(got[i].seq, uint64_t(i));
    EXPECT_EQ(got[i].data, "r" + std::to_string(i));
    EXPECT_EQ(got[i].arrival_ms, i);
  }
}

TEST(StreamLogTest, MarkDeliveredDeletesWholeSegmentsAndPersists) {
  TempDir tmp;
  const std::string dir = tmp.Sub("log");
  LogOptions opts;
  opts.segment_target_bytes = 1000;
  opts.reuse_segments = 0;  // deleted, not kept (segment_reuse_test.cc keeps them)
  DiskQuota quota(1 << 20);
  opts.quota = &quota;
  auto log = OpenOrDie(dir, opts);
  for (uint64_t s = 0; s < 100; ++s) AppendOne(*log, 3, std::string(84, char('a' + s % 26)));
  // 100-byte frames, 9 per segment (20 + 9*100 <= 1000 < 20 + 10*100).
  ASSERT_EQ(SegmentFiles(dir).size(), 12u);
  EXPECT_EQ(quota.used(), log->disk_bytes());

  ASSERT_TRUE(log->MarkDelivered(50).ok());
  EXPECT_EQ(log->first_undelivered(), 50u);
  auto files = SegmentFiles(dir);
  // Segments 0-8, 9-17, 18-26, 27-35, 36-44 are gone; 45-53 holds undelivered records.
  ASSERT_EQ(files.size(), 7u);
  EXPECT_EQ(std::filesystem::path(files[0]).filename(), testing::SegmentName(45));
  EXPECT_EQ(log->disk_bytes(), SumFileSizes(dir));
  EXPECT_EQ(quota.used(), log->disk_bytes());
  auto got = ReadAll(*log, 50);
  ASSERT_EQ(got.size(), 50u);
  EXPECT_EQ(got.front().seq, 50u);

  // Earlier or equal marks are no-ops; beyond the end is refused.
  EXPECT_TRUE(log->MarkDelivered(20).ok());
  EXPECT_EQ(log->first_undelivered(), 50u);
  EXPECT_EQ(log->MarkDelivered(101).code(), StatusCode::kInvalidArgument);

  log.reset();
  EXPECT_EQ(quota.used(), 0u);  // a closed log holds no quota
  RecoveryReport report;
  log = OpenOrDie(dir, opts, &report);
  EXPECT_EQ(log->first_undelivered(), 50u);
  EXPECT_EQ(report.records_recovered, 50u);
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(quota.used(), SumFileSizes(dir));
  EXPECT_EQ(log->next_seq(), 100u);
}

TEST(StreamLogTest, DeliveringEverythingRemovesAllSegmentsAndKeepsTheSeq) {
  TempDir tmp;
  const std::string dir = tmp.Sub("log");
  {
    auto log = OpenOrDie(dir);
    for (int i = 0; i < 10; ++i) AppendOne(*log, 1, "x");
    ASSERT_TRUE(log->MarkDelivered(10).ok());
    EXPECT_TRUE(SegmentFiles(dir).empty());
    EXPECT_EQ(log->disk_bytes(), 0u);
    EXPECT_TRUE(ReadAll(*log).empty());
    EXPECT_EQ(AppendOne(*log, 1, "y"), 10u);  // a new segment starts at 10
    ASSERT_TRUE(log->MarkDelivered(11).ok());
  }
  RecoveryReport report;
  auto log = OpenOrDie(dir, {}, &report);
  EXPECT_EQ(log->next_seq(), 11u);
  EXPECT_EQ(log->first_undelivered(), 11u);
  EXPECT_EQ(report.records_recovered, 0u);
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(AppendOne(*log, 1, "z"), 11u);
  EXPECT_EQ(std::filesystem::path(SegmentFiles(dir).at(0)).filename(), testing::SegmentName(11));
}

TEST(StreamLogTest, CrashBetweenCheckpointAndDeletionIsCleanedUpOnOpen) {
  TempDir tmp;
  const std::string dir = tmp.Sub("log");
  LogOptions opts;
  opts.segment_target_bytes = 300;
  std::string saved_first_segment;
  {
    auto log = OpenOrDie(dir, opts);
    for (int i = 0; i < 10; ++i) AppendOne(*log, 1, std::string(84, 'q'));  // 2 per segment
    saved_first_segment = testing::ReadFile(SegmentFiles(dir)[0]);
    ASSERT_TRUE(log->MarkDelivered(4).ok());
  }
  // Put back a delivered segment, as if the process died before unlinking it.
  std::string path = dir + "/" + testing::SegmentName(0);
  {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, saved_first_segment.data(), saved_first_segment.size()),
              ssize_t(saved_first_segment.size()));
    ::close(fd);
  }
  RecoveryReport report;
  auto log = OpenOrDie(dir, opts, &report);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(report.records_recovered, 6u);
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(ReadAll(*log).front().seq, 4u);
}

TEST(StreamLogTest, QuotaRefusalLeavesTheLogIntactAndReadable) {
  TempDir tmp;
  const std::string dir = tmp.Sub("log");
  DiskQuota quota(2000);
  LogOptions opts;
  opts.quota = &quota;
  opts.segment_target_bytes = 1000;
  opts.reuse_segments = 0;  // delivered bytes go back to the quota at once
  auto log = OpenOrDie(dir, opts);
  uint64_t accepted = 0;
  Status refused;
  for (int i = 0; i < 100; ++i) {
    std::string a(84, char('a' + i % 26));
    std::string_view p[] = {a, "second"};
    auto r = log->Append(i, p);
    if (!r.ok()) {
      refused = r.status();
      break;
    }
    accepted += 2;
  }
  ASSERT_EQ(refused.code(), StatusCode::kResourceExhausted) << refused.ToString();
  EXPECT_GT(accepted, 0u);
  uint64_t bytes = log->disk_bytes();
  EXPECT_LE(bytes, 2000u);
  EXPECT_EQ(bytes, SumFileSizes(dir));
  EXPECT_EQ(quota.used(), bytes);
  EXPECT_EQ(log->next_seq(), accepted);
  // Refused again, still nothing written.
  std::string_view p[] = {"more"};
  EXPECT_EQ(log->Append(1, p).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(SumFileSizes(dir), bytes);
  auto got = ReadAll(*log);
  ASSERT_EQ(got.size(), accepted);
  EXPECT_EQ(got.back().data, "second");
  ASSERT_TRUE(log->Sync().ok());

  // Reopen: nothing damaged, same records.
  log.reset();
  RecoveryReport report;
  log = OpenOrDie(dir, opts, &report);
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(report.records_recovered, accepted);
  EXPECT_EQ(quota.used(), bytes);

  // Delivering frees quota, and appends work again.
  ASSERT_TRUE(log->MarkDelivered(accepted).ok());
  EXPECT_EQ(quota.used(), 0u);
  EXPECT_EQ(AppendOne(*log, 1, "after"), accepted);
}

TEST(StreamLogTest, QuotaIsSharedBetweenLogs) {
  TempDir tmp;
  DiskQuota quota(500);
  LogOptions opts;
  opts.quota = &quota;
  auto a = OpenOrDie(tmp.Sub("a"), opts);
  auto b = OpenOrDie(tmp.Sub("b"), opts);
  EXPECT_NE(AppendOne(*a, 1, std::string(300, 'a')), UINT64_MAX);
  std::string big(300, 'b');
  std::string_view p[] = {big};
  EXPECT_EQ(b->Append(1, p).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(b->disk_bytes(), 0u);
  ASSERT_TRUE(a->Destroy().ok());
  EXPECT_EQ(quota.used(), 0u);
  EXPECT_TRUE(b->Append(1, p).ok());
}

TEST(StreamLogTest, DestroyRemovesTheDirectory) {
  TempDir tmp;
  const std::string dir = tmp.Sub("log");
  auto log = OpenOrDie(dir);
  AppendOne(*log, 1, "x");
  ASSERT_TRUE(log->MarkDelivered(1).ok());
  AppendOne(*log, 1, "y");
  ASSERT_TRUE(log->Destroy().ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  std::string_view p[] = {"z"};
  EXPECT_FALSE(log->Append(1, p).ok());
  EXPECT_FALSE(log->Sync().ok());
}

TEST(StreamLogTest, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir tmp;
  auto log = OpenOrDie(tmp.Sub("log"));
  auto again = StreamLog::Open(tmp.Sub("log"), {}, nullptr);
  EXPECT_EQ(again.status().code(), StatusCode::kUnavailable);
  log.reset();
  EXPECT_TRUE(StreamLog::Open(tmp.Sub("log"), {}, nullptr).ok());
}

TEST(StreamLogTest, ConcurrentAppendReadSyncAndDeliver) {
  TempDir tmp;
  LogOptions opts;
  opts.segment_target_bytes = 16 << 10;
  auto log = OpenOrDie(tmp.Sub("log"), opts);
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 2000;
  std::atomic<int> writers_done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::string p = std::to_string(w) + ":" + std::to_string(i) + ":" + PayloadFor(i, 100);
        std::string_view v[] = {p};
        ASSERT_TRUE(log->Append(w, v).ok());
      }
      writers_done.fetch_add(1);
    });
  }
  threads.emplace_back([&] {
    while (writers_done.load() < kWriters) ASSERT_TRUE(log->Sync().ok());
  });
  // The delivery loop: read batches, check them, mark them delivered.
  std::vector<int> next_per_writer(kWriters, 0);
  uint64_t from = 0;
  while (from < uint64_t(kWriters) * kPerWriter) {
    if (from == log->next_seq()) std::this_thread::yield();
    ASSERT_TRUE(log->Read(from, 4096,
                          [&](const LogRecord& r) {
                            EXPECT_EQ(r.seq, from);
                            int w = std::stoi(std::string(r.data.substr(0, r.data.find(':'))));
                            auto rest = r.data.substr(r.data.find(':') + 1);
                            int i = std::stoi(std::string(rest.substr(0, rest.find(':'))));
                            EXPECT_EQ(r.arrival_ms, w);
                            EXPECT_EQ(i, next_per_writer[w]++);
                            EXPECT_EQ(rest.substr(rest.find(':') + 1), PayloadFor(i, 100));
                            from = r.seq + 1;
                            return true;
                          })
                    .ok());
    if (from % 7 == 0) {
      ASSERT_TRUE(log->MarkDelivered(from).ok());
    }
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(log->MarkDelivered(from).ok());
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(next_per_writer[w], kPerWriter);
  EXPECT_TRUE(SegmentFiles(tmp.Sub("log")).empty());
}

}  // namespace
}  // namespace hydrant::buffer
