#pragma once
// The Firehose service model as hydrant validates it: a table of the input shapes
// of every operation (members, types, lengths, patterns, ranges, enums), written
// from the botocore model firehose/2015-08-04/service-2.json (not copied from it).
// Read by api/validation.cc only; docs/api.md describes the rules.

#include "api/model_shape.h"

namespace hydrant::api::model {

// Scalars.
constexpr Shape kDeliveryStreamName = Str("DeliveryStreamName", 1, 64, &kStreamNamePattern);
constexpr Shape kRoleArn = Str("RoleARN", 1, 512, &kRoleArnPattern);
constexpr Shape kBucketArn = Str("BucketARN", 1, 2048, &kBucketArnPattern);
constexpr Shape kKmsKeyArn = Str("AWSKMSKeyARN", 1, 512, &kKmsArnPattern);
constexpr Shape kKinesisStreamArn = Str("KinesisStreamARN", 1, 512, &kKinesisArnPattern);
constexpr Shape kPrefix = Str("Prefix", 0, 1024, &kAnyPattern);
constexpr Shape kErrorOutputPrefix = Str("ErrorOutputPrefix", 0, 1024, &kAnyPattern);
constexpr Shape kLogGroupName = Str("LogGroupName", 0, 512, &kLogGroupPattern);
constexpr Shape kLogStreamName = Str("LogStreamName", 0, 512, &kLogStreamPattern);
constexpr Shape kParameterValue = Str("ProcessorParameterValue", 1, 5120, &kNotBlankPattern);
constexpr Shape kNonEmptyStringWithoutWhitespace =
    Str("NonEmptyStringWithoutWhitespace", 1, 1024, &kNoWhitespacePattern);
constexpr Shape kNonEmptyString = Str("NonEmptyString", 1, 1024, &kNotBlankPattern);
constexpr Shape kFileExtension = Str("FileExtension", 0, 128, &kFileExtensionPattern);
constexpr Shape kCustomTimeZone = Str("CustomTimeZone", 0, 50, &kTimeZonePattern);
constexpr Shape kTagKey = Str("TagKey", 1, 128, &kTagKeyPattern);
constexpr Shape kTagValue = Str("TagValue", 0, 256, &kTagValuePattern);
constexpr Shape kDestinationId = Str("DestinationId", 1, 100, &kDestinationIdPattern);
constexpr Shape kVersionId = Str("DeliveryStreamVersionId", 1, 50, &kVersionIdPattern);

constexpr Shape kBoolean{.kind = Kind::kBoolean, .name = "BooleanObject"};
constexpr Shape kData{.kind = Kind::kBlob, .name = "Data", .min = 0, .max = 1024000};
constexpr Shape kProportion{.kind = Kind::kDouble, .name = "Proportion", .min = 0, .max = 1};

constexpr Shape kThroughputHint = Int("ThroughputHintInMBs", 1, 100);
constexpr Shape kSizeInMBs = Int("SizeInMBs", 1, 128);
constexpr Shape kIntervalInSeconds = Int("IntervalInSeconds", 0, 900);
constexpr Shape kRetryDuration = Int("RetryDurationInSeconds", 0, 7200);
constexpr Shape kDescribeLimit = Int("DescribeDeliveryStreamInputLimit", 1, 10000);
constexpr Shape kListLimit = Int("ListDeliveryStreamsInputLimit", 1, 10000);
constexpr Shape kListTagsLimit = Int("ListTagsForDeliveryStreamInputLimit", 1, 50);
constexpr Shape kBlockSizeBytes = Int("BlockSizeBytes", 67108864);
constexpr Shape kParquetPageSizeBytes = Int("ParquetPageSizeBytes", 65536);
constexpr Shape kNonNegativeInteger = Int("NonNegativeIntegerObject", 0);
constexpr Shape kOrcStripeSizeBytes = Int("OrcStripeSizeBytes", 8388608);
constexpr Shape kOrcRowIndexStride = Int("OrcRowIndexStride", 1000);

// Enums. Where AWS was observed to print a set in another order than the model's
// (floci-io/floci probes of real Firehose), that order is used; otherwise model order.
constexpr std::string_view kDeliveryStreamTypes[] = {"DirectPut", "KinesisStreamAsSource",
                                                     "MSKAsSource", "DatabaseAsSource"};
constexpr std::string_view kKeyTypes[] = {"AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"};
constexpr std::string_view kCompressionFormats[] = {"ZIP", "HADOOP_SNAPPY", "Snappy", "GZIP",
                                                    "UNCOMPRESSED"};
constexpr std::string_view kNoEncryptionValues[] = {"NoEncryption"};
constexpr std::string_view kS3BackupModes[] = {"Disabled", "Enabled"};
constexpr std::string_view kProcessorTypes[] = {
    "Decompression",           "Lambda",
    "RecordDeAggregation",     "MetadataExtraction",
    "AppendDelimiterToRecord", "CloudWatchLogProcessing"};
constexpr std::string_view kParameterNames[] = {"DataMessageExtraction",
                                                "NumberOfRetries",
                                                "Delimiter",
                                                "RoleArn",
                                                "JsonParsingEngine",
                                                "SubRecordType",
                                                "MetadataExtractionQuery",
                                                "BufferIntervalInSeconds",
                                                "LambdaArn",
                                                "BufferSizeInMBs",
                                                "CompressionFormat"};
constexpr std::string_view kParquetCompressions[] = {"SNAPPY", "GZIP", "UNCOMPRESSED"};
constexpr std::string_view kParquetWriterVersions[] = {"V1", "V2"};
constexpr std::string_view kOrcCompressions[] = {"ZLIB", "SNAPPY", "NONE"};
constexpr std::string_view kOrcFormatVersions[] = {"V0_11", "V0_12"};

constexpr Shape kDeliveryStreamType = Enum("DeliveryStreamType", kDeliveryStreamTypes);
constexpr Shape kKeyType = Enum("KeyType", kKeyTypes);
constexpr Shape kCompressionFormat = Enum("CompressionFormat", kCompressionFormats);
constexpr Shape kNoEncryptionConfig = Enum("NoEncryptionConfig", kNoEncryptionValues);
constexpr Shape kS3BackupMode = Enum("S3BackupMode", kS3BackupModes);
constexpr Shape kProcessorType = Enum("ProcessorType", kProcessorTypes);
constexpr Shape kParameterName = Enum("ProcessorParameterName", kParameterNames);
constexpr Shape kParquetCompression = Enum("ParquetCompression", kParquetCompressions);
constexpr Shape kParquetWriterVersion = Enum("ParquetWriterVersion", kParquetWriterVersions);
constexpr Shape kOrcCompression = Enum("OrcCompression", kOrcCompressions);
constexpr Shape kOrcFormatVersion = Enum("OrcFormatVersion", kOrcFormatVersions);

// Sources and stream encryption.
constexpr Member kDirectPutSourceMembers[] = {{"ThroughputHintInMBs", &kThroughputHint, true}};
constexpr Shape kDirectPutSource = Struct("DirectPutSourceConfiguration", kDirectPutSourceMembers);
constexpr Member kKinesisSourceMembers[] = {{"KinesisStreamARN", &kKinesisStreamArn, true},
                                            {"RoleARN", &kRoleArn, true}};
constexpr Shape kKinesisSource = Struct("KinesisStreamSourceConfiguration", kKinesisSourceMembers);
constexpr Member kStreamEncryptionMembers[] = {{"KeyARN", &kKmsKeyArn},
                                               {"KeyType", &kKeyType, true}};
constexpr Shape kStreamEncryptionInput =
    Struct("DeliveryStreamEncryptionConfigurationInput", kStreamEncryptionMembers);

// S3 destination.
constexpr Member kBufferingHintsMembers[] = {{"SizeInMBs", &kSizeInMBs},
                                             {"IntervalInSeconds", &kIntervalInSeconds}};
constexpr Shape kBufferingHints = Struct("BufferingHints", kBufferingHintsMembers);
constexpr Member kKmsEncryptionMembers[] = {{"AWSKMSKeyARN", &kKmsKeyArn, true}};
constexpr Shape kKmsEncryptionConfig = Struct("KMSEncryptionConfig", kKmsEncryptionMembers);
constexpr Member kEncryptionMembers[] = {{"NoEncryptionConfig", &kNoEncryptionConfig},
                                         {"KMSEncryptionConfig", &kKmsEncryptionConfig}};
constexpr Shape kEncryptionConfiguration = Struct("EncryptionConfiguration", kEncryptionMembers);
constexpr Member kLoggingMembers[] = {
    {"Enabled", &kBoolean}, {"LogGroupName", &kLogGroupName}, {"LogStreamName", &kLogStreamName}};
constexpr Shape kCloudWatchLogging = Struct("CloudWatchLoggingOptions", kLoggingMembers);

constexpr Member kS3ConfigurationMembers[] = {
    {"RoleARN", &kRoleArn, true},
    {"BucketARN", &kBucketArn, true},
    {"Prefix", &kPrefix},
    {"ErrorOutputPrefix", &kErrorOutputPrefix},
    {"BufferingHints", &kBufferingHints},
    {"CompressionFormat", &kCompressionFormat},
    {"EncryptionConfiguration", &kEncryptionConfiguration},
    {"CloudWatchLoggingOptions", &kCloudWatchLogging},
};
constexpr Shape kS3Configuration = Struct("S3DestinationConfiguration", kS3ConfigurationMembers);
constexpr Member kS3UpdateMembers[] = {
    {"RoleARN", &kRoleArn},
    {"BucketARN", &kBucketArn},
    {"Prefix", &kPrefix},
    {"ErrorOutputPrefix", &kErrorOutputPrefix},
    {"BufferingHints", &kBufferingHints},
    {"CompressionFormat", &kCompressionFormat},
    {"EncryptionConfiguration", &kEncryptionConfiguration},
    {"CloudWatchLoggingOptions", &kCloudWatchLogging},
};
constexpr Shape kS3Update = Struct("S3DestinationUpdate", kS3UpdateMembers);

// Processing.
constexpr Member kParameterMembers[] = {{"ParameterName", &kParameterName, true},
                                        {"ParameterValue", &kParameterValue, true}};
constexpr Shape kProcessorParameter = Struct("ProcessorParameter", kParameterMembers);
constexpr Shape kParameterList = List("ProcessorParameterList", &kProcessorParameter);
// Type before Parameters: the order AWS reports them in (probed by floci).
constexpr Member kProcessorMembers[] = {{"Type", &kProcessorType, true},
                                        {"Parameters", &kParameterList}};
constexpr Shape kProcessor = Struct("Processor", kProcessorMembers);
constexpr Shape kProcessorList = List("ProcessorList", &kProcessor);
constexpr Member kProcessingMembers[] = {{"Enabled", &kBoolean}, {"Processors", &kProcessorList}};
constexpr Shape kProcessingConfiguration = Struct("ProcessingConfiguration", kProcessingMembers);

// Data format conversion. Member orders below are the orders AWS reports
// violations in (floci probes), not the model's declaration order.
constexpr Member kSchemaMembers[] = {
    {"VersionId", &kNonEmptyStringWithoutWhitespace},
    {"CatalogId", &kNonEmptyStringWithoutWhitespace},
    {"DatabaseName", &kNonEmptyStringWithoutWhitespace},
    {"RoleARN", &kNonEmptyStringWithoutWhitespace},
    {"Region", &kNonEmptyStringWithoutWhitespace},
    {"TableName", &kNonEmptyStringWithoutWhitespace},
};
constexpr Shape kSchemaConfiguration = Struct("SchemaConfiguration", kSchemaMembers);
constexpr Shape kColumnToJsonKeyMappings{.kind = Kind::kMap,
                                         .name = "ColumnToJsonKeyMappings",
                                         .element = &kNonEmptyString,
                                         .key = &kNonEmptyStringWithoutWhitespace};
constexpr Member kOpenXMembers[] = {{"ConvertDotsInJsonKeysToUnderscores", &kBoolean},
                                    {"CaseInsensitive", &kBoolean},
                                    {"ColumnToJsonKeyMappings", &kColumnToJsonKeyMappings}};
constexpr Shape kOpenXJsonSerDe = Struct("OpenXJsonSerDe", kOpenXMembers);
constexpr Shape kListOfNonEmptyStrings = List("ListOfNonEmptyStrings", &kNonEmptyString);
constexpr Member kHiveMembers[] = {{"TimestampFormats", &kListOfNonEmptyStrings}};
constexpr Shape kHiveJsonSerDe = Struct("HiveJsonSerDe", kHiveMembers);
constexpr Member kDeserializerMembers[] = {{"OpenXJsonSerDe", &kOpenXJsonSerDe},
                                           {"HiveJsonSerDe", &kHiveJsonSerDe}};
constexpr Shape kDeserializer = Struct("Deserializer", kDeserializerMembers);
constexpr Member kInputFormatMembers[] = {{"Deserializer", &kDeserializer}};
constexpr Shape kInputFormat = Struct("InputFormatConfiguration", kInputFormatMembers);
constexpr Member kParquetMembers[] = {
    {"MaxPaddingBytes", &kNonNegativeInteger}, {"BlockSizeBytes", &kBlockSizeBytes},
    {"PageSizeBytes", &kParquetPageSizeBytes}, {"Compression", &kParquetCompression},
    {"WriterVersion", &kParquetWriterVersion}, {"EnableDictionaryCompression", &kBoolean},
};
constexpr Shape kParquetSerDe = Struct("ParquetSerDe", kParquetMembers);
constexpr Shape kNoWhitespaceList =
    List("ListOfNonEmptyStringsWithoutWhitespace", &kNonEmptyStringWithoutWhitespace);
constexpr Member kOrcMembers[] = {
    {"DictionaryKeyThreshold", &kProportion},
    {"BlockSizeBytes", &kBlockSizeBytes},
    {"RowIndexStride", &kOrcRowIndexStride},
    {"PaddingTolerance", &kProportion},
    {"StripeSizeBytes", &kOrcStripeSizeBytes},
    {"Compression", &kOrcCompression},
    {"FormatVersion", &kOrcFormatVersion},
    {"BloomFilterFalsePositiveProbability", &kProportion},
    {"EnablePadding", &kBoolean},
    {"BloomFilterColumns", &kNoWhitespaceList},
};
constexpr Shape kOrcSerDe = Struct("OrcSerDe", kOrcMembers);
constexpr Member kSerializerMembers[] = {{"ParquetSerDe", &kParquetSerDe},
                                         {"OrcSerDe", &kOrcSerDe}};
constexpr Shape kSerializer = Struct("Serializer", kSerializerMembers);
constexpr Member kOutputFormatMembers[] = {{"Serializer", &kSerializer}};
constexpr Shape kOutputFormat = Struct("OutputFormatConfiguration", kOutputFormatMembers);
constexpr Member kFormatConversionMembers[] = {
    {"OutputFormatConfiguration", &kOutputFormat},
    {"InputFormatConfiguration", &kInputFormat},
    {"SchemaConfiguration", &kSchemaConfiguration},
    {"Enabled", &kBoolean},
};
constexpr Shape kFormatConversion =
    Struct("DataFormatConversionConfiguration", kFormatConversionMembers);

constexpr Member kRetryOptionsMembers[] = {{"DurationInSeconds", &kRetryDuration}};
constexpr Shape kRetryOptions = Struct("RetryOptions", kRetryOptionsMembers);
constexpr Member kDynamicPartitioningMembers[] = {{"RetryOptions", &kRetryOptions},
                                                  {"Enabled", &kBoolean}};
constexpr Shape kDynamicPartitioning =
    Struct("DynamicPartitioningConfiguration", kDynamicPartitioningMembers);

constexpr Member kExtendedS3ConfigurationMembers[] = {
    {"RoleARN", &kRoleArn, true},
    {"BucketARN", &kBucketArn, true},
    {"Prefix", &kPrefix},
    {"ErrorOutputPrefix", &kErrorOutputPrefix},
    {"BufferingHints", &kBufferingHints},
    {"CompressionFormat", &kCompressionFormat},
    {"EncryptionConfiguration", &kEncryptionConfiguration},
    {"CloudWatchLoggingOptions", &kCloudWatchLogging},
    {"ProcessingConfiguration", &kProcessingConfiguration},
    {"S3BackupMode", &kS3BackupMode},
    {"S3BackupConfiguration", &kS3Configuration},
    {"DataFormatConversionConfiguration", &kFormatConversion},
    {"DynamicPartitioningConfiguration", &kDynamicPartitioning},
    {"FileExtension", &kFileExtension},
    {"CustomTimeZone", &kCustomTimeZone},
};
constexpr Shape kExtendedS3Configuration =
    Struct("ExtendedS3DestinationConfiguration", kExtendedS3ConfigurationMembers);
constexpr Member kExtendedS3UpdateMembers[] = {
    {"RoleARN", &kRoleArn},
    {"BucketARN", &kBucketArn},
    {"Prefix", &kPrefix},
    {"ErrorOutputPrefix", &kErrorOutputPrefix},
    {"BufferingHints", &kBufferingHints},
    {"CompressionFormat", &kCompressionFormat},
    {"EncryptionConfiguration", &kEncryptionConfiguration},
    {"CloudWatchLoggingOptions", &kCloudWatchLogging},
    {"ProcessingConfiguration", &kProcessingConfiguration},
    {"S3BackupMode", &kS3BackupMode},
    {"S3BackupUpdate", &kS3Update},
    {"DataFormatConversionConfiguration", &kFormatConversion},
    {"DynamicPartitioningConfiguration", &kDynamicPartitioning},
    {"FileExtension", &kFileExtension},
    {"CustomTimeZone", &kCustomTimeZone},
};
constexpr Shape kExtendedS3Update = Struct("ExtendedS3DestinationUpdate", kExtendedS3UpdateMembers);

// Destinations and sources hydrant only recognises.
constexpr Shape kRedshiftConfiguration = Opaque("RedshiftDestinationConfiguration");
constexpr Shape kElasticsearchConfiguration = Opaque("ElasticsearchDestinationConfiguration");
constexpr Shape kOpensearchConfiguration =
    Opaque("AmazonopensearchserviceDestinationConfiguration");
constexpr Shape kSplunkConfiguration = Opaque("SplunkDestinationConfiguration");
constexpr Shape kHttpEndpointConfiguration = Opaque("HttpEndpointDestinationConfiguration");
constexpr Shape kServerlessConfiguration =
    Opaque("AmazonOpenSearchServerlessDestinationConfiguration");
constexpr Shape kSnowflakeConfiguration = Opaque("SnowflakeDestinationConfiguration");
constexpr Shape kIcebergConfiguration = Opaque("IcebergDestinationConfiguration");
constexpr Shape kRedshiftUpdate = Opaque("RedshiftDestinationUpdate");
constexpr Shape kElasticsearchUpdate = Opaque("ElasticsearchDestinationUpdate");
constexpr Shape kOpensearchUpdate = Opaque("AmazonopensearchserviceDestinationUpdate");
constexpr Shape kSplunkUpdate = Opaque("SplunkDestinationUpdate");
constexpr Shape kHttpEndpointUpdate = Opaque("HttpEndpointDestinationUpdate");
constexpr Shape kServerlessUpdate = Opaque("AmazonOpenSearchServerlessDestinationUpdate");
constexpr Shape kSnowflakeUpdate = Opaque("SnowflakeDestinationUpdate");
constexpr Shape kIcebergUpdate = Opaque("IcebergDestinationUpdate");
constexpr Shape kMskSource = Opaque("MSKSourceConfiguration");
constexpr Shape kDatabaseSource = Opaque("DatabaseSourceConfiguration");

// Tags and records.
constexpr Member kTagMembers[] = {{"Key", &kTagKey, true}, {"Value", &kTagValue}};
constexpr Shape kTag = Struct("Tag", kTagMembers);
constexpr Shape kTagList = List("TagDeliveryStreamInputTagList", &kTag, 1, 50);
constexpr Shape kTagKeyList = List("TagKeyList", &kTagKey, 1, 50);
constexpr Member kRecordMembers[] = {{"Data", &kData, true}};
constexpr Shape kRecord = Struct("Record", kRecordMembers);
constexpr Shape kRecordList = List("PutRecordBatchRequestEntryList", &kRecord, 1, 500);

// Operation inputs.
constexpr Member kCreateMembers[] = {
    {"DeliveryStreamName", &kDeliveryStreamName, true},
    {"DeliveryStreamType", &kDeliveryStreamType},
    {"DirectPutSourceConfiguration", &kDirectPutSource},
    {"KinesisStreamSourceConfiguration", &kKinesisSource},
    {"DeliveryStreamEncryptionConfigurationInput", &kStreamEncryptionInput},
    {"S3DestinationConfiguration", &kS3Configuration},
    {"ExtendedS3DestinationConfiguration", &kExtendedS3Configuration},
    {"RedshiftDestinationConfiguration", &kRedshiftConfiguration},
    {"ElasticsearchDestinationConfiguration", &kElasticsearchConfiguration},
    {"AmazonopensearchserviceDestinationConfiguration", &kOpensearchConfiguration},
    {"SplunkDestinationConfiguration", &kSplunkConfiguration},
    {"HttpEndpointDestinationConfiguration", &kHttpEndpointConfiguration},
    {"Tags", &kTagList},
    {"AmazonOpenSearchServerlessDestinationConfiguration", &kServerlessConfiguration},
    {"MSKSourceConfiguration", &kMskSource},
    {"SnowflakeDestinationConfiguration", &kSnowflakeConfiguration},
    {"IcebergDestinationConfiguration", &kIcebergConfiguration},
    {"DatabaseSourceConfiguration", &kDatabaseSource},
};
constexpr Shape kCreateInput = Struct("CreateDeliveryStreamInput", kCreateMembers);

constexpr Member kDeleteMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                     {"AllowForceDelete", &kBoolean}};
constexpr Shape kDeleteInput = Struct("DeleteDeliveryStreamInput", kDeleteMembers);

constexpr Member kDescribeMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                       {"Limit", &kDescribeLimit},
                                       {"ExclusiveStartDestinationId", &kDestinationId}};
constexpr Shape kDescribeInput = Struct("DescribeDeliveryStreamInput", kDescribeMembers);

constexpr Member kListMembers[] = {{"Limit", &kListLimit},
                                   {"DeliveryStreamType", &kDeliveryStreamType},
                                   {"ExclusiveStartDeliveryStreamName", &kDeliveryStreamName}};
constexpr Shape kListInput = Struct("ListDeliveryStreamsInput", kListMembers);

constexpr Member kUpdateMembers[] = {
    {"DeliveryStreamName", &kDeliveryStreamName, true},
    {"CurrentDeliveryStreamVersionId", &kVersionId, true},
    {"DestinationId", &kDestinationId, true},
    {"S3DestinationUpdate", &kS3Update},
    {"ExtendedS3DestinationUpdate", &kExtendedS3Update},
    {"RedshiftDestinationUpdate", &kRedshiftUpdate},
    {"ElasticsearchDestinationUpdate", &kElasticsearchUpdate},
    {"AmazonopensearchserviceDestinationUpdate", &kOpensearchUpdate},
    {"SplunkDestinationUpdate", &kSplunkUpdate},
    {"HttpEndpointDestinationUpdate", &kHttpEndpointUpdate},
    {"AmazonOpenSearchServerlessDestinationUpdate", &kServerlessUpdate},
    {"SnowflakeDestinationUpdate", &kSnowflakeUpdate},
    {"IcebergDestinationUpdate", &kIcebergUpdate},
};
constexpr Shape kUpdateInput = Struct("UpdateDestinationInput", kUpdateMembers);

constexpr Member kTagStreamMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                        {"Tags", &kTagList, true}};
constexpr Shape kTagStreamInput = Struct("TagDeliveryStreamInput", kTagStreamMembers);
constexpr Member kUntagMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                    {"TagKeys", &kTagKeyList, true}};
constexpr Shape kUntagInput = Struct("UntagDeliveryStreamInput", kUntagMembers);
constexpr Member kListTagsMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                       {"ExclusiveStartTagKey", &kTagKey},
                                       {"Limit", &kListTagsLimit}};
constexpr Shape kListTagsInput = Struct("ListTagsForDeliveryStreamInput", kListTagsMembers);

constexpr Member kPutRecordMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                        {"Record", &kRecord, true}};
constexpr Shape kPutRecordInput = Struct("PutRecordInput", kPutRecordMembers);
constexpr Member kPutRecordBatchMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                             {"Records", &kRecordList, true}};
constexpr Shape kPutRecordBatchInput = Struct("PutRecordBatchInput", kPutRecordBatchMembers);

constexpr Member kStartEncryptionMembers[] = {
    {"DeliveryStreamName", &kDeliveryStreamName, true},
    {"DeliveryStreamEncryptionConfigurationInput", &kStreamEncryptionInput}};
constexpr Shape kStartEncryptionInput =
    Struct("StartDeliveryStreamEncryptionInput", kStartEncryptionMembers);
constexpr Member kStopEncryptionMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true}};
constexpr Shape kStopEncryptionInput =
    Struct("StopDeliveryStreamEncryptionInput", kStopEncryptionMembers);

struct Operation {
  std::string_view name;
  const Shape* input;
};
constexpr Operation kOperations[] = {
    {"CreateDeliveryStream", &kCreateInput},
    {"DeleteDeliveryStream", &kDeleteInput},
    {"DescribeDeliveryStream", &kDescribeInput},
    {"ListDeliveryStreams", &kListInput},
    {"UpdateDestination", &kUpdateInput},
    {"TagDeliveryStream", &kTagStreamInput},
    {"UntagDeliveryStream", &kUntagInput},
    {"ListTagsForDeliveryStream", &kListTagsInput},
    {"PutRecord", &kPutRecordInput},
    {"PutRecordBatch", &kPutRecordBatchInput},
    {"StartDeliveryStreamEncryption", &kStartEncryptionInput},
    {"StopDeliveryStreamEncryption", &kStopEncryptionInput},
};

}  // namespace hydrant::api::model
