#include "observability/series.h"

#include <cmath>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "stream/probe.h"

namespace hydrant::observability {
namespace {

constexpr int64_t kPeriod = 10'000;
constexpr int64_t kT0 = 1'700'000'000'000;  // a multiple of the period

class SeriesTest : public ::testing::Test {
 protected:
  FakeClock clock_{kT0};
  MetricsSeries series_{{.period_ms = kPeriod, .retention_ms = 60'000}, &clock_};
  stream::StreamProbe probe_;

  void Tick() {
    clock_.Advance(kPeriod);
    series_.Observe("s", "inc-1", probe_);
  }
};

TEST_F(SeriesTest, SumsAreDeltasPerPeriodStampedWithThePeriodStart) {
  probe_.incoming_bytes = 100;
  probe_.incoming_records = 4;
  Tick();  // first sample counts from zero
  probe_.incoming_bytes += 50;
  probe_.incoming_records += 1;
  Tick();
  Tick();  // an idle period is a 0, not a gap
  auto bytes = series_.Recent("s", "IncomingBytes", 3600'000);
  ASSERT_EQ(bytes.size(), 3u);
  EXPECT_EQ(bytes[0].timestamp_ms, kT0);
  EXPECT_EQ(bytes[0].value, 100);
  EXPECT_EQ(bytes[1].timestamp_ms, kT0 + kPeriod);
  EXPECT_EQ(bytes[1].value, 50);
  EXPECT_EQ(bytes[2].value, 0);
  EXPECT_FALSE(bytes[0].maximum.has_value());
  EXPECT_EQ(series_.SumOver("s", "IncomingRecords", 3600'000), 5);
  // The window counts back from now (kT0 + 3 periods): the last two periods.
  EXPECT_EQ(series_.SumOver("s", "IncomingBytes", 2 * kPeriod), 50);
  EXPECT_EQ(series_.SumOver("s", "IncomingBytes", kPeriod), 0);
}

TEST_F(SeriesTest, KinesisSourceMetricsAreDeltasAndMillisBehindIsTheLevelAtThePeriodEnd) {
  probe_.kinesis_read_records = 7;
  probe_.kinesis_throttled_get_records = 2;
  probe_.kinesis_millis_behind = 90'000;
  Tick();
  probe_.kinesis_throttled_get_records += 1;
  probe_.kinesis_millis_behind = 0;
  Tick();
  auto behind = series_.Recent("s", "KinesisMillisBehindLatest", 3600'000);
  ASSERT_EQ(behind.size(), 2u);
  EXPECT_EQ(behind[0].value, 90'000);
  EXPECT_EQ(behind[1].value, 0);
  EXPECT_EQ(series_.Summarize("s", "KinesisMillisBehindLatest", 3600'000)->maximum, 90'000);
  auto throttled = series_.Recent("s", "ThrottledGetRecords", 3600'000);
  ASSERT_EQ(throttled.size(), 2u);
  EXPECT_EQ(throttled[0].value, 2);
  EXPECT_EQ(throttled[1].value, 1);
  EXPECT_EQ(series_.SumOver("s", "DataReadFromKinesisStream.Records", 3600'000), 7);
}

TEST_F(SeriesTest, SuccessIsARatioPerPeriodAndAbsentWithoutAttempts) {
  probe_.s3_put_attempts = 4;
  probe_.s3_put_successes = 3;
  Tick();
  Tick();  // no attempt: no datapoint
  probe_.s3_put_attempts += 1;
  probe_.s3_put_successes += 1;
  Tick();
  auto points = series_.Recent("s", "DeliveryToS3.Success", 3600'000);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].value, 0.75);
  EXPECT_EQ(points[0].samples, 4u);
  EXPECT_DOUBLE_EQ(points[1].value, 1.0);
  EXPECT_EQ(points[1].timestamp_ms, kT0 + 2 * kPeriod);
  // Over the window the average is weighted by attempts: 4 of 5 succeeded.
  auto sum = series_.Summarize("s", "DeliveryToS3.Success", 3600'000);
  ASSERT_TRUE(sum.has_value());
  EXPECT_DOUBLE_EQ(sum->average, 0.8);
  EXPECT_EQ(sum->samples, 5u);
  EXPECT_DOUBLE_EQ(sum->minimum, 0.75);
}

TEST_F(SeriesTest, ExecuteProcessingSuccessAndDuration) {
  probe_.processing_invocations = 4;
  probe_.processing_failed_invocations = 1;
  probe_.processing_duration_ms = 200;
  Tick();
  auto success = series_.Recent("s", "ExecuteProcessing.Success", 3600'000);
  ASSERT_EQ(success.size(), 1u);
  EXPECT_DOUBLE_EQ(success[0].value, 0.75);
  auto duration = series_.Recent("s", "ExecuteProcessing.Duration", 3600'000);
  ASSERT_EQ(duration.size(), 1u);
  EXPECT_DOUBLE_EQ(duration[0].value, 50.0);  // ms per invocation
}

TEST_F(SeriesTest, LatencyAverageAndMaximumPerPeriod) {
  probe_.put_record.Record(2'000);  // 2 ms
  probe_.put_record.Record(6'000);
  Tick();
  probe_.put_record.Record(1'000);
  Tick();
  Tick();  // no request: no latency datapoint
  auto points = series_.Recent("s", "PutRecord.Latency", 3600'000);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].value, 4.0);
  EXPECT_EQ(points[0].samples, 2u);
  ASSERT_TRUE(points[0].maximum.has_value());
  EXPECT_DOUBLE_EQ(*points[0].maximum, 6.0);
  EXPECT_DOUBLE_EQ(points[1].value, 1.0);
  EXPECT_DOUBLE_EQ(*points[1].maximum, 1.0);  // the window maximum was reset
  EXPECT_EQ(series_.SumOver("s", "PutRecord.Requests", 3600'000), 3);
  auto sum = series_.Summarize("s", "PutRecord.Latency", 3600'000);
  EXPECT_DOUBLE_EQ(sum->average, 3.0);  // (2 + 6 + 1) / 3
  EXPECT_DOUBLE_EQ(sum->maximum, 6.0);
}

TEST_F(SeriesTest, DataFreshnessIsTheAgeOfTheOldestRecordAtTheSample) {
  Tick();  // nothing pending: 0
  probe_.oldest_undelivered_ms = clock_.NowMillis() - 4'000;
  Tick();  // 4 s old at the previous tick, 14 s at this one
  probe_.oldest_undelivered_ms = 0;
  Tick();
  auto points = series_.Recent("s", "DeliveryToS3.DataFreshness", 3600'000);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].value, 0);
  EXPECT_DOUBLE_EQ(points[1].value, 14.0);
  EXPECT_EQ(points[2].value, 0);
  EXPECT_DOUBLE_EQ(series_.Summarize("s", "DeliveryToS3.DataFreshness", 3600'000)->maximum, 14.0);
}

TEST_F(SeriesTest, RingKeepsOnlyTheRetention) {
  for (int i = 0; i < 20; ++i) {
    probe_.incoming_records += 1;
    Tick();
  }
  auto points = series_.Recent("s", "IncomingRecords", 3600'000);
  // 60 s of retention at 10 s periods: the datapoints stamped within the last 60 s.
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points.back().timestamp_ms, clock_.NowMillis() - kPeriod);
  EXPECT_EQ(points.front().timestamp_ms, clock_.NowMillis() - 6 * kPeriod);
}

TEST_F(SeriesTest, RecreatedStreamStartsOverAndDeletedOneIsForgotten) {
  probe_.incoming_records = 10;
  Tick();
  stream::StreamProbe fresh;
  fresh.incoming_records = 2;
  clock_.Advance(kPeriod);
  series_.Observe("s", "inc-2", fresh);
  auto points = series_.Recent("s", "IncomingRecords", 3600'000);
  ASSERT_EQ(points.size(), 1u);  // the old incarnation's datapoints are gone
  EXPECT_EQ(points[0].value, 2);
  EXPECT_TRUE(series_.HasStream("s"));
  series_.Retain({"other"});
  EXPECT_FALSE(series_.HasStream("s"));
  EXPECT_TRUE(series_.Recent("s", "IncomingRecords", 3600'000).empty());
}

TEST_F(SeriesTest, SameInstantAddsNothing) {
  probe_.incoming_records = 1;
  Tick();
  series_.Observe("s", "inc-1", probe_);  // the clock did not move
  EXPECT_EQ(series_.Recent("s", "IncomingRecords", 3600'000).size(), 1u);
}

TEST_F(SeriesTest, UnknownNames) {
  Tick();
  EXPECT_TRUE(series_.Recent("nope", "IncomingRecords", 3600'000).empty());
  EXPECT_TRUE(series_.Recent("s", "NoSuchMetric", 3600'000).empty());
  EXPECT_FALSE(series_.Summarize("s", "NoSuchMetric", 3600'000).has_value());
  EXPECT_FALSE(MetricsSeries::Find("incomingrecords").has_value());  // case matters, as in CloudWatch
  EXPECT_EQ(MetricsSeries::Find("DeliveryToS3.DataFreshness")->statistic, Statistic::kMaximum);
}

TEST_F(SeriesTest, JsonUsesFirehoseNames) {
  probe_.put_record_batch_records = 7;
  probe_.put_record_batch.Record(3'000);
  Tick();
  Tick();
  namespace json = boost::json;
  json::value v = json::parse(
      series_.ToJson({"s", "empty"}, {"PutRecordBatch.Records", "PutRecordBatch.Latency"}, kT0 + kPeriod));
  EXPECT_EQ(v.at("PeriodSeconds").as_int64(), 10);
  const auto& streams = v.at("Streams").as_array();
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].at("DeliveryStreamName").as_string(), "s");
  const auto& metrics = streams[0].at("Metrics").as_array();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].at("MetricName").as_string(), "PutRecordBatch.Records");
  EXPECT_EQ(metrics[0].at("Statistic").as_string(), "Sum");
  EXPECT_EQ(metrics[0].at("Unit").as_string(), "Count");
  // `since` drops the first period: only the idle second one is left.
  const auto& records = metrics[0].at("Datapoints").as_array();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].at("Timestamp").as_int64(), kT0 + kPeriod);
  EXPECT_EQ(records[0].at("Value").as_int64(), 0);
  EXPECT_TRUE(metrics[1].at("Datapoints").as_array().empty());  // no request then
  auto all = json::parse(series_.ToJson({"s"}, {}, 0));
  const auto& all_metrics = all.at("Streams").at(0).at("Metrics").as_array();
  EXPECT_EQ(all_metrics.size(), MetricsSeries::Metrics().size());
  const auto& latency = all_metrics[8];
  EXPECT_EQ(latency.at("MetricName").as_string(), "PutRecordBatch.Latency");
  const auto& p = latency.at("Datapoints").at(0);
  EXPECT_EQ(p.at("Value").as_int64(), 3);
  EXPECT_EQ(p.at("Maximum").as_int64(), 3);
  EXPECT_EQ(p.at("SampleCount").as_int64(), 1);
  EXPECT_TRUE(streams[1].at("Metrics").at(0).at("Datapoints").as_array().empty());
}

}  // namespace
}  // namespace hydrant::observability
