// The typed destination (api/destination_spec.h): what delivery, processing, the
// error log and the doctor read, from the stored description.

#include "api/destination_spec.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace hydrant::api {
namespace {

namespace json = boost::json;

json::object Parse(std::string_view text) { return json::parse(text).as_object(); }

TEST(DestinationSpec, BackupOnlyWhenItsModeIsEnabled) {
  const char* backup = R"("S3BackupDescription":{"BucketARN":"arn:aws:s3:::bk","Prefix":"src/",
      "BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60},
      "CloudWatchLoggingOptions":{"Enabled":true,"LogGroupName":"/g","LogStreamName":"B"}})";
  DestinationSpec on = ParseDestinationSpec(
      Parse(std::string(R"({"BucketARN":"arn:aws:s3:::d","S3BackupMode":"Enabled",)") + backup + "}"));
  ASSERT_TRUE(on.backup.has_value());
  EXPECT_EQ(on.backup->bucket, "bk");
  EXPECT_EQ(on.backup->prefix, "src/");
  EXPECT_EQ(on.backup->buffer_size_bytes, 1u << 20);
  EXPECT_EQ(on.backup->buffer_interval_seconds, 60);
  EXPECT_TRUE(on.backup_logging.enabled);
  EXPECT_EQ(on.backup_logging.log_stream_name, "B");
  DestinationSpec off = ParseDestinationSpec(
      Parse(std::string(R"({"BucketARN":"arn:aws:s3:::d","S3BackupMode":"Disabled",)") + backup + "}"));
  EXPECT_FALSE(off.backup.has_value());
  // The backup's logging options are read whatever the mode.
  EXPECT_EQ(off.backup_logging.log_group_name, "/g");
}

// Found by fuzz/destination_spec_fuzz.cc: a damaged stream.json with
// IntervalInSeconds 1e12 read as an int that overflowed the doctor's lateness
// sum, and a negative SizeInMBs as a batch size near 2^64.
TEST(DestinationSpec, BufferingHintsOutsideTheModelReadAsDefaults) {
  for (const char* hints : {R"({"SizeInMBs":-1,"IntervalInSeconds":1000000000000})",
                            R"({"SizeInMBs":129,"IntervalInSeconds":-5})",
                            R"({"SizeInMBs":0,"IntervalInSeconds":901})"}) {
    SCOPED_TRACE(hints);
    DestinationSpec d = ParseDestinationSpec(
        Parse(std::string(R"({"BucketARN":"arn:aws:s3:::d","BufferingHints":)") + hints + "}"));
    EXPECT_EQ(d.s3.buffer_size_bytes, 5u << 20);
    EXPECT_EQ(d.s3.buffer_interval_seconds, 300);
  }
  DestinationSpec edges = ParseDestinationSpec(Parse(
      R"({"BucketARN":"arn:aws:s3:::d","BufferingHints":{"SizeInMBs":128,"IntervalInSeconds":0}})"));
  EXPECT_EQ(edges.s3.buffer_size_bytes, 128u << 20);
  EXPECT_EQ(edges.s3.buffer_interval_seconds, 0);
}

TEST(DestinationSpec, LoggingOptionsNeedABooleanTrue) {
  auto logging = [](std::string_view opts) {
    return ParseDestinationSpec(Parse(std::string(R"({"BucketARN":"arn:aws:s3:::d",)") +
                                      R"("CloudWatchLoggingOptions":)" + std::string(opts) + "}"))
        .s3.logging;
  };
  EXPECT_TRUE(logging(R"({"Enabled":true})").enabled);
  EXPECT_FALSE(logging(R"({"Enabled":false,"LogGroupName":"/g"})").enabled);
  EXPECT_FALSE(logging(R"({"Enabled":"true"})").enabled);  // not a boolean
  EXPECT_FALSE(logging("{}").enabled);
  auto named = logging(R"({"Enabled":true,"LogGroupName":"/my/g","LogStreamName":"S3Delivery"})");
  EXPECT_EQ(named.log_group_name, "/my/g");
  EXPECT_EQ(named.log_stream_name, "S3Delivery");
  EXPECT_FALSE(ParseDestinationSpec(Parse(R"({"BucketARN":"arn:aws:s3:::d"})")).s3.logging.enabled);
}

TEST(DestinationSpec, ProcessingIsReadOnceWithItsLambda) {
  DestinationSpec none = ParseDestinationSpec(Parse(R"({"BucketARN":"arn:aws:s3:::d"})"));
  EXPECT_FALSE(none.processing.has_value());
  EXPECT_FALSE(none.processing_enabled());
  EXPECT_EQ(none.LambdaArn(), "");

  DestinationSpec on = ParseDestinationSpec(Parse(R"({"BucketARN":"arn:aws:s3:::d",
      "ProcessingConfiguration":{"Enabled":true,"Processors":[
        {"Type":"AppendDelimiterToRecord"},
        {"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:f"},
                                       {"ParameterName":"BufferSizeInMBs","ParameterValue":"1"}]}]}})"));
  ASSERT_TRUE(on.processing.has_value());
  EXPECT_TRUE(on.processing_enabled());
  EXPECT_EQ(on.LambdaArn(), "arn:f");
  ASSERT_EQ(on.processing->processors.size(), 2u);
  EXPECT_EQ(on.processing->processors[1].parameters.at("BufferSizeInMBs"), "1");
  EXPECT_TRUE(on.processing->invalid.empty());

  // Disabled: present (the stream asked for it once) but not enabled, no Lambda.
  DestinationSpec off = ParseDestinationSpec(Parse(R"({"BucketARN":"arn:aws:s3:::d",
      "ProcessingConfiguration":{"Enabled":false,"Processors":[{"Type":"Lambda","Parameters":[
        {"ParameterName":"LambdaArn","ParameterValue":"arn:f"}]}]}})"));
  ASSERT_TRUE(off.processing.has_value());
  EXPECT_FALSE(off.processing_enabled());
  EXPECT_EQ(off.LambdaArn(), "");

  // What cannot be read is kept as a reason, so the stream never delivers
  // untransformed records.
  DestinationSpec bad = ParseDestinationSpec(Parse(R"({"BucketARN":"arn:aws:s3:::d",
      "ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":7}]}})"));
  ASSERT_TRUE(bad.processing.has_value());
  ASSERT_EQ(bad.processing->processors.size(), 1u);
  EXPECT_EQ(bad.processing->processors[0].invalid, "Processor Parameters is not a list");
  bad = ParseDestinationSpec(Parse(R"({"BucketARN":"arn:aws:s3:::d",
      "ProcessingConfiguration":{"Enabled":"yes"}})"));
  EXPECT_EQ(bad.processing->invalid, "ProcessingConfiguration Enabled must be a boolean");
}

}  // namespace
}  // namespace hydrant::api
