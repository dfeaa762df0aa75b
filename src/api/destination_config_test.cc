#include "api/destination_config.h"

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/destination_spec.h"
#include "api/validation.h"

namespace hydrant::api {
namespace {

namespace json = boost::json;

constexpr char kRole[] = "arn:aws:iam::123456789012:role/firehose_role";
constexpr char kRole2[] = "arn:aws:iam::123456789012:role/other_role";
constexpr char kBucket[] = "arn:aws:s3:::my-bucket";
constexpr char kLambda[] = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST";

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

// Substitutes ROLE, ROLE2, BUCKET and LAMBDA in a JSON template.
std::string Fill(std::string text) {
  auto replace_all = [&](std::string_view from, std::string_view to) {
    for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
      text.replace(pos, from.size(), to);
    }
  };
  replace_all("ROLE2", kRole2);
  replace_all("ROLE", kRole);
  replace_all("BUCKET", kBucket);
  replace_all("LAMBDA", kLambda);
  return text;
}

// CreateDeliveryStream input with `dest` as ExtendedS3DestinationConfiguration. Every
// input goes through ValidateRequest first, as the server does.
json::object CreateInput(std::string_view member, std::string_view dest) {
  json::object in = Obj(Fill(R"({"DeliveryStreamName":"s","M":)" + std::string(dest) + "}"));
  in[member] = in["M"];
  in.erase("M");
  auto err = ValidateRequest("CreateDeliveryStream", in);
  EXPECT_FALSE(err) << err->message;
  return in;
}

json::object Create(std::string_view dest,
                    std::string_view member = "ExtendedS3DestinationConfiguration") {
  auto r = DestinationFromCreate(CreateInput(member, dest));
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << e->type << ": " << e->message;
    return {};
  }
  return std::get<json::object>(r);
}

ApiError CreateError(std::string_view dest,
                     std::string_view member = "ExtendedS3DestinationConfiguration") {
  auto r = DestinationFromCreate(CreateInput(member, dest));
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  ADD_FAILURE() << "accepted: " << json::serialize(std::get<json::object>(r));
  return {};
}

json::object UpdateInput(std::string_view member, std::string_view update) {
  json::object in = Obj(Fill(
      R"({"DeliveryStreamName":"s","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","M":)" +
      std::string(update) + "}"));
  in[member] = in["M"];
  in.erase("M");
  auto err = ValidateRequest("UpdateDestination", in);
  EXPECT_FALSE(err) << err->message;
  return in;
}

ApiResult<json::object> Update(const json::object& current, std::string_view update,
                               std::string_view member = "ExtendedS3DestinationUpdate") {
  return DestinationFromUpdate(current, UpdateInput(member, update));
}

json::object Updated(const json::object& current, std::string_view update,
                     std::string_view member = "ExtendedS3DestinationUpdate") {
  auto r = Update(current, update, member);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << e->type << ": " << e->message;
    return {};
  }
  return std::get<json::object>(r);
}

ApiError UpdateError(const json::object& current, std::string_view update,
                     std::string_view member = "ExtendedS3DestinationUpdate") {
  auto r = Update(current, update, member);
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  ADD_FAILURE() << "accepted: " << json::serialize(std::get<json::object>(r));
  return {};
}

// Compares as serialized text, so member order (which Describe shows) counts too.
void ExpectJson(const json::object& actual, std::string_view expected_template) {
  EXPECT_EQ(json::serialize(actual),
            json::serialize(json::parse(Fill(std::string(expected_template)))));
}

constexpr char kMinimal[] = R"({"RoleARN":"ROLE","BucketARN":"BUCKET"})";
constexpr char kDefaults[] =
    R"({"RoleARN":"ROLE","BucketARN":"BUCKET","BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":300},)"
    R"("CompressionFormat":"UNCOMPRESSED","EncryptionConfiguration":{"NoEncryptionConfig":"NoEncryption"},)"
    R"("CloudWatchLoggingOptions":{"Enabled":false},"S3BackupMode":"Disabled"})";

TEST(DestinationFromCreate, DefaultsFilledInModelOrder) {
  ExpectJson(Create(kMinimal), kDefaults);
  // The deprecated S3DestinationConfiguration gives the same stored description.
  ExpectJson(Create(kMinimal, "S3DestinationConfiguration"), kDefaults);
}

TEST(DestinationFromCreate, GivenMembersEchoed) {
  json::object d = Create(
      R"({"BucketARN":"BUCKET","RoleARN":"ROLE","CustomTimeZone":"Asia/Tokyo","FileExtension":".log",
          "CompressionFormat":"GZIP","Prefix":"p/","ErrorOutputPrefix":"e/",
          "BufferingHints":{"IntervalInSeconds":60,"SizeInMBs":64},
          "EncryptionConfiguration":{"KMSEncryptionConfig":{"AWSKMSKeyARN":"arn:aws:kms:us-east-1:123456789012:key/k"}},
          "CloudWatchLoggingOptions":{"Enabled":true,"LogGroupName":"/g","LogStreamName":"DestinationDelivery"},
          "DynamicPartitioningConfiguration":{"Enabled":false},
          "DataFormatConversionConfiguration":{"Enabled":false,"SchemaConfiguration":{"TableName":"t"}}})");
  ExpectJson(d, R"({"RoleARN":"ROLE","BucketARN":"BUCKET","Prefix":"p/","ErrorOutputPrefix":"e/",
      "BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60},"CompressionFormat":"GZIP",
      "EncryptionConfiguration":{"KMSEncryptionConfig":{"AWSKMSKeyARN":"arn:aws:kms:us-east-1:123456789012:key/k"}},
      "CloudWatchLoggingOptions":{"Enabled":true,"LogGroupName":"/g","LogStreamName":"DestinationDelivery"},
      "S3BackupMode":"Disabled",
      "DataFormatConversionConfiguration":{"Enabled":false,"SchemaConfiguration":{"TableName":"t"}},
      "DynamicPartitioningConfiguration":{"Enabled":false},
      "FileExtension":".log","CustomTimeZone":"Asia/Tokyo"})");
}

TEST(DestinationFromCreate, LambdaProcessorDefaultsFilled) {
  json::object d = Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET","ProcessingConfiguration":{
      "Enabled":true,"Processors":[
        {"Type":"Lambda","Parameters":[{"ParameterName":"BufferSizeInMBs","ParameterValue":"3"},
                                       {"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]},
        {"Type":"AppendDelimiterToRecord"}]}})");
  ExpectJson(d.at("ProcessingConfiguration").as_object(), R"({"Enabled":true,"Processors":[
      {"Type":"Lambda","Parameters":[
        {"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"},
        {"ParameterName":"NumberOfRetries","ParameterValue":"3"},
        {"ParameterName":"RoleArn","ParameterValue":"ROLE"},
        {"ParameterName":"BufferSizeInMBs","ParameterValue":"3"},
        {"ParameterName":"BufferIntervalInSeconds","ParameterValue":"60"}]},
      {"Type":"AppendDelimiterToRecord"}]})");
  // Processing without Enabled is echoed disabled.
  json::object d2 = Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET","ProcessingConfiguration":{
      "Processors":[{"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"JSON"}]}]}})");
  ExpectJson(d2.at("ProcessingConfiguration").as_object(), R"({"Enabled":false,"Processors":[
      {"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"JSON"}]}]})");
}

TEST(DestinationFromCreate, BackupDescription) {
  json::object d = Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET","S3BackupMode":"Enabled",
      "S3BackupConfiguration":{"RoleARN":"ROLE2","BucketARN":"arn:aws:s3:::backup","Prefix":"b/",
                               "CompressionFormat":"ZIP"}})");
  EXPECT_EQ(d.at("S3BackupMode"), "Enabled");
  ExpectJson(d.at("S3BackupDescription").as_object(),
             R"({"RoleARN":"ROLE2","BucketARN":"arn:aws:s3:::backup","Prefix":"b/",
                 "BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":300},"CompressionFormat":"ZIP",
                 "EncryptionConfiguration":{"NoEncryptionConfig":"NoEncryption"},
                 "CloudWatchLoggingOptions":{"Enabled":false}})");
  // A backup configuration with backup disabled is not kept.
  json::object off = Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET",
      "S3BackupConfiguration":{"RoleARN":"ROLE","BucketARN":"arn:aws:s3:::backup"}})");
  EXPECT_FALSE(off.contains("S3BackupDescription"));
  EXPECT_EQ(off.at("S3BackupMode"), "Disabled");
}

struct ErrorCase {
  std::string name;
  std::string member;
  std::string dest;
  std::string message;  // "" = any InvalidArgumentException message
};

TEST(DestinationFromCreate, SemanticRules) {
  const std::string xs = "ExtendedS3DestinationConfiguration";
  const ErrorCase cases[] = {
      {"buffering size without interval", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","BufferingHints":{"SizeInMBs":10}})",
       "BufferingHints: if you specify a value for SizeInMBs, you must also specify a value for "
       "IntervalInSeconds, and vice versa."},
      {"buffering interval without size (S3 shape)", "S3DestinationConfiguration",
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","BufferingHints":{"IntervalInSeconds":10}})",
       "BufferingHints: if you specify a value for SizeInMBs, you must also specify a value for "
       "IntervalInSeconds, and vice versa."},
      {"backup buffering", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","S3BackupMode":"Enabled","S3BackupConfiguration":{
           "RoleARN":"ROLE","BucketARN":"BUCKET","BufferingHints":{"SizeInMBs":10}}})",
       "S3BackupConfiguration.BufferingHints: if you specify a value for SizeInMBs, you must "
       "also specify a value for IntervalInSeconds, and vice versa."},
      {"both encryption kinds", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","EncryptionConfiguration":{"NoEncryptionConfig":"NoEncryption",
           "KMSEncryptionConfig":{"AWSKMSKeyARN":"arn:aws:kms:us-east-1:123456789012:key/k"}}})",
       "EncryptionConfiguration: specify either NoEncryptionConfig or KMSEncryptionConfig, not "
       "both."},
      {"two lambda processors", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","ProcessingConfiguration":{"Enabled":true,"Processors":[
           {"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]},
           {"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]}]}})",
       "ProcessingConfiguration: only one Lambda processor is supported per delivery stream."},
      {"lambda without arn", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","ProcessingConfiguration":{"Enabled":true,"Processors":[
           {"Type":"Lambda","Parameters":[{"ParameterName":"NumberOfRetries","ParameterValue":"1"}]}]}})",
       "ProcessingConfiguration: a Lambda processor requires the LambdaArn parameter."},
      {"duplicate parameter", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","ProcessingConfiguration":{"Enabled":true,"Processors":[
           {"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"},
                                          {"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]}]}})",
       "Processor parameter LambdaArn of the Lambda processor is specified more than once."},
      {"dynamic partitioning", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","DynamicPartitioningConfiguration":{"Enabled":true}})",
       "Dynamic partitioning is not supported by hydrant yet: "
       "DynamicPartitioningConfiguration.Enabled must be false or omitted."},
      {"format conversion defaults to enabled", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","DataFormatConversionConfiguration":{"SchemaConfiguration":{"TableName":"t"}}})",
       "Data format conversion (JSON to Parquet/ORC) is not supported by hydrant: set "
       "DataFormatConversionConfiguration.Enabled to false or omit it."},
      {"backup enabled without configuration", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","S3BackupMode":"Enabled"})",
       "S3BackupConfiguration is required when S3BackupMode is Enabled."},
      {"logging without names", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","CloudWatchLoggingOptions":{"Enabled":true,"LogGroupName":"/g"}})",
       "CloudWatchLoggingOptions: LogGroupName and LogStreamName are required when Enabled is "
       "true."},
      {"unknown time zone", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","CustomTimeZone":"Mars/Olympus_Mons"})", ""},
      // Prefix rules come from naming::ValidatePrefixes; only the type is ours.
      {"prefix uses error-output-type", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","Prefix":"!{firehose:error-output-type}/","ErrorOutputPrefix":"e/"})",
       ""},
      {"expressions need an error prefix", xs,
       R"({"RoleARN":"ROLE","BucketARN":"BUCKET","Prefix":"!{timestamp:yyyy}/"})", ""},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    ApiError e = CreateError(c.dest, c.member);
    EXPECT_EQ(e.type, "InvalidArgumentException");
    if (!c.message.empty()) {
      EXPECT_EQ(e.message, c.message);
    }
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(DestinationFromCreate, ExactlyOneSupportedDestination) {
  json::object none = Obj(R"({"DeliveryStreamName":"s"})");
  auto r = DestinationFromCreate(none);
  ASSERT_TRUE(std::holds_alternative<ApiError>(r));
  EXPECT_EQ(std::get<ApiError>(r).type, "InvalidArgumentException");
  EXPECT_EQ(std::get<ApiError>(r).message,
            "Exactly one destination configuration is supported for a Firehose");

  json::object two = CreateInput("ExtendedS3DestinationConfiguration", kMinimal);
  two["HttpEndpointDestinationConfiguration"] = json::object();
  r = DestinationFromCreate(two);
  ASSERT_TRUE(std::holds_alternative<ApiError>(r));
  EXPECT_EQ(std::get<ApiError>(r).message,
            "Exactly one destination configuration is supported for a Firehose");

  ApiError e = CreateError(R"({"RoleARN":"ROLE","ClusterJDBCURL":"jdbc:redshift://x"})",
                           "RedshiftDestinationConfiguration");
  EXPECT_EQ(e.type, "InvalidArgumentException");
  EXPECT_EQ(e.message,
            "hydrant supports only Amazon S3 destinations (ExtendedS3DestinationConfiguration or "
            "S3DestinationConfiguration); RedshiftDestinationConfiguration is not supported.");
}

TEST(DescribeDestination, BothViews) {
  json::object stored =
      Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET","Prefix":"p/","ErrorOutputPrefix":"e/",
      "S3BackupMode":"Enabled","S3BackupConfiguration":{"RoleARN":"ROLE","BucketARN":"BUCKET"},
      "FileExtension":".x"})");
  json::object d = DescribeDestination(stored, "destinationId-000000000001");
  EXPECT_EQ(d.at("DestinationId"), "destinationId-000000000001");
  EXPECT_EQ(d.at("ExtendedS3DestinationDescription").as_object(), stored);
  ExpectJson(d.at("S3DestinationDescription").as_object(),
             R"({"RoleARN":"ROLE","BucketARN":"BUCKET","Prefix":"p/","ErrorOutputPrefix":"e/",
                 "BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":300},"CompressionFormat":"UNCOMPRESSED",
                 "EncryptionConfiguration":{"NoEncryptionConfig":"NoEncryption"},
                 "CloudWatchLoggingOptions":{"Enabled":false}})");
  EXPECT_EQ(json::serialize(d).rfind(R"({"DestinationId":)", 0), 0u);
}

TEST(DeliveryConfig, FromStored) {
  S3DestinationSpec c = ParseS3DestinationSpec(Create(kMinimal));
  EXPECT_EQ(c.bucket, "my-bucket");
  EXPECT_EQ(c.prefix, "");
  EXPECT_FALSE(c.error_output_prefix);
  EXPECT_EQ(c.buffer_size_bytes, 5u << 20);
  EXPECT_EQ(c.buffer_interval_seconds, 300);
  EXPECT_EQ(c.compression, codecs::Compression::kUncompressed);
  EXPECT_EQ(c.extension, codecs::DefaultExtension(codecs::Compression::kUncompressed));
  EXPECT_EQ(c.time_zone, "");

  c = ParseS3DestinationSpec(
      Create(R"({"RoleARN":"ROLE","BucketARN":"arn:aws-cn:s3:::cn.bucket","Prefix":"a/",
      "ErrorOutputPrefix":"err/","BufferingHints":{"SizeInMBs":128,"IntervalInSeconds":0},
      "CompressionFormat":"GZIP","CustomTimeZone":"America/New_York"})"));
  EXPECT_EQ(c.bucket, "cn.bucket");
  EXPECT_EQ(c.prefix, "a/");
  EXPECT_EQ(c.error_output_prefix, "err/");
  EXPECT_EQ(c.buffer_size_bytes, 128u << 20);
  EXPECT_EQ(c.buffer_interval_seconds, 0);
  EXPECT_EQ(c.compression, codecs::Compression::kGzip);
  EXPECT_EQ(c.extension, codecs::DefaultExtension(codecs::Compression::kGzip));
  EXPECT_EQ(c.time_zone, "America/New_York");
  EXPECT_EQ(c.role_arn, kRole);
  EXPECT_EQ(c.kms_key_arn, "");

  // The KMS key of EncryptionConfiguration, for the remote sink's SSE-KMS headers.
  c = ParseS3DestinationSpec(Create(
      R"({"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b",
      "EncryptionConfiguration":{"KMSEncryptionConfig":{"AWSKMSKeyARN":"arn:aws:kms:us-east-1:123456789012:key/k"}}})"));
  EXPECT_EQ(c.role_arn, "arn:aws:iam::123456789012:role/r");
  EXPECT_EQ(c.kms_key_arn, "arn:aws:kms:us-east-1:123456789012:key/k");

  // FileExtension replaces the compression's extension; "" restores it.
  json::object stored =
      Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET","CompressionFormat":"Snappy",
      "FileExtension":".json.sz"})");
  EXPECT_EQ(ParseS3DestinationSpec(stored).extension, ".json.sz");
  EXPECT_EQ(ParseS3DestinationSpec(stored).compression, codecs::Compression::kSnappy);
  json::object reset = Updated(stored, R"({"FileExtension":""})");
  EXPECT_EQ(reset.at("FileExtension"), "");
  EXPECT_EQ(ParseS3DestinationSpec(reset).extension,
            codecs::DefaultExtension(codecs::Compression::kSnappy));
}

TEST(DestinationFromUpdate, MergesOmittedFieldsKept) {
  json::object current =
      Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET","Prefix":"p/","ErrorOutputPrefix":"e/",
      "CompressionFormat":"GZIP","CloudWatchLoggingOptions":{"Enabled":true,"LogGroupName":"/g","LogStreamName":"s"},
      "ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[
        {"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]}]},
      "CustomTimeZone":"Asia/Tokyo"})");
  json::object d =
      Updated(current, R"({"Prefix":"q/","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60},
      "CloudWatchLoggingOptions":{"Enabled":false}})");
  EXPECT_EQ(d.at("Prefix"), "q/");
  EXPECT_EQ(d.at("ErrorOutputPrefix"), "e/");
  EXPECT_EQ(d.at("RoleARN"), kRole);
  EXPECT_EQ(d.at("CompressionFormat"), "GZIP");
  EXPECT_EQ(d.at("CustomTimeZone"), "Asia/Tokyo");
  ExpectJson(d.at("BufferingHints").as_object(), R"({"SizeInMBs":1,"IntervalInSeconds":60})");
  // Nested CloudWatchLoggingOptions merges member by member.
  ExpectJson(d.at("CloudWatchLoggingOptions").as_object(),
             R"({"Enabled":false,"LogGroupName":"/g","LogStreamName":"s"})");
  EXPECT_EQ(d.at("ProcessingConfiguration"), current.at("ProcessingConfiguration"));

  // The S3 update shape merges into the same description and keeps the extended members.
  json::object d2 =
      Updated(d, R"({"CompressionFormat":"ZIP","RoleARN":"ROLE2"})", "S3DestinationUpdate");
  EXPECT_EQ(d2.at("CompressionFormat"), "ZIP");
  EXPECT_EQ(d2.at("RoleARN"), kRole2);
  EXPECT_EQ(d2.at("ProcessingConfiguration"), current.at("ProcessingConfiguration"));
  EXPECT_EQ(d2.at("Prefix"), "q/");

  // An update that changes nothing gives back the same description.
  EXPECT_EQ(Updated(d2, "{}"), d2);
}

TEST(DestinationFromUpdate, ReplacesProcessingAndEncryptionWhole) {
  json::object current = Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET",
      "EncryptionConfiguration":{"KMSEncryptionConfig":{"AWSKMSKeyARN":"arn:aws:kms:us-east-1:123456789012:key/k"}},
      "ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[
        {"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]}]}})");
  json::object d = Updated(current, R"({"ProcessingConfiguration":{"Enabled":false},
      "EncryptionConfiguration":{"NoEncryptionConfig":"NoEncryption"}})");
  ExpectJson(d.at("ProcessingConfiguration").as_object(), R"({"Enabled":false})");
  ExpectJson(d.at("EncryptionConfiguration").as_object(),
             R"({"NoEncryptionConfig":"NoEncryption"})");

  // A new Lambda processor gets its defaults, with the (updated) destination role.
  json::object d2 =
      Updated(d, R"({"RoleARN":"ROLE2","ProcessingConfiguration":{"Enabled":true,"Processors":[
      {"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]}]}})");
  const json::array& params =
      d2.at("ProcessingConfiguration").at("Processors").at(0).at("Parameters").as_array();
  ASSERT_EQ(params.size(), 5u);
  EXPECT_EQ(params.at(2).at("ParameterName"), "RoleArn");
  EXPECT_EQ(params.at(2).at("ParameterValue"), kRole2);
}

TEST(DestinationFromUpdate, BufferingHintsBothOrNeither) {
  json::object current = Create(kMinimal);
  ApiError e = UpdateError(current, R"({"BufferingHints":{"SizeInMBs":64}})");
  EXPECT_EQ(e.type, "InvalidArgumentException");
  EXPECT_EQ(e.message,
            "BufferingHints: if you specify a value for SizeInMBs, you must also specify a value "
            "for IntervalInSeconds, and vice versa.");
}

TEST(DestinationFromUpdate, BackupRules) {
  json::object off = Create(kMinimal);
  // Enabling needs somewhere to back up to.
  ApiError e = UpdateError(off, R"({"S3BackupMode":"Enabled"})");
  EXPECT_EQ(e.type, "InvalidArgumentException");
  EXPECT_EQ(e.message, "Enabling S3 backup requires an S3BackupUpdate with RoleARN and BucketARN.");

  json::object on = Updated(off, R"({"S3BackupMode":"Enabled",
      "S3BackupUpdate":{"RoleARN":"ROLE2","BucketARN":"arn:aws:s3:::backup"}})");
  EXPECT_EQ(on.at("S3BackupMode"), "Enabled");
  ExpectJson(on.at("S3BackupDescription").as_object(),
             R"({"RoleARN":"ROLE2","BucketARN":"arn:aws:s3:::backup",
                 "BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":300},"CompressionFormat":"UNCOMPRESSED",
                 "EncryptionConfiguration":{"NoEncryptionConfig":"NoEncryption"},
                 "CloudWatchLoggingOptions":{"Enabled":false}})");

  // S3BackupUpdate merges into the backup description.
  json::object merged =
      Updated(on, R"({"S3BackupUpdate":{"Prefix":"bk/","CompressionFormat":"GZIP"}})");
  const json::object& backup = merged.at("S3BackupDescription").as_object();
  EXPECT_EQ(backup.at("Prefix"), "bk/");
  EXPECT_EQ(backup.at("CompressionFormat"), "GZIP");
  EXPECT_EQ(backup.at("RoleARN"), kRole2);
  EXPECT_EQ(merged.at("S3BackupMode"), "Enabled");

  // Once enabled, backup cannot be turned off.
  e = UpdateError(merged, R"({"S3BackupMode":"Disabled"})");
  EXPECT_EQ(e.type, "InvalidArgumentException");
  EXPECT_EQ(e.message, "Disabling S3 backup is not currently supported.");
  // Saying Enabled again is fine.
  EXPECT_EQ(Updated(merged, R"({"S3BackupMode":"Enabled"})"), merged);
}

TEST(DestinationFromUpdate, RulesCheckedOnTheMergedResult) {
  json::object current =
      Create(R"({"RoleARN":"ROLE","BucketARN":"BUCKET","ProcessingConfiguration":{
      "Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]}]}})");
  EXPECT_EQ(UpdateError(current, R"({"DynamicPartitioningConfiguration":{"Enabled":true}})").type,
            "InvalidArgumentException");
  EXPECT_EQ(UpdateError(current, R"({"DataFormatConversionConfiguration":{"Enabled":true}})").type,
            "InvalidArgumentException");
  EXPECT_EQ(UpdateError(current, R"({"CustomTimeZone":"Nowhere/Atlantis_City"})").type,
            "InvalidArgumentException");
  // Prefix with expressions but no ErrorOutputPrefix stored or given.
  EXPECT_EQ(UpdateError(current, R"({"Prefix":"x/!{timestamp:yyyy}/"})").type,
            "InvalidArgumentException");
  EXPECT_EQ(UpdateError(current, R"({"ProcessingConfiguration":{"Processors":[
      {"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]},
      {"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"LAMBDA"}]}]}})")
                .message,
            "ProcessingConfiguration: only one Lambda processor is supported per delivery stream.");
  // A disabled format-conversion block is stored and merged member by member.
  json::object d = Updated(current, R"({"DataFormatConversionConfiguration":{"Enabled":false,
      "SchemaConfiguration":{"DatabaseName":"db","TableName":"t"}}})");
  json::object d2 = Updated(
      d, R"({"DataFormatConversionConfiguration":{"SchemaConfiguration":{"TableName":"t2"}}})");
  ExpectJson(d2.at("DataFormatConversionConfiguration").as_object(),
             R"({"Enabled":false,"SchemaConfiguration":{"DatabaseName":"db","TableName":"t2"}})");
}

TEST(DestinationFromUpdate, OnlyOneSupportedUpdate) {
  json::object current = Create(kMinimal);
  json::object none = Obj(
      R"({"DeliveryStreamName":"s","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001"})");
  auto r = DestinationFromUpdate(current, none);
  ASSERT_TRUE(std::holds_alternative<ApiError>(r));
  EXPECT_EQ(std::get<ApiError>(r).message,
            "Exactly one destination update is supported for a Firehose");
  ApiError e = UpdateError(current, R"({"IndexName":"i"})", "ElasticsearchDestinationUpdate");
  EXPECT_EQ(e.type, "InvalidArgumentException");
  EXPECT_NE(e.message.find("ElasticsearchDestinationUpdate is not supported"), std::string::npos);
}

TEST(CheckSourceConfiguration, Rules) {
  auto check = [](std::string_view text) {
    json::object in = Obj(Fill(std::string(text)));
    EXPECT_FALSE(ValidateRequest("CreateDeliveryStream", in));
    return CheckSourceConfiguration(in);
  };
  EXPECT_FALSE(check(R"({"DeliveryStreamName":"s"})"));
  EXPECT_FALSE(
      check(R"({"DeliveryStreamName":"s","DirectPutSourceConfiguration":{"ThroughputHintInMBs":1},
      "DeliveryStreamEncryptionConfigurationInput":{"KeyType":"CUSTOMER_MANAGED_CMK",
      "KeyARN":"arn:aws:kms:us-east-1:123456789012:key/k"}})"));
  EXPECT_FALSE(check(R"({"DeliveryStreamName":"s","DeliveryStreamType":"KinesisStreamAsSource",
      "KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/k","RoleARN":"ROLE"}})"));
  const char* bad[] = {
      R"({"DeliveryStreamName":"s","DeliveryStreamType":"MSKAsSource"})",
      R"({"DeliveryStreamName":"s","DeliveryStreamType":"DatabaseAsSource"})",
      R"({"DeliveryStreamName":"s","DeliveryStreamType":"KinesisStreamAsSource"})",
      R"({"DeliveryStreamName":"s","KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:123456789012:stream/k","RoleARN":"ROLE"}})",
      R"({"DeliveryStreamName":"s","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"CUSTOMER_MANAGED_CMK"}})",
      R"({"DeliveryStreamName":"s","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"AWS_OWNED_CMK","KeyARN":"arn:aws:kms:us-east-1:123456789012:key/k"}})",
  };
  for (const char* b : bad) {
    SCOPED_TRACE(b);
    auto err = check(b);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->type, "InvalidArgumentException");
  }
  auto err = CheckStreamEncryptionInput(Obj(R"({"KeyType":"CUSTOMER_MANAGED_CMK"})"));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.");
}

}  // namespace
}  // namespace hydrant::api
