#pragma once
// DestinationSpec: a stream's destination read once into types. The stored form
// (the ExtendedS3DestinationDescription JSON, with every default filled in, that
// DescribeDeliveryStream echoes: api/destination_config.h) stays the record of what
// the caller asked for; everything that acts on the destination (the delivery
// stages, the processing pipeline, the error log, the doctor) reads this instead.
// ParseDestinationSpec is the one reader of the stored description.

#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/fwd.hpp>

#include "codecs/codec.h"
#include "logs/logging_options.h"
#include "processing/processing_spec.h"

namespace hydrant::api {

// One S3 destination: the main one, or the backup (S3BackupDescription).
struct S3DestinationSpec {
  std::string bucket;  // from BucketARN arn:aws:s3:::NAME
  std::string prefix;  // "" = default YYYY/MM/dd/HH/
  std::optional<std::string> error_output_prefix;
  uint64_t buffer_size_bytes = 5ull << 20;  // SizeInMBs * 1 MiB
  int buffer_interval_seconds = 300;
  codecs::Compression compression = codecs::Compression::kUncompressed;
  std::string extension;    // FileExtension if set, else the compression's
  std::string time_zone;    // CustomTimeZone ("" = UTC)
  std::string role_arn;     // RoleARN (assumed with STS by remotes configured to)
  std::string kms_key_arn;  // EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN; "" = none
  logs::LoggingOptions logging;  // CloudWatchLoggingOptions
};

struct DestinationSpec {
  S3DestinationSpec s3;
  // ProcessingConfiguration, when the description has one (enabled or not).
  std::optional<processing::ProcessingSpec> processing;
  // The backup's settings, present when S3BackupMode is Enabled.
  std::optional<S3DestinationSpec> backup;
  // The backup's CloudWatchLoggingOptions (S3BackupDescription), whatever the mode.
  logs::LoggingOptions backup_logging;

  bool processing_enabled() const { return processing && processing->enabled; }
  // The Lambda processor's LambdaArn when processing is enabled with one; "" otherwise.
  std::string LambdaArn() const { return processing ? processing->LambdaArn() : ""; }
};

// Reads a stored description (ExtendedS3DestinationDescription). Never fails:
// members that are absent, of another type or (BufferingHints) outside the
// service model's range read as their defaults.
DestinationSpec ParseDestinationSpec(const boost::json::object& stored);
// One S3 destination's settings (the description or its S3BackupDescription).
S3DestinationSpec ParseS3DestinationSpec(const boost::json::object& stored);

}  // namespace hydrant::api
