#include "stream/control_plane.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/destination_config.h"
#include "api/json_fields.h"
#include "stream/delivery_stream.h"
#include "stream/registry.h"

namespace hydrant::stream {

namespace json = boost::json;
using api::ApiError;

namespace {

double EpochSeconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

std::string Str(const json::object& o, std::string_view key, std::string_view def = "") {
  return std::string(api::GetString(o, key).value_or(def));
}

int64_t Limit(const json::object& in, int64_t def) {
  if (auto* l = in.if_contains("Limit"); l && l->is_int64()) return l->as_int64();
  return def;
}

json::object DescribeStream(const StreamMeta& m, const json::object& input) {
  json::object d;
  d["DeliveryStreamName"] = m.name;
  d["DeliveryStreamARN"] = m.arn;
  d["DeliveryStreamStatus"] = m.status;
  d["DeliveryStreamEncryptionConfiguration"] = m.encryption;
  d["DeliveryStreamType"] = m.type;
  d["VersionId"] = std::to_string(m.version_id);
  d["CreateTimestamp"] = EpochSeconds(m.create_ms);
  if (m.last_update_ms) d["LastUpdateTimestamp"] = EpochSeconds(m.last_update_ms);
  if (!m.source.empty()) d["Source"] = m.source;
  json::array dests;
  std::string start = Str(input, "ExclusiveStartDestinationId");
  if (start.empty() || start < m.destination_id) {
    dests.push_back(api::DescribeDestination(m.destination(), m.destination_id));
  }
  d["Destinations"] = std::move(dests);
  d["HasMoreDestinations"] = false;
  return d;
}

// Tags: a new key is added, an existing one overwritten (Create and TagDeliveryStream).
void MergeTags(const json::value& tags, std::vector<std::pair<std::string, std::string>>* out) {
  if (!tags.is_array()) return;
  for (const auto& t : tags.as_array()) {
    if (!t.is_object()) continue;
    std::string k = Str(t.as_object(), "Key"), v = Str(t.as_object(), "Value");
    auto ex = std::find_if(out->begin(), out->end(), [&](const auto& p) { return p.first == k; });
    if (ex != out->end()) {
      ex->second = std::move(v);
    } else {
      out->emplace_back(std::move(k), std::move(v));
    }
  }
}

// DeliveryStreamEncryptionConfiguration as Describe shows it, from an input's
// DeliveryStreamEncryptionConfigurationInput (`enabled`), or DISABLED.
json::object EncryptionDescription(const json::object* input) {
  json::object enc;
  if (input == nullptr) {
    enc["Status"] = "DISABLED";
    return enc;
  }
  if (input->contains("KeyARN")) enc["KeyARN"] = input->at("KeyARN");
  enc["KeyType"] = Str(*input, "KeyType", "AWS_OWNED_CMK");  // AWS's default
  enc["Status"] = "ENABLED";
  return enc;
}

// A random hex id that tells a re-created stream from its predecessor.
std::string NewIncarnation() {
  std::random_device rd;
  char buf[33];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return buf;
}



}  // namespace

ApiError InvalidKmsResource(const Status& st) {
  const std::string_view code = KmsErrorCode(st);
  return ApiError{"InvalidKMSResourceException",
                  "Firehose could not use the KMS key of the stream's encryption at rest: " +
                      st.message(),
                  std::string(code.empty() ? "KMS.KMSInternalException" : code)};
}

std::optional<ApiError> ControlPlane::CheckEncryptionAllowed(const StreamMeta& m) const {
  if (m.type != "DirectPut") {
    return api::InvalidArgument("Encryption is supported only for DirectPut delivery streams; " +
                                m.name + " is of type " + m.type + ".");
  }
  if (!registry_->options().log_keys) {
    return ApiError{"InvalidKMSResourceException", "This server has no KMS for encryption at rest."};
  }
  return std::nullopt;
}

ApiError StreamNotFound(std::string_view account_id, std::string_view name) {
  return api::NotFound("Firehose " + std::string(name) + " under account " +
                       std::string(account_id) + " not found.");
}

#define HYDRANT_FIND_STREAM(var, in)                                         \
  const std::string name = Str(in, "DeliveryStreamName");                    \
  std::shared_ptr<DeliveryStream> var = registry_->Get(name);                \
  if (!var) return StreamNotFound(registry_->options().account.account_id, name)

namespace {

// Every role a create or update request names: RoleARN members at any depth
// (destination, backup, source) and the processors' RoleArn parameters.
void CollectRoles(const json::value& v, std::vector<std::string>* out) {
  if (const json::object* o = v.if_object()) {
    const json::value* pname = o->if_contains("ParameterName");
    const json::value* pvalue = o->if_contains("ParameterValue");
    if (pname && pvalue && pname->is_string() && pvalue->is_string() &&
        pname->as_string() == "RoleArn") {
      out->emplace_back(pvalue->as_string());
    }
    for (const auto& [k, member] : *o) {
      if (k == "RoleARN" && member.is_string()) out->emplace_back(member.as_string());
      CollectRoles(member, out);
    }
  } else if (const json::array* a = v.if_array()) {
    for (const auto& e : *a) CollectRoles(e, out);
  }
}

}  // namespace

// Firehose assumes each role when it is given (InvalidArgumentException, with
// Firehose's message, when it cannot).
std::optional<ApiError> ControlPlane::CheckRoles(const json::object& in) const {
  const auto& check = registry_->options().role_check;
  if (!check) return std::nullopt;
  std::vector<std::string> roles;
  CollectRoles(in, &roles);
  for (const std::string& arn : roles) {
    Status st = check(arn);
    if (!st.ok()) {
      return api::InvalidArgument("Firehose is unable to assume role " + arn +
                                  ". Please check the role provided.");
    }
  }
  return std::nullopt;
}

ControlPlane::Result ControlPlane::CreateDeliveryStream(const json::object& in) {
  auto& reg = *registry_;
  const std::string name = Str(in, "DeliveryStreamName");
  const std::string type = Str(in, "DeliveryStreamType", "DirectPut");
  if (auto e = api::CheckSourceConfiguration(in)) return *e;
  if (type != "DirectPut" && type != kKinesisSourceType) {
    return api::InvalidArgument("DeliveryStreamType " + type +
                                " is not supported by hydrant; use DirectPut or KinesisStreamAsSource.");
  }
  auto dest = api::DestinationFromCreate(in);
  if (auto* e = std::get_if<ApiError>(&dest)) return *e;
  if (auto e = api::CheckRunnable(std::get<json::object>(dest))) return *e;
  if (auto e = CheckRoles(in)) return *e;
  const AccountContext& account = reg.options().account;
  StreamMeta m;
  m.name = name;
  m.arn = StreamArn(account, name);
  m.type = type;
  m.create_ms = reg.clock().NowMillis();
  m.SetDestination(std::move(std::get<json::object>(dest)));
  if (const json::object* src = api::GetObject(in, "DirectPutSourceConfiguration")) {
    json::object dp;
    if (auto* t = src->if_contains("ThroughputHintInMBs")) dp["ThroughputHintInMBs"] = *t;
    m.source["DirectPutSourceDescription"] = std::move(dp);
  }
  if (const json::object* src = api::GetObject(in, "KinesisStreamSourceConfiguration")) {
    const std::string stream_arn = Str(*src, "KinesisStreamARN");
    // The stream must be readable now, as AWS checks it (docs/kinesis.md).
    if (const auto& check = reg.options().kinesis_source_check) {
      if (Status st = check(stream_arn); !st.ok()) {
        return api::InvalidArgument("Firehose cannot read the Kinesis stream " + stream_arn + ": " +
                                    st.message());
      }
    }
    json::object ks;
    ks["KinesisStreamARN"] = stream_arn;
    ks["RoleARN"] = Str(*src, "RoleARN");
    ks["DeliveryStartTimestamp"] = static_cast<double>(m.create_ms) / 1000.0;
    m.source["KinesisStreamSourceDescription"] = std::move(ks);
  }
  const json::object* enc_input = api::GetObject(in, "DeliveryStreamEncryptionConfigurationInput");
  m.encryption = EncryptionDescription(enc_input);
  if (enc_input) {
    if (auto err = CheckEncryptionAllowed(m)) return *err;
    // The key must be usable now (InvalidKMSResourceException), as AWS checks.
    const std::string key = KeyAtRest(m.encryption);
    if (auto arn = reg.options().log_keys->ResolveKey(key); !arn.ok()) {
      return InvalidKmsResource(arn.status());
    }
    m.key_at_rest = key;
  }
  if (auto* tags = in.if_contains("Tags")) MergeTags(*tags, &m.tags);
  m.incarnation = NewIncarnation();
  std::string arn = m.arn;
  Status st = reg.Create(std::move(m));
  if (st.code() == StatusCode::kAlreadyExists) {
    return api::InUse("Firehose " + name + " under account " + account.account_id +
                      " already exists.");
  }
  if (st.code() == StatusCode::kResourceExhausted) {
    return api::LimitExceeded("You have already consumed your limit of " +
                              std::to_string(reg.options().max_streams) + " Firehose streams.");
  }
  if (!st.ok()) {
    spdlog::error("stream={} event=create_failed error=\"{}\"", name, st.ToString());
    return ApiError{"InternalFailure", "Could not create the stream: " + st.message()};
  }
  spdlog::info("stream={} event=created", name);
  return json::object{{"DeliveryStreamARN", arn}};
}

ControlPlane::Result ControlPlane::DescribeDeliveryStream(const json::object& in) {
  HYDRANT_FIND_STREAM(s, in);
  return json::object{{"DeliveryStreamDescription", DescribeStream(s->Meta(), in)}};
}

ControlPlane::Result ControlPlane::ListDeliveryStreams(const json::object& in) {
  const int64_t limit = Limit(in, 10);
  const std::string type = Str(in, "DeliveryStreamType");
  const std::string start = Str(in, "ExclusiveStartDeliveryStreamName");
  json::array names;
  bool more = false;
  for (const auto& m : registry_->List()) {
    if (!type.empty() && m.type != type) continue;
    if (!start.empty() && m.name <= start) continue;
    if (static_cast<int64_t>(names.size()) >= limit) {
      more = true;
      break;
    }
    names.push_back(json::string(m.name));
  }
  return json::object{{"DeliveryStreamNames", std::move(names)}, {"HasMoreDeliveryStreams", more}};
}

ControlPlane::Result ControlPlane::DeleteDeliveryStream(const json::object& in) {
  const std::string name = Str(in, "DeliveryStreamName");
  Status st = registry_->Delete(name);
  if (st.code() == StatusCode::kNotFound) {
    return StreamNotFound(registry_->options().account.account_id, name);
  }
  if (!st.ok()) {
    spdlog::error("stream={} event=delete_failed error=\"{}\"", name, st.ToString());
    return ApiError{"InternalFailure", "Could not delete the stream's data: " + st.message()};
  }
  spdlog::info("stream={} event=deleted", name);
  return json::object();
}

ControlPlane::Result ControlPlane::UpdateDestination(const json::object& in) {
  HYDRANT_FIND_STREAM(s, in);
  auto update_lock = s->LockForUpdate();
  StreamMeta m = s->Meta();
  std::string cur = Str(in, "CurrentDeliveryStreamVersionId");
  if (cur != std::to_string(m.version_id)) {
    return api::ConcurrentModification(
        "Cannot update Firehose " + name + " because CurrentDeliveryStreamVersionId " + cur +
        " is not the current version " + std::to_string(m.version_id) +
        "; describe the stream again and retry with its VersionId.");
  }
  std::string did = Str(in, "DestinationId");
  if (did != m.destination_id) {
    return api::InvalidArgument("Destination " + did + " not found in Firehose " + name +
                                "; its destination is " + m.destination_id + ".");
  }
  auto dest = api::DestinationFromUpdate(m.destination(), in);
  if (auto* e = std::get_if<ApiError>(&dest)) return *e;
  if (auto e = api::CheckRunnable(std::get<json::object>(dest))) return *e;
  if (auto e = CheckRoles(in)) return *e;
  auto& nd = std::get<json::object>(dest);
  if (nd == m.destination()) return json::object();
  m.SetDestination(std::move(nd));
  m.version_id += 1;
  m.last_update_ms = registry_->clock().NowMillis();
  if (Status st = s->SetMeta(std::move(m)); !st.ok()) {
    if (st.code() == StatusCode::kNotFound) return SaveFailed(st, name);
    return ApiError{"InternalFailure", "Could not save the update: " + st.message()};
  }
  spdlog::info("stream={} event=destination_updated", name);
  return json::object();
}

ControlPlane::Result ControlPlane::TagDeliveryStream(const json::object& in) {
  HYDRANT_FIND_STREAM(s, in);
  auto update_lock = s->LockForUpdate();
  StreamMeta m = s->Meta();
  MergeTags(in.at("Tags"), &m.tags);
  if (m.tags.size() > 50) {
    return api::LimitExceeded("A Firehose stream can have at most 50 tags; this request would give " +
                              name + " " + std::to_string(m.tags.size()) + ".");
  }
  if (Status st = s->SetMeta(std::move(m)); !st.ok()) return SaveFailed(st, name);
  return json::object();
}

ControlPlane::Result ControlPlane::UntagDeliveryStream(const json::object& in) {
  HYDRANT_FIND_STREAM(s, in);
  auto update_lock = s->LockForUpdate();
  StreamMeta m = s->Meta();
  for (const auto& k : in.at("TagKeys").as_array()) {
    std::string key(k.as_string());
    std::erase_if(m.tags, [&](auto& p) { return p.first == key; });
  }
  if (Status st = s->SetMeta(std::move(m)); !st.ok()) return SaveFailed(st, name);
  return json::object();
}

ControlPlane::Result ControlPlane::ListTagsForDeliveryStream(const json::object& in) {
  HYDRANT_FIND_STREAM(s, in);
  auto tags = s->Meta().tags;
  std::sort(tags.begin(), tags.end());
  const int64_t limit = Limit(in, 50);
  const std::string start = Str(in, "ExclusiveStartTagKey");
  json::array out;
  bool more = false;
  for (const auto& [k, v] : tags) {
    if (!start.empty() && k <= start) continue;
    if (static_cast<int64_t>(out.size()) >= limit) {
      more = true;
      break;
    }
    out.push_back(json::object{{"Key", k}, {"Value", v}});
  }
  return json::object{{"Tags", std::move(out)}, {"HasMoreTags", more}};
}

ControlPlane::Result ControlPlane::StartDeliveryStreamEncryption(const json::object& in) {
  HYDRANT_FIND_STREAM(s, in);
  auto update_lock = s->LockForUpdate();
  static const json::object kNoInput;
  const json::object* eo = api::GetObject(in, "DeliveryStreamEncryptionConfigurationInput");
  if (eo == nullptr) eo = &kNoInput;
  if (auto err = api::CheckStreamEncryptionInput(*eo)) return *err;
  if (auto err = CheckEncryptionAllowed(s->Meta())) return *err;
  // Asynchronous in AWS: ENABLING, then ENABLED or ENABLING_FAILED (Describe).
  // Here the change is made before the answer; a crash in between is finished
  // at the next start.
  const json::object enabled = EncryptionDescription(eo);
  if (Status st = s->ChangeEncryption(&enabled); !st.ok()) return SaveFailed(st, name);
  return json::object();
}

ControlPlane::Result ControlPlane::StopDeliveryStreamEncryption(const json::object& in) {
  HYDRANT_FIND_STREAM(s, in);
  auto update_lock = s->LockForUpdate();
  if (auto err = CheckEncryptionAllowed(s->Meta())) return *err;
  if (Status st = s->ChangeEncryption(nullptr); !st.ok()) return SaveFailed(st, name);
  return json::object();
}

#undef HYDRANT_FIND_STREAM

ApiError ControlPlane::SaveFailed(const Status& st, std::string_view name) const {
  if (st.code() == StatusCode::kNotFound) {  // deleted meanwhile: as if it had been gone
    return StreamNotFound(registry_->options().account.account_id, name);
  }
  return ApiError{"InternalFailure", st.message()};
}

OperationProbe* ControlPlane::ProbeFor(std::string_view operation, const json::object& in) {
  if (operation == "ListDeliveryStreams") return &registry_->account_probe().list_delivery_streams;
  const bool per_stream = operation == "DescribeDeliveryStream" || operation == "UpdateDestination";
  if (!per_stream) return nullptr;
  auto s = registry_->Get(Str(in, "DeliveryStreamName"));
  if (!s) return nullptr;
  return operation == "UpdateDestination" ? &s->probe().update : &s->probe().describe;
}

}  // namespace hydrant::stream
