// GET /metrics' text for one stream's delivery errors by code: one sample per code,
// a bounded number of codes, label values escaped.

#include "observability/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "common/clock.h"
#include "destinations/object_store.h"
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

}  // namespace
}  // namespace hydrant::observability
