#include "api/put_records.h"

#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/validation.h"
#include "common/base64.h"

namespace hydrant::api {
namespace {

std::string Quote(std::string_view s) {
  return boost::json::serialize(boost::json::value(boost::json::string(s)));
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string BatchOf(const std::vector<std::string>& encoded, std::string_view name = "s") {
  std::string s = R"({"DeliveryStreamName":)" + Quote(name) + R"(,"Records":[)";
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (i > 0) s += ",";
    s += R"({"Data":)" + Quote(encoded[i]) + "}";
  }
  return s + "]}";
}

std::optional<ApiError> ParseBody(bool batch, std::string body, PutRecordsInput* out = nullptr) {
  PutRecordsParser parser;
  PutRecordsInput in;
  return parser.Parse(batch, body, out ? out : &in);
}

TEST(PutRecordsParser, DecodesEveryRecordOfABatch) {
  std::vector<std::string> raw, enc;
  for (size_t n : {0, 1, 2, 3, 31, 32, 33, 100, 1000, 65536}) {
    raw.push_back(RandomBytes(n, static_cast<uint32_t>(n)));
    enc.push_back(base64::Encode(raw.back()));
  }
  std::string body = BatchOf(enc, "orders.v1");
  PutRecordsParser parser;
  PutRecordsInput in;
  ASSERT_FALSE(parser.Parse(true, body, &in));
  EXPECT_EQ(in.stream_name, "orders.v1");
  ASSERT_EQ(in.records.size(), raw.size());
  size_t total = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    EXPECT_EQ(in.records[i], raw[i]) << i;
    total += raw[i].size();
  }
  EXPECT_EQ(in.total_bytes, total);
}

TEST(PutRecordsParser, PutRecordReadsOneRecord) {
  PutRecordsInput in;
  std::string body = R"({"DeliveryStreamName":"s","Record":{"Data":"aGVsbG8="}})";
  PutRecordsParser parser;
  ASSERT_FALSE(parser.Parse(false, body, &in));
  ASSERT_EQ(in.records.size(), 1u);
  EXPECT_EQ(in.records[0], "hello");
  EXPECT_EQ(in.total_bytes, 5u);
  // A batch member is not PutRecord's: no record at all.
  auto err = ParseBody(false, R"({"DeliveryStreamName":"s","Records":[{"Data":"YQ=="}]})");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "1 validation error detected: Value null at 'record' failed to satisfy "
                          "constraint: Member must not be null");
}

// The parser is reused per thread: a large request, then a small one, then a large
// one again, each decoded correctly (the arena only grows and is not cleared).
TEST(PutRecordsParser, ReuseAcrossRequests) {
  PutRecordsParser parser;
  for (size_t n : {4000, 10, 3000, 0, 5000}) {
    std::string raw = RandomBytes(n, static_cast<uint32_t>(n) + 1);
    std::string body = BatchOf({base64::Encode(raw), base64::Encode("x")});
    PutRecordsInput in;
    ASSERT_FALSE(parser.Parse(true, body, &in)) << n;
    ASSERT_EQ(in.records.size(), 2u);
    EXPECT_EQ(in.records[0], raw);
    EXPECT_EQ(in.records[1], "x");
  }
}

// Bodies that are valid JSON of the right member types: the hot path answers what
// ValidateRequest answers (type and message), including the order between base64
// errors, constraint violations and the 4 MB request limit.
TEST(PutRecordsParser, SameErrorsAsValidateRequest) {
  const std::string big = base64::Encode(std::string(1024001, 'x'));
  const std::string long_bad = base64::Encode(std::string(300, 'y'));
  std::string bad_inside = long_bad;
  bad_inside[40] = '*';  // in the decoder's vector part
  std::vector<std::pair<std::string, std::string>> cases = {
      {"PutRecordBatch", BatchOf({"YQ=="}, "bad name")},
      {"PutRecordBatch", R"({"Records":[{"Data":"YQ=="}]})"},
      {"PutRecordBatch", R"({"DeliveryStreamName":"s"})"},
      {"PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[]})"},
      {"PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[{"Data":"YQ=="},{}]})"},
      {"PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[{"Data":null}]})"},
      {"PutRecordBatch", BatchOf({"YQ==", big, "YQ=="})},
      {"PutRecordBatch", BatchOf({big, "YQ=="}, std::string(65, 'n'))},
      {"PutRecordBatch", BatchOf(std::vector<std::string>(501, "YWJj"))},
      {"PutRecordBatch", BatchOf(std::vector<std::string>(5, base64::Encode(std::string(1000000, 'z'))))},
      {"PutRecordBatch", BatchOf({"abc"})},
      {"PutRecordBatch", BatchOf({"YQ==", "ab=c"})},
      {"PutRecordBatch", BatchOf({"ab=="})},
      {"PutRecordBatch", BatchOf({"ab!d"})},
      {"PutRecordBatch", BatchOf({long_bad, bad_inside})},
      {"PutRecordBatch", BatchOf({long_bad, "YQ=="})},
      {"PutRecord", R"({"DeliveryStreamName":"s","Record":{"Data":""}})"},
      {"PutRecord", R"({"DeliveryStreamName":"s","Record":{}})"},
      {"PutRecord", R"({"DeliveryStreamName":"s","Record":{"Data":")" + big + "\"}}"},
      {"PutRecord", R"({"DeliveryStreamName":"s","Record":{"Data":"abcde==="}})"},
      {"PutRecord", R"({"DeliveryStreamName":"","Record":{"Data":"YWI="}})"},
      // Repeated members: the last one counts (found by the put_records fuzz target:
      // the fast path used to add up both lists and read the first Data).
      {"PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[{"AData":""}],"Records":[{"Data":""}]})"},
      {"PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[{"Data":""}],"Records":[{"AData":""}]})"},
      {"PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[{"Data":"YQ=="}],"Records":null})"},
      {"PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[{"Data":"YQ==","Data":null}]})"},
      {"PutRecord", R"({"DeliveryStreamName":"bad name","DeliveryStreamName":"s","Record":{"Data":"YQ=="}})"},
      {"PutRecord", R"({"DeliveryStreamName":"s","Record":{"Data":null,"Data":"YQ=="}})"},
  };
  for (const auto& [op, body] : cases) {
    SCOPED_TRACE(op + " " + body.substr(0, 120));
    auto want = ValidateRequest(op, boost::json::parse(body));
    auto got = ParseBody(op == "PutRecordBatch", body);
    ASSERT_EQ(got.has_value(), want.has_value()) << (got ? got->message : want->message);
    if (!want) continue;
    EXPECT_EQ(got->type, want->type);
    EXPECT_EQ(got->message, want->message);
  }
}

TEST(PutRecordsParser, RepeatedRecordsMemberReplacesTheEarlierOne) {
  PutRecordsInput in;
  ASSERT_FALSE(ParseBody(true, R"({"DeliveryStreamName":"s","Records":[{"Data":"YQ=="},{"Data":"Yg=="}],)"
                               R"("Records":[{"Data":"Yw=="}]})", &in));
  ASSERT_EQ(in.records.size(), 1u);
  EXPECT_EQ(in.records[0], "c");
}

// Wrong JSON and wrong member types: the hot path's own SerializationExceptions.
TEST(PutRecordsParser, TypeErrors) {
  struct Case {
    bool batch;
    std::string body, message;
  };
  std::vector<Case> cases = {
      {true, "{", "The request body is not valid JSON."},
      {true, "[1]", "The request body must be a JSON object."},
      {true, R"({"DeliveryStreamName":5,"Records":[]})",
       "Expected a string for member 'DeliveryStreamName'."},
      {true, R"({"DeliveryStreamName":"s","Records":"x"})", "Expected a list for member 'Records'."},
      {true, R"({"DeliveryStreamName":"s","Records":["x"]})",
       "Expected a structure for member 'Records.member'."},
      {true, R"({"DeliveryStreamName":"s","Records":[{"Data":5}]})",
       "Expected a base64 string for member 'Records.member.Data'."},
      {false, R"({"DeliveryStreamName":"s","Record":"x"})", "Expected a structure for member 'Record'."},
      {false, R"({"DeliveryStreamName":"s","Record":{"Data":[]}})",
       "Expected a base64 string for member 'Record.Data'."},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    auto err = ParseBody(c.batch, c.body);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->type, "SerializationException");
    EXPECT_EQ(err->message, c.message);
  }
}

TEST(PutRecordsParser, EmptyBodyIsAnEmptyObject) {
  auto err = ParseBody(true, "");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "ValidationException");
  EXPECT_EQ(err->message, ValidateRequest("PutRecordBatch", boost::json::parse("{}"))->message);
}

// The encoder's ids are the base64 of the 16 incarnation bytes and the big-endian
// sequence number, as docs/architecture.md describes them.
TEST(RecordIdEncoder, IsBase64OfIncarnationAndSequence) {
  const std::string hex = "0123456789abcdefFEDCBA9876543210";
  std::string inc;
  for (size_t i = 0; i < hex.size(); i += 2) {
    inc.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  RecordIdEncoder enc(hex);
  const std::vector<uint64_t> seqs = {0, 1, 255, uint64_t{1} << 40, 0x0102030405060708ull,
                                      ~uint64_t{0}};
  for (uint64_t seq : seqs) {
    std::string raw = inc;
    for (int i = 0; i < 8; ++i) raw.push_back(static_cast<char>(seq >> (56 - 8 * i)));
    std::string got = "x";
    enc.Append(seq, &got);
    EXPECT_EQ(got, "x" + base64::Encode(raw)) << seq;
  }
}

}  // namespace
}  // namespace hydrant::api
