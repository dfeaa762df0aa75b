// The Kinesis stream's probe (kinesis/probe.h): what KinesisStream::Put and
// ::Read count, as the CloudWatch metrics of Kinesis Data Streams define it.
#include "kinesis/probe.h"

#include <gtest/gtest.h>

#include <future>

#include "common/clock.h"
#include "kinesis/registry.h"
#include "testing/temp_dir.h"

namespace hydrant::kinesis {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

uint64_t L(const std::atomic<uint64_t>& a) { return a.load(); }

class KinesisProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistryOptions o;
    o.dir = dir_.Sub("kinesis");
    o.clock = &clock_;
    o.trim_every = std::chrono::milliseconds(0);
    auto r = KinesisRegistry::Open(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reg_ = std::move(r).value();
    auto s = reg_->Create("orders", 2, "PROVISIONED", {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    stream_ = *s;
  }

  Result<std::vector<PutOutcome>> Put(std::vector<PutEntry> entries, PutOp op) {
    std::promise<Result<std::vector<PutOutcome>>> done;
    stream_->Put(clock_.NowMillis(), entries,
                 [&](Result<std::vector<PutOutcome>> r) { done.set_value(std::move(r)); }, op);
    return done.get_future().get();
  }

  testing::TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<KinesisRegistry> reg_;
  std::shared_ptr<KinesisStream> stream_;
};

TEST_F(KinesisProbeTest, PutsCountTheirRecordsBytesAndLatencyUnderTheirOperation) {
  const KinesisStreamProbe& p = stream_->probe();
  ASSERT_TRUE(Put({{"a", std::nullopt, "12345"}, {"b", std::nullopt, "678"}, {"c", std::nullopt, ""}},
                  PutOp::kPutRecords)
                  .ok());
  ASSERT_TRUE(Put({{"partition-key-not-counted", std::nullopt, "xy"}}, PutOp::kPutRecord).ok());

  EXPECT_EQ(L(p.incoming_records), 4u);
  EXPECT_EQ(L(p.incoming_bytes), 10u);  // data only: 5 + 3 + 0 + 2
  EXPECT_EQ(L(p.put_records.calls), 1u);
  EXPECT_EQ(L(p.put_records.successes), 1u);
  EXPECT_EQ(p.put_records.latency.Read().count, 1u);
  EXPECT_EQ(L(p.put_records_bytes), 8u);
  EXPECT_EQ(L(p.put_records_total_records), 3u);
  EXPECT_EQ(L(p.put_records_successful_records), 3u);
  EXPECT_EQ(L(p.put_records_failed_records), 0u);
  EXPECT_EQ(L(p.put_records_throttled_records), 0u);
  EXPECT_EQ(L(p.put_record.calls), 1u);
  EXPECT_EQ(L(p.put_record.successes), 1u);
  EXPECT_EQ(p.put_record.latency.Read().count, 1u);
  EXPECT_EQ(L(p.put_record_bytes), 2u);
  EXPECT_EQ(L(p.write_throughput_exceeded), 0u);
}

TEST_F(KinesisProbeTest, APutThatFailsIsAFailedCallAndItsRecordsFailedRecords) {
  const KinesisStreamProbe& p = stream_->probe();
  ASSERT_TRUE(reg_->Delete("orders").ok());  // stream_ still holds the (destroyed) stream
  EXPECT_FALSE(Put({{"a", std::nullopt, "1"}, {"b", std::nullopt, "2"}}, PutOp::kPutRecords).ok());
  EXPECT_FALSE(Put({{"a", std::nullopt, "1"}}, PutOp::kPutRecord).ok());
  EXPECT_EQ(L(p.put_records.calls), 1u);
  EXPECT_EQ(L(p.put_records.successes), 0u);
  EXPECT_EQ(L(p.put_records_total_records), 2u);
  EXPECT_EQ(L(p.put_records_failed_records), 2u);
  EXPECT_EQ(L(p.put_records_successful_records), 0u);
  EXPECT_EQ(L(p.put_record.calls), 1u);
  EXPECT_EQ(L(p.put_record.successes), 0u);
  EXPECT_EQ(L(p.incoming_records), 0u);
  EXPECT_EQ(L(p.incoming_bytes), 0u);
  EXPECT_EQ(p.put_record.latency.Read().count, 1u);  // failed calls have a latency too
}

TEST_F(KinesisProbeTest, ReadsCountAsGetRecordsWithTheAgeOfTheLastRecordReturned) {
  const KinesisStreamProbe& p = stream_->probe();
  // Explicit hash key 0: shard 0.
  ASSERT_TRUE(Put({{"k", HashKey{0}, "old"}}, PutOp::kPutRecord).ok());
  clock_.Advance(1000);
  ASSERT_TRUE(Put({{"k", HashKey{0}, "newer"}}, PutOp::kPutRecord).ok());
  clock_.Advance(4000);

  auto first = stream_->Read(0, 0, 1, 1 << 20);  // the older record only
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->records.size(), 1u);
  EXPECT_EQ(p.get_records_iterator_age_ms.load(), 5000);
  auto rest = stream_->Read(0, first->next, 100, 1 << 20);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(p.get_records_iterator_age_ms.load(), 4000);
  EXPECT_EQ(L(p.get_records_records), 2u);
  EXPECT_EQ(L(p.get_records_bytes), 8u);  // "old" + "newer"
  // Caught up: nothing returned, age 0.
  ASSERT_TRUE(stream_->Read(0, rest->next, 100, 1 << 20).ok());
  EXPECT_EQ(p.get_records_iterator_age_ms.load(), 0);
  EXPECT_EQ(L(p.get_records.calls), 3u);
  EXPECT_EQ(L(p.get_records.successes), 3u);
  EXPECT_EQ(p.get_records.latency.Read().count, 3u);

  // A read that fails (no such shard) is a failed call, and leaves the age alone.
  EXPECT_FALSE(stream_->Read(99, 0, 100, 1 << 20).ok());
  EXPECT_EQ(L(p.get_records.calls), 4u);
  EXPECT_EQ(L(p.get_records.successes), 3u);
  EXPECT_EQ(L(p.get_records_records), 2u);
  EXPECT_EQ(L(p.read_throughput_exceeded), 0u);
}

}  // namespace
}  // namespace hydrant::kinesis
