// Tests for the builtin blueprints: choosing one by name, the identity blueprints
// and Lambda's limits. The syslog and CloudWatch Logs blueprints have their own
// files (blueprints_syslog_test.cc, blueprints_cloudwatch_logs_test.cc). Expected
// outputs are written out by hand from the blueprints' documented behaviour
// (docs/blueprints.md, spec section 7).

#include "processing/blueprints.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "processing/blueprints_test_util.h"

namespace hydrant::processing::blueprint_test {
namespace {

// --- Names -------------------------------------------------------------------

TEST(BlueprintNames, FiveNamesSelectBlueprints) {
  const std::vector<std::string> names = BuiltinInvoker::Names();
  EXPECT_EQ(names,
            (std::vector<std::string>{"hydrant-general-processing", "hydrant-syslog-to-json",
                                      "hydrant-syslog-to-csv", "hydrant-kinesis-streams-processing",
                                      "hydrant-cloudwatch-logs-processor"}));
  for (const std::string& n : names) EXPECT_TRUE(BuiltinInvoker::Has(n)) << n;
  EXPECT_FALSE(BuiltinInvoker::Has("syslog-to-json"));
  EXPECT_FALSE(BuiltinInvoker::Has("hydrant-syslog-to-json:1"));
  EXPECT_FALSE(BuiltinInvoker::Has(""));
}

TEST(BlueprintNames, UnknownFunctionIsNotFound) {
  BuiltinInvoker invoker;
  InvokeResult r = Call(invoker, "hydrant-nope", Event({{"a", "x"}}));
  EXPECT_EQ(r.kind, Kind::kFatal);
  EXPECT_EQ(r.error_code, "Lambda.ResourceNotFound");
  EXPECT_NE(r.error_message.find("hydrant-nope"), std::string::npos);
}

TEST(BlueprintNames, SelectedByTheFunctionNameOfAnArn) {
  FunctionRef fn;
  ASSERT_TRUE(ParseFunctionRef(
      "arn:aws:lambda:eu-west-1:000000000000:function:hydrant-syslog-to-csv:$LATEST", &fn));
  BuiltinInvoker invoker;
  std::vector<OutRecord> out =
      Records(invoker.Invoke(fn, Event({{"a", "Jan 1 00:00:00 h p: m"}}), std::chrono::seconds(1)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "Jan 1 00:00:00,h,p,null,m\n");
}

TEST(BlueprintNames, EventThatIsNotJsonIsRejectedLikeLambdaDoes) {
  BuiltinInvoker invoker;
  InvokeResult r = Call(invoker, BuiltinInvoker::kGeneralProcessing, "{not json");
  EXPECT_EQ(r.kind, Kind::kFatal);
}

// --- General processing / Kinesis streams -----------------------------------

TEST(BlueprintGeneral, ReturnsEveryRecordUnchangedAndOk) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  BuiltinInvoker invoker;
  std::vector<OutRecord> out =
      Records(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                   Event({{"id-1", "hello\n"}, {"id-2", all_bytes}, {"id-3", ""}})));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, "id-1");
  EXPECT_EQ(out[0].result, "Ok");
  EXPECT_EQ(out[0].data, "hello\n");
  EXPECT_EQ(out[1].id, "id-2");
  EXPECT_EQ(out[1].data, all_bytes);  // binary-safe: no UTF-8 requirement
  EXPECT_EQ(out[2].id, "id-3");
  EXPECT_TRUE(out[2].has_data);
  EXPECT_EQ(out[2].data_b64, "");
}

TEST(BlueprintGeneral, LenientBase64LikePython) {
  // base64.b64decode skips characters outside the alphabet and stops after padding.
  BuiltinInvoker invoker;
  const std::string event =
      R"({"records":[{"recordId":"a","data":"aGVs\nbG8="},{"recordId":"b","data":"YQ==YWJj"}]})";
  std::vector<OutRecord> out = Records(Call(invoker, BuiltinInvoker::kGeneralProcessing, event));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, "hello");
  EXPECT_EQ(out[0].data_b64, "aGVsbG8=");
  EXPECT_EQ(out[1].data, "a");
}

TEST(BlueprintGeneral, MalformedRecordsRaiseLikePython) {
  BuiltinInvoker invoker;
  auto err = Error(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                        R"({"records":[{"recordId":"a","data":"YQ"}]})"));
  EXPECT_EQ(err.first, "Error");
  EXPECT_EQ(err.second, "Incorrect padding");
  err =
      Error(Call(invoker, BuiltinInvoker::kGeneralProcessing, R"({"records":[{"data":"YQ=="}]})"));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'recordId'");
  err = Error(Call(invoker, BuiltinInvoker::kGeneralProcessing, R"({"invocationId":"x"})"));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'records'");
  err = Error(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                   R"({"records":[{"recordId":"a","data":5}]})"));
  EXPECT_EQ(err.first, "TypeError");
  EXPECT_EQ(err.second, "argument should be a bytes-like object or ASCII string, not 'int'");
}

TEST(BlueprintKinesis, IdentityWithKinesisMetadata) {
  BuiltinInvoker invoker;
  std::vector<OutRecord> out =
      Records(Call(invoker, BuiltinInvoker::kKinesisStreamsProcessing,
                   Event({{"k1", "from kinesis"}, {"k2", "\x01\x02"}}, /*kinesis_source=*/true)));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].result, "Ok");
  EXPECT_EQ(out[0].data, "from kinesis");
  EXPECT_EQ(out[1].data, "\x01\x02");
}

TEST(BlueprintKinesis, DirectPutEventRaisesKeyErrorLikeTheBlueprint) {
  BuiltinInvoker invoker;
  auto err = Error(Call(invoker, BuiltinInvoker::kKinesisStreamsProcessing, Event({{"k1", "x"}})));
  EXPECT_EQ(err.first, "KeyError");
  EXPECT_EQ(err.second, "'kinesisRecordMetadata'");
}
// --- Lambda limits -------------------------------------------------------------

TEST(BlueprintLimits, ResponseAboveLambdasLimitIsAFunctionError) {
  BuiltinInvoker invoker;
  // 4,800,000 bytes -> 6,400,000 base64 characters, over 6,291,556 bytes.
  auto err = Error(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                        Event({{"big", std::string(4800000, 'z')}})));
  EXPECT_EQ(err.first, "Function.ResponseSizeTooLarge");
  // Just under the limit passes.
  std::vector<OutRecord> out = Records(Call(invoker, BuiltinInvoker::kGeneralProcessing,
                                            Event({{"big", std::string(4700000, 'z')}})));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data.size(), 4700000u);
}

TEST(BlueprintHelpers, PythonJsonString) {
  EXPECT_EQ(blueprints::PythonJsonString(""), "\"\"");
  EXPECT_EQ(blueprints::PythonJsonString("a/b\"c\\"), R"("a/b\"c\\")");
  EXPECT_EQ(blueprints::PythonJsonString("\x1f\xC2\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF"),
            R"("\u001f\u0080\uffff\udbff\udfff")");
}

}  // namespace
}  // namespace hydrant::processing::blueprint_test
