// DirectPut through a real registry (a stream's log and the embedded store in a
// temporary folder): what each kind of put counts, and the answers for a missing
// stream and a full quota.

#include "sources/direct_put.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <future>
#include <string>
#include <vector>

#include "common/clock.h"
#include "destinations/object_store.h"
#include "stream/registry.h"
#include "buffer/disk_quota.h"
#include "testing/fault_env.h"
#include "testing/temp_dir.h"

namespace hydrant::sources {
namespace {

class DirectPutTest : public ::testing::Test {
 protected:
  void Open(uint64_t quota_bytes = 0, Env* env = nullptr) {
    auto store = store::ObjectStore::Open(dir_.Sub("s3"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    stream::RegistryOptions ro;
    ro.data_dir = dir_.path();
    ro.disk_quota_bytes = quota_bytes;
    ro.delivery.env = env;
    auto reg = stream::StreamRegistry::Open(ro, store_.get(), &clock_);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = std::move(reg).value();
    stream::StreamMeta m;
    m.name = "s";
    m.arn = stream::StreamArn(ro.account, "s");
    m.incarnation = "inc";
    m.SetDestination({{"BucketARN", "arn:aws:s3:::b"},
                      {"BufferingHints", {{"SizeInMBs", 1}, {"IntervalInSeconds", 900}}}});
    ASSERT_TRUE(registry_->Create(std::move(m)).ok());
    put_ = std::make_unique<DirectPut>(registry_.get());
  }

  Result<uint64_t> PutOne(PutKind kind, const std::vector<std::string_view>& records) {
    uint64_t bytes = 0;
    for (auto r : records) bytes += r.size();
    std::promise<Result<uint64_t>> done;
    put_->Put(registry_->Get("s"), kind, records, bytes, DirectPut::Steady::now(),
              [&](Result<uint64_t> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }

  testing::TempDir dir_;
  FaultEnv env_;  // outlives the registry's logs
  FakeClock clock_{1'767'225'600'000};
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<stream::StreamRegistry> registry_;
  std::unique_ptr<DirectPut> put_;
};

TEST_F(DirectPutTest, EachKindCountsItsOwnMetricsAndArrivesAtTheClocksTime) {
  Open();
  auto r = PutOne(PutKind::kPutRecord, {"abc"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0u);
  r = PutOne(PutKind::kPutRecordBatch, {"de", "fgh"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1u);
  const auto& p = registry_->Get("s")->probe();
  EXPECT_EQ(p.put_record.requests.load(), 1u);
  EXPECT_EQ(p.put_record_bytes.load(), 3u);
  EXPECT_EQ(p.put_record_batch.requests.load(), 1u);
  EXPECT_EQ(p.put_record_batch_records.load(), 2u);
  EXPECT_EQ(p.put_record_batch_bytes.load(), 5u);
  EXPECT_EQ(p.incoming_records.load(), 3u);
  EXPECT_EQ(p.incoming_bytes.load(), 8u);
  EXPECT_EQ(p.incoming_put_requests.load(), 2u);
  EXPECT_EQ(p.last_put_ms.load(), clock_.NowMillis());
}

TEST_F(DirectPutTest, ReingestIsAPutRecordBatchAndNamesAMissingStream) {
  Open();
  ASSERT_TRUE(put_->PutAndWait("s", {"one", "two"}).ok());
  const auto& p = registry_->Get("s")->probe();
  EXPECT_EQ(p.put_record_batch.requests.load(), 1u);
  EXPECT_EQ(p.put_record_batch_records.load(), 2u);
  EXPECT_EQ(p.incoming_records.load(), 2u);
  EXPECT_EQ(registry_->Get("s")->backlog_records(), 2u);
  Status missing = put_->PutAndWait("nope", {"x"});
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("nope"), std::string::npos);
}

TEST_F(DirectPutTest, AFullQuotaRefusesTheRecordsAndCountsThemThrottled) {
  Open(/*quota_bytes=*/4096);
  const std::string big(8192, 'x');
  auto r = PutOne(PutKind::kPutRecordBatch, {big, big});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  const auto& p = registry_->Get("s")->probe();
  EXPECT_EQ(p.throttled_records.load(), 2u);
  EXPECT_EQ(p.put_record_batch.requests.load(), 1u);  // it reached the stream
  EXPECT_EQ(p.incoming_records.load(), 0u);
  EXPECT_EQ(registry_->Get("s")->backlog_records(), 0u);
}

TEST_F(DirectPutTest, AFullDiskRefusesTheRecordsAsTheQuotaDoesAndCountsThem) {
  Open(0, &env_);
  ASSERT_TRUE(PutOne(PutKind::kPutRecord, {"first"}).ok());
  for (int err : {ENOSPC, EDQUOT}) {
    env_.FailNext(FaultEnv::Op::kPwrite, err);
    auto r = PutOne(PutKind::kPutRecordBatch, {"a", "b", "c"});
    ASSERT_FALSE(r.ok());
    // What the API answers "Slow down." for (server/firehose_api.cc), as for the quota.
    EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
    EXPECT_EQ(r.status().error_code(), buffer::kDiskFullErrorCode);
  }
  const auto& p = registry_->Get("s")->probe();
  EXPECT_EQ(p.disk_full_records.load(), 6u);
  EXPECT_EQ(p.throttled_records.load(), 6u);
  // With space again, puts go on.
  auto r = PutOne(PutKind::kPutRecord, {"again"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 1u);
  EXPECT_EQ(p.incoming_records.load(), 2u);
}

}  // namespace
}  // namespace hydrant::sources
