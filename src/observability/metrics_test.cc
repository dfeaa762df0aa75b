// GET /metrics' text for one stream's delivery errors by code: one sample per code,
// a bounded number of codes, label values escaped; and the Kinesis streams'
// families, one label value per stream up to the registry's bound.

#include "observability/metrics.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <set>
#include <sstream>

#include "common/clock.h"
#include "destinations/object_store.h"
#include "kinesis/registry.h"
#include "stream/registry.h"
#include "testing/temp_dir.h"

namespace hydrant::observability {
namespace {

constexpr char kErrors[] = "hydrant_delivery_errors_total";

class MetricsTest : public ::testing::Test {
 protected:
  // A registry with one stream "s" that never delivers (nothing is put into it).
  void SetUp() override {
    auto reg = stream::StreamRegistry::Open({.data_dir = dir_.path()}, store_.get(), &clock_);
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    registry_ = std::move(reg).value();
    stream::StreamMeta meta;
    meta.name = "s";
    meta.arn = stream::StreamArn(AccountContext{}, "s");
    meta.incarnation = "inc";
    meta.SetDestination({{"BucketARN", "arn:aws:s3:::b"}});
    ASSERT_TRUE(registry_->Create(std::move(meta)).ok());
  }

  stream::ErrorCodeCounts& Errors() { return registry_->Get("s")->probe().errors_by_code; }

  // The samples of hydrant_delivery_errors_total: label part -> value text.
  std::map<std::string, std::string> ErrorSamples() {
    std::map<std::string, std::string> out;
    std::istringstream text(RenderPrometheus(*registry_));
    const std::string prefix = std::string(kErrors) + "{";
    for (std::string line; std::getline(text, line);) {
      if (!line.starts_with(prefix)) continue;
      const size_t space = line.rfind(' ');
      out[line.substr(prefix.size(), space - 1 - prefix.size())] = line.substr(space + 1);
    }
    return out;
  }

  testing::TempDir dir_;
  FakeClock clock_{1'767'225'600'000};
  std::unique_ptr<store::ObjectStore> store_ =
      std::move(store::ObjectStore::Open(dir_.Sub("s3"))).value();
  std::unique_ptr<stream::StreamRegistry> registry_;
};

TEST_F(MetricsTest, DeliveryErrorsAreCountedPerCodeWithNoSampleBeforeTheFirst) {
  const std::string text = RenderPrometheus(*registry_);
  EXPECT_NE(text.find(std::string("# TYPE ") + kErrors + " counter\n"), std::string::npos);
  EXPECT_TRUE(ErrorSamples().empty());

  Errors().Add("S3.AccessDenied");
  Errors().Add("S3.AccessDenied");
  Errors().Add("Lambda.InvokeAccessDenied", 3);
  auto samples = ErrorSamples();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[R"(delivery_stream="s",error_code="S3.AccessDenied")"], "2");
  EXPECT_EQ(samples[R"(delivery_stream="s",error_code="Lambda.InvokeAccessDenied")"], "3");
}

TEST_F(MetricsTest, DistinctCodesAreCappedAndTheRestCountAsOther) {
  constexpr size_t kMax = stream::ErrorCodeCounts::kMaxCodes;
  for (size_t i = 0; i < kMax + 8; ++i) Errors().Add("Code" + std::to_string(i));
  Errors().Add("Code0", 4);  // a code kept before the cap still counts as itself
  Errors().Add("Code40");    // a code past the cap: Other, again
  Errors().Add("");          // no code: Other
  auto samples = ErrorSamples();
  EXPECT_EQ(samples.size(), kMax + 1);  // kMax codes and Other
  EXPECT_EQ(samples[R"(delivery_stream="s",error_code="Code0")"], "5");
  EXPECT_EQ(samples[R"(delivery_stream="s",error_code="Code31")"], "1");
  EXPECT_FALSE(samples.contains(R"(delivery_stream="s",error_code="Code32")"));
  EXPECT_EQ(samples[R"(delivery_stream="s",error_code="Other")"], "10");
}

TEST_F(MetricsTest, ErrorCodeLabelValuesAreEscaped) {
  Errors().Add("a\"b\\c\nd");
  auto samples = ErrorSamples();
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples.begin()->first, R"(delivery_stream="s",error_code="a\"b\\c\nd")");
}

// The samples of a family (exact name, or name + suffix): label part -> value text.
std::map<std::string, std::string> Samples(const std::string& text, const std::string& name) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  const std::string prefix = name + "{";
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(prefix)) continue;
    const size_t space = line.rfind(' ');
    out[line.substr(prefix.size(), space - 1 - prefix.size())] = line.substr(space + 1);
  }
  return out;
}

class KinesisMetricsTest : public MetricsTest {
 protected:
  static constexpr size_t kMaxStreams = 3;

  void SetUp() override {
    MetricsTest::SetUp();
    kinesis::RegistryOptions o;
    o.dir = dir_.Sub("kinesis");
    o.clock = &clock_;
    o.max_streams = kMaxStreams;
    o.trim_every = std::chrono::milliseconds(0);
    auto r = kinesis::KinesisRegistry::Open(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    kinesis_ = std::move(r).value();
  }

  void Put(kinesis::KinesisStream& s, std::vector<kinesis::PutEntry> entries, kinesis::PutOp op) {
    std::promise<bool> done;
    s.Put(clock_.NowMillis(), entries,
          [&](Result<std::vector<kinesis::PutOutcome>> r) { done.set_value(r.ok()); }, op);
    ASSERT_TRUE(done.get_future().get());
  }

  std::unique_ptr<kinesis::KinesisRegistry> kinesis_;
};

TEST_F(KinesisMetricsTest, EveryStreamHasItsSamplesUnderItsNameAndTheirCountsAreThePuts) {
  auto s = kinesis_->Create("orders", 1, "PROVISIONED", {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Put(**s, {{"a", std::nullopt, "hello"}, {"b", std::nullopt, "world!"}}, kinesis::PutOp::kPutRecords);
  Put(**s, {{"c", std::nullopt, "x"}}, kinesis::PutOp::kPutRecord);
  clock_.Advance(2500);
  ASSERT_TRUE((*s)->Read(0, 0, 10, 1 << 20).ok());

  const std::string text = RenderPrometheus(*registry_, kinesis_.get());
  const std::string label = R"(stream="orders")";
  EXPECT_NE(text.find("# TYPE hydrant_kinesis_incoming_records_total counter\n"), std::string::npos);
  const std::pair<const char*, const char*> expected[] = {
      {"hydrant_kinesis_incoming_records_total", "3"},
      {"hydrant_kinesis_incoming_bytes_total", "12"},
      {"hydrant_kinesis_put_record_bytes_total", "1"},
      {"hydrant_kinesis_put_record_requests_total", "1"},
      {"hydrant_kinesis_put_record_success_total", "1"},
      {"hydrant_kinesis_put_record_success_ratio", "1"},
      {"hydrant_kinesis_put_record_latency_seconds_count", "1"},
      {"hydrant_kinesis_put_records_bytes_total", "11"},
      {"hydrant_kinesis_put_records_records_total", "2"},
      {"hydrant_kinesis_put_records_total_records_total", "2"},
      {"hydrant_kinesis_put_records_successful_records_total", "2"},
      {"hydrant_kinesis_put_records_failed_records_total", "0"},
      {"hydrant_kinesis_put_records_throttled_records_total", "0"},
      {"hydrant_kinesis_put_records_latency_seconds_count", "1"},
      {"hydrant_kinesis_get_records_records_total", "3"},
      {"hydrant_kinesis_get_records_bytes_total", "12"},
      {"hydrant_kinesis_get_records_success_total", "1"},
      {"hydrant_kinesis_get_records_latency_seconds_count", "1"},
      {"hydrant_kinesis_get_records_iterator_age_milliseconds", "2500"},
      {"hydrant_kinesis_write_provisioned_throughput_exceeded_total", "0"},
      {"hydrant_kinesis_read_provisioned_throughput_exceeded_total", "0"},
  };
  for (const auto& [family, value] : expected) {
    EXPECT_EQ(Samples(text, family)[label], value) << family;
  }
  EXPECT_EQ(Samples(text, "hydrant_kinesis_put_records_latency_seconds_bucket")[label + R"(,le="+Inf")"],
            "1");
  // No sample of a success ratio before the first call.
  auto t2 = kinesis_->Create("idle", 1, "PROVISIONED", {});
  ASSERT_TRUE(t2.ok());
  const std::string idle = RenderPrometheus(*registry_, kinesis_.get());
  EXPECT_FALSE(Samples(idle, "hydrant_kinesis_get_records_success_ratio").contains(R"(stream="idle")"));
  EXPECT_EQ(Samples(idle, "hydrant_kinesis_get_records_requests_total")[R"(stream="idle")"], "0");
}

TEST_F(KinesisMetricsTest, LabelValuesAreBoundedByTheRegistrysStreamLimit) {
  for (size_t i = 0; i < kMaxStreams; ++i) {
    ASSERT_TRUE(kinesis_->Create("k" + std::to_string(i), 1, "PROVISIONED", {}).ok());
  }
  EXPECT_EQ(kinesis_->Create("one-too-many", 1, "PROVISIONED", {}).status().code(),
            StatusCode::kResourceExhausted);
  const std::string text = RenderPrometheus(*registry_, kinesis_.get());
  // Every family: one sample per stream (histograms: one _count per stream).
  std::istringstream in(text);
  std::map<std::string, std::set<std::string>> streams_by_family;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("hydrant_kinesis_")) continue;
    const size_t brace = line.find('{');
    const size_t q = line.find("stream=\"");
    ASSERT_NE(q, std::string::npos) << line;
    const size_t end = line.find('"', q + 8);
    streams_by_family[line.substr(0, brace)].insert(line.substr(q + 8, end - q - 8));
  }
  EXPECT_GE(streams_by_family.size(), 26u);
  for (const auto& [family, names] : streams_by_family) {
    if (family.ends_with("_success_ratio")) {
      EXPECT_TRUE(names.empty() || names.size() == kMaxStreams) << family;
      continue;
    }
    EXPECT_EQ(names, (std::set<std::string>{"k0", "k1", "k2"})) << family;
  }
  EXPECT_EQ(text.find("one-too-many"), std::string::npos);
}

TEST_F(KinesisMetricsTest, WithoutTheKinesisRegistryThereIsNoKinesisFamily) {
  ASSERT_TRUE(kinesis_->Create("orders", 1, "PROVISIONED", {}).ok());
  EXPECT_EQ(RenderPrometheus(*registry_).find("hydrant_kinesis_"), std::string::npos);
  EXPECT_NE(RenderPrometheus(*registry_, kinesis_.get()).find("hydrant_kinesis_"), std::string::npos);
}

}  // namespace
}  // namespace hydrant::observability
