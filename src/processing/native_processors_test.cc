#include "processing/native_processors.h"
#include "processing/processing_spec.h"
#include "testing/gzip.h"
#include "testing/temp_dir.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>

namespace hydrant::processing {
namespace {

namespace json = boost::json;
using Params = std::map<std::string, std::string, std::less<>>;

// gzip with zlib directly (one member, default level).
const auto& ZlibGzip = ::hydrant::testing::Gzip;

// gzip with the gzip(1) tool, an encoder independent of our code.
std::string ToolGzip(const std::string& in) {
  const ::hydrant::testing::TempDir dir;
  const std::string path = dir.Write("in", in);
  std::string cmd = "gzip -c -n " + path;
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0);
  return out;
}

struct Applied {
  bool ok;
  std::vector<std::string> outputs;
  RecordOutcome failure;
};

Applied Apply(const NativeProcessor& p, std::string_view data) {
  Applied a;
  a.ok = p.Apply(data, &a.outputs, &a.failure);
  return a;
}

using Strings = std::vector<std::string>;

// --- Decompression ---------------------------------------------------------------

TEST(GzipDecompressor, DecompressesWhatGzipWrites) {
  auto p = MakeGzipDecompressor();
  std::string text = "line one\nline two\n";
  for (int i = 0; i < 1000; ++i) text += "repetitive payload " + std::to_string(i) + "\n";
  Applied a = Apply(*p, ToolGzip(text));
  ASSERT_TRUE(a.ok) << a.failure.error_message;
  EXPECT_EQ(a.outputs, Strings{text});
  a = Apply(*p, ZlibGzip(""));
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.outputs, Strings{""});
}

TEST(GzipDecompressor, ConcatenatedMembersAreConcatenated) {
  auto p = MakeGzipDecompressor();
  Applied a = Apply(*p, ZlibGzip("first|") + ToolGzip("second"));
  ASSERT_TRUE(a.ok) << a.failure.error_message;
  EXPECT_EQ(a.outputs, Strings{"first|second"});
}

TEST(GzipDecompressor, BadInputFailsAsDecompressionFailed) {
  auto p = MakeGzipDecompressor();
  std::string good = ZlibGzip("some data that compresses");
  std::string flipped = good;
  flipped[flipped.size() - 6] ^= 0x55;  // CRC-32 no longer matches
  const std::vector<std::string> bad = {
      "plain text, not gzip", "", good.substr(0, good.size() - 4), good + "junk", flipped,
  };
  for (const std::string& in : bad) {
    SCOPED_TRACE(in.size());
    Applied a = Apply(*p, in);
    EXPECT_FALSE(a.ok);
    EXPECT_TRUE(a.outputs.empty());
    EXPECT_EQ(a.failure.error_code, "Decompression.Failed");
    EXPECT_EQ(a.failure.error_output_type, "decompression-failed");
    EXPECT_FALSE(a.failure.error_message.empty());
  }
}

TEST(GzipDecompressor, RefusesOutputBeyondTheLimit) {
  auto p = MakeGzipDecompressor();
  std::string zeros(kMaxDecompressedBytes + 1, '\0');
  std::string bomb = ZlibGzip(zeros);
  EXPECT_LT(bomb.size(), 1u << 20);
  Applied a = Apply(*p, bomb);
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.failure.error_code, "Decompression.Failed");
  zeros.resize(kMaxDecompressedBytes);  // exactly at the limit is fine
  a = Apply(*p, ZlibGzip(zeros));
  ASSERT_TRUE(a.ok) << a.failure.error_message;
  EXPECT_EQ(a.outputs[0].size(), kMaxDecompressedBytes);
}

// --- CloudWatch Logs message extraction -------------------------------------------

std::string Envelope(std::string_view type, const std::vector<std::string>& messages) {
  json::array events;
  int64_t ts = 1510109208016;
  for (const std::string& m : messages) {
    events.push_back(
        json::object{{"id", "31953106606966983378809025079804211143289615424298221568"},
                     {"timestamp", ts++},
                     {"message", m}});
  }
  return json::serialize(json::object{{"messageType", type},
                                      {"owner", "111111111111"},
                                      {"logGroup", "CloudTrail/logs"},
                                      {"logStream", "111111111111_CloudTrail/logs_us-east-1"},
                                      {"subscriptionFilters", json::array{"Destination"}},
                                      {"logEvents", events}});
}

TEST(CloudWatchLogsExtractor, DataMessageBecomesOneRecordPerMessage) {
  auto p = MakeCloudWatchLogsMessageExtractor();
  Strings messages = {R"({"eventVersion":"1.03","userIdentity":{"type":"Root1"}})",
                      "plain \"quoted\" text\twith tab", "ünïcödé \xe2\x9c\x93", ""};
  Applied a = Apply(*p, Envelope("DATA_MESSAGE", messages));
  ASSERT_TRUE(a.ok) << a.failure.error_message;
  EXPECT_EQ(a.outputs, messages);
}

TEST(CloudWatchLogsExtractor, ControlMessageYieldsNothing) {
  auto p = MakeCloudWatchLogsMessageExtractor();
  Applied a = Apply(*p, Envelope("CONTROL_MESSAGE", {"CWL CONTROL MESSAGE: Checking health"}));
  EXPECT_TRUE(a.ok);
  EXPECT_TRUE(a.outputs.empty());
}

TEST(CloudWatchLogsExtractor, NonEnvelopesFail) {
  auto p = MakeCloudWatchLogsMessageExtractor();
  const std::vector<std::string> bad = {
      "not json",
      "[1,2]",
      R"({"logEvents":[]})",
      Envelope("SOMETHING_ELSE", {"x"}),
      R"({"messageType":"DATA_MESSAGE"})",
      R"({"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":5}]})",
  };
  for (const std::string& in : bad) {
    SCOPED_TRACE(in);
    Applied a = Apply(*p, in);
    EXPECT_FALSE(a.ok);
    EXPECT_TRUE(a.outputs.empty());
    EXPECT_EQ(a.failure.error_code, "CloudWatchLogs.InvalidMessage");
    EXPECT_EQ(a.failure.error_output_type, "processing-failed");
  }
}

// --- RecordDeAggregation ----------------------------------------------------------

TEST(JsonDeAggregator, SplitsConcatenatedObjects) {
  auto p = MakeJsonDeAggregator();
  struct Case {
    std::string in;
    Strings out;
  };
  const std::vector<Case> cases = {
      {R"({"a":1}{"a":2})", {R"({"a":1})", R"({"a":2})"}},
      {"{\"a\":1}\n{\"a\":2}\n", {R"({"a":1})", R"({"a":2})"}},
      {" \r\n\t{\"a\":1}  \t {\"b\":[1,{\"c\":2}]}\r\n", {R"({"a":1})", R"({"b":[1,{"c":2}]})"}},
      {R"({"s":"}{\"}"}{"t":"]["})", {R"({"s":"}{\"}"})", R"({"t":"]["})"}},
      {R"({"a":1})", {R"({"a":1})"}},
      {"{ \"pretty\" : {\n  \"x\" : 1\n} }", {"{ \"pretty\" : {\n  \"x\" : 1\n} }"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    Applied a = Apply(*p, c.in);
    ASSERT_TRUE(a.ok) << a.failure.error_message;
    EXPECT_EQ(a.outputs, c.out);
  }
}

TEST(JsonDeAggregator, RejectsWhatIsNotASequenceOfObjects) {
  auto p = MakeJsonDeAggregator();
  const std::vector<std::string> bad = {
      R"([{"a":1},{"a":2}])",  // an array of objects is not valid input (AWS)
      R"({"a":1}{"a":)",       // truncated
      R"({"a":tru})",          // invalid inside
      R"({"a":1},{"a":2})",    // comma between objects
      R"({"a":1} 42)",        R"({"a":"unterminated})", "", "   \n",
  };
  for (const std::string& in : bad) {
    SCOPED_TRACE(in);
    Applied a = Apply(*p, in);
    EXPECT_FALSE(a.ok);
    EXPECT_TRUE(a.outputs.empty());
    EXPECT_EQ(a.failure.error_code, "RecordDeAggregation.InvalidJson");
  }
}

TEST(JsonDeAggregator, AtMost500ObjectsPerRecord) {
  auto p = MakeJsonDeAggregator();
  std::string in;
  for (int i = 0; i < 500; ++i) in += "{\"i\":" + std::to_string(i) + "}";
  Applied a = Apply(*p, in);
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.outputs.size(), 500u);
  EXPECT_EQ(a.outputs[499], R"({"i":499})");
  a = Apply(*p, in + "{}");
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.failure.error_code, "RecordDeAggregation.TooManySubRecords");
}

TEST(DelimitedDeAggregator, SplitsOnTheDecodedDelimiter) {
  // "IyMjIw==" is base64 for "####", AWS's example.
  auto made = MakeNativeProcessor(
      "RecordDeAggregation", Params{{"SubRecordType", "DELIMITED"}, {"Delimiter", "IyMjIw=="}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const NativeProcessor& p = **made;
  EXPECT_EQ(Apply(p, "a####b####c").outputs, (Strings{"a", "b", "c"}));
  EXPECT_EQ(Apply(p, "####a########b####").outputs, (Strings{"a", "b"}));  // no empty records
  EXPECT_EQ(Apply(p, "no delimiter").outputs, (Strings{"no delimiter"}));
  EXPECT_EQ(Apply(p, "a###b").outputs, (Strings{"a###b"}));
  Applied empty = Apply(p, "");
  EXPECT_TRUE(empty.ok);
  EXPECT_TRUE(empty.outputs.empty());
}

TEST(DelimitedDeAggregator, AtMost500PiecesPerRecord) {
  auto p = MakeDelimitedDeAggregator("\n");
  std::string in;
  for (int i = 0; i < 501; ++i) in += "line\n";
  Applied a = Apply(*p, in);
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.failure.error_code, "RecordDeAggregation.TooManySubRecords");
  EXPECT_TRUE(a.outputs.empty());
}

TEST(DelimiterAppender, AddsANewlineToEveryRecord) {
  auto p = MakeDelimiterAppender();
  EXPECT_EQ(Apply(*p, "x").outputs, Strings{"x\n"});
  EXPECT_EQ(Apply(*p, "").outputs, Strings{"\n"});
  EXPECT_EQ(Apply(*p, "y\n").outputs, Strings{"y\n\n"});
}

// --- Parameters --------------------------------------------------------------------

TEST(MakeNativeProcessor, ValidatesParameters) {
  EXPECT_TRUE(MakeNativeProcessor("Decompression", {}).ok());
  EXPECT_TRUE(MakeNativeProcessor("Decompression", Params{{"CompressionFormat", "GZIP"}}).ok());
  EXPECT_FALSE(MakeNativeProcessor("Decompression", Params{{"CompressionFormat", "ZIP"}}).ok());
  auto cwl =
      MakeNativeProcessor("CloudWatchLogProcessing", Params{{"DataMessageExtraction", "true"}});
  ASSERT_TRUE(cwl.ok());
  EXPECT_NE(*cwl, nullptr);
  cwl = MakeNativeProcessor("CloudWatchLogProcessing", Params{{"DataMessageExtraction", "false"}});
  ASSERT_TRUE(cwl.ok());
  EXPECT_EQ(*cwl, nullptr);  // does nothing
  EXPECT_FALSE(
      MakeNativeProcessor("CloudWatchLogProcessing", Params{{"DataMessageExtraction", "yes"}})
          .ok());
  EXPECT_TRUE(MakeNativeProcessor("RecordDeAggregation", Params{{"SubRecordType", "JSON"}}).ok());
  EXPECT_FALSE(MakeNativeProcessor("RecordDeAggregation", {}).ok());
  EXPECT_FALSE(
      MakeNativeProcessor("RecordDeAggregation", Params{{"SubRecordType", "DELIMITED"}}).ok());
  EXPECT_FALSE(MakeNativeProcessor("RecordDeAggregation",
                                   Params{{"SubRecordType", "DELIMITED"}, {"Delimiter", "!!"}})
                   .ok());
  EXPECT_TRUE(MakeNativeProcessor("AppendDelimiterToRecord", {}).ok());
  EXPECT_FALSE(MakeNativeProcessor("Lambda", {}).ok());
}

TEST(ReadProcessorParameters, ReadsNamesAndRejectsRepeats) {
  json::object p = json::parse(R"({"Type":"RecordDeAggregation","Parameters":[
      {"ParameterName":"SubRecordType","ParameterValue":"JSON"},
      {"ParameterName":"Delimiter","ParameterValue":"Cg=="}]})")
                       .as_object();
  auto params = ReadProcessorParameters(p);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(*params, (Params{{"SubRecordType", "JSON"}, {"Delimiter", "Cg=="}}));
  p["Parameters"].as_array().push_back(
      json::object{{"ParameterName", "Delimiter"}, {"ParameterValue", "Cg=="}});
  EXPECT_FALSE(ReadProcessorParameters(p).ok());
  EXPECT_TRUE(ReadProcessorParameters(json::object{{"Type", "AppendDelimiterToRecord"}})->empty());
}

}  // namespace
}  // namespace hydrant::processing
