#include "api/validation.h"

#include <regex>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "common/base64.h"

namespace hydrant::api {
namespace {

namespace json = boost::json;

constexpr char kRole[] = "arn:aws:iam::123456789012:role/firehose_role";
constexpr char kBucket[] = "arn:aws:s3:::my-bucket";

std::optional<ApiError> Check(std::string_view op, std::string_view body) {
  return ValidateRequest(op, json::parse(body));
}

std::string Quote(std::string_view s) { return json::serialize(json::value(json::string(s))); }

// A base64 string that decodes to `n` bytes.
std::string DataOfSize(size_t n) { return base64::Encode(std::string(n, 'x')); }

std::string ExtendedS3(std::string_view extra_members) {
  std::string s = R"({"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"RoleARN":")" +
                  std::string(kRole) + R"(","BucketARN":")" + kBucket + "\"";
  if (!extra_members.empty()) s += "," + std::string(extra_members);
  return s + "}}";
}

struct Case {
  std::string name;
  std::string op;
  std::string body;
  std::string type;  // "" = valid
  std::string message;
};

std::string One(std::string_view violation) {
  return "1 validation error detected: " + std::string(violation);
}

std::vector<Case> ValidationCases() {
  const std::string kEnumCompression =
      "Member must satisfy enum value set: [ZIP, HADOOP_SNAPPY, Snappy, GZIP, UNCOMPRESSED]";
  const std::string xs = "extendedS3DestinationConfiguration.";
  const std::string param_path =
      xs + "processingConfiguration.processors.1.member.parameters.1.member.parameterValue";
  std::string long_name(65, 'a');
  std::vector<Case> cases = {
      // Required members.
      {"missing name", "PutRecord", R"({"Record":{"Data":""}})", "ValidationException",
       One("Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be "
           "null")},
      {"null counts as missing", "DescribeDeliveryStream", R"({"DeliveryStreamName":null})",
       "ValidationException",
       One("Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be "
           "null")},
      {"two missing members in model order", "UpdateDestination", R"({"DeliveryStreamName":"s"})",
       "ValidationException",
       "2 validation errors detected: Value null at 'currentDeliveryStreamVersionId' failed to "
       "satisfy constraint: Member must not be null; Value null at 'destinationId' failed to "
       "satisfy constraint: Member must not be null"},
      {"nested required member", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"BucketARN":")" +
           std::string(kBucket) + R"("}})",
       "ValidationException",
       One("Value null at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy "
           "constraint: Member must not be null")},
      // Strings: pattern and lengths.
      {"name pattern", "DeleteDeliveryStream", R"({"DeliveryStreamName":"abc def"})",
       "ValidationException",
       One("Value 'abc def' at 'deliveryStreamName' failed to satisfy constraint: Member must "
           "satisfy regular expression pattern: [a-zA-Z0-9_.-]+")},
      {"name too long", "DeleteDeliveryStream", R"({"DeliveryStreamName":")" + long_name + "\"}",
       "ValidationException",
       One("Value '" + long_name +
           "' at 'deliveryStreamName' failed to satisfy constraint: Member must have length less "
           "than or equal to 64")},
      {"empty name breaks length and pattern", "DeleteDeliveryStream",
       R"({"DeliveryStreamName":""})", "ValidationException",
       "2 validation errors detected: Value '' at 'deliveryStreamName' failed to satisfy "
       "constraint: Member must have length greater than or equal to 1; Value '' at "
       "'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular "
       "expression pattern: [a-zA-Z0-9_.-]+"},
      {"64-char name ok", "DeleteDeliveryStream",
       R"({"DeliveryStreamName":")" + std::string(64, 'a') + "\"}", "", ""},
      {"version id pattern", "UpdateDestination",
       R"({"DeliveryStreamName":"s","CurrentDeliveryStreamVersionId":"v1","DestinationId":"d-1"})",
       "ValidationException",
       One("Value 'v1' at 'currentDeliveryStreamVersionId' failed to satisfy constraint: Member "
           "must satisfy regular expression pattern: [0-9]+")},
      // Integers (values are quoted, as AWS prints them).
      {"limit below range", "DescribeDeliveryStream", R"({"DeliveryStreamName":"s","Limit":0})",
       "ValidationException",
       One("Value '0' at 'limit' failed to satisfy constraint: Member must have value greater "
           "than or equal to 1")},
      {"limit above range", "ListDeliveryStreams", R"({"Limit":10001})", "ValidationException",
       One("Value '10001' at 'limit' failed to satisfy constraint: Member must have value less "
           "than or equal to 10000")},
      {"list tags limit", "ListTagsForDeliveryStream", R"({"DeliveryStreamName":"s","Limit":51})",
       "ValidationException",
       One("Value '51' at 'limit' failed to satisfy constraint: Member must have value less than "
           "or equal to 50")},
      {"buffering size", "CreateDeliveryStream",
       ExtendedS3(R"("BufferingHints":{"SizeInMBs":200,"IntervalInSeconds":300})"),
       "ValidationException",
       One("Value '200' at '" + xs +
           "bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less "
           "than or equal to 128")},
      {"buffering interval", "CreateDeliveryStream",
       ExtendedS3(R"("BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":-1})"),
       "ValidationException",
       One("Value '-1' at '" + xs +
           "bufferingHints.intervalInSeconds' failed to satisfy constraint: Member must have "
           "value greater than or equal to 0")},
      {"integral double accepted", "DescribeDeliveryStream",
       R"({"DeliveryStreamName":"s","Limit":5.0})", "", ""},
      {"throughput hint", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","DirectPutSourceConfiguration":{"ThroughputHintInMBs":0}})",
       "ValidationException",
       One("Value '0' at 'directPutSourceConfiguration.throughputHintInMBs' failed to satisfy "
           "constraint: Member must have value greater than or equal to 1")},
      // Enums.
      {"compression enum is case-sensitive", "CreateDeliveryStream",
       ExtendedS3(R"("CompressionFormat":"gzip")"), "ValidationException",
       One("Value 'gzip' at '" + xs +
           "compressionFormat' failed to satisfy constraint: " + kEnumCompression)},
      {"s3 destination path", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","S3DestinationConfiguration":{"RoleARN":")" +
           std::string(kRole) + R"(","BucketARN":")" + kBucket +
           R"(","CompressionFormat":"SNAPPY"}})",
       "ValidationException",
       One("Value 'SNAPPY' at 's3DestinationConfiguration.compressionFormat' failed to satisfy "
           "constraint: " +
           kEnumCompression)},
      {"key type enum", "StartDeliveryStreamEncryption",
       R"({"DeliveryStreamName":"s","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"X"}})",
       "ValidationException",
       One("Value 'X' at 'deliveryStreamEncryptionConfigurationInput.keyType' failed to satisfy "
           "constraint: Member must satisfy enum value set: [AWS_OWNED_CMK, "
           "CUSTOMER_MANAGED_CMK]")},
      {"stream type enum", "ListDeliveryStreams", R"({"DeliveryStreamType":"Direct"})",
       "ValidationException",
       One("Value 'Direct' at 'deliveryStreamType' failed to satisfy constraint: Member must "
           "satisfy enum value set: [DirectPut, KinesisStreamAsSource, MSKAsSource, "
           "DatabaseAsSource]")},
      {"processor type enum", "CreateDeliveryStream",
       ExtendedS3(R"("ProcessingConfiguration":{"Processors":[{"Type":"Foo"}]})"),
       "ValidationException",
       One("Value 'Foo' at '" + xs +
           "processingConfiguration.processors.1.member.type' failed to satisfy constraint: "
           "Member must satisfy enum value set: [Decompression, Lambda, RecordDeAggregation, "
           "MetadataExtraction, AppendDelimiterToRecord, CloudWatchLogProcessing]")},
      // ARNs.
      {"bucket arn without name", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"RoleARN":")" +
           std::string(kRole) + R"(","BucketARN":"arn:aws:s3:::"}})",
       "ValidationException",
       One("Value 'arn:aws:s3:::' at '" + xs +
           "bucketARN' failed to satisfy constraint: Member must satisfy regular expression "
           "pattern: arn:.*:s3:::[\\w\\.\\-]{1,255}")},
      {"bucket arn in another partition", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"RoleARN":")" +
           std::string(kRole) + R"(","BucketARN":"arn:aws-cn:s3:::b.c-d_e"}})",
       "", ""},
      {"role arn needs 12 digits", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::12345678901:role/r","BucketARN":")" +
           std::string(kBucket) + R"("}})",
       "ValidationException",
       One("Value 'arn:aws:iam::12345678901:role/r' at '" + xs +
           "roleARN' failed to satisfy constraint: Member must satisfy regular expression "
           "pattern: arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+")},
      {"kms arn", "CreateDeliveryStream",
       ExtendedS3(
           R"("EncryptionConfiguration":{"KMSEncryptionConfig":{"AWSKMSKeyARN":"arn:aws:kms:us-east-1:123456789012:thing/x"}})"),
       "ValidationException",
       One("Value 'arn:aws:kms:us-east-1:123456789012:thing/x' at '" + xs +
           "encryptionConfiguration.kMSEncryptionConfig.aWSKMSKeyARN' failed to satisfy "
           "constraint: Member must satisfy regular expression pattern: "
           "arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+")},
      {"kinesis source arn", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","KinesisStreamSourceConfiguration":{"KinesisStreamARN":"arn:aws:kinesis:us-east-1:123456789012:table/t","RoleARN":")" +
           std::string(kRole) + R"("}})",
       "ValidationException",
       One("Value 'arn:aws:kinesis:us-east-1:123456789012:table/t' at "
           "'kinesisStreamSourceConfiguration.kinesisStreamARN' failed to satisfy constraint: "
           "Member must satisfy regular expression pattern: "
           "arn:.*:kinesis:[a-zA-Z0-9\\-]+:\\d{12}:stream/[a-zA-Z0-9_.-]+")},
      // Other S3 string members.
      {"prefix with a line break", "CreateDeliveryStream", ExtendedS3(R"("Prefix":"a\nb")"),
       "ValidationException",
       One("Value 'a\nb' at '" + xs +
           "prefix' failed to satisfy constraint: Member must satisfy regular expression "
           "pattern: .*")},
      {"prefix too long", "CreateDeliveryStream",
       ExtendedS3(R"("ErrorOutputPrefix":")" + std::string(1025, 'p') + "\""),
       "ValidationException",
       One("Value '" + std::string(1025, 'p') + "' at '" + xs +
           "errorOutputPrefix' failed to satisfy constraint: Member must have length less than "
           "or equal to 1024")},
      {"file extension needs a dot", "CreateDeliveryStream", ExtendedS3(R"("FileExtension":"gz")"),
       "ValidationException",
       One("Value 'gz' at '" + xs +
           "fileExtension' failed to satisfy constraint: Member must satisfy regular expression "
           "pattern: ^$|\\.[0-9a-z!\\-_.*'()]+")},
      {"file extension upper case", "CreateDeliveryStream", ExtendedS3(R"("FileExtension":".GZ")"),
       "ValidationException",
       One("Value '.GZ' at '" + xs +
           "fileExtension' failed to satisfy constraint: Member must satisfy regular expression "
           "pattern: ^$|\\.[0-9a-z!\\-_.*'()]+")},
      {"file extension ok", "CreateDeliveryStream",
       ExtendedS3(R"("FileExtension":".json.gz","CustomTimeZone":"America/New_York")"), "", ""},
      {"empty file extension ok", "CreateDeliveryStream",
       ExtendedS3(R"("FileExtension":"","CustomTimeZone":"")"), "", ""},
      {"time zone pattern", "CreateDeliveryStream", ExtendedS3(R"("CustomTimeZone":"Etc/GMT+5")"),
       "ValidationException",
       One("Value 'Etc/GMT+5' at '" + xs +
           "customTimeZone' failed to satisfy constraint: Member must satisfy regular expression "
           "pattern: ^$|[a-zA-Z/_]+")},
      {"log stream name", "CreateDeliveryStream",
       ExtendedS3(
           R"("CloudWatchLoggingOptions":{"Enabled":true,"LogGroupName":"/aws/g","LogStreamName":"a:b"})"),
       "ValidationException",
       One("Value 'a:b' at '" + xs +
           "cloudWatchLoggingOptions.logStreamName' failed to satisfy constraint: Member must "
           "satisfy regular expression pattern: [^:*]*")},
      {"blank parameter value", "CreateDeliveryStream",
       ExtendedS3(
           R"("ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"  "}]}]})"),
       "ValidationException",
       One("Value '  ' at '" + param_path +
           "' failed to satisfy constraint: Member must satisfy regular expression pattern: "
           "^(?!\\s*$).+")},
      {"empty parameter value", "CreateDeliveryStream",
       ExtendedS3(
           R"("ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":""}]}]})"),
       "ValidationException",
       "2 validation errors detected: Value '' at '" + param_path +
           "' failed to satisfy constraint: Member must have length greater than or equal to 1; "
           "Value '' at '" +
           param_path +
           "' failed to satisfy constraint: Member must satisfy regular expression pattern: "
           "^(?!\\s*$).+"},
      {"backup configuration path", "CreateDeliveryStream",
       ExtendedS3(R"("S3BackupMode":"Enabled","S3BackupConfiguration":{"RoleARN":")" +
                  std::string(kRole) + R"(","BucketARN":"b"})"),
       "ValidationException",
       One("Value 'b' at '" + xs +
           "s3BackupConfiguration.bucketARN' failed to satisfy constraint: Member must satisfy "
           "regular expression pattern: arn:.*:s3:::[\\w\\.\\-]{1,255}")},
      {"update path", "UpdateDestination",
       R"({"DeliveryStreamName":"s","CurrentDeliveryStreamVersionId":"1","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{"S3BackupUpdate":{"BufferingHints":{"SizeInMBs":0,"IntervalInSeconds":60}}}})",
       "ValidationException",
       One("Value '0' at 'extendedS3DestinationUpdate.s3BackupUpdate.bufferingHints.sizeInMBs' "
           "failed to satisfy constraint: Member must have value greater than or equal to 1")},
      // Data format conversion (shallow) and maps.
      {"parquet block size", "CreateDeliveryStream",
       ExtendedS3(
           R"("DataFormatConversionConfiguration":{"OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{"BlockSizeBytes":1}}}})"),
       "ValidationException",
       One("Value '1' at '" + xs +
           "dataFormatConversionConfiguration.outputFormatConfiguration.serializer.parquetSerDe."
           "blockSizeBytes' failed to satisfy constraint: Member must have value greater than or "
           "equal to 67108864")},
      {"orc proportion", "CreateDeliveryStream",
       ExtendedS3(
           R"("DataFormatConversionConfiguration":{"OutputFormatConfiguration":{"Serializer":{"OrcSerDe":{"PaddingTolerance":1.5}}}})"),
       "ValidationException",
       One("Value '1.5' at '" + xs +
           "dataFormatConversionConfiguration.outputFormatConfiguration.serializer.orcSerDe."
           "paddingTolerance' failed to satisfy constraint: Member must have value less than or "
           "equal to 1")},
      {"map keys", "CreateDeliveryStream",
       ExtendedS3(
           R"("DataFormatConversionConfiguration":{"InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{"ColumnToJsonKeyMappings":{"a b":"x"}}}}})"),
       "ValidationException",
       One("Value '{a b=x}' at '" + xs +
           "dataFormatConversionConfiguration.inputFormatConfiguration.deserializer."
           "openXJsonSerDe.columnToJsonKeyMappings' failed to satisfy constraint: Map keys must "
           "satisfy constraint: [Member must have length less than or equal to 1024, Member must "
           "have length greater than or equal to 1, Member must satisfy regular expression "
           "pattern: ^\\S+$]")},
      // Lists.
      {"untag with no keys", "UntagDeliveryStream", R"({"DeliveryStreamName":"s","TagKeys":[]})",
       "ValidationException",
       One("Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length "
           "greater than or equal to 1")},
      {"tag key element path", "UntagDeliveryStream",
       R"({"DeliveryStreamName":"s","TagKeys":["ok","aws:x"]})", "ValidationException",
       One("Value 'aws:x' at 'tagKeys.2.member' failed to satisfy constraint: Member must "
           "satisfy regular expression pattern: ^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$")},
      {"tag value pattern", "TagDeliveryStream",
       R"({"DeliveryStreamName":"s","Tags":[{"Key":"k","Value":"a\tb"}]})", "ValidationException",
       One("Value 'a\tb' at 'tags.1.member.value' failed to satisfy constraint: Member must "
           "satisfy regular expression pattern: ^[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$")},
      {"tag key required", "TagDeliveryStream",
       R"({"DeliveryStreamName":"s","Tags":[{"Value":"v"}]})", "ValidationException",
       One("Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be "
           "null")},
      {"unicode tags ok", "TagDeliveryStream",
       R"({"DeliveryStreamName":"s","Tags":[{"Key":"Ünïcödé 東京 ひらがな 한국 Ωμέγα Ж ١٢٣","Value":"a b　c=d+e-f@g%h:i/j_k.l"}]})",
       "", ""},
      // Records and blobs.
      {"empty batch", "PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[]})",
       "ValidationException", NoRecords().message},
      {"record without data", "PutRecordBatch",
       R"({"DeliveryStreamName":"s","Records":[{"Data":"YQ=="},{}]})", "ValidationException",
       RecordDataMissing(1).message},
      {"null list element", "PutRecordBatch", R"({"DeliveryStreamName":"s","Records":[null]})",
       "ValidationException",
       One("Value null at 'records.1.member' failed to satisfy constraint: Member must not be "
           "null")},
      {"empty data ok", "PutRecord", R"({"DeliveryStreamName":"s","Record":{"Data":""}})", "", ""},
      // Serialization (wrong JSON types), checked before any constraint.
      {"string for integer", "DescribeDeliveryStream",
       R"({"DeliveryStreamName":"bad name","Limit":"5"})", "SerializationException",
       "STRING_VALUE can not be converted to an Integer"},
      {"bool for integer", "ListDeliveryStreams", R"({"Limit":true})", "SerializationException",
       "TRUE_VALUE can not be converted to an Integer"},
      {"fraction for integer", "ListDeliveryStreams", R"({"Limit":1.5})", "SerializationException",
       "NUMBER_VALUE can not be converted to an Integer"},
      {"number for string", "DeleteDeliveryStream", R"({"DeliveryStreamName":5})",
       "SerializationException", "NUMBER_VALUE can not be converted to a String"},
      {"false for string", "DeleteDeliveryStream", R"({"DeliveryStreamName":false})",
       "SerializationException", "FALSE_VALUE can not be converted to a String"},
      {"list for string", "DeleteDeliveryStream", R"({"DeliveryStreamName":["s"]})",
       "SerializationException", "Start of list found where not expected"},
      {"object for string", "DeleteDeliveryStream", R"({"DeliveryStreamName":{"a":1}})",
       "SerializationException", "Start of structure or map found where not expected."},
      {"string for structure", "PutRecord", R"({"DeliveryStreamName":"s","Record":"x"})",
       "SerializationException", "Expected null"},
      {"string for list", "PutRecordBatch", R"({"DeliveryStreamName":"s","Records":"x"})",
       "SerializationException", "Expected list or null"},
      {"object for list", "PutRecordBatch", R"({"DeliveryStreamName":"s","Records":{}})",
       "SerializationException", "Start of structure or map found where not expected."},
      {"string for boolean", "DeleteDeliveryStream",
       R"({"DeliveryStreamName":"s","AllowForceDelete":"yes"})", "SerializationException",
       "STRING_VALUE can not be converted to an Boolean"},
      {"number for blob", "PutRecord", R"({"DeliveryStreamName":"s","Record":{"Data":5}})",
       "SerializationException", "NUMBER_VALUE can not be converted to a Blob"},
      {"base64 length", "PutRecord", R"({"DeliveryStreamName":"s","Record":{"Data":"abc"}})",
       "SerializationException",
       "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 "
       "bytes but found: 3"},
      {"base64 alphabet", "PutRecord", R"({"DeliveryStreamName":"s","Record":{"Data":"ab!d"}})",
       "SerializationException",
       "'ab!d' can not be converted to a Blob: Invalid Base64 character: '!'"},
      {"base64 inner padding", "PutRecord",
       R"({"DeliveryStreamName":"s","Record":{"Data":"ab=c"}})", "SerializationException",
       "'ab=c' can not be converted to a Blob: Invalid Base64 character: '='"},
      {"base64 trailing bits", "PutRecord",
       R"({"DeliveryStreamName":"s","Record":{"Data":"ab=="}})", "SerializationException",
       "'ab==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"},
      {"first type error in document order", "DescribeDeliveryStream",
       R"({"Limit":"x","DeliveryStreamName":5})", "SerializationException",
       "STRING_VALUE can not be converted to an Integer"},
      {"deep type error", "CreateDeliveryStream",
       ExtendedS3(R"("BufferingHints":{"SizeInMBs":"5","IntervalInSeconds":300})"),
       "SerializationException", "STRING_VALUE can not be converted to an Integer"},
      // Unknown members are ignored; other destination types are only recognised.
      {"unknown members ignored", "DescribeDeliveryStream",
       R"({"DeliveryStreamName":"s","Foo":{"Bar":[1,true]},"limit":"ignored: case matters"})", "",
       ""},
      {"other destination recognised", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","RedshiftDestinationConfiguration":{"Anything":1}})", "", ""},
      {"other destination must be an object", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"s","SplunkDestinationConfiguration":"x"})",
       "SerializationException", "Expected null"},
      {"full create", "CreateDeliveryStream",
       R"({"DeliveryStreamName":"orders.v1-x_y","DeliveryStreamType":"DirectPut",
           "DirectPutSourceConfiguration":{"ThroughputHintInMBs":5},
           "DeliveryStreamEncryptionConfigurationInput":{"KeyType":"AWS_OWNED_CMK"},
           "ExtendedS3DestinationConfiguration":{"RoleARN":")" +
           std::string(kRole) + R"(","BucketARN":")" + kBucket + R"(",
             "Prefix":"data/!{timestamp:yyyy}/","ErrorOutputPrefix":"err/!{firehose:error-output-type}/",
             "BufferingHints":{"SizeInMBs":128,"IntervalInSeconds":0},"CompressionFormat":"HADOOP_SNAPPY",
             "EncryptionConfiguration":{"NoEncryptionConfig":"NoEncryption"},
             "CloudWatchLoggingOptions":{"Enabled":true,"LogGroupName":"/aws/kinesisfirehose/x","LogStreamName":"DestinationDelivery"},
             "ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[
               {"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"}]},
               {"Type":"AppendDelimiterToRecord"}]},
             "S3BackupMode":"Enabled","S3BackupConfiguration":{"RoleARN":")" +
           std::string(kRole) + R"(","BucketARN":"arn:aws:s3:::backup"},
             "DynamicPartitioningConfiguration":{"Enabled":false,"RetryOptions":{"DurationInSeconds":7200}},
             "FileExtension":".log","CustomTimeZone":"Asia/Tokyo"},
           "Tags":[{"Key":"team","Value":"data"},{"Key":"AWS:upper is not reserved"}]})",
       "", ""},
  };
  return cases;
}

TEST(ValidateRequest, Table) {
  for (const Case& c : ValidationCases()) {
    SCOPED_TRACE(c.name);
    std::optional<ApiError> err = Check(c.op, c.body);
    if (c.type.empty()) {
      EXPECT_FALSE(err.has_value()) << err->type << ": " << err->message;
      continue;
    }
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->type, c.type);
    EXPECT_EQ(err->message, c.message);
    EXPECT_EQ(err->http_status(), 400);
  }
}

TEST(ValidateRequest, NonObjectBody) {
  auto err = ValidateRequest("PutRecord", json::parse("[1]"));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "SerializationException");
  EXPECT_EQ(err->message, "Start of list found where not expected");
  err = ValidateRequest("PutRecord", json::parse("\"x\""));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "SerializationException");
}

TEST(ValidateRequest, UnknownOperation) {
  auto err = Check("GetRecords", "{}");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "UnknownOperationException");
}

TEST(ValidateRequest, RecordSizeLimitIsOnDecodedBytes) {
  std::string ok = R"({"DeliveryStreamName":"s","Record":{"Data":")" + DataOfSize(1024000) + "\"}}";
  EXPECT_FALSE(Check("PutRecord", ok));
  std::string big =
      R"({"DeliveryStreamName":"s","Record":{"Data":")" + DataOfSize(1024001) + "\"}}";
  auto err = Check("PutRecord", big);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "ValidationException");
  EXPECT_EQ(err->message,
            "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 "
            "cap=1024001]' at 'record.data' failed to satisfy constraint: Member must have length "
            "less than or equal to 1024000");
  EXPECT_EQ(err->message, RecordTooLarge(kNoRecordIndex, 1024001).message);
}

std::string Batch(const std::vector<size_t>& sizes, std::string_view name = "s") {
  std::string s = R"({"DeliveryStreamName":)" + Quote(name) + R"(,"Records":[)";
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i > 0) s += ",";
    s += R"({"Data":")" + DataOfSize(sizes[i]) + "\"}";
  }
  return s + "]}";
}

TEST(ValidateRequest, BatchRecordTooLargeNamesItsPosition) {
  auto err = Check("PutRecordBatch", Batch({3, 1024001, 5}));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message,
            "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 "
            "cap=1024001]' at 'records.2.member.data' failed to satisfy constraint: Member must "
            "have length less than or equal to 1024000");
  EXPECT_EQ(err->message, RecordTooLarge(1, 1024001).message);
}

TEST(ValidateRequest, SeveralViolationsAreJoined) {
  auto err = Check("PutRecordBatch", Batch({1024001, 1}, "bad name"));
  ASSERT_TRUE(err);
  Violations v;
  CheckStreamName("bad name", &v);
  AddRecordTooLarge(0, 1024001, &v);
  EXPECT_EQ(err->message, v.ToError()->message);
  EXPECT_EQ(err->message.rfind("2 validation errors detected: Value 'bad name' at "
                               "'deliveryStreamName' failed to satisfy constraint: Member must "
                               "satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value "
                               "'java.nio.HeapByteBuffer",
                               0),
            0u)
      << err->message;
}

TEST(ValidateRequest, AtMostTenViolations) {
  auto err = Check("PutRecordBatch", Batch(std::vector<size_t>(12, 1024001)));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message.rfind("10 validation errors detected: ", 0), 0u);
  EXPECT_NE(err->message.find("'records.10.member.data'"), std::string::npos);
  EXPECT_EQ(err->message.find("'records.11.member.data'"), std::string::npos);
}

TEST(ValidateRequest, TooManyRecordsPrintsTheList) {
  std::vector<size_t> sizes(501, 3);
  sizes[1] = 14;
  auto err = Check("PutRecordBatch", Batch(sizes));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "ValidationException");
  const std::string head =
      "1 validation error detected: Value '[Record(data=java.nio.HeapByteBuffer[pos=0 lim=3 "
      "cap=3]), Record(data=java.nio.HeapByteBuffer[pos=0 lim=14 cap=14]), ";
  const std::string tail =
      "Record(data=java.nio.HeapByteBuffer[pos=0 lim=3 cap=3])]' at 'records' failed to satisfy "
      "constraint: Member must have length less than or equal to 500";
  EXPECT_EQ(err->message.substr(0, head.size()), head);
  EXPECT_EQ(err->message.substr(err->message.size() - tail.size()), tail);
  EXPECT_EQ(err->message, TooManyRecords(sizes).message);
  // Exactly 500 records is fine.
  sizes.pop_back();
  EXPECT_FALSE(Check("PutRecordBatch", Batch(sizes)));
}

TEST(ValidateRequest, TooManyTagsPrintsTags) {
  std::string body = R"({"DeliveryStreamName":"s","Tags":[)";
  for (int i = 0; i < 51; ++i) {
    if (i > 0) body += ",";
    body += R"({"Key":"k)" + std::to_string(i) + (i == 1 ? R"("})" : R"(","Value":"v"})");
  }
  body += "]}";
  auto err = Check("TagDeliveryStream", body);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message.rfind("1 validation error detected: Value '[Tag(key=k0, value=v), "
                               "Tag(key=k1, value=null), Tag(key=k2, value=v), ",
                               0),
            0u)
      << err->message;
  EXPECT_NE(err->message.find("Tag(key=k50, value=v)]' at 'tags' failed to satisfy constraint: "
                              "Member must have length less than or equal to 50"),
            std::string::npos);
}

TEST(ValidateRequest, BatchOver4MiBIsInvalidArgument) {
  // 4 x 1,024,000 = 4,096,000 <= 4 MiB; 5 x 1,000,000 > 4 MiB.
  EXPECT_FALSE(Check("PutRecordBatch", Batch(std::vector<size_t>(4, 1024000))));
  auto err = Check("PutRecordBatch", Batch(std::vector<size_t>(5, 1000000)));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "InvalidArgumentException");
  EXPECT_EQ(err->message, "Records size exceeds 4 MB limit");
  EXPECT_EQ(err->message, BatchTooLarge(5000000).message);
  // The record count is checked first (a model constraint).
  err = Check("PutRecordBatch", Batch(std::vector<size_t>(501, 10000)));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, "ValidationException");
}

TEST(ValidateRequest, LengthsCountCodePoints) {
  std::string e256, e257;
  for (int i = 0; i < 256; ++i) e256 += "é";
  e257 = e256 + "é";
  EXPECT_FALSE(Check("TagDeliveryStream",
                     R"({"DeliveryStreamName":"s","Tags":[{"Key":"k","Value":")" + e256 + "\"}]}"));
  auto err = Check("TagDeliveryStream",
                   R"({"DeliveryStreamName":"s","Tags":[{"Key":"k","Value":")" + e257 + "\"}]}");
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("Member must have length less than or equal to 256"),
            std::string::npos);
}

TEST(HotPathHelpers, MatchValidateRequest) {
  auto err = Check("PutRecord", R"({"DeliveryStreamName":"abc def","Record":{"Data":""}})");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->message, CheckStreamName("abc def")->message);
  EXPECT_FALSE(CheckStreamName("good.name-1_x"));
  EXPECT_EQ(RecordDataPath(kNoRecordIndex), "record.data");
  EXPECT_EQ(RecordDataPath(0), "records.1.member.data");
  EXPECT_EQ(NoRecords().message,
            "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1");
  EXPECT_EQ(RecordDataMissing(2).message,
            "1 validation error detected: Value null at 'records.3.member.data' failed to satisfy "
            "constraint: Member must not be null");
  EXPECT_EQ(NoRecords().type, "ValidationException");
  EXPECT_EQ(BatchTooLarge(1).type, "InvalidArgumentException");
}

TEST(HotPathHelpers, Base64AgreesWithAnIndependentDecoder) {
  for (size_t n = 0; n < 40; ++n) {
    std::string raw;
    for (size_t i = 0; i < n; ++i) raw += static_cast<char>(i * 37 + 11);
    std::string enc = base64::Encode(raw);
    EXPECT_FALSE(CheckBase64(enc)) << enc;
    EXPECT_EQ(Base64DecodedSize(enc), n);
    auto decoded = base64::Decode(enc);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->size(), Base64DecodedSize(enc));
  }
  for (std::string bad : {"a", "ab", "abc", "a===", "====", "ab=c", "a b=", "YQ=x", "Zg=\n"}) {
    auto err = CheckBase64(bad);
    ASSERT_TRUE(err) << bad;
    EXPECT_EQ(err->type, "SerializationException");
    EXPECT_EQ(err->message.rfind("'" + bad + "' can not be converted to a Blob: ", 0), 0u);
    // The hot path's split (shape here, alphabet in the decoder) refuses it too.
    EXPECT_TRUE(CheckBase64Shape(bad) || !base64::Decode(bad)) << bad;
  }
  for (size_t n = 0; n < 40; ++n) {
    EXPECT_FALSE(CheckBase64Shape(base64::Encode(std::string(n, 'x')))) << n;
  }
}

// The ARN patterns are matched by hand; std::regex (ECMAScript agrees with Java on
// these patterns for inputs without line breaks) is the oracle.
TEST(ArnPatterns, AgreeWithARegexEngine) {
  struct Arn {
    std::string json_member;  // where the value goes in an ExtendedS3 config
    std::string path;
    std::string pattern;
    std::vector<std::string> candidates;
  };
  const std::vector<std::string> accounts = {"123456789012", "12345678901", "1234567890123",
                                             "12345678901a"};
  std::vector<std::string> roles, buckets, keys, streams;
  const std::vector<std::string> partitions = {"aws", "aws-cn", "", "a:b", "x:iam::1:role/y"};
  const std::vector<std::string> resources = {"r", "path/to/r+=,.@-_", "", "bad*char", "a b"};
  const std::vector<std::string> bucket_names = {
      "b", "my.bucket-1_x", "", std::string(255, 'b'), std::string(256, 'b'), "b/c", "x:s3:::y"};
  for (const std::string& part : partitions) {
    for (const std::string& acct : accounts) {
      for (const std::string& res : resources) {
        roles.push_back("arn:" + part + ":iam::" + acct + ":role/" + res);
        keys.push_back("arn:" + part + ":kms:us-east-1:" + acct + ":key/" + res);
        keys.push_back("arn:" + part + ":kms::" + acct + ":alias/" + res);
        keys.push_back("arn:" + part + ":kms:eu_west:" + acct + ":alias/" + res);
        streams.push_back("arn:" + part + ":kinesis:us-east-1:" + acct + ":stream/" + res);
      }
    }
    for (const std::string& name : bucket_names) {
      buckets.push_back("arn:" + part + ":s3:::" + name);
    }
  }
  roles.push_back("arn::iam::123456789012:role/r");
  roles.push_back("arn:iam::123456789012:role/r");
  roles.push_back("xarn:aws:iam::123456789012:role/r");
  roles.push_back("arn:aws:iam::123456789012:role/r:iam::123456789012:role/s");
  buckets.push_back("arn:s3:::b");
  buckets.push_back("arn:aws:s3:::b:s3:::c");
  const std::vector<Arn> arns = {
      {"RoleARN", "roleARN", R"(arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+)", roles},
      {"BucketARN", "bucketARN", R"(arn:.*:s3:::[\w\.\-]{1,255})", buckets},
  };
  auto expect_agreement = [](const std::string& pattern, const std::string& value,
                             const std::optional<ApiError>& err, const std::string& path) {
    bool regex_ok = std::regex_match(value, std::regex(pattern));
    bool reported = err && err->message.find("at '" + path +
                                             "' failed to satisfy constraint: Member must "
                                             "satisfy regular expression pattern: " +
                                             pattern) != std::string::npos;
    EXPECT_EQ(regex_ok, !reported) << value;
  };
  for (const Arn& a : arns) {
    for (const std::string& v : a.candidates) {
      json::object cfg{{"RoleARN", kRole}, {"BucketARN", kBucket}};
      cfg[a.json_member] = v;
      json::object in{{"DeliveryStreamName", "s"}, {"ExtendedS3DestinationConfiguration", cfg}};
      expect_agreement(a.pattern, v, ValidateRequest("CreateDeliveryStream", in),
                       "extendedS3DestinationConfiguration." + a.path);
    }
  }
  const std::string kms = R"(arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+)";
  for (const std::string& v : keys) {
    json::object in{{"DeliveryStreamName", "s"},
                    {"DeliveryStreamEncryptionConfigurationInput",
                     json::object{{"KeyType", "CUSTOMER_MANAGED_CMK"}, {"KeyARN", v}}}};
    expect_agreement(kms, v, ValidateRequest("StartDeliveryStreamEncryption", in),
                     "deliveryStreamEncryptionConfigurationInput.keyARN");
  }
  const std::string kinesis = R"(arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+)";
  for (const std::string& v : streams) {
    json::object in{{"DeliveryStreamName", "s"},
                    {"KinesisStreamSourceConfiguration",
                     json::object{{"KinesisStreamARN", v}, {"RoleARN", kRole}}}};
    expect_agreement(kinesis, v, ValidateRequest("CreateDeliveryStream", in),
                     "kinesisStreamSourceConfiguration.kinesisStreamARN");
  }
}

TEST(ArnPatterns, LongValuesDoNotCrash) {
  json::object cfg{{"RoleARN", "arn:" + std::string(1 << 20, 'a') + ":iam::123456789012:role/r"},
                   {"BucketARN", kBucket}};
  json::object in{{"DeliveryStreamName", "s"}, {"ExtendedS3DestinationConfiguration", cfg}};
  auto err = ValidateRequest("CreateDeliveryStream", in);
  ASSERT_TRUE(err);
  // Too long, but it does match the pattern.
  EXPECT_EQ(err->message.find("regular expression"), std::string::npos);
  EXPECT_NE(err->message.find("Member must have length less than or equal to 512"),
            std::string::npos);
}

TEST(TagPatterns, UnicodeCategories) {
  EXPECT_TRUE(MatchesTagKeyPattern("Abc123_.:/=+-@%"));
  EXPECT_TRUE(MatchesTagKeyPattern("Ünïcödé"));
  EXPECT_TRUE(MatchesTagKeyPattern("東京タワー"));
  EXPECT_TRUE(MatchesTagKeyPattern("ΑΒΓ абв"));
  EXPECT_TRUE(MatchesTagKeyPattern("한국어"));
  EXPECT_TRUE(MatchesTagKeyPattern("a\u00A0b\u3000c"));  // separators
  EXPECT_TRUE(MatchesTagKeyPattern("x²½٣"));             // numbers
  EXPECT_TRUE(MatchesTagKeyPattern("AWS:x"));            // the look-ahead is case-sensitive
  EXPECT_TRUE(MatchesTagKeyPattern(""));
  EXPECT_FALSE(MatchesTagKeyPattern("aws:x"));
  EXPECT_FALSE(MatchesTagKeyPattern("a#b"));
  EXPECT_FALSE(MatchesTagKeyPattern("a\tb"));
  EXPECT_FALSE(MatchesTagKeyPattern("a\nb"));
  EXPECT_FALSE(MatchesTagKeyPattern("emoji 😀"));
  EXPECT_FALSE(MatchesTagKeyPattern("a,b"));
  EXPECT_FALSE(MatchesTagKeyPattern("\xff"));
  EXPECT_TRUE(MatchesTagValuePattern("aws:ok in values"));
  EXPECT_FALSE(MatchesTagValuePattern("semi;colon"));
}

TEST(ApiError, JsonBodyAndStatus) {
  ApiError e = InvalidArgument("say \"why\"");
  json::value v = json::parse(e.ToJson());
  EXPECT_EQ(v.at("__type").as_string(), "InvalidArgumentException");
  EXPECT_EQ(v.at("message").as_string(), "say \"why\"");
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_EQ(ServiceUnavailable("slow down").http_status(), 500);
  EXPECT_EQ(NotFound("x").http_status(), 400);
}

}  // namespace
}  // namespace hydrant::api
