// KinesisApi over a registry on a fake clock: what only time shows (iterator
// expiry, retention), and the JSON of its errors. The rest runs against the real
// binary in tests/integration/test_kinesis_api.py.
#include "server/kinesis_api.h"

#include <gtest/gtest.h>

#include <future>

#include <boost/json.hpp>

#include "api/cbor.h"
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

namespace hydrant::server {
namespace {

// The Java SDKs and the KCL speak CBOR: the same operations, blobs as byte
// strings, timestamps as tag 1 over epoch milliseconds, errors in CBOR too.
TEST(KinesisApi, CborRequestsGetCborAnswers) {
  Api a;
  auto call = [&](const std::string& op, const json::object& in) {
    http::Request req;
    req.method = "POST";
    req.target = "/";
    req.headers = {{"X-Amz-Target", "Kinesis_20131202." + op},
                   {"Content-Type", "application/x-amz-cbor-1.1"}};
    req.body = api::cbor::FromJson(in, api::cbor::kKinesisSchema);
    std::promise<http::Response> p;
    a.api->Handle(std::move(req), [&](http::Response&& r) { p.set_value(std::move(r)); });
    http::Response r = p.get_future().get();
    std::string type;
    for (const auto& [k, v] : r.headers) {
      if (k == "Content-Type") type = v;
    }
    EXPECT_EQ(type, "application/x-amz-cbor-1.1") << op;
    return r;
  };
  auto decode = [](const http::Response& r) {
    auto v = api::cbor::ToJson(r.body, api::cbor::kKinesisSchema);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->as_object() : json::object();
  };
  EXPECT_EQ(call("CreateStream", {{"StreamName", "c"}, {"ShardCount", 1}}).status, 200);
  // Data goes as bytes: "aGk=" is the JSON form the converter turns into b"hi".
  http::Response put = call("PutRecord", {{"StreamName", "c"}, {"PartitionKey", "p"}, {"Data", "aGk="}});
  ASSERT_EQ(put.status, 200);
  EXPECT_EQ(decode(put).at("ShardId"), "shardId-000000000000");
  json::object it = decode(call("GetShardIterator", {{"StreamName", "c"},
                                                     {"ShardId", "shardId-000000000000"},
                                                     {"ShardIteratorType", "AT_TIMESTAMP"},
                                                     {"Timestamp", kT0 / 1000}}));
  json::object got = decode(call("GetRecords", {{"ShardIterator", it.at("ShardIterator")}}));
  ASSERT_EQ(got.at("Records").as_array().size(), 1u);
  const json::object& rec = got.at("Records").as_array()[0].as_object();
  EXPECT_EQ(rec.at("Data"), "aGk=");
  EXPECT_EQ(rec.at("ApproximateArrivalTimestamp").to_number<double>(), kT0 / 1000.0);
  // The raw answer holds the bytes "hi" (a 2-byte byte string, 0x42) and the
  // timestamp as tag 1 (0xc1) over an integer of milliseconds.
  http::Response raw = call("GetRecords", {{"ShardIterator", it.at("ShardIterator")}});
  EXPECT_NE(raw.body.find("\x42hi"), std::string::npos);
  EXPECT_NE(raw.body.find("\xc1\x1b"), std::string::npos);
  http::Response missing = call("DescribeStream", {{"StreamName", "nope"}});
  EXPECT_EQ(missing.status, 400);
  json::object err = decode(missing);
  EXPECT_EQ(err.at("__type"), "ResourceNotFoundException");
  EXPECT_EQ(err.at("message"), "Stream nope under account 000000000000 not found.");
  // Bytes that are not CBOR: a SerializationException, in CBOR.
  http::Request bad;
  bad.method = "POST";
  bad.headers = {{"X-Amz-Target", "Kinesis_20131202.ListStreams"},
                 {"Content-Type", "application/x-amz-cbor-1.1"}};
  bad.body = "\xff\xff";
  std::promise<http::Response> p;
  a.api->Handle(std::move(bad), [&](http::Response&& r) { p.set_value(std::move(r)); });
  http::Response br = p.get_future().get();
  EXPECT_EQ(br.status, 400);
  EXPECT_EQ(decode(br).at("__type"), "SerializationException");
}

}  // namespace
}  // namespace hydrant::server
