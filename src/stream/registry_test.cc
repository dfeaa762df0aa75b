// StreamRegistry's start with damaged stream folders: one bad stream is
// quarantined (kept, reported, its name taken, retried) while the others open; a
// lost definition is rebuilt from its copy; an interrupted deletion is finished.

#include "stream/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <thread>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/file_util.h"
#include "destinations/object_store.h"
#include "testing/temp_dir.h"

namespace hydrant::stream {
namespace {

constexpr uint64_t kRecords = 1000;

class RegistryDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No bucket: delivery keeps failing, so every record stays undelivered.
    auto store = store::ObjectStore::Open(dir_.Sub("s3"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void OpenRegistry() {
    registry_.reset();
    RegistryOptions ro;
    ro.data_dir = dir_.path();
    ro.delivery.segment_bytes = segment_bytes_;
    ro.quarantine_retry = std::chrono::milliseconds(0);  // the tests retry by hand
    auto reg = StreamRegistry::Open(ro, store_.get(), &clock_);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = std::move(reg).value();
  }

  // Streams "a" and "b", each holding kRecords acknowledged records.
  void CreateStreamsWithRecords(const std::string& bucket = "missing") {
    OpenRegistry();
    for (const char* name : {"a", "b"}) {
      StreamMeta m;
      m.name = name;
      m.arn = StreamArn(AccountContext{}, name);
      m.incarnation = std::string("inc-") + name;
      m.SetDestination({{"BucketARN", "arn:aws:s3:::" + bucket},
                        {"BufferingHints", {{"SizeInMBs", 128}, {"IntervalInSeconds", 900}}}});
      ASSERT_TRUE(registry_->Create(std::move(m)).ok());
      std::vector<std::string> records;
      for (uint64_t i = 0; i < kRecords; ++i) records.push_back("record-" + std::to_string(i));
      // In puts of 50 records, as producers send them (segments rotate between puts).
      for (size_t from = 0; from < records.size(); from += 50) {
        std::vector<std::string_view> views(records.begin() + from, records.begin() + from + 50);
        std::promise<Result<uint64_t>> done;
        registry_->Get(name)->Put(clock_.NowMillis(), views,
                                  [&](Result<uint64_t> r) { done.set_value(std::move(r)); });
        ASSERT_TRUE(done.get_future().get().ok());
      }
    }
    registry_.reset();
  }

  std::string Dir(const std::string& name) const { return dir_.path() + "/streams/s-" + name; }

  uint64_t Recovered(const std::string& name) const {
    auto s = registry_->Get(name);
    return s ? s->probe().recovered_records.load() : 0;
  }

  testing::TempDir dir_;
  uint64_t segment_bytes_ = 64ull << 20;
  FakeClock clock_{1'767'225'600'000};
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<StreamRegistry> registry_;
};

TEST_F(RegistryDamageTest, UnreadableDefinitionAndCopyQuarantineOnlyThatStream) {
  CreateStreamsWithRecords();
  ASSERT_TRUE(fs::WriteFileAtomic(Dir("a") + "/stream.json", "").ok());
  ASSERT_TRUE(fs::WriteFileAtomic(Dir("a") + "/stream.json.bak", "{not json").ok());
  OpenRegistry();
  EXPECT_EQ(Recovered("b"), kRecords);
  EXPECT_EQ(registry_->Get("a"), nullptr);
  auto q = registry_->Quarantined();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].name, "a");
  EXPECT_NE(q[0].reason.find("stream.json is empty"), std::string::npos) << q[0].reason;
  // The name stays taken and the data stays where it was.
  StreamMeta m;
  m.name = "a";
  EXPECT_EQ(registry_->Create(std::move(m)).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(fs::Exists(Dir("a") + "/log"));
  // Mended by hand, the stream opens at the next retry with all its records.
  auto good = fs::ReadFile(Dir("b") + "/stream.json");
  ASSERT_TRUE(good.ok());
  std::string text = *good;
  for (size_t at; (at = text.find("\"b\"")) != std::string::npos;) text.replace(at, 3, "\"a\"");
  for (size_t at; (at = text.find("/b\"")) != std::string::npos;) text.replace(at, 3, "/a\"");
  ASSERT_TRUE(fs::WriteFileAtomic(Dir("a") + "/stream.json", text).ok());
  EXPECT_EQ(registry_->RetryQuarantined(), 1u);
  EXPECT_TRUE(registry_->Quarantined().empty());
  EXPECT_EQ(Recovered("a"), kRecords);
}

TEST_F(RegistryDamageTest, ALogThatCannotBeOpenedIsQuarantinedAndRetried) {
  CreateStreamsWithRecords();
  // A file where the log's folder should be (the server holds one lock for the
  // data folder, so a stray log/LOCK is not read at all).
  ASSERT_EQ(::rename((Dir("a") + "/log").c_str(), (Dir("a") + "/log.kept").c_str()), 0);
  ASSERT_TRUE(fs::WriteFileAtomic(Dir("a") + "/log", "not a folder").ok());
  ASSERT_TRUE(fs::MakeDirs(Dir("b") + "/log/LOCK").ok());
  OpenRegistry();
  EXPECT_EQ(Recovered("b"), kRecords);
  ASSERT_EQ(registry_->Quarantined().size(), 1u);
  EXPECT_EQ(registry_->RetryQuarantined(), 0u);
  auto q = registry_->Quarantined();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].attempts, 2u);
  EXPECT_NE(q[0].reason.find("log"), std::string::npos) << q[0].reason;
  ASSERT_EQ(::unlink((Dir("a") + "/log").c_str()), 0);
  ASSERT_EQ(::rename((Dir("a") + "/log.kept").c_str(), (Dir("a") + "/log").c_str()), 0);
  EXPECT_EQ(registry_->RetryQuarantined(), 1u);
  EXPECT_EQ(Recovered("a"), kRecords);
}

TEST_F(RegistryDamageTest, DeletionsDoNotPileUpThreads) {
  OpenRegistry();
  for (int i = 0; i < 200; ++i) {
    const std::string name = "churn-" + std::to_string(i % 4);
    StreamMeta m;
    m.name = name;
    m.arn = StreamArn(AccountContext{}, name);
    m.incarnation = "inc-" + std::to_string(i);
    m.SetDestination({{"BucketARN", "arn:aws:s3:::missing"}});
    // The name of a stream still being removed is taken: wait for it.
    Status created;
    for (int tries = 0; tries < 2000; ++tries) {
      created = registry_->Create(std::move(m));
      if (created.code() != StatusCode::kAlreadyExists) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      m = StreamMeta{};
      m.name = name;
      m.arn = StreamArn(AccountContext{}, name);
      m.incarnation = "inc-" + std::to_string(i);
      m.SetDestination({{"BucketARN", "arn:aws:s3:::missing"}});
    }
    ASSERT_TRUE(created.ok()) << created.ToString();
    ASSERT_TRUE(registry_->Delete(name).ok());
  }
  // Each deletion's thread is joined by a later one: only the few still in
  // flight are held (all 200 were, before).
  EXPECT_LE(registry_->BackgroundDeletions(), 4u);
}

TEST_F(RegistryDamageTest, DeletedOrDamagedDefinitionIsRebuiltFromItsCopy) {
  CreateStreamsWithRecords();
  ASSERT_EQ(::unlink((Dir("a") + "/stream.json").c_str()), 0);
  ASSERT_TRUE(fs::WriteFileAtomic(Dir("b") + "/stream.json", "{\"Delivery").ok());
  OpenRegistry();
  EXPECT_TRUE(registry_->Quarantined().empty());
  EXPECT_EQ(Recovered("a"), kRecords);
  EXPECT_EQ(Recovered("b"), kRecords);
  EXPECT_TRUE(fs::Exists(Dir("a") + "/stream.json"));
  // The damaged original is kept for inspection.
  auto kept = fs::ReadFile(Dir("b") + "/stream.json.damaged");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "{\"Delivery");
}

TEST_F(RegistryDamageTest, AFolderWithoutAnyDefinitionIsKeptNotRemoved) {
  CreateStreamsWithRecords();
  ASSERT_EQ(::unlink((Dir("a") + "/stream.json").c_str()), 0);
  ASSERT_EQ(::unlink((Dir("a") + "/stream.json.bak").c_str()), 0);
  OpenRegistry();
  ASSERT_EQ(registry_->Quarantined().size(), 1u);
  EXPECT_TRUE(fs::Exists(Dir("a") + "/log"));
  registry_.reset();
  OpenRegistry();  // and at every later start
  EXPECT_TRUE(fs::Exists(Dir("a") + "/log"));
  EXPECT_EQ(registry_->Quarantined().size(), 1u);
}

TEST_F(RegistryDamageTest, AnInterruptedDeletionIsFinished) {
  CreateStreamsWithRecords();
  // What DeleteDeliveryStream leaves when the process dies before the folder goes.
  FileDefinitionStore files(dir_.path() + "/streams");
  ASSERT_TRUE(files.Remove("a").ok());
  OpenRegistry();
  EXPECT_TRUE(registry_->Quarantined().empty());
  EXPECT_FALSE(fs::Exists(Dir("a")));
  EXPECT_EQ(Recovered("b"), kRecords);
}

TEST_F(RegistryDamageTest, RecordsAfterADeletedSegmentAreStillDelivered) {
  segment_bytes_ = 4096;  // about 160 records a segment
  CreateStreamsWithRecords("damage-test");
  std::vector<std::string> segments;
  for (const auto& n : fs::ListDir(Dir("a") + "/log")) {
    if (n.ends_with(".log")) segments.push_back(n);
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_GE(segments.size(), 4u);
  const uint64_t lost_from = std::stoull(segments[1]);
  const uint64_t lost_to = std::stoull(segments[2]);
  ASSERT_EQ(::unlink((Dir("a") + "/log/" + segments[1]).c_str()), 0);
  ASSERT_TRUE(store_->CreateBucket("damage-test").ok());
  OpenRegistry();
  auto a = registry_->Get("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->recovery_problems().size(), 1u);
  EXPECT_NE(a->recovery_problems()[0].find("are lost"), std::string::npos);
  EXPECT_EQ(a->probe().lost_records.load(), lost_to - lost_from);
  const uint64_t want = kRecords - (lost_to - lost_from);
  for (int i = 0; i < 500 && a->probe().delivered_records.load() < want; ++i) {
    a->Wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(a->probe().delivered_records.load(), want);
}

}  // namespace
}  // namespace hydrant::stream
