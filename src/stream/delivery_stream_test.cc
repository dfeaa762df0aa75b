// DeliveryStream's stages: the Lambda processor's own buffering, the destination's
// buffering on transformed bytes, the source backup's own buffering, and a restart
// with processed records waiting in the transformed log. Real log and object store
// in a temporary directory; a fake clock and a fake function.

#include "stream/delivery_stream.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"
#include "common/base64.h"

namespace hydrant::stream {
namespace {

namespace json = boost::json;
using ::hydrant::testing::TempDir;

constexpr int64_t kStart = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr const char* kFnArn = "arn:aws:lambda:us-east-1:123456789012:function:f";

// Uppercases every record, or (shrink) replaces it with "x\n"; counts invocations.
class FakeFunction final : public processing::FunctionInvoker {
 public:
  explicit FakeFunction(bool shrink = false) : shrink_(shrink) {}
  processing::InvokeResult Invoke(const processing::FunctionRef&, const std::string& event_json,
                                  std::chrono::milliseconds) override {
    json::value ev = json::parse(event_json);
    json::array out;
    size_t n = 0;
    for (const auto& r : ev.at("records").as_array()) {
      std::string data = base64::Decode(json::value_to<std::string>(r.at("data"))).value();
      for (char& c : data) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (shrink_) data = "x\n";
      out.push_back(json::object{{"recordId", r.at("recordId")},
                                 {"result", "Ok"},
                                 {"data", base64::Encode(data)}});
      ++n;
    }
    {
      std::lock_guard lk(mu_);
      batches_.push_back(n);
    }
    processing::InvokeResult res;
    res.payload = json::serialize(json::object{{"records", std::move(out)}});
    return res;
  }
  std::vector<size_t> batches() const {
    std::lock_guard lk(mu_);
    return batches_;
  }

 private:
  bool shrink_;
  mutable std::mutex mu_;
  std::vector<size_t> batches_;
};

json::object Hints(int size_mb, int interval_s) {
  return {{"SizeInMBs", size_mb}, {"IntervalInSeconds", interval_s}};
}

json::object LambdaProcessing(std::string size_mb, std::string interval_s) {
  json::array params{
      json::object{{"ParameterName", "LambdaArn"}, {"ParameterValue", kFnArn}},
      json::object{{"ParameterName", "NumberOfRetries"}, {"ParameterValue", "0"}},
      json::object{{"ParameterName", "BufferSizeInMBs"}, {"ParameterValue", size_mb}},
      json::object{{"ParameterName", "BufferIntervalInSeconds"}, {"ParameterValue", interval_s}}};
  return {{"Enabled", true},
          {"Processors", json::array{json::object{{"Type", "Lambda"}, {"Parameters", params}}}}};
}

class DeliveryStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = store::ObjectStore::Open(dir_.Sub("s3"));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(st).value();
    ASSERT_TRUE(store_->CreateBucket("dest").ok());
    ASSERT_TRUE(store_->CreateBucket("backup").ok());
  }

  std::shared_ptr<DeliveryStream> Open(json::object destination,
                                       const std::function<void(DeliveryDeps&)>& customize = {}) {
    StreamMeta meta;
    meta.name = "s";
    meta.arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/s";
    meta.incarnation = "abc";
    meta.SetDestination(std::move(destination));
    DeliveryDeps deps;
    deps.sink = store_.get();
    deps.committer = &committer_;
    deps.clock = &clock_;
    deps.invoker = &function_;
    deps.region = "us-east-1";
    deps.options.backoff = {.min_ms = 10, .max_ms = 50};
    if (customize) customize(deps);
    auto s = DeliveryStream::Open(dir_.Sub("stream"), std::move(meta), std::move(deps));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }

  // A stream of many on one scheduler, writing to "dest/<name>/" (null on failure).
  std::shared_ptr<DeliveryStream> OpenShared(const std::string& name, json::object hints,
                                             DeliveryScheduler* scheduler, FileBudget* files) {
    StreamMeta meta;
    meta.name = name;
    meta.arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/" + name;
    meta.incarnation = "abc";
    meta.SetDestination({{"BucketARN", "arn:aws:s3:::dest"},
                         {"Prefix", name + "/"},
                         {"BufferingHints", std::move(hints)}});
    DeliveryDeps deps;
    deps.sink = store_.get();
    deps.committer = &committer_;
    deps.clock = &clock_;
    deps.scheduler = scheduler;
    deps.files = files;
    deps.options.lock_logs = false;
    auto s = DeliveryStream::Open(dir_.Sub("streams/" + name), std::move(meta), std::move(deps));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : nullptr;
  }

  static void Put(DeliveryStream& s, int64_t arrival, const std::vector<std::string>& records) {
    std::vector<std::string_view> views(records.begin(), records.end());
    std::promise<Result<uint64_t>> done;
    s.Put(arrival, views, [&](Result<uint64_t> r) { done.set_value(std::move(r)); });
    auto r = done.get_future().get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // Every object of the bucket, concatenated in key order.
  std::string Contents(const std::string& bucket) {
    auto list = store_->List(bucket, store::ListRequest{});
    EXPECT_TRUE(list.ok());
    std::string all;
    for (const auto& o : list->objects) {
      auto info = store_->HeadObject(bucket, o.key);
      if (!info.ok()) continue;
      std::ifstream in(info->data_path, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }
  size_t ObjectCount(const std::string& bucket) {
    auto list = store_->List(bucket, store::ListRequest{});
    return list.ok() ? list->objects.size() : 0;
  }

  // Polls (real time) until pred holds; false after 5 s.
  template <typename Pred>
  static bool Eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }
  // Waits until the delivery thread has seen everything so far and found nothing to
  // run: what has not happened by then will not happen until the clock moves.
  static void Settle(DeliveryStream& s) { ASSERT_TRUE(s.WaitUntilIdle(std::chrono::seconds(10))); }

  TempDir dir_;
  std::unique_ptr<store::ObjectStore> store_;
  buffer::GroupCommitter committer_;
  FakeClock clock_{kStart};
  FakeFunction function_;
};

std::vector<std::string> Records(int n, size_t size, char fill = 'a') {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(std::string(size - 1, fill) + "\n");
  return out;
}

TEST_F(DeliveryStreamTest, ProcessorWaitsForItsIntervalThenDestinationDelivers) {
  auto s = Open({{"BucketARN", "arn:aws:s3:::dest"},
                 {"BufferingHints", Hints(1, 0)},
                 {"ProcessingConfiguration", LambdaProcessing("0.2", "60")}});
  ASSERT_TRUE(s);
  Put(*s, kStart, Records(100, 1000));  // 100 KB: below the processor's 0.2 MB
  Settle(*s);
  EXPECT_TRUE(function_.batches().empty()) << "invoked before BufferIntervalInSeconds";
  EXPECT_EQ(ObjectCount("dest"), 0u);
  clock_.Advance(60'000);
  s->Wake();
  ASSERT_TRUE(Eventually([&] { return ObjectCount("dest") == 1; }));
  EXPECT_EQ(function_.batches(), std::vector<size_t>{100});
  std::string want;
  for (int i = 0; i < 100; ++i) want += std::string(999, 'A') + "\n";
  EXPECT_EQ(Contents("dest"), want);
  EXPECT_EQ(s->backlog_records(), 0u);
}

TEST_F(DeliveryStreamTest, ProcessorSizeTriggersInvocationsBeforeTheInterval) {
  auto s = Open({{"BucketARN", "arn:aws:s3:::dest"},
                 {"BufferingHints", Hints(1, 0)},
                 {"ProcessingConfiguration", LambdaProcessing("0.2", "900")}});
  ASSERT_TRUE(s);
  Put(*s, kStart, Records(250, 1000));  // 250 KB > 0.2 MiB (209,715 B)
  ASSERT_TRUE(Eventually([&] { return !function_.batches().empty(); }));
  // The first invocation holds at most BufferSizeInMBs of source data.
  EXPECT_LE(function_.batches()[0] * 1000, 209'715u + 1000);
}

TEST_F(DeliveryStreamTest, DestinationBuffersOnTransformedBytes) {
  FakeFunction shrink(/*shrink=*/true);
  auto s = [&] {
    StreamMeta meta;
    meta.name = "s";
    meta.arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/s";
    meta.incarnation = "abc";
    meta.SetDestination({{"BucketARN", "arn:aws:s3:::dest"},
                         {"BufferingHints", Hints(1, 300)},
                         {"ProcessingConfiguration", LambdaProcessing("1", "0")}});
    DeliveryDeps deps;
    deps.sink = store_.get();
    deps.committer = &committer_;
    deps.clock = &clock_;
    deps.invoker = &shrink;
    return DeliveryStream::Open(dir_.Sub("stream"), std::move(meta), std::move(deps)).value();
  }();
  // 2 MiB of source data would fill the destination's 1 MiB twice over, but the
  // function makes 2 bytes of each 1,000: the destination waits for its interval.
  Put(*s, kStart, Records(2100, 1000));
  ASSERT_TRUE(Eventually([&] { return s->backlog_records() == 0; }));  // all processed
  Settle(*s);
  EXPECT_EQ(ObjectCount("dest"), 0u);
  clock_.Advance(300'000);
  s->Wake();
  ASSERT_TRUE(Eventually([&] { return ObjectCount("dest") == 1; }));
  std::string want;
  for (int i = 0; i < 2100; ++i) want += "x\n";
  EXPECT_EQ(Contents("dest"), want);
  // Counted once the checkpoint is written, just after the object is visible.
  ASSERT_TRUE(Eventually([&] { return s->probe().delivered_records.load() == 2100u; }));
  EXPECT_EQ(s->probe().delivered_bytes.load(), 4200u);
}

TEST_F(DeliveryStreamTest, BackupHasItsOwnBuffering) {
  auto s = Open({{"BucketARN", "arn:aws:s3:::dest"},
                 {"BufferingHints", Hints(1, 0)},
                 {"S3BackupMode", "Enabled"},
                 {"S3BackupDescription",
                  {{"BucketARN", "arn:aws:s3:::backup"}, {"Prefix", "src/"},
                   {"BufferingHints", Hints(1, 300)}}}});
  ASSERT_TRUE(s);
  auto recs = Records(10, 100, 'q');
  Put(*s, kStart, recs);
  ASSERT_TRUE(Eventually([&] { return ObjectCount("dest") == 1; }));
  Settle(*s);
  EXPECT_EQ(ObjectCount("backup"), 0u);
  // The source records stay in the log until the backup has them too.
  EXPECT_EQ(s->backlog_records(), 10u);
  clock_.Advance(300'000);
  s->Wake();
  ASSERT_TRUE(Eventually([&] { return ObjectCount("backup") == 1; }));
  std::string all;
  for (const auto& r : recs) all += r;
  EXPECT_EQ(Contents("backup"), all);
  EXPECT_EQ(Contents("dest"), all);
  ASSERT_TRUE(Eventually([&] { return s->probe().backup_records.load() == 10u; }));
  EXPECT_EQ(s->backlog_records(), 0u);
  EXPECT_EQ(s->probe().backup_objects.load(), 1u);
}

TEST_F(DeliveryStreamTest, RestartDeliversTransformedBacklogWithoutReprocessing) {
  json::object dest{{"BucketARN", "arn:aws:s3:::dest"},
                    {"BufferingHints", Hints(1, 300)},
                    {"ProcessingConfiguration", LambdaProcessing("1", "0")}};
  {
    auto s = Open(dest);
    ASSERT_TRUE(s);
    Put(*s, kStart, Records(20, 50, 'm'));
    ASSERT_TRUE(Eventually([&] { return s->backlog_records() == 0; }));
    Settle(*s);
    EXPECT_EQ(ObjectCount("dest"), 0u);  // transformed, waiting for the interval
    s->Stop();
  }
  ASSERT_EQ(function_.batches().size(), 1u);
  auto s = Open(dest);
  ASSERT_TRUE(s);
  // A backlog found at start goes out at once, from the transformed log.
  ASSERT_TRUE(Eventually([&] { return ObjectCount("dest") == 1; }));
  std::string want;
  for (int i = 0; i < 20; ++i) want += std::string(49, 'M') + "\n";
  EXPECT_EQ(Contents("dest"), want);
  EXPECT_EQ(function_.batches().size(), 1u) << "processed again after the restart";
}

TEST_F(DeliveryStreamTest, LostCursorUpdateIsRepairedFromTheTransformedLog) {
  // With a backup behind, the processing cursor lives in cursors.json; losing its
  // last update (a crash just after the transformed batch was appended) must not
  // make the batch processed, and delivered, twice.
  json::object dest{{"BucketARN", "arn:aws:s3:::dest"},
                    {"BufferingHints", Hints(1, 300)},
                    {"ProcessingConfiguration", LambdaProcessing("1", "0")},
                    {"S3BackupMode", "Enabled"},
                    {"S3BackupDescription",
                     {{"BucketARN", "arn:aws:s3:::backup"}, {"BufferingHints", Hints(1, 300)}}}};
  auto recs = Records(5, 10, 'k');
  {
    auto s = Open(dest);
    ASSERT_TRUE(s);
    Put(*s, kStart, recs);
    ASSERT_TRUE(Eventually([&] { return function_.batches().size() == 1; }));
    Settle(*s);
    s->Stop();
  }
  ASSERT_EQ(std::remove(dir_.Sub("stream/cursors.json").c_str()), 0);
  auto s = Open(dest);
  ASSERT_TRUE(s);
  Settle(*s);
  EXPECT_EQ(function_.batches().size(), 1u) << "processed again after the restart";
  clock_.Advance(300'000);
  s->Wake();
  ASSERT_TRUE(Eventually([&] { return ObjectCount("dest") == 1 && ObjectCount("backup") == 1; }));
  EXPECT_EQ(Contents("dest"), std::string(5 * 10, 'K').replace(9, 1, "\n").replace(19, 1, "\n")
                                  .replace(29, 1, "\n").replace(39, 1, "\n").replace(49, 1, "\n"));
  std::string all;
  for (const auto& r : recs) all += r;
  EXPECT_EQ(Contents("backup"), all);
}

// Backoff of a failing stage: the next attempt comes only once its wait is over
// (the clock is fake; random() = 0 draws the shortest wait, half the ceiling).
TEST_F(DeliveryStreamTest, FailedObjectIsRetriedOnlyAfterItsBackoff) {
  auto s = Open({{"BucketARN", "arn:aws:s3:::late"}, {"BufferingHints", Hints(1, 0)}},
                [](DeliveryDeps& d) {
                  d.options.backoff = {.min_ms = 1000, .max_ms = 8000};
                  d.random = [] { return uint64_t{0}; };
                });
  ASSERT_TRUE(s);
  Put(*s, kStart, Records(3, 10));
  auto failures = [&] { return s->probe().delivery_failures.load(); };
  ASSERT_TRUE(Eventually([&] { return failures() == 1; }));  // no bucket "late" yet
  // Waits of 500 ms, then 1000 ms, then 2000 ms (half of 1, 2, 4 s).
  for (int64_t wait : {500, 1000, 2000}) {
    Settle(*s);  // the failed pass has set its next attempt (from the clock's time then)
    const uint64_t before = failures();
    clock_.Advance(wait - 1);
    s->Wake();
    Settle(*s);
    EXPECT_EQ(failures(), before) << "retried before its " << wait << " ms backoff";
    clock_.Advance(1);
    s->Wake();
    ASSERT_TRUE(Eventually([&] { return failures() == before + 1; })) << wait;
  }
  Settle(*s);
  ASSERT_TRUE(store_->CreateBucket("late").ok());
  clock_.Advance(4000);
  s->Wake();
  ASSERT_TRUE(Eventually([&] { return ObjectCount("late") == 1; }));
  EXPECT_EQ(failures(), 4u);
  EXPECT_EQ(s->probe().expired_records.load(), 0u);
}

// Expiry: records that cannot be delivered are dropped once they are older than
// the retention period, and counted; younger ones stay and are delivered later.
TEST_F(DeliveryStreamTest, UndeliverableRecordsExpireAfterTheRetentionPeriod) {
  auto s = Open({{"BucketARN", "arn:aws:s3:::late"}, {"BufferingHints", Hints(1, 0)}},
                [](DeliveryDeps& d) {
                  d.options.retention_ms = 60'000;
                  d.options.backoff = {.min_ms = 1000, .max_ms = 1000};
                });
  ASSERT_TRUE(s);
  Put(*s, kStart, Records(4, 10, 'o'));
  ASSERT_TRUE(Eventually([&] { return s->probe().delivery_failures.load() >= 1; }));
  Settle(*s);
  clock_.Advance(30'000);
  Put(*s, kStart + 30'000, Records(2, 10, 'y'));
  // At 59 s the first records are still within the retention period.
  clock_.Advance(29'000);
  s->Wake();
  Settle(*s);
  EXPECT_EQ(s->probe().expired_records.load(), 0u);
  EXPECT_EQ(s->backlog_records(), 6u);
  // At 61 s they are dropped, as one promised batch or record by record; the two
  // younger records stay.
  clock_.Advance(2'000);
  s->Wake();
  ASSERT_TRUE(Eventually([&] { return s->probe().expired_records.load() >= 4; }));
  ASSERT_TRUE(store_->CreateBucket("late").ok());
  clock_.Advance(1'000);
  s->Wake();
  ASSERT_TRUE(Eventually([&] { return s->probe().delivered_records.load() == 2; }));
  EXPECT_EQ(s->probe().expired_records.load(), 4u);
  EXPECT_EQ(Contents("late"), "yyyyyyyyy\nyyyyyyyyy\n") << "an expired record was delivered";
}

// fds and threads of this process (/proc/self).
size_t ProcessFds() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) n += !e.path().empty();
  return n - 1;  // the iterator's own fd
}
size_t ProcessThreads() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoul(line.substr(8));
  }
  return 0;
}

TEST_F(DeliveryStreamTest, ManyStreamsOnASharedSchedulerHoldNoFdsOrThreadsWhileIdle) {
  DeliveryScheduler scheduler({.min_workers = 2, .max_workers = 8, .idle_ms = 50});
  const size_t fds_before = ProcessFds();
  const size_t threads_before = ProcessThreads();
  std::vector<std::shared_ptr<DeliveryStream>> streams;
  for (int i = 0; i < 300; ++i) {
    streams.push_back(OpenShared("s" + std::to_string(i), Hints(1, 0), &scheduler, nullptr));
    ASSERT_TRUE(streams.back());
  }
  for (auto& s : streams) Settle(*s);
  // Idle: no fd and no thread per stream (was 4 fds and 1 thread each).
  EXPECT_EQ(ProcessFds(), fds_before);
  EXPECT_LE(ProcessThreads(), threads_before + 8);
  // Puts to a few streams are delivered, and their files closed again afterwards.
  for (int i : {0, 150, 299}) Put(*streams[i], kStart, Records(3, 10, 'p'));
  for (int i : {0, 150, 299}) {
    ASSERT_TRUE(Eventually([&] { return streams[i]->probe().delivered_records.load() == 3; }));
  }
  EXPECT_TRUE(Eventually([&] { return ProcessFds() == fds_before; }))
      << ProcessFds() << " fds, " << fds_before << " before";
  EXPECT_EQ(ObjectCount("dest"), 3u);
  for (auto& s : streams) s->Stop();
}

// Busy streams past the FileBudget: the least recently used close their files, so
// fds stay bounded by the budget, not by the number of streams written to.
TEST_F(DeliveryStreamTest, BusyStreamsPastTheFileBudgetCloseTheLeastRecentlyUsedFiles) {
  DeliveryScheduler scheduler({.min_workers = 2, .max_workers = 8, .idle_ms = 50});
  constexpr size_t kBudget = 8;
  FileBudget budget(kBudget);
  const size_t fds_before = ProcessFds();
  std::vector<std::shared_ptr<DeliveryStream>> streams;
  for (int i = 0; i < 200; ++i) {
    // 128 MB / 900 s: nothing is delivered while the test runs, so only puts use files.
    streams.push_back(OpenShared("s" + std::to_string(i), Hints(128, 900), &scheduler, &budget));
    ASSERT_TRUE(streams.back());
  }
  size_t peak = 0;
  for (int round = 0; round < 3; ++round) {
    for (auto& s : streams) {
      Put(*s, kStart, Records(2, 100));
      peak = std::max(peak, ProcessFds());
    }
  }
  // Without the budget every stream written to keeps its segment (and folder) open
  // for kFilesIdleTime: 400 fds here.
  EXPECT_LE(peak, fds_before + 4 * (kBudget + 1)) << "peak fds " << peak << ", before " << fds_before;
  EXPECT_LE(budget.listed(), kBudget);
  EXPECT_GE(budget.evictions(), 3 * 200 - kBudget - 1);
  // Whatever was closed under it, every record is still there and delivered.
  for (auto& s : streams) EXPECT_EQ(s->backlog_records(), 6u) << s->name();
  for (auto& s : streams) s->Stop();
}

}  // namespace
}  // namespace hydrant::stream
