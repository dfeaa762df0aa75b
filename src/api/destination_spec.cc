#include "api/destination_spec.h"

#include <boost/json.hpp>

#include "api/json_fields.h"
#include "api/service_model.h"

namespace hydrant::api {

namespace json = boost::json;

namespace {

// An integer member within the range the service model gives its shape, or
// nullopt. Only a damaged or hand-edited stream.json holds one outside it, and
// every reader downstream (delivery deadlines, the doctor's lateness) assumes the
// range, so such a value reads as absent (the default) rather than as a
// deadline that overflows or a batch size that never fills.
std::optional<int64_t> GetIntIn(const json::object& o, const model::Shape& shape) {
  std::optional<int64_t> v = GetInt(o, shape.name);
  if (v && (*v < shape.min || *v > shape.max)) return std::nullopt;
  return v;
}

logs::LoggingOptions ParseLogging(const json::object& description) {
  logs::LoggingOptions l;
  if (const json::object* o = GetObject(description, "CloudWatchLoggingOptions")) {
    l.enabled = GetBool(*o, "Enabled").value_or(false);
    l.log_group_name = std::string(GetString(*o, "LogGroupName").value_or(""));
    l.log_stream_name = std::string(GetString(*o, "LogStreamName").value_or(""));
  }
  return l;
}

}  // namespace

S3DestinationSpec ParseS3DestinationSpec(const json::object& stored) {
  S3DestinationSpec c;
  std::string_view bucket_arn = GetString(stored, "BucketARN").value_or("");
  // arn:PARTITION:s3:::NAME for any partition (aws, aws-cn, aws-us-gov, ...).
  if (size_t pos = bucket_arn.find(":::"); pos != std::string_view::npos) {
    c.bucket = std::string(bucket_arn.substr(pos + 3));
  } else {
    c.bucket = std::string(bucket_arn);
  }
  c.prefix = std::string(GetString(stored, "Prefix").value_or(""));
  if (auto e = GetString(stored, "ErrorOutputPrefix")) c.error_output_prefix = std::string(*e);
  if (const json::object* hints = GetObject(stored, "BufferingHints")) {
    if (auto mb = GetIntIn(*hints, model::kSizeInMBs)) {
      c.buffer_size_bytes = static_cast<uint64_t>(*mb) << 20;
    }
    if (auto s = GetIntIn(*hints, model::kIntervalInSeconds)) {
      c.buffer_interval_seconds = static_cast<int>(*s);
    }
  }
  c.compression =
      codecs::ParseCompression(GetString(stored, "CompressionFormat").value_or("UNCOMPRESSED"))
          .value_or(codecs::Compression::kUncompressed);
  std::string_view ext = GetString(stored, "FileExtension").value_or("");
  c.extension =
      ext.empty() ? std::string(codecs::DefaultExtension(c.compression)) : std::string(ext);
  c.time_zone = std::string(GetString(stored, "CustomTimeZone").value_or(""));
  c.role_arn = std::string(GetString(stored, "RoleARN").value_or(""));
  if (const json::object* enc = GetObject(stored, "EncryptionConfiguration")) {
    if (const json::object* kms = GetObject(*enc, "KMSEncryptionConfig")) {
      c.kms_key_arn = std::string(GetString(*kms, "AWSKMSKeyARN").value_or(""));
    }
  }
  c.logging = ParseLogging(stored);
  return c;
}

DestinationSpec ParseDestinationSpec(const json::object& stored) {
  DestinationSpec d;
  d.s3 = ParseS3DestinationSpec(stored);
  // A ProcessingConfiguration of another type than an object is treated as absent,
  // as the delivery stream always did.
  if (const json::value* pc = stored.if_contains("ProcessingConfiguration"); pc && pc->is_object()) {
    d.processing = processing::ParseProcessingSpec(pc->as_object());
  }
  if (const json::object* backup = GetObject(stored, "S3BackupDescription")) {
    d.backup_logging = ParseLogging(*backup);
    if (GetString(stored, "S3BackupMode").value_or("") == "Enabled") {
      d.backup = ParseS3DestinationSpec(*backup);
    }
  }
  return d;
}

}  // namespace hydrant::api
