#include "logs/delivery_errors.h"

#include <gtest/gtest.h>

#include <thread>

#include <boost/json.hpp>

#include "logs/log_store.h"
#include "testing/temp_dir.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace hydrant::logs {
namespace {

namespace json = boost::json;

class DeliveryErrorLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = LogStore::Open(dir_.Sub("logs"), &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  void TearDown() override { store_.reset(); }

  std::vector<OutputEvent> Read(const std::string& group, const std::string& stream) {
    auto r = store_->GetEvents({.group = group, .stream = stream, .start_from_head = true});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->events : std::vector<OutputEvent>{};
  }

  static DeliveryErrorEvent S3Error() {
    return {.delivery_stream_arn = "arn:aws:firehose:us-east-1:000000000000:deliverystream/demo",
            .destination = "arn:aws:s3:::missing",
            .version_id = 3,
            .message = "The specified bucket does not exist.",
            .error_code = "S3.NoSuchBucket"};
  }

  ::hydrant::testing::TempDir dir_;
  FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<LogStore> store_;
};

TEST_F(DeliveryErrorLogTest, WritesFirehoseShapedEventToDefaultGroupAndStream) {
  DeliveryErrorLog log(store_.get(), &clock_);
  log.Write(LoggingOptions{.enabled = true}, "demo", false, S3Error());
  auto events = Read("/aws/kinesisfirehose/demo", "DestinationDelivery");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].timestamp_ms, 1'700'000'000'000);
  EXPECT_EQ(events[0].message,
            R"({"deliveryStreamARN":"arn:aws:firehose:us-east-1:000000000000:deliverystream/demo",)"
            R"("destination":"arn:aws:s3:::missing","deliveryStreamVersionId":3,)"
            R"("message":"The specified bucket does not exist.","errorCode":"S3.NoSuchBucket"})");
  EXPECT_EQ(log.written(), 1u);
}

TEST_F(DeliveryErrorLogTest, ARoleTheCheckRefusesWritesNothing) {
  DeliveryErrorLog log(store_.get(), &clock_);
  std::vector<std::string> asked;
  log.SetWriteCheck([&](std::string_view role, const std::string& group,
                        const std::string& stream) -> std::optional<std::string> {
    asked.push_back(std::string(role) + " " + group + " " + stream);
    if (role == "arn:aws:iam::000000000000:role/mute") return "no logs:PutLogEvents";
    return std::nullopt;
  });
  log.Write(LoggingOptions{.enabled = true}, "demo", false, S3Error(),
            "arn:aws:iam::000000000000:role/mute");
  // Not even the group was made.
  EXPECT_FALSE(store_->GetEvents({.group = "/aws/kinesisfirehose/demo",
                                  .stream = "DestinationDelivery", .start_from_head = true})
                   .ok());
  EXPECT_EQ(log.written(), 0u);
  log.Write(LoggingOptions{.enabled = true}, "demo", false, S3Error(),
            "arn:aws:iam::000000000000:role/loud");
  EXPECT_EQ(Read("/aws/kinesisfirehose/demo", "DestinationDelivery").size(), 1u);
  // No role given (nothing to check): written.
  log.Write(LoggingOptions{.enabled = true}, "demo", false, S3Error());
  EXPECT_EQ(Read("/aws/kinesisfirehose/demo", "DestinationDelivery").size(), 2u);
  EXPECT_EQ(asked, (std::vector<std::string>{
                       "arn:aws:iam::000000000000:role/mute /aws/kinesisfirehose/demo DestinationDelivery",
                       "arn:aws:iam::000000000000:role/loud /aws/kinesisfirehose/demo DestinationDelivery"}));
}

TEST_F(DeliveryErrorLogTest, ProcessorOnlyWhenSetAndBackupStream) {
  DeliveryErrorLog log(store_.get(), &clock_);
  DeliveryErrorEvent ev = S3Error();
  ev.error_code = "Lambda.FunctionError";
  ev.processor = "arn:aws:lambda:us-east-1:000000000000:function:f";
  log.Write(LoggingOptions{.enabled = true}, "demo", true, ev);
  auto events = Read("/aws/kinesisfirehose/demo", "BackupDelivery");
  ASSERT_EQ(events.size(), 1u);
  json::object o = json::parse(events[0].message).as_object();
  EXPECT_EQ(o.at("processor").as_string(), "arn:aws:lambda:us-east-1:000000000000:function:f");
  EXPECT_EQ(o.at("errorCode").as_string(), "Lambda.FunctionError");
  EXPECT_EQ(o.at("deliveryStreamVersionId").as_int64(), 3);
}

TEST_F(DeliveryErrorLogTest, ConfiguredNamesRule) {
  DeliveryErrorLog log(store_.get(), &clock_);
  LoggingOptions opts{true, "/my/group", "S3Delivery"};
  log.Write(opts, "demo", false, S3Error());
  log.Write(opts, "demo", true, S3Error());
  EXPECT_EQ(Read("/my/group", "S3Delivery").size(), 2u);
  EXPECT_FALSE(store_->GroupExists("/aws/kinesisfirehose/demo"));
  // Empty strings (as the console sends) mean the defaults.
  EXPECT_EQ(DeliveryErrorLog::GroupName(LoggingOptions{}, "s"),
            "/aws/kinesisfirehose/s");
  EXPECT_EQ(DeliveryErrorLog::StreamName(LoggingOptions{}, true), "BackupDelivery");
}

TEST_F(DeliveryErrorLogTest, NothingWhenDisabledOrAbsent) {
  DeliveryErrorLog log(store_.get(), &clock_);
  log.Write(LoggingOptions{}, "demo", false, S3Error());
  log.Write(LoggingOptions{false, "/g", ""}, "demo", false, S3Error());
  EXPECT_FALSE(store_->GroupExists("/aws/kinesisfirehose/demo"));
  EXPECT_FALSE(store_->GroupExists("/g"));
  EXPECT_EQ(log.written(), 0u);
  DeliveryErrorLog no_store(nullptr, &clock_);
  no_store.Write(LoggingOptions{.enabled = true}, "demo", false, S3Error());  // no crash
}

TEST_F(DeliveryErrorLogTest, SamplesPerErrorCodeAndWindow) {
  DeliveryErrorLog log(store_.get(), &clock_);
  LoggingOptions on{.enabled = true};
  for (int i = 0; i < 25; ++i) log.Write(on, "demo", false, S3Error());
  DeliveryErrorEvent other = S3Error();
  other.error_code = "S3.AccessDenied";
  log.Write(on, "demo", false, other);  // its own budget
  const std::string g = "/aws/kinesisfirehose/demo";
  EXPECT_EQ(Read(g, "DestinationDelivery").size(),
            static_cast<size_t>(DeliveryErrorLog::kSampleBurst) + 1);
  EXPECT_EQ(log.sampled_out(), 15u);
  // Just before the window ends: still suppressed; once it ends, a new budget.
  clock_.Advance(DeliveryErrorLog::kSampleWindowMs - 1);
  log.Write(on, "demo", false, S3Error());
  EXPECT_EQ(log.sampled_out(), 16u);
  clock_.Advance(1);
  for (int i = 0; i < 3; ++i) log.Write(on, "demo", false, S3Error());
  EXPECT_EQ(Read(g, "DestinationDelivery").size(),
            static_cast<size_t>(DeliveryErrorLog::kSampleBurst) + 1 + 3);
}

TEST_F(DeliveryErrorLogTest, BadConfiguredGroupIsQuiet) {
  DeliveryErrorLog log(store_.get(), &clock_);
  log.Write(LoggingOptions{true, "bad group name", ""}, "demo", false, S3Error());
  EXPECT_FALSE(store_->GroupExists("bad group name"));
  EXPECT_EQ(log.written(), 0u);
}

TEST_F(DeliveryErrorLogTest, ConcurrentWritersKeepEveryAdmittedEvent) {
  DeliveryErrorLog log(store_.get(), &clock_);
  LoggingOptions on{.enabled = true};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        DeliveryErrorEvent ev = S3Error();
        ev.error_code = "Code" + std::to_string(t);
        log.Write(on, "demo", false, ev);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Read("/aws/kinesisfirehose/demo", "DestinationDelivery").size(), 20u);
  EXPECT_EQ(log.written(), 20u);
}

}  // namespace
}  // namespace hydrant::logs
