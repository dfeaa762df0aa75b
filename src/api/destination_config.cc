#include "api/destination_config.h"

#include "processing/processor.h"

#include <set>
#include <utility>

#include <boost/json.hpp>

#include "api/json_fields.h"
#include "destinations/naming.h"

namespace hydrant::api {
namespace {

namespace json = boost::json;

// Every destination member of CreateDeliveryStream / UpdateDestination, in model order.
constexpr std::string_view kDestinationConfigurations[] = {
    "S3DestinationConfiguration",
    "ExtendedS3DestinationConfiguration",
    "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration",
    "AmazonopensearchserviceDestinationConfiguration",
    "SplunkDestinationConfiguration",
    "HttpEndpointDestinationConfiguration",
    "AmazonOpenSearchServerlessDestinationConfiguration",
    "SnowflakeDestinationConfiguration",
    "IcebergDestinationConfiguration",
};
constexpr std::string_view kDestinationUpdates[] = {
    "S3DestinationUpdate",
    "ExtendedS3DestinationUpdate",
    "RedshiftDestinationUpdate",
    "ElasticsearchDestinationUpdate",
    "AmazonopensearchserviceDestinationUpdate",
    "SplunkDestinationUpdate",
    "HttpEndpointDestinationUpdate",
    "AmazonOpenSearchServerlessDestinationUpdate",
    "SnowflakeDestinationUpdate",
    "IcebergDestinationUpdate",
};

// The members S3DestinationConfiguration/Update and S3DestinationDescription share.
constexpr std::string_view kS3Scalars[] = {"RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix",
                                           "CompressionFormat"};

constexpr int64_t kDefaultSizeInMBs = 5;
constexpr int64_t kDefaultIntervalInSeconds = 300;

// Lambda processor parameters Describe always shows, in the order it shows them,
// with their defaults ("" = the destination's RoleARN).
struct LambdaDefault {
  std::string_view name;
  std::string_view value;
};
constexpr LambdaDefault kLambdaDefaults[] = {
    {"LambdaArn", ""},        {"NumberOfRetries", "3"},          {"RoleArn", ""},
    {"BufferSizeInMBs", "3"}, {"BufferIntervalInSeconds", "60"},
};


// Deep merge for the structures AWS merges member by member: objects merge
// recursively, anything else in `update` replaces.
void DeepMerge(json::object& into, const json::object& update) {
  for (const auto& kv : update) {
    if (kv.value().is_null()) continue;
    json::value* cur = into.if_contains(kv.key());
    if (cur != nullptr && cur->is_object() && kv.value().is_object()) {
      DeepMerge(cur->get_object(), kv.value().get_object());
    } else {
      into[kv.key()] = kv.value();
    }
  }
}

// --- Canonical (Describe) forms --------------------------------------------

json::object CanonicalBufferingHints(const json::object* hints) {
  json::object out;
  out["SizeInMBs"] =
      hints ? GetInt(*hints, "SizeInMBs").value_or(kDefaultSizeInMBs) : kDefaultSizeInMBs;
  out["IntervalInSeconds"] =
      hints ? GetInt(*hints, "IntervalInSeconds").value_or(kDefaultIntervalInSeconds)
            : kDefaultIntervalInSeconds;
  return out;
}

json::object CanonicalEncryption(const json::object* enc) {
  json::object out;
  const json::object* kms = enc ? GetObject(*enc, "KMSEncryptionConfig") : nullptr;
  if (kms != nullptr) {
    json::object k;
    k["AWSKMSKeyARN"] = std::string(GetString(*kms, "AWSKMSKeyARN").value_or(""));
    out["KMSEncryptionConfig"] = std::move(k);
  } else {
    out["NoEncryptionConfig"] = "NoEncryption";
  }
  return out;
}

json::object CanonicalLogging(const json::object* logging) {
  json::object out;
  out["Enabled"] = logging ? GetBool(*logging, "Enabled").value_or(false) : false;
  if (logging) {
    for (std::string_view k : {"LogGroupName", "LogStreamName"}) {
      if (auto s = GetString(*logging, k)) out[k] = *s;
    }
  }
  return out;
}

// S3DestinationDescription: the S3 members, defaults filled.
json::object CanonicalS3(const json::object& f) {
  json::object out;
  for (std::string_view k : {"RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix"}) {
    if (auto s = GetString(f, k)) out[k] = *s;
  }
  out["BufferingHints"] = CanonicalBufferingHints(GetObject(f, "BufferingHints"));
  out["CompressionFormat"] = GetString(f, "CompressionFormat").value_or("UNCOMPRESSED");
  out["EncryptionConfiguration"] = CanonicalEncryption(GetObject(f, "EncryptionConfiguration"));
  out["CloudWatchLoggingOptions"] = CanonicalLogging(GetObject(f, "CloudWatchLoggingOptions"));
  return out;
}

json::object CanonicalProcessor(const json::object& p, std::string_view role_arn) {
  json::object out;
  std::string_view type = GetString(p, "Type").value_or("");
  out["Type"] = type;
  const json::value* params_v = GetMember(p, "Parameters");
  const json::array* params = params_v && params_v->is_array() ? &params_v->get_array() : nullptr;
  if (type != "Lambda") {
    if (params) out["Parameters"] = *params;
    return out;
  }
  auto find = [&](std::string_view name) -> std::optional<std::string_view> {
    if (!params) return std::nullopt;
    for (const json::value& e : *params) {
      if (!e.is_object()) continue;
      if (GetString(e.get_object(), "ParameterName") == name) {
        return GetString(e.get_object(), "ParameterValue");
      }
    }
    return std::nullopt;
  };
  auto param = [](std::string_view name, std::string_view value) {
    json::object o;
    o["ParameterName"] = name;
    o["ParameterValue"] = value;
    return o;
  };
  json::array out_params;
  for (const LambdaDefault& d : kLambdaDefaults) {
    std::optional<std::string_view> v = find(d.name);
    if (!v) {
      if (d.name == "LambdaArn") continue;  // required; rejected by CheckProcessing
      v = d.name == "RoleArn" ? role_arn : d.value;
    }
    out_params.push_back(param(d.name, *v));
  }
  if (params) {
    for (const json::value& e : *params) {
      if (!e.is_object()) continue;
      std::string_view name = GetString(e.get_object(), "ParameterName").value_or("");
      bool known = false;
      for (const LambdaDefault& d : kLambdaDefaults) known = known || d.name == name;
      if (!known) out_params.push_back(e);
    }
  }
  out["Parameters"] = std::move(out_params);
  return out;
}

json::object CanonicalProcessing(const json::object& pc, std::string_view role_arn) {
  json::object out;
  out["Enabled"] = GetBool(pc, "Enabled").value_or(false);
  if (const json::value* procs = GetMember(pc, "Processors"); procs && procs->is_array()) {
    json::array list;
    for (const json::value& p : procs->get_array()) {
      if (p.is_object()) list.push_back(CanonicalProcessor(p.get_object(), role_arn));
    }
    out["Processors"] = std::move(list);
  }
  return out;
}

// ExtendedS3DestinationDescription from merged fields. `f` may hold
// S3BackupDescription (raw or canonical fields of the backup destination).
json::object CanonicalExtended(const json::object& f) {
  json::object out = CanonicalS3(f);
  // Re-insert in model order: the S3 members, then the extended ones.
  std::string_view role = GetString(f, "RoleARN").value_or("");
  if (const json::object* pc = GetObject(f, "ProcessingConfiguration")) {
    out["ProcessingConfiguration"] = CanonicalProcessing(*pc, role);
  }
  std::string_view mode = GetString(f, "S3BackupMode").value_or("Disabled");
  out["S3BackupMode"] = mode;
  if (mode == "Enabled") {
    if (const json::object* backup = GetObject(f, "S3BackupDescription")) {
      out["S3BackupDescription"] = CanonicalS3(*backup);
    }
  }
  for (std::string_view k :
       {"DataFormatConversionConfiguration", "DynamicPartitioningConfiguration"}) {
    if (const json::object* o = GetObject(f, k)) out[k] = *o;
  }
  for (std::string_view k : {"FileExtension", "CustomTimeZone"}) {
    if (auto s = GetString(f, k)) out[k] = *s;
  }
  return out;
}

// --- Semantic rules --------------------------------------------------------

// `where` names the structure in messages ("" for the main destination).
std::optional<ApiError> CheckBufferingHints(const json::object& c, std::string_view where) {
  const json::object* hints = GetObject(c, "BufferingHints");
  if (hints == nullptr) return std::nullopt;
  bool size = GetMember(*hints, "SizeInMBs") != nullptr;
  bool interval = GetMember(*hints, "IntervalInSeconds") != nullptr;
  if (size == interval) return std::nullopt;
  return InvalidArgument(std::string(where) +
                         "BufferingHints: if you specify a value for SizeInMBs, you must also "
                         "specify a value for IntervalInSeconds, and vice versa.");
}

std::optional<ApiError> CheckEncryption(const json::object& c, std::string_view where) {
  const json::object* enc = GetObject(c, "EncryptionConfiguration");
  if (enc == nullptr) return std::nullopt;
  if (GetMember(*enc, "NoEncryptionConfig") && GetMember(*enc, "KMSEncryptionConfig")) {
    return InvalidArgument(std::string(where) +
                           "EncryptionConfiguration: specify either NoEncryptionConfig or "
                           "KMSEncryptionConfig, not both.");
  }
  return std::nullopt;
}

// Rules on a structure as the caller gave it (before merging into defaults).
std::optional<ApiError> CheckInputS3Members(const json::object& c, std::string_view where) {
  if (auto err = CheckBufferingHints(c, where)) return err;
  return CheckEncryption(c, where);
}

std::optional<ApiError> CheckLogging(const json::object& d, std::string_view where) {
  const json::object* logging = GetObject(d, "CloudWatchLoggingOptions");
  if (logging == nullptr || !GetBool(*logging, "Enabled").value_or(false)) return std::nullopt;
  if (GetString(*logging, "LogGroupName").value_or("").empty() ||
      GetString(*logging, "LogStreamName").value_or("").empty()) {
    return InvalidArgument(std::string(where) +
                           "CloudWatchLoggingOptions: LogGroupName and LogStreamName are "
                           "required when Enabled is true.");
  }
  return std::nullopt;
}

std::optional<ApiError> CheckPrefixes(const json::object& d, std::string_view where) {
  std::string_view prefix = GetString(d, "Prefix").value_or("");
  std::optional<std::string_view> error_prefix = GetString(d, "ErrorOutputPrefix");
  if (auto msg = naming::ValidatePrefixes(prefix, error_prefix)) {
    return InvalidArgument(std::string(where) + *msg);
  }
  return std::nullopt;
}

std::optional<ApiError> CheckProcessing(const json::object& d) {
  const json::object* pc = GetObject(d, "ProcessingConfiguration");
  if (pc == nullptr) return std::nullopt;
  const json::value* procs = GetMember(*pc, "Processors");
  if (procs == nullptr || !procs->is_array()) return std::nullopt;
  int lambdas = 0;
  for (const json::value& p : procs->get_array()) {
    if (!p.is_object()) continue;
    const json::object& po = p.get_object();
    std::string_view type = GetString(po, "Type").value_or("");
    std::set<std::string_view> names;
    bool has_lambda_arn = false;
    if (const json::value* params = GetMember(po, "Parameters"); params && params->is_array()) {
      for (const json::value& e : params->get_array()) {
        if (!e.is_object()) continue;
        std::string_view name = GetString(e.get_object(), "ParameterName").value_or("");
        if (!names.insert(name).second) {
          return InvalidArgument("Processor parameter " + std::string(name) + " of the " +
                                 std::string(type) + " processor is specified more than once.");
        }
        has_lambda_arn = has_lambda_arn || name == "LambdaArn";
      }
    }
    if (type == "Lambda") {
      if (++lambdas > 1) {
        return InvalidArgument(
            "ProcessingConfiguration: only one Lambda processor is supported per delivery "
            "stream.");
      }
      if (!has_lambda_arn) {
        return InvalidArgument(
            "ProcessingConfiguration: a Lambda processor requires the "
            "LambdaArn parameter.");
      }
    }
  }
  return std::nullopt;
}

// Rules on the merged description (create and update alike). The processing rules
// are checked on the caller's ProcessingConfiguration instead, before Describe's
// canonical form (which fills and reorders parameters) could hide a duplicate.
std::optional<ApiError> CheckDescription(const json::object& d) {
  if (auto err = CheckPrefixes(d, "")) return err;
  if (auto err = CheckLogging(d, "")) return err;
  if (auto tz = GetString(d, "CustomTimeZone"); tz && !naming::IsKnownTimeZone(*tz)) {
    return InvalidArgument("CustomTimeZone '" + std::string(*tz) +
                           "' is not a known time zone (use an IANA name such as "
                           "America/New_York, or \"\" for UTC).");
  }
  if (const json::object* dp = GetObject(d, "DynamicPartitioningConfiguration");
      dp && GetBool(*dp, "Enabled").value_or(false)) {
    return InvalidArgument(
        "Dynamic partitioning is not supported by hydrant yet: "
        "DynamicPartitioningConfiguration.Enabled must be false or omitted.");
  }
  // The model documents Enabled as defaulting to true for format conversion.
  if (const json::object* fc = GetObject(d, "DataFormatConversionConfiguration");
      fc && GetBool(*fc, "Enabled").value_or(true)) {
    return InvalidArgument(
        "Data format conversion (JSON to Parquet/ORC) is not supported by hydrant: "
        "set DataFormatConversionConfiguration.Enabled to false or omit it.");
  }
  if (GetString(d, "S3BackupMode").value_or("Disabled") == "Enabled") {
    const json::object* backup = GetObject(d, "S3BackupDescription");
    if (backup == nullptr) {
      return InvalidArgument("S3BackupConfiguration is required when S3BackupMode is Enabled.");
    }
    if (auto err = CheckPrefixes(*backup, "S3 backup: ")) return err;
    if (auto err = CheckLogging(*backup, "S3 backup: ")) return err;
  }
  return std::nullopt;
}

std::optional<ApiError> UnsupportedDestination(std::string_view member) {
  return InvalidArgument(
      "hydrant supports only Amazon S3 destinations (ExtendedS3DestinationConfiguration or "
      "S3DestinationConfiguration); " +
      std::string(member) + " is not supported.");
}

std::optional<ApiError> Reject(std::string message) { return InvalidArgument(std::move(message)); }

// Applies the S3 members of an S3DestinationUpdate-shaped object onto fields `f`:
// scalars replace, BufferingHints and CloudWatchLoggingOptions merge member by
// member, EncryptionConfiguration (a union) is replaced whole.
void MergeS3Members(json::object& f, const json::object& u) {
  for (std::string_view k : kS3Scalars) {
    if (const json::value* v = GetMember(u, k)) f[k] = *v;
  }
  for (std::string_view k : {"BufferingHints", "CloudWatchLoggingOptions"}) {
    if (const json::object* o = GetObject(u, k)) {
      json::value& cur = f[k];
      if (!cur.is_object()) cur = json::object();
      DeepMerge(cur.get_object(), *o);
    }
  }
  if (const json::value* enc = GetMember(u, "EncryptionConfiguration")) {
    f["EncryptionConfiguration"] = *enc;
  }
}

}  // namespace

ApiResult<json::object> DestinationFromCreate(const json::object& create_input) {
  std::string_view chosen;
  int count = 0;
  for (std::string_view k : kDestinationConfigurations) {
    if (GetMember(create_input, k)) {
      ++count;
      chosen = k;
    }
  }
  if (count != 1) {
    return InvalidArgument("Exactly one destination configuration is supported for a Firehose");
  }
  if (chosen != "S3DestinationConfiguration" && chosen != "ExtendedS3DestinationConfiguration") {
    return *UnsupportedDestination(chosen);
  }
  const json::object& config = create_input.at(chosen).get_object();
  if (auto err = CheckInputS3Members(config, "")) return *err;
  if (auto err = CheckProcessing(config)) return *err;

  json::object fields;
  if (chosen == "S3DestinationConfiguration") {
    MergeS3Members(fields, config);
  } else {
    fields = config;
    fields.erase("S3BackupConfiguration");
    if (const json::object* backup = GetObject(config, "S3BackupConfiguration")) {
      if (auto err = CheckInputS3Members(*backup, "S3BackupConfiguration.")) return *err;
      // Kept only when backup is on: Describe shows S3BackupDescription only then.
      if (GetString(config, "S3BackupMode").value_or("Disabled") == "Enabled") {
        fields["S3BackupDescription"] = *backup;
      }
    }
  }
  json::object description = CanonicalExtended(fields);
  if (auto err = CheckDescription(description)) return *err;
  return description;
}

ApiResult<json::object> DestinationFromUpdate(const json::object& current,
                                              const json::object& update_input) {
  std::string_view chosen;
  int count = 0;
  for (std::string_view k : kDestinationUpdates) {
    if (GetMember(update_input, k)) {
      ++count;
      chosen = k;
    }
  }
  if (count != 1) {
    return InvalidArgument("Exactly one destination update is supported for a Firehose");
  }
  if (chosen != "S3DestinationUpdate" && chosen != "ExtendedS3DestinationUpdate") {
    return *UnsupportedDestination(chosen);
  }
  const json::object& update = update_input.at(chosen).get_object();
  if (auto err = CheckInputS3Members(update, "")) return *err;
  if (auto err = CheckProcessing(update)) return *err;  // replaces the stored one whole

  json::object fields = current;
  MergeS3Members(fields, update);
  if (chosen == "ExtendedS3DestinationUpdate") {
    // ProcessingConfiguration is replaced wholesale, as AWS does.
    if (const json::value* pc = GetMember(update, "ProcessingConfiguration")) {
      fields["ProcessingConfiguration"] = *pc;
    }
    for (std::string_view k : {"FileExtension", "CustomTimeZone"}) {
      if (const json::value* v = GetMember(update, k)) fields[k] = *v;
    }
    for (std::string_view k :
         {"DataFormatConversionConfiguration", "DynamicPartitioningConfiguration"}) {
      if (const json::object* o = GetObject(update, k)) {
        json::value& cur = fields[k];
        if (!cur.is_object()) cur = json::object();
        DeepMerge(cur.get_object(), *o);
      }
    }

    std::string_view old_mode = GetString(current, "S3BackupMode").value_or("Disabled");
    std::string_view new_mode = GetString(update, "S3BackupMode").value_or(old_mode);
    if (old_mode == "Enabled" && new_mode == "Disabled") {
      return InvalidArgument("Disabling S3 backup is not currently supported.");
    }
    fields["S3BackupMode"] = new_mode;
    if (const json::object* backup_update = GetObject(update, "S3BackupUpdate")) {
      if (auto err = CheckInputS3Members(*backup_update, "S3BackupUpdate.")) return *err;
      if (new_mode == "Enabled") {
        json::value& backup = fields["S3BackupDescription"];
        if (!backup.is_object()) backup = json::object();
        MergeS3Members(backup.get_object(), *backup_update);
      }
    }
    if (new_mode == "Enabled") {
      const json::object* backup = GetObject(fields, "S3BackupDescription");
      if (backup == nullptr || !GetString(*backup, "RoleARN") || !GetString(*backup, "BucketARN")) {
        return InvalidArgument(
            "Enabling S3 backup requires an S3BackupUpdate with RoleARN and BucketARN.");
      }
    }
  }
  json::object description = CanonicalExtended(fields);
  if (auto err = CheckDescription(description)) return *err;
  return description;
}

json::object DescribeDestination(const json::object& stored, std::string_view destination_id) {
  json::object out;
  out["DestinationId"] = destination_id;
  out["S3DestinationDescription"] = CanonicalS3(stored);
  out["ExtendedS3DestinationDescription"] = stored;
  return out;
}

std::optional<ApiError> CheckStreamEncryptionInput(const json::object& encryption_input) {
  std::string_view key_type = GetString(encryption_input, "KeyType").value_or("");
  bool has_key = GetString(encryption_input, "KeyARN").has_value();
  if (key_type == "CUSTOMER_MANAGED_CMK" && !has_key) {
    return Reject("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.");
  }
  if (key_type == "AWS_OWNED_CMK" && has_key) {
    return Reject("KeyARN must not be specified when KeyType is AWS_OWNED_CMK.");
  }
  return std::nullopt;
}

std::optional<ApiError> CheckSourceConfiguration(const json::object& create_input) {
  std::string_view type = GetString(create_input, "DeliveryStreamType").value_or("DirectPut");
  if (type == "MSKAsSource" || type == "DatabaseAsSource") {
    return Reject("DeliveryStreamType " + std::string(type) +
                  " is not supported by hydrant; use DirectPut or KinesisStreamAsSource.");
  }
  bool kinesis = type == "KinesisStreamAsSource";
  for (std::string_view k : {"MSKSourceConfiguration", "DatabaseSourceConfiguration"}) {
    if (GetMember(create_input, k)) {
      return Reject(std::string(k) + " is not supported by hydrant.");
    }
  }
  if (kinesis && !GetMember(create_input, "KinesisStreamSourceConfiguration")) {
    return Reject(
        "KinesisStreamSourceConfiguration is required when DeliveryStreamType is "
        "KinesisStreamAsSource.");
  }
  if (!kinesis && GetMember(create_input, "KinesisStreamSourceConfiguration")) {
    return Reject(
        "KinesisStreamSourceConfiguration is only valid when DeliveryStreamType is "
        "KinesisStreamAsSource.");
  }
  if (kinesis && GetMember(create_input, "DirectPutSourceConfiguration")) {
    return Reject(
        "DirectPutSourceConfiguration is only valid when DeliveryStreamType is DirectPut.");
  }
  if (const json::object* enc =
          GetObject(create_input, "DeliveryStreamEncryptionConfigurationInput")) {
    if (kinesis) {
      return Reject(
          "Server-side encryption can be configured only for DirectPut delivery streams; a "
          "KinesisStreamAsSource stream relies on the source stream's encryption.");
    }
    if (auto err = CheckStreamEncryptionInput(*enc)) return err;
  }
  return std::nullopt;
}

std::optional<ApiError> CheckRunnable(const json::object& description) {
  if (const json::object* pc = GetObject(description, "ProcessingConfiguration")) {
    Status st = processing::ValidateProcessingConfiguration(processing::ParseProcessingSpec(*pc));
    if (!st.ok()) return InvalidArgument("ProcessingConfiguration: " + st.message());
  }
  return std::nullopt;
}

}  // namespace hydrant::api
