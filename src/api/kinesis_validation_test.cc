#include "api/kinesis_validation.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/kinesis_model.h"

namespace hydrant::api {
namespace {

namespace json = boost::json;

// tests/fixtures/kinesis_validation.json: kinesalite's answers to bad requests
// (tests/integration/kinesis_validation_capture.py writes it).
json::array LoadFixture() {
  std::ifstream f(std::string(HYDRANT_SOURCE_DIR) + "/tests/fixtures/kinesis_validation.json");
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str()).as_array();
}

// A fixture body with its {"$repeat": c, "times": n, "then": tail} markers expanded.
json::value Expand(const json::value& v) {
  if (v.is_object()) {
    const json::object& o = v.get_object();
    if (const json::value* c = o.if_contains("$repeat")) {
      std::string s;
      std::string unit(c->as_string());
      for (int64_t i = 0; i < o.at("times").to_number<int64_t>(); ++i) s += unit;
      if (const json::value* then = o.if_contains("then")) s += then->as_string();
      return json::string(s);
    }
    json::object out;
    for (const auto& kv : o) out[kv.key()] = Expand(kv.value());
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const json::value& e : v.get_array()) out.push_back(Expand(e));
    return out;
  }
  return v;
}

std::string Describe(const std::optional<ApiError>& e) {
  if (!e) return "(passes validation)";
  return e->type + ": " + e->message;
}

// What hydrant must answer for an entry: the `expected` of an entry marked as a
// kinesalite deviation; else kinesalite's own answer when it is a validation-phase
// error; else nothing (the request passes validation and the handler answers).
std::optional<ApiError> ExpectedFor(const json::object& entry) {
  if (entry.contains("deviation")) {
    const json::value& exp = entry.at("expected");
    if (exp.is_null()) return std::nullopt;
    return ApiError{std::string(exp.at("type").as_string()),
                    std::string(exp.at("message").as_string())};
  }
  const json::value& type = entry.at("type");
  if (type.is_null()) return std::nullopt;
  std::string t(type.as_string());
  if (t != "ValidationException" && t != "SerializationException") return std::nullopt;
  return ApiError{t, std::string(entry.at("message").as_string())};
}

TEST(KinesisValidationFixture, EveryEntryGivesKinesalitesAnswerOrTheModelsWhereMarked) {
  json::array fixture = LoadFixture();
  ASSERT_GT(fixture.size(), 500u);
  size_t errors_expected = 0;
  for (const json::value& v : fixture) {
    const json::object& entry = v.as_object();
    std::string name(entry.at("name").as_string());
    std::string op(entry.at("op").as_string());
    json::value body = Expand(entry.at("body"));
    std::optional<ApiError> want = ExpectedFor(entry);
    std::optional<ApiError> got = ValidateKinesisRequest(op, body);
    if (want) ++errors_expected;
    EXPECT_EQ(Describe(got), Describe(want)) << name;
  }
  EXPECT_GT(errors_expected, 400u);
}

TEST(KinesisValidationFixture, CoversEveryOperationServed) {
  std::set<std::string> ops;
  for (const json::value& v : LoadFixture()) ops.insert(std::string(v.at("op").as_string()));
  for (std::string_view op : KinesisOperations()) EXPECT_TRUE(ops.count(std::string(op))) << op;
}

std::optional<ApiError> Validate(std::string_view op, std::string_view body) {
  return ValidateKinesisRequest(op, json::parse(body));
}

TEST(KinesisValidation, OperationsListIsTheServedSet) {
  std::set<std::string_view> ops(KinesisOperations().begin(), KinesisOperations().end());
  EXPECT_EQ(ops.size(), 19u);
  for (std::string_view op :
       {"CreateStream", "DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListStreams",
        "ListShards", "PutRecord", "PutRecords", "GetShardIterator", "GetRecords",
        "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod", "UpdateShardCount",
        "SplitShard", "MergeShards", "AddTagsToStream", "ListTagsForStream",
        "RemoveTagsFromStream", "DescribeLimits"}) {
    EXPECT_TRUE(ops.count(op)) << op;
  }
}

TEST(KinesisValidation, UnknownOperation) {
  auto err = Validate("SubscribeToShard", "{}");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "UnknownOperationException");
  EXPECT_EQ(err->message, "");
  // Firehose's operations are not Kinesis's.
  EXPECT_EQ(Validate("PutRecordBatch", "{}")->type, "UnknownOperationException");
}

TEST(KinesisValidation, BodyThatIsNotAnObject) {
  EXPECT_EQ(Describe(Validate("ListStreams", "[]")),
            "SerializationException: Start of list found where not expected");
  EXPECT_EQ(Describe(Validate("ListStreams", "5")), "SerializationException: ");
}

TEST(KinesisValidation, AtMostTenViolations) {
  // Twelve records without PartitionKey and Data: 24 violations, 10 reported.
  std::string body = R"({"StreamName":"s","Records":[)";
  for (int i = 0; i < 12; ++i) body += i ? ",{}" : "{}";
  body += "]}";
  auto err = Validate("PutRecords", body);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message.rfind("10 validation errors detected: ", 0), 0u) << err->message;
  EXPECT_NE(err->message.find("'records.5.member.data'"), std::string::npos);
  EXPECT_EQ(err->message.find("'records.6.member"), std::string::npos);
}

TEST(KinesisValidation, StreamArnIsTheAlternativeToStreamName) {
  EXPECT_FALSE(Validate("DescribeStreamSummary",
                        R"({"StreamARN":"arn:aws:kinesis:eu-west-1:123456789012:stream/a"})"));
  EXPECT_FALSE(Validate("PutRecord",
                        R"({"StreamARN":"arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a",)"
                        R"("PartitionKey":"k","Data":""})"));
  // Neither is the handler's InvalidArgumentException, not a model violation.
  EXPECT_FALSE(Validate("DescribeStreamSummary", "{}"));
  EXPECT_EQ(Describe(Validate("GetRecords", R"({"ShardIterator":"x","StreamARN":"arn:aws:s3:::b"})")),
            "ValidationException: 1 validation error detected: Value 'arn:aws:s3:::b' at "
            "'streamARN' failed to satisfy constraint: Member must satisfy regular expression "
            "pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
}

TEST(KinesisValidation, StreamArnPatternAsJavaMatchesIt) {
  const Pattern& p = kinesis_model::kStreamArnPattern;
  EXPECT_TRUE(p.matches("arn:aws:kinesis:us-east-1:123456789012:stream/s"));
  EXPECT_TRUE(p.matches("arn:aws-us-gov:kinesis::123456789012:stream/a/b"));
  // '.*' may swallow colons: the last ':' + 12 digits + ':stream/' is the one that counts.
  EXPECT_TRUE(p.matches("arn:aws:kinesis:a:b:c:123456789012:stream/s"));
  EXPECT_FALSE(p.matches("arn:aws:kinesis:us-east-1:12345678901:stream/s"));   // 11 digits
  EXPECT_FALSE(p.matches("arn:aws:kinesis:us-east-1:123456789012:stream/"));   // \S+ empty
  EXPECT_FALSE(p.matches("arn:aws:kinesis:us-east-1:123456789012:stream/a b")); // space
  EXPECT_FALSE(p.matches("arn:aws:firehose:us-east-1:123456789012:stream/s"));
  EXPECT_FALSE(p.matches("arn:aws:kinesis:us\n-east-1:123456789012:stream/s"));  // '.' stops
  EXPECT_FALSE(p.matches("arn:aws:kinesis:us\xE2\x80\xA8:123456789012:stream/s"));
  EXPECT_TRUE(p.matches("arn:aws:kinesis:r:123456789012:stream/\xE2\x80\xA8"));  // \S is ASCII
}

TEST(KinesisValidation, DecimalPatterns) {
  const Pattern& hash = kinesis_model::kHashKeyPattern;
  EXPECT_TRUE(hash.matches("0"));
  EXPECT_TRUE(hash.matches("340282366920938463463374607431768211455"));  // 39 digits
  EXPECT_FALSE(hash.matches("3402823669209384634633746074317682114550"));
  EXPECT_FALSE(hash.matches("00"));
  EXPECT_FALSE(hash.matches(""));
  EXPECT_FALSE(hash.matches("+1"));
  const Pattern& seq = kinesis_model::kSequenceNumberPattern;
  EXPECT_TRUE(seq.matches(std::string(129, '9')));
  EXPECT_FALSE(seq.matches(std::string(130, '9')));
}

TEST(KinesisValidation, LengthsCountUtf16Units) {
  EXPECT_EQ(Utf16Length("abc"), 3);
  EXPECT_EQ(Utf16Length("caf\xC3\xA9"), 4);
  EXPECT_EQ(Utf16Length("\xE2\x82\xAC"), 1);      // U+20AC
  EXPECT_EQ(Utf16Length("\xF0\x9F\x98\x80"), 2);  // U+1F600, a surrogate pair
  std::string key;
  for (int i = 0; i < 129; ++i) key += "\xF0\x9F\x98\x80";  // 258 units
  auto err = ValidateKinesisRequest(
      "PutRecord", json::value{{"StreamName", "s"}, {"PartitionKey", key}, {"Data", ""}});
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("Member must have length less than or equal to 256"),
            std::string::npos);
}

TEST(KinesisValidation, IntegersAreTruncatedBeforeRangeChecks) {
  EXPECT_FALSE(Validate("ListStreams", R"({"Limit":1.9})"));
  EXPECT_EQ(Describe(Validate("ListStreams", R"({"Limit":0.9})")),
            "ValidationException: 1 validation error detected: Value '0' at 'limit' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1");
  EXPECT_EQ(Describe(Validate("ListStreams", R"({"Limit":18446744073709551615})")),
            "ValidationException: 1 validation error detected: Value '2147483647' at 'limit' "
            "failed to satisfy constraint: Member must have value less than or equal to 10000");
}

TEST(KinesisValidation, NestedStructuresAndNulls) {
  EXPECT_EQ(Describe(Validate("CreateStream",
                              R"({"StreamName":"s","StreamModeDetails":{"StreamMode":null}})")),
            "ValidationException: 1 validation error detected: Value null at "
            "'streamModeDetails.streamMode' failed to satisfy constraint: Member must not be null");
  // Null members are absent members; null list elements are skipped.
  EXPECT_FALSE(Validate("CreateStream", R"({"StreamName":"s","ShardCount":null,"Tags":null})"));
  EXPECT_FALSE(Validate("PutRecords", R"({"StreamName":"s","Records":[null,{"PartitionKey":"k","Data":""}]})"));
}

}  // namespace
}  // namespace hydrant::api
