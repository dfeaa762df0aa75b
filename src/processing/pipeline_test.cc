#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/json.hpp>
#include <mutex>

#include "common/base64.h"
#include "common/clock.h"
#include "processing/invoker.h"
#include "processing/processor.h"
#include "testing/gzip.h"

namespace hydrant::processing {
namespace {

namespace json = boost::json;
using Kind = RecordOutcome::Kind;
using Strings = std::vector<std::string>;

constexpr char kFnArn[] = "arn:aws:lambda:eu-west-1:123456789012:function:transform";

// Upper-cases every record's data; data "FAIL" gets ProcessingFailed, "DROP"
// Dropped. Keeps each event's decoded records.
class UpperInvoker final : public FunctionInvoker {
 public:
  InvokeResult Invoke(const FunctionRef&, const std::string& event_json,
                      std::chrono::milliseconds) override {
    json::object ev = json::parse(event_json).as_object();
    json::array out;
    Strings seen;
    for (const json::value& r : ev.at("records").as_array()) {
      std::string d = *base64::Decode(std::string(r.at("data").as_string()));
      seen.push_back(d);
      for (char& c : d) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      json::object o{{"recordId", r.at("recordId")},
                     {"result", d == "FAIL"   ? "ProcessingFailed"
                                : d == "DROP" ? "Dropped"
                                              : "Ok"},
                     {"data", base64::Encode(d)}};
      out.push_back(o);
    }
    std::lock_guard lock(mu_);
    events_.push_back(seen);
    InvokeResult r;
    r.payload = json::serialize(json::object{{"records", out}});
    return r;
  }
  std::vector<Strings> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<Strings> events_;
};

json::object Config(std::string_view processors_json, bool enabled = true) {
  return json::object{{"Enabled", enabled}, {"Processors", json::parse(processors_json)}};
}

std::string LambdaProcessorJson(std::string_view extra = "") {
  return std::string(
             R"({"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":")") +
         kFnArn + R"("})" + std::string(extra) + "]}";
}

struct Fixture {
  UpperInvoker invoker;
  FakeClock clock{1'600'000'000'000};
  Pipeline::Context Ctx() {
    Pipeline::Context ctx;
    ctx.delivery_stream_arn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/s";
    ctx.region = "eu-west-1";
    ctx.invoker = &invoker;
    ctx.clock = &clock;
    ctx.sleep_for = [](std::chrono::milliseconds) {};
    return ctx;
  }
  std::unique_ptr<Pipeline> Make(const json::object& config) {
    auto p = Pipeline::Create(ParseProcessingSpec(config), Ctx());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(p).value() : nullptr;
  }
};

using ::hydrant::testing::Gzip;

std::string CloudWatchEnvelope(std::string_view type, const Strings& messages) {
  json::array events;
  for (size_t i = 0; i < messages.size(); ++i) {
    events.push_back(json::object{{"id", std::to_string(1000 + i)},
                                  {"timestamp", 1510109208016 + int64_t(i)},
                                  {"message", messages[i]}});
  }
  return json::serialize(json::object{{"messageType", type},
                                      {"owner", "123456789012"},
                                      {"logGroup", "/app"},
                                      {"logStream", "s1"},
                                      {"subscriptionFilters", json::array{"f"}},
                                      {"logEvents", events}});
}

std::vector<SourceRecord> Records(const Strings& data) {
  std::vector<SourceRecord> out;
  for (size_t i = 0; i < data.size(); ++i) out.push_back({data[i], 5000 + int64_t(i)});
  return out;
}

// --- Create --------------------------------------------------------------------------

TEST(PipelineCreate, DisabledOrEmptyMeansPassThrough) {
  Fixture f;
  for (const json::object& c :
       {Config(LambdaProcessorJson(), false), Config("[]"), json::object{{"Enabled", true}},
        json::object{}, Config(R"([{"Type":"MetadataExtraction","Parameters":[]}])"),
        Config(R"([{"Type":"CloudWatchLogProcessing","Parameters":[
            {"ParameterName":"DataMessageExtraction","ParameterValue":"false"}]}])")}) {
    SCOPED_TRACE(json::serialize(c));
    auto p = Pipeline::Create(ParseProcessingSpec(c), f.Ctx());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p.value(), nullptr);
  }
}

TEST(PipelineCreate, AcceptsTheConfigurationDescribeShows) {
  Fixture f;
  json::object c =
      json::parse(std::string(R"({"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[
      {"ParameterName":"LambdaArn","ParameterValue":")") +
                  kFnArn + R"(:$LATEST"},
      {"ParameterName":"NumberOfRetries","ParameterValue":"3"},
      {"ParameterName":"RoleArn","ParameterValue":"arn:aws:iam::123456789012:role/r"},
      {"ParameterName":"BufferSizeInMBs","ParameterValue":"1"},
      {"ParameterName":"BufferIntervalInSeconds","ParameterValue":"60"}]}]})")
          .as_object();
  EXPECT_TRUE(ValidateProcessingConfiguration(ParseProcessingSpec(c)).ok());
  auto p = f.Make(c);
  ASSERT_NE(p, nullptr);
  auto b = p->lambda_buffering();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->size_bytes, 1024u * 1024u);
  EXPECT_EQ(b->interval_ms, 60'000);
}

TEST(PipelineCreate, RejectsInvalidConfigurations) {
  Fixture f;
  const Strings bad = {
      R"([{"Type":"Unknown"}])",
      R"([{"Parameters":[]}])",
      "[" + LambdaProcessorJson() + "," + LambdaProcessorJson() + "]",
      R"([{"Type":"Lambda","Parameters":[]}])",
      "[" + LambdaProcessorJson(R"(,{"ParameterName":"NumberOfRetries","ParameterValue":"x"})") +
          "]",
      R"([{"Type":"AppendDelimiterToRecord"},{"Type":"AppendDelimiterToRecord"}])",
      R"([{"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"CSV"}]}])",
  };
  for (const std::string& procs : bad) {
    SCOPED_TRACE(procs);
    json::object c = Config(procs);
    EXPECT_FALSE(ValidateProcessingConfiguration(ParseProcessingSpec(c)).ok());
    auto p = Pipeline::Create(ParseProcessingSpec(c), f.Ctx());
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  }
  // A Lambda processor needs an invoker.
  Pipeline::Context no_invoker = f.Ctx();
  no_invoker.invoker = nullptr;
  EXPECT_FALSE(Pipeline::Create(ParseProcessingSpec(Config("[" + LambdaProcessorJson() + "]")), no_invoker).ok());
  EXPECT_TRUE(ValidateProcessingConfiguration(ParseProcessingSpec(Config("[" + LambdaProcessorJson() + "]"))).ok());
}

// --- Process ---------------------------------------------------------------------------

TEST(Pipeline, LambdaThenAppendDelimiter) {
  Fixture f;
  // Listed in the wrong order on purpose: Firehose's order applies.
  auto p = f.Make(Config(R"([{"Type":"AppendDelimiterToRecord"},)" + LambdaProcessorJson() + "]"));
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->lambda_buffering() == std::nullopt);
  Strings data = {"one", "drop", "fail", "two"};
  ProcessingStats stats;
  auto out = p->Process(Records(data), &stats);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].kind, Kind::kOk);
  EXPECT_EQ(out[0].outputs, Strings{"ONE\n"});
  EXPECT_EQ(out[1].kind, Kind::kDropped);
  EXPECT_EQ(out[2].kind, Kind::kFailed);
  EXPECT_EQ(out[2].error_code, "Lambda.ProcessingFailedStatus");
  EXPECT_EQ(out[2].lambda_arn, kFnArn);
  EXPECT_EQ(out[3].outputs, Strings{"TWO\n"});
  EXPECT_EQ(f.invoker.events(), std::vector<Strings>{data});  // before the delimiter
  EXPECT_EQ(stats.invocations, 1u);
  EXPECT_EQ(stats.ok_records, 2u);
  EXPECT_EQ(stats.ok_bytes, 6u);  // original sizes of "one" and "two"
}

TEST(Pipeline, CloudWatchLogsDecompressionExtractionLambdaAndDelimiter) {
  Fixture f;
  auto p = f.Make(Config(R"([
      {"Type":"AppendDelimiterToRecord"},
      {"Type":"CloudWatchLogProcessing","Parameters":[{"ParameterName":"DataMessageExtraction","ParameterValue":"true"}]},
      )" + LambdaProcessorJson() +
                         R"(,
      {"Type":"Decompression","Parameters":[{"ParameterName":"CompressionFormat","ParameterValue":"GZIP"}]}])"));
  ASSERT_NE(p, nullptr);
  std::string data_message = Gzip(CloudWatchEnvelope("DATA_MESSAGE", {"alpha", "beta"}));
  std::string control = Gzip(CloudWatchEnvelope("CONTROL_MESSAGE", {"CWL CONTROL MESSAGE"}));
  std::string corrupt = "\x1f\x8b not really gzip";
  std::string second = Gzip(CloudWatchEnvelope("DATA_MESSAGE", {"gamma"}));
  Strings data = {data_message, control, corrupt, second};
  ProcessingStats stats;
  auto out = p->Process(Records(data), &stats);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].kind, Kind::kOk);
  EXPECT_EQ(out[0].outputs, (Strings{"ALPHA\n", "BETA\n"}));
  EXPECT_EQ(out[1].kind, Kind::kDropped);
  EXPECT_EQ(out[2].kind, Kind::kFailed);
  EXPECT_EQ(out[2].error_code, "Decompression.Failed");
  EXPECT_EQ(out[2].error_output_type, "decompression-failed");
  EXPECT_EQ(out[2].attempts, 1);
  EXPECT_EQ(out[2].attempt_end_ms, 1'600'000'000'000);
  EXPECT_TRUE(out[2].lambda_arn.empty());
  EXPECT_EQ(out[3].outputs, Strings{"GAMMA\n"});
  // Each log message is its own Lambda record; the control message and the
  // corrupt record never reach the function.
  EXPECT_EQ(f.invoker.events(), (std::vector<Strings>{{"alpha", "beta", "gamma"}}));
  EXPECT_EQ(stats.ok_records, 2u);
}

TEST(Pipeline, DeAggregatedRecordFailsWholeWhenOneOfItsPartsFails) {
  Fixture f;
  auto p = f.Make(Config(R"([)" + LambdaProcessorJson() + R"(,
      {"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"DELIMITED"},
                                                  {"ParameterName":"Delimiter","ParameterValue":"fA=="}]}])"));
  ASSERT_NE(p, nullptr);
  // "fA==" is "|".
  Strings data = {"a|b|c", "x|fail|y", "drop|drop", "drop|k"};
  auto out = p->Process(Records(data), nullptr);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].kind, Kind::kOk);
  EXPECT_EQ(out[0].outputs, (Strings{"A", "B", "C"}));
  EXPECT_EQ(out[1].kind, Kind::kFailed);
  EXPECT_EQ(out[1].error_code, "Lambda.ProcessingFailedStatus");
  EXPECT_TRUE(out[1].outputs.empty());
  EXPECT_EQ(out[2].kind, Kind::kDropped);
  EXPECT_EQ(out[3].kind, Kind::kOk);
  EXPECT_EQ(out[3].outputs, Strings{"K"});
  EXPECT_EQ(f.invoker.events(),
            (std::vector<Strings>{{"a", "b", "c", "x", "fail", "y", "drop", "drop", "drop", "k"}}));
}

TEST(Pipeline, NativeOnlyJsonDeAggregationWithDelimiter) {
  Fixture f;
  auto p = f.Make(Config(R"([{"Type":"RecordDeAggregation","Parameters":[
      {"ParameterName":"SubRecordType","ParameterValue":"JSON"}]},{"Type":"AppendDelimiterToRecord"}])"));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->lambda_buffering(), std::nullopt);
  Strings data = {R"({"a":1}{"a":2})", "[1]", "{\"b\":3}\n"};
  ProcessingStats stats;
  auto out = p->Process(Records(data), &stats);
  EXPECT_EQ(out[0].outputs, (Strings{"{\"a\":1}\n", "{\"a\":2}\n"}));
  EXPECT_EQ(out[1].kind, Kind::kFailed);
  EXPECT_EQ(out[1].error_code, "RecordDeAggregation.InvalidJson");
  EXPECT_EQ(out[1].error_output_type, "processing-failed");
  EXPECT_EQ(out[2].outputs, Strings{"{\"b\":3}\n"});
  EXPECT_EQ(stats.invocations, 0u);
  EXPECT_EQ(stats.ok_records, 2u);
  EXPECT_TRUE(f.invoker.events().empty());
}

TEST(Pipeline, EveryRecordEndsExactlyOnce) {
  Fixture f;
  auto p = f.Make(Config(
      "[" + LambdaProcessorJson(R"(,{"ParameterName":"BufferSizeInMBs","ParameterValue":"0.2"})") +
      "]"));
  ASSERT_NE(p, nullptr);
  Strings data;
  for (int i = 0; i < 3000; ++i) {
    data.push_back(i % 7 == 0 ? "fail" : i % 5 == 0 ? "drop" : std::string(200, 'a' + i % 26));
  }
  auto out = p->Process(Records(data), nullptr);
  ASSERT_EQ(out.size(), data.size());
  size_t ok = 0, dropped = 0, failed = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    switch (out[i].kind) {
      case Kind::kOk:
        ++ok;
        ASSERT_EQ(out[i].outputs.size(), 1u);
        EXPECT_EQ(out[i].outputs[0], std::string(200, 'A' + i % 26));
        break;
      case Kind::kDropped:
        ++dropped;
        EXPECT_EQ(data[i], "drop");
        break;
      case Kind::kFailed:
        ++failed;
        EXPECT_EQ(data[i], "fail");
        break;
    }
  }
  EXPECT_EQ(ok + dropped + failed, data.size());
  EXPECT_GT(f.invoker.events().size(), 1u);  // 0.2 MiB per invocation
  size_t sent = 0;
  for (const Strings& e : f.invoker.events()) sent += e.size();
  EXPECT_EQ(sent, data.size());
}

// --- ProcessingFailedLine ---------------------------------------------------------------

TEST(ProcessingFailedLine, MatchesFirehoseObjects) {
  RecordOutcome o;
  o.kind = Kind::kFailed;
  o.error_code = "Lambda.MissingRecordId";
  o.error_message = "One \"quoted\"\nmessage";
  o.attempts = 4;
  o.attempt_end_ms = 1575020070123;
  o.lambda_arn = kFnArn;
  std::string raw("\x00\x01binary\xff", 9);
  SourceRecord original{raw, 1575020067711};
  std::string line = ProcessingFailedLine(o, original);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
  json::object parsed = json::parse(line).as_object();
  Strings keys;
  for (const auto& kv : parsed) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (Strings{"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
                           "attemptEndingTimestamp", "rawData", "lambdaArn"}));
  EXPECT_EQ(parsed.at("attemptsMade").as_int64(), 4);
  EXPECT_EQ(parsed.at("arrivalTimestamp").as_int64(), 1575020067711);
  EXPECT_EQ(parsed.at("errorCode").as_string(), "Lambda.MissingRecordId");
  EXPECT_EQ(parsed.at("errorMessage").as_string(), "One \"quoted\"\nmessage");
  EXPECT_EQ(parsed.at("attemptEndingTimestamp").as_int64(), 1575020070123);
  EXPECT_EQ(*base64::Decode(std::string(parsed.at("rawData").as_string())), raw);
  EXPECT_EQ(parsed.at("lambdaArn").as_string(), kFnArn);
  // Compact: no spaces outside strings.
  EXPECT_EQ(line.substr(0, 30), "{\"attemptsMade\":4,\"arrivalTime");
}

TEST(ProcessingFailedLine, NoLambdaArnForNativeFailures) {
  RecordOutcome o;
  o.kind = Kind::kFailed;
  o.error_code = "Decompression.Failed";
  o.error_message = "bad";
  o.attempts = 1;
  o.attempt_end_ms = 7;
  std::string line = ProcessingFailedLine(o, SourceRecord{"", 6});
  EXPECT_EQ(line,
            "{\"attemptsMade\":1,\"arrivalTimestamp\":6,\"errorCode\":\"Decompression.Failed\","
            "\"errorMessage\":\"bad\",\"attemptEndingTimestamp\":7,\"rawData\":\"\"}\n");
}

// --- ParseFunctionRef ---------------------------------------------------------------------

TEST(ParseFunctionRef, ArnsAndNames) {
  FunctionRef r;
  ASSERT_TRUE(ParseFunctionRef("arn:aws:lambda:us-east-1:123456789012:function:my-fn", &r));
  EXPECT_EQ(r.arn, "arn:aws:lambda:us-east-1:123456789012:function:my-fn");
  EXPECT_EQ(r.region, "us-east-1");
  EXPECT_EQ(r.account, "123456789012");
  EXPECT_EQ(r.name, "my-fn");
  EXPECT_EQ(r.qualifier, "");
  ASSERT_TRUE(
      ParseFunctionRef("arn:aws-cn:lambda:cn-north-1:123456789012:function:f_1:$LATEST", &r));
  EXPECT_EQ(r.region, "cn-north-1");
  EXPECT_EQ(r.qualifier, "$LATEST");
  ASSERT_TRUE(ParseFunctionRef("arn:aws:lambda:us-east-1:123456789012:function:f:prod", &r));
  EXPECT_EQ(r.qualifier, "prod");
  ASSERT_TRUE(ParseFunctionRef("my_function", &r));
  EXPECT_EQ(r.name, "my_function");
  EXPECT_EQ(r.region, "");
  EXPECT_EQ(r.account, "");
  ASSERT_TRUE(ParseFunctionRef("my_function:7", &r));
  EXPECT_EQ(r.qualifier, "7");
}

TEST(ParseFunctionRef, RejectsOthers) {
  FunctionRef r;
  r.name = "untouched";
  for (std::string_view bad :
       {"", "arn:aws:s3:::bucket", "arn:aws:lambda:us-east-1:12345:function:f",
        "arn:aws:lambda:us-east-1:123456789012:layer:f", "arn:aws:lambda::123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:",
        "arn:aws:lambda:us-east-1:123456789012:function:f:a:b",
        "arn:gcp:lambda:us-east-1:123456789012:function:f", "bad name", "f:", "f:$NEWEST",
        "a:b:c"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseFunctionRef(bad, &r));
  }
  EXPECT_EQ(r.name, "untouched");
  EXPECT_FALSE(ParseFunctionRef(std::string(65, 'f'), &r));
}

}  // namespace
}  // namespace hydrant::processing
