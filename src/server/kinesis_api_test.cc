// KinesisApi over a registry on a fake clock: what only time shows (iterator
// expiry, retention), and the JSON of its errors. The rest runs against the real
// binary in tests/integration/test_kinesis_api.py.
#include "server/kinesis_api.h"

#include <gtest/gtest.h>

#include <future>

#include <boost/json.hpp>

#include "common/clock.h"
#include "kinesis/registry.h"
#include "testing/temp_dir.h"

namespace hydrant::server {
namespace {

namespace json = boost::json;
constexpr int64_t kT0 = 1'700'000'000'000;  // Tue Nov 14 22:13:20 UTC 2023

struct Api {
  testing::TempDir dir;
  FakeClock clock{kT0};
  std::unique_ptr<kinesis::KinesisRegistry> reg;
  std::unique_ptr<KinesisApi> api;

  Api() {
    kinesis::RegistryOptions o;
    o.dir = dir.Sub("kinesis");
    o.clock = &clock;
    o.trim_every = std::chrono::milliseconds(0);
    reg = std::move(kinesis::KinesisRegistry::Open(o).value());
    api = std::make_unique<KinesisApi>(reg.get(), nullptr);
  }

  http::Response Call(const std::string& op, const std::string& body) {
    http::Request req;
    req.method = "POST";
    req.target = "/";
    req.headers = {{"X-Amz-Target", "Kinesis_20131202." + op},
                   {"Content-Type", "application/x-amz-json-1.1"}};
    req.body = body;
    std::promise<http::Response> p;
    api->Handle(std::move(req), [&](http::Response&& r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  json::object Ok(const std::string& op, const std::string& body) {
    http::Response r = Call(op, body);
    EXPECT_EQ(r.status, 200) << op << ": " << r.body;
    return r.body.empty() ? json::object() : json::parse(r.body).as_object();
  }
};

TEST(KinesisApi, IteratorsExpireFiveMinutesAfterTheyWereIssued) {
  Api a;
  a.Ok("CreateStream", R"({"StreamName":"s","ShardCount":1})");
  a.Ok("PutRecord", R"({"StreamName":"s","PartitionKey":"p","Data":"aGk="})");
  const std::string it = json::value_to<std::string>(a.Ok(
      "GetShardIterator",
      R"({"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"})")
                                                       .at("ShardIterator"));
  const std::string body = R"({"ShardIterator":")" + it + R"("})";
  a.clock.Advance(300'000);
  json::object got = a.Ok("GetRecords", body);
  EXPECT_EQ(got.at("Records").as_array().size(), 1u);
  a.clock.Advance(1);
  http::Response r = a.Call("GetRecords", body);
  EXPECT_EQ(r.status, 400);
  json::object err = json::parse(r.body).as_object();
  EXPECT_EQ(err.at("__type"), "ExpiredIteratorException");
  EXPECT_EQ(err.at("message"),
            "Iterator expired. The iterator was created at time Tue Nov 14 22:13:20 UTC 2023 while "
            "right now it is Tue Nov 14 22:18:20 UTC 2023 which is further in the future than the "
            "tolerated delay of 300000 milliseconds.");
  // The next iterator GetRecords handed out is fresh.
  const std::string next = json::value_to<std::string>(got.at("NextShardIterator"));
  EXPECT_EQ(a.Call("GetRecords", R"({"ShardIterator":")" + next + R"("})").status, 200);
}

TEST(KinesisApi, RecordsOlderThanTheRetentionPeriodAreNoLongerRead) {
  Api a;
  a.Ok("CreateStream", R"({"StreamName":"s","ShardCount":1})");
  a.Ok("PutRecord", R"({"StreamName":"s","PartitionKey":"p","Data":"b2xk"})");
  a.clock.Advance(3'600'000);
  a.Ok("PutRecord", R"({"StreamName":"s","PartitionKey":"p","Data":"bmV3"})");
  a.clock.Advance(23 * 3'600'000 + 1);
  a.reg->TrimAll();
  const std::string it = json::value_to<std::string>(a.Ok(
      "GetShardIterator",
      R"({"StreamName":"s","ShardId":"0","ShardIteratorType":"TRIM_HORIZON"})")
                                                       .at("ShardIterator"));
  json::object got = a.Ok("GetRecords", R"({"ShardIterator":")" + it + R"("})");
  ASSERT_EQ(got.at("Records").as_array().size(), 1u);
  EXPECT_EQ(got.at("Records").as_array()[0].at("Data"), "bmV3");
  EXPECT_EQ(got.at("Records").as_array()[0].at("ApproximateArrivalTimestamp").as_double(),
            (kT0 + 3'600'000) / 1000.0);
}

TEST(KinesisApi, ErrorsAreWrittenAsKinesisWritesThem) {
  Api a;
  http::Response unknown = a.Call("Frobnicate", "{}");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body, R"({"__type":"UnknownOperationException"})");
  http::Response wrong_type = a.Call("CreateStream", R"({"StreamName":"s","ShardCount":"x"})");
  EXPECT_EQ(wrong_type.status, 400);
  json::object e = json::parse(wrong_type.body).as_object();
  EXPECT_EQ(e.at("__type"), "SerializationException");
  EXPECT_TRUE(e.contains("Message"));
  EXPECT_FALSE(e.contains("message"));
  http::Response missing = a.Call("DescribeStream", R"({"StreamName":"nope"})");
  EXPECT_EQ(json::parse(missing.body).at("message"),
            "Stream nope under account 000000000000 not found.");
  // Empty answers for the operations without output.
  http::Response created = a.Call("CreateStream", R"({"StreamName":"s","ShardCount":1})");
  EXPECT_EQ(created.status, 200);
  EXPECT_EQ(created.body, "");
}

}  // namespace
}  // namespace hydrant::server
