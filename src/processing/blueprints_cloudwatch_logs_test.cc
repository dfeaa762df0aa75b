// Tests for the CloudWatch Logs processor blueprint: decoding subscription
// envelopes, gzip as Python reads it, and re-ingestion of what does not fit in
// the response. Expected outputs are written out by hand from the blueprint's
// documented behaviour (docs/blueprints.md, spec section 7).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/utf8.h"
#include "processing/blueprints.h"
#include "processing/blueprints_python.h"
#include "processing/blueprints_test_util.h"

namespace hydrant::processing::blueprint_test {
namespace {

// --- CloudWatch Logs processor -------------------------------------------------

constexpr std::string_view kCwl = BuiltinInvoker::kCloudWatchLogsProcessor;

TEST(BlueprintCloudWatchLogs, ControlDataAndOtherMessages) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out = Records(Call(
      invoker, kCwl,
      Event(
          {{"control", Gzip(Envelope("CONTROL_MESSAGE", {"CWL CONTROL MESSAGE: Checking health"}))},
           {"data", Gzip(Envelope("DATA_MESSAGE", {"first", "second {\"k\": 1}", "caf\xC3\xA9"}))},
           {"other", Gzip(Envelope("SOMETHING_ELSE", {"x"}))},
           {"empty", Gzip(Envelope("DATA_MESSAGE", {}))}})));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].id, "control");
  EXPECT_EQ(out[0].result, "Dropped");
  EXPECT_FALSE(out[0].has_data);
  EXPECT_EQ(out[1].id, "data");
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[1].data, "first\nsecond {\"k\": 1}\ncaf\xC3\xA9\n");
  EXPECT_EQ(out[2].id, "other");
  EXPECT_EQ(out[2].result, "ProcessingFailed");
  EXPECT_FALSE(out[2].has_data);
  EXPECT_EQ(out[3].result, "Ok");
  EXPECT_TRUE(out[3].has_data);
  EXPECT_EQ(out[3].data, "");
}

TEST(BlueprintCloudWatchLogs, MultiMemberGzipWithZeroPaddingLikeGzipDecompress) {
  const std::string env = Envelope("DATA_MESSAGE", {"a", "b"});
  const std::string data = Gzip(env.substr(0, 10)) + Gzip(env.substr(10)) + std::string(7, '\0');
  EXPECT_EQ(One(kCwl, data).data, "a\nb\n");
}

TEST(BlueprintCloudWatchLogs, BadGzipFailsTheInvocation) {
  BuiltinInvoker invoker;
  const std::string env = Envelope("DATA_MESSAGE", {"a"});
  auto err = Error(Call(invoker, kCwl, Event({{"plain", env}})));
  EXPECT_EQ(err.first, "BadGzipFile");
  EXPECT_EQ(err.second, "Not a gzipped file (b'{\"')");

  const std::string gz = Gzip(env);
  err = Error(Call(invoker, kCwl, Event({{"cut", gz.substr(0, gz.size() - 12)}})));
  EXPECT_EQ(err.first, "EOFError");
  EXPECT_EQ(err.second, "Compressed file ended before the end-of-stream marker was reached");

  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0x55;
  err = Error(Call(invoker, kCwl, Event({{"crc", bad_crc}})));
  EXPECT_EQ(err.first, "BadGzipFile");
  EXPECT_EQ(err.second, "CRC check failed");

  err = Error(Call(invoker, kCwl, Event({{"junk", gz + "xy"}})));
  EXPECT_EQ(err.second, "Not a gzipped file (b'xy')");

  err = Error(Call(invoker, kCwl, Event({{"json", Gzip("{\"messageType\": ")}})));
  EXPECT_EQ(err.first, "JSONDecodeError");

  err = Error(Call(invoker, kCwl, Event({{"nokey", Gzip("{\"owner\": \"1\"}")}})));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'messageType'");

  err = Error(Call(
      invoker, kCwl,
      Event({{"num", Gzip(R"({"messageType":"DATA_MESSAGE","logEvents":[{"message":5}]})")}})));
  EXPECT_EQ(err.first, "TypeError");
  EXPECT_EQ(err.second, "unsupported operand type(s) for +: 'int' and 'str'");
}

// `utf8` in UTF-16 (unit 2) or UTF-32 (unit 4), with the byte order's BOM first
// when `bom`.
std::string Wide(std::string_view utf8, size_t unit, bool big, bool bom) {
  std::string out;
  auto put = [&](uint32_t v) {
    for (size_t k = 0; k < unit; ++k) {
      const size_t shift = 8 * (big ? unit - 1 - k : k);
      out.push_back(static_cast<char>((v >> shift) & 0xFF));
    }
  };
  if (bom) put(0xFEFF);
  for (size_t i = 0; i < utf8.size();) {
    char32_t cp = 0;
    const size_t len = utf8::SequenceLength(utf8, i, &cp);
    if (len == 0) return "";
    i += len;
    if (unit == 2 && cp >= 0x10000) {
      put(0xD800 + ((cp - 0x10000) >> 10));
      put(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      put(cp);
    }
  }
  return out;
}

TEST(BlueprintCloudWatchLogs, EnvelopeInUtf16AndUtf32LikeJsonLoadsOnBytes) {
  // json.loads(bytes) detects UTF-16 and UTF-32 (with or without a BOM) by the
  // zero bytes among the first four, as Python's json.detect_encoding does.
  const std::string message = "caf\xC3\xA9 \xF0\x9F\x98\x80";  // a pair in UTF-16
  const std::string env = Envelope("DATA_MESSAGE", {message, "second"});
  for (size_t unit : {2, 4}) {
    for (bool big : {false, true}) {
      for (bool bom : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "unit " << unit << " big " << big << " bom " << bom);
        const std::string wide = Wide(env, unit, big, bom);
        ASSERT_FALSE(wide.empty());
        const OutRecord out = One(kCwl, Gzip(wide));
        EXPECT_EQ(out.result, "Ok");
        EXPECT_EQ(out.data, message + "\nsecond\n");
      }
    }
  }
}

TEST(BlueprintCloudWatchLogs, DetectsTheJsonEncodingAsPythonDoes) {
  using std::literals::operator""sv;
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("{}"), "utf-8");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("\xEF\xBB\xBF{}"), "utf-8-sig");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("\xFF\xFE{\0"sv), "utf-16");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("\xFF\xFE\0\0{\0\0\0"sv), "utf-32");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("\0\0\xFE\xFF"sv), "utf-32");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("{\0}\0"sv), "utf-16-le");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("\0{\0}"sv), "utf-16-be");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("{\0\0\0"sv), "utf-32-le");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("\0\0\0{"sv), "utf-32-be");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("1\0"sv), "utf-16-le");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("\0" "1"sv), "utf-16-be");
  EXPECT_EQ(blueprints::PyDetectJsonEncoding("{\0\""sv), "utf-8");  // 3 bytes: no guess
}

TEST(BlueprintCloudWatchLogs, BadUtf16AndUtf32FailWithPythonsDecodeErrors) {
  // The messages are CPython 3.11's, read off `bytes.decode(codec)`.
  using std::literals::operator""sv;
  struct Case {
    std::string_view text;
    const char* message;
  } cases[] = {
      {"{\0\"\0a"sv, "'utf-16-le' codec can't decode byte 0x61 in position 4: truncated data"},
      {"{\0\0\xD8"sv,
       "'utf-16-le' codec can't decode bytes in position 2-3: unexpected end of data"},
      {"{\0\0\xDC}\0"sv, "'utf-16-le' codec can't decode bytes in position 2-3: illegal encoding"},
      {"{\0\0\xD8" "a\0"sv,
       "'utf-16-le' codec can't decode bytes in position 2-3: illegal UTF-16 surrogate"},
      {"{\0\0\0\0\0\x11\0"sv,
       "'utf-32-le' codec can't decode bytes in position 4-7: code point not in range(0x110000)"},
      {"{\0\0\0\0\xD8\0\0"sv,
       "'utf-32-le' codec can't decode bytes in position 4-7: code point in surrogate code point "
       "range(0xd800, 0xe000)"},
      {"{\0\0\0\"\0\0"sv, "'utf-32-le' codec can't decode bytes in position 4-6: truncated data"},
  };
  BuiltinInvoker invoker;
  for (const Case& c : cases) {
    auto err = Error(Call(invoker, kCwl, Event({{"r", Gzip(c.text)}})));
    EXPECT_EQ(err.first, "UnicodeDecodeError");
    EXPECT_EQ(err.second, c.message);
  }
}

TEST(BlueprintCloudWatchLogs, StreamArnIsRequiredEvenWithoutReingestion) {
  BuiltinInvoker invoker;
  auto err =
      Error(Call(invoker, kCwl,
                 R"({"records":[{"recordId":"a","data":"H4sIAAAAAAAAA6uuBQBDv6ajAgAAAA=="}]})"));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'deliveryStreamArn'");
  err = Error(Call(invoker, kCwl, Event({}, false, "not-an-arn")));
  EXPECT_EQ(err.first, "IndexError");
}

// A re-ingestion callback that records what it was given.
struct FakeReingest {
  std::vector<std::string> streams;
  std::vector<std::vector<std::string>> batches;
  int fail_first = 0;  // number of calls that fail before the first success
  int calls = 0;
  ReingestFn fn() {
    return [this](std::string_view stream, std::vector<std::string> records) -> Status {
      ++calls;
      if (calls <= fail_first) return Status::Unavailable("ServiceUnavailableException: slow down");
      streams.emplace_back(stream);
      batches.push_back(std::move(records));
      return Status::Ok();
    };
  }
};

TEST(BlueprintCloudWatchLogs, OversizedRecordIsSplitInHalvesAndReingested) {
  // Two 2,500,000-character events: the output (5,000,002 bytes) is 6,666,672
  // base64 characters, above 6,000,000.
  const std::string big(2500000, 'a');
  json::object env =
      json::parse(Envelope("DATA_MESSAGE", {big, std::string(2500000, 'b')})).as_object();
  env["extra"] = json::parse(R"([0.5, 1e16, 1e-05, 100.0, 123456789.125, true, null, "\u00e9/"])");
  const std::string original = Gzip(json::serialize(env));
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out = Records(Call(
      invoker, kCwl, Event({{"big", original}, {"small", Gzip(Envelope("DATA_MESSAGE", {"s"}))}})));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].result, "Dropped");
  EXPECT_FALSE(out[0].has_data);
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[1].data, "s\n");
  ASSERT_EQ(fake.batches.size(), 1u);
  EXPECT_EQ(fake.streams[0], "my-stream");
  ASSERT_EQ(fake.batches[0].size(), 2u);
  // Each half is gzip of json.dumps(envelope with half the events), so it comes
  // back through the processor like a CloudWatch record.
  auto expected = [&](std::string_view id, int64_t ts, const std::string& message) {
    return R"({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/f", )"
           R"("logStream": "2024/01/01/[$LATEST]abc", "subscriptionFilters": ["to-firehose"], )"
           R"("logEvents": [{"id": ")" +
           std::string(id) + R"(", "timestamp": )" + std::to_string(ts) + R"(, "message": ")" +
           message +
           R"("}], )"
           R"("extra": [0.5, 1e+16, 1e-05, 100.0, 123456789.125, true, null, "\u00e9/"]})";
  };
  EXPECT_EQ(Gunzip(fake.batches[0][0]), expected("1", 1700000000000, big));
  EXPECT_EQ(Gunzip(fake.batches[0][1]), expected("2", 1700000000001, std::string(2500000, 'b')));
}

TEST(BlueprintCloudWatchLogs, OversizedSingleEventFails) {
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out =
      Records(Call(invoker, kCwl,
                   Event({{"one", Gzip(Envelope("DATA_MESSAGE", {std::string(4500000, 'x')}))}})));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].result, "ProcessingFailed");
  EXPECT_FALSE(out[0].has_data);
  EXPECT_EQ(fake.calls, 0);
}

// Records whose base64 output is 2,000,004 characters: the third pushes the
// projected size (data + recordId lengths) over 6,000,000.
std::vector<InRecord> FourLargeRecords() {
  std::vector<InRecord> records;
  for (int i = 1; i <= 4; ++i) {
    records.push_back({"rec-" + std::to_string(i),
                       Gzip(Envelope("DATA_MESSAGE", {std::string(1500000, char('a' + i))}))});
  }
  return records;
}

TEST(BlueprintCloudWatchLogs, RecordsPastTheResponseBudgetAreReingestedAsIs) {
  const std::vector<InRecord> records = FourLargeRecords();
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out = Records(Call(invoker, kCwl, Event(records)));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].result, "Ok");
  EXPECT_EQ(out[0].data_b64.size(), 2000004u);
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[2].result, "Dropped");
  EXPECT_FALSE(out[2].has_data);
  EXPECT_EQ(out[3].result, "Dropped");  // the projected size only grows
  ASSERT_EQ(fake.batches.size(), 1u);
  EXPECT_EQ(fake.batches[0], (std::vector<std::string>{records[2].data, records[3].data}));
}

TEST(BlueprintCloudWatchLogs, WithoutCallbackWouldBeReingestedRecordsFail) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out = Records(Call(invoker, kCwl, Event(FourLargeRecords())));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[2].result, "ProcessingFailed");
  EXPECT_FALSE(out[2].has_data);
  EXPECT_EQ(out[3].result, "ProcessingFailed");
}

// A delivery stream reading a Kinesis stream: what would be re-ingested goes back
// into that Kinesis stream (PutRecords) with each original's partition key, and
// never through the Firehose callback.
TEST(BlueprintCloudWatchLogs, KinesisSourceReingestsIntoTheKinesisStream) {
  FakeReingest firehose;
  std::vector<std::string> arns;
  std::vector<std::vector<std::pair<std::string, std::string>>> batches;
  KinesisReingestFn kinesis = [&](std::string_view arn,
                                  std::vector<std::pair<std::string, std::string>> records) {
    arns.emplace_back(arn);
    batches.push_back(std::move(records));
    return Status::Ok();
  };
  BuiltinInvoker invoker(firehose.fn(), kinesis);
  const std::vector<InRecord> records = FourLargeRecords();
  std::vector<OutRecord> out = Records(Call(invoker, kCwl, Event(records, /*kinesis_source=*/true)));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].result, "Ok");
  EXPECT_EQ(out[2].result, "Dropped");
  EXPECT_EQ(out[3].result, "Dropped");
  EXPECT_EQ(firehose.calls, 0);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(arns[0], kKinesisArn);
  EXPECT_EQ(batches[0], (std::vector<std::pair<std::string, std::string>>{
                            {"pk-rec-3", records[2].data}, {"pk-rec-4", records[3].data}}));
}

TEST(BlueprintCloudWatchLogs, KinesisSourceWithoutItsCallbackFailsTheRecords) {
  FakeReingest firehose;
  BuiltinInvoker invoker(firehose.fn());
  std::vector<OutRecord> out =
      Records(Call(invoker, kCwl, Event(FourLargeRecords(), /*kinesis_source=*/true)));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].result, "ProcessingFailed");
  EXPECT_EQ(firehose.calls, 0);
}

TEST(BlueprintCloudWatchLogs, ReingestionRetriesThenRaisesRuntimeError) {
  FakeReingest flaky;
  flaky.fail_first = 19;  // the 20th attempt succeeds
  BuiltinInvoker ok_invoker(flaky.fn());
  std::vector<OutRecord> out = Records(Call(ok_invoker, kCwl, Event(FourLargeRecords())));
  EXPECT_EQ(flaky.calls, 20);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].result, "Dropped");

  FakeReingest broken;
  broken.fail_first = 1000;
  BuiltinInvoker failing(broken.fn());
  auto err = Error(Call(failing, kCwl, Event(FourLargeRecords())));
  EXPECT_EQ(broken.calls, 20);
  EXPECT_EQ(err.first, "RuntimeError");
  EXPECT_EQ(err.second,
            "Could not put records after 20 attempts. ServiceUnavailableException: slow down");
}

TEST(BlueprintCloudWatchLogs, ReingestionInBatchesOf500) {
  // One record takes the whole budget: 4,499,997 bytes are 5,999,996 base64
  // characters, plus 4 for "head" makes exactly 6,000,000 (not above it). The
  // 600 small ones after it are re-ingested as is, 500 then 100.
  std::vector<InRecord> records;
  records.push_back({"head", Gzip(Envelope("DATA_MESSAGE", {std::string(4499996, 'h')}))});
  const std::string small = Gzip(Envelope("DATA_MESSAGE", {"tiny"}));
  for (int i = 0; i < 600; ++i) records.push_back({"r" + std::to_string(i), small});
  FakeReingest fake;
  BuiltinInvoker invoker(fake.fn());
  std::vector<OutRecord> out = Records(Call(invoker, kCwl, Event(records)));
  ASSERT_EQ(out.size(), 601u);
  EXPECT_EQ(out[0].result, "Ok");
  for (size_t i = 1; i < out.size(); ++i) EXPECT_EQ(out[i].result, "Dropped") << i;
  ASSERT_EQ(fake.batches.size(), 2u);
  EXPECT_EQ(fake.batches[0].size(), 500u);
  EXPECT_EQ(fake.batches[1].size(), 100u);
  EXPECT_EQ(fake.batches[1][99], small);
}

}  // namespace
}  // namespace hydrant::processing::blueprint_test
