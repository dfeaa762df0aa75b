#pragma once
// What the builtin blueprints' tests (blueprints*_test.cc) share: building
// Firehose events and CloudWatch Logs envelopes, calling a blueprint, and reading
// its answer back (records, or the Python exception it reported).

#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "testing/gzip.h"
#include "processing/blueprints.h"

namespace hydrant::processing::blueprint_test {

namespace json = boost::json;
using Kind = InvokeResult::Kind;

inline constexpr char kStreamArn[] =
    "arn:aws:firehose:us-east-1:123456789012:deliverystream/my-stream";
inline constexpr char kKinesisArn[] = "arn:aws:kinesis:us-east-1:123456789012:stream/source-stream";

struct InRecord {
  std::string id;
  std::string data;  // raw bytes; base64-encoded into the event
};

struct OutRecord {
  std::string id;
  std::string result;
  bool has_data = false;
  std::string data_b64;
  std::string data;  // decoded
};

// A Firehose transformation event (spec section 5).
inline std::string Event(const std::vector<InRecord>& records, bool kinesis_source = false,
                         const std::string& stream_arn = kStreamArn) {
  json::object event;
  event["invocationId"] = "00540a87-5050-496a-84e4-e7d92bbaf5e2";
  event["deliveryStreamArn"] = stream_arn;
  if (kinesis_source) event["sourceKinesisStreamArn"] = kKinesisArn;
  event["region"] = "us-east-1";
  json::array recs;
  for (const InRecord& r : records) {
    json::object o;
    o["recordId"] = r.id;
    o["approximateArrivalTimestamp"] = 1495072949453;
    o["data"] = base64::Encode(r.data);
    if (kinesis_source) {
      o["kinesisRecordMetadata"] = {
          {"shardId", "shardId-000000000000"},
          {"partitionKey", "pk-" + r.id},
          {"approximateArrivalTimestamp", 1507217624302},
          {"sequenceNumber", "49546986683135544286507457936321625675700192471156785154"},
          {"subsequenceNumber", 0}};
    }
    recs.push_back(std::move(o));
  }
  event["records"] = std::move(recs);
  return json::serialize(event);
}

inline FunctionRef Fn(std::string_view name) {
  FunctionRef fn;
  fn.name = std::string(name);
  fn.arn = "arn:aws:lambda:us-east-1:000000000000:function:" + fn.name;
  fn.region = "us-east-1";
  fn.account = "000000000000";
  return fn;
}

inline InvokeResult Call(BuiltinInvoker& invoker, std::string_view name, const std::string& event) {
  return invoker.Invoke(Fn(name), event, std::chrono::seconds(60));
}

inline std::vector<OutRecord> Records(const InvokeResult& r) {
  std::vector<OutRecord> out;
  EXPECT_EQ(r.kind, Kind::kOk) << r.payload;
  if (r.kind != Kind::kOk) return out;
  const json::value response = json::parse(r.payload);
  for (const json::value& v : response.at("records").as_array()) {
    const json::object& o = v.as_object();
    OutRecord rec;
    rec.id = std::string(o.at("recordId").as_string());
    rec.result = std::string(o.at("result").as_string());
    if (const json::value* d = o.if_contains("data")) {
      rec.has_data = true;
      rec.data_b64 = std::string(d->as_string());
      // Left empty when not canonical base64 (a ProcessingFailed record echoes
      // its input as is); tests comparing data then fail on the mismatch.
      rec.data = base64::Decode(rec.data_b64).value_or("");
    }
    out.push_back(std::move(rec));
  }
  return out;
}

// The Python exception the invocation reported: {errorType, errorMessage}.
inline std::pair<std::string, std::string> Error(const InvokeResult& r) {
  EXPECT_EQ(r.kind, Kind::kFunctionError) << r.payload;
  EXPECT_EQ(r.error_code, "Lambda.FunctionError");
  if (r.kind != Kind::kFunctionError) return {};
  const json::object doc = json::parse(r.payload).as_object();
  return {std::string(doc.at("errorType").as_string()),
          std::string(doc.at("errorMessage").as_string())};
}

// Runs one line through a blueprint and returns its single output record.
inline OutRecord One(std::string_view name, const std::string& line) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out = Records(Call(invoker, name, Event({{"r1", line}})));
  EXPECT_EQ(out.size(), 1u);
  return out.empty() ? OutRecord{} : out[0];
}

using ::hydrant::testing::Gzip;

inline std::string Gunzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 31), Z_OK);
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u);
  inflateEnd(&zs);
  return out;
}

// A CloudWatch Logs subscription envelope (compact JSON, as CloudWatch sends it).
inline std::string Envelope(std::string_view type, const std::vector<std::string>& messages) {
  json::object env;
  env["messageType"] = type;
  env["owner"] = "123456789012";
  env["logGroup"] = "/aws/lambda/f";
  env["logStream"] = "2024/01/01/[$LATEST]abc";
  env["subscriptionFilters"] = json::array{"to-firehose"};
  json::array events;
  int64_t ts = 1700000000000;
  for (size_t i = 0; i < messages.size(); ++i) {
    events.push_back(
        {{"id", std::to_string(i + 1)}, {"timestamp", ts + int64_t(i)}, {"message", messages[i]}});
  }
  env["logEvents"] = std::move(events);
  return json::serialize(env);
}

}  // namespace hydrant::processing::blueprint_test
