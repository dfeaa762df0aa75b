#include "server/firehose_api.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <unordered_map>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/destination_config.h"
#include "api/errors.h"
#include "api/put_records.h"
#include "api/validation.h"
#include "server/aws_json.h"

namespace hydrant::server {

namespace json = boost::json;
using api::ApiError;
using api::ApiResult;

namespace {

constexpr std::string_view kTargetPrefix = "Firehose_20150804.";

std::string NewRequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<uint32_t>(a >> 32),
                static_cast<uint32_t>(a >> 16) & 0xffff, static_cast<uint32_t>(a) & 0xfff,
                (static_cast<uint32_t>(b >> 48) & 0x3fff) | 0x8000,
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

// Latencies (<Operation>.Latency) are measured on the monotonic clock: they are
// durations, and the wall clock may step.
using Steady = std::chrono::steady_clock;

uint64_t MicrosSince(Steady::time_point t) {
  auto d = std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - t).count();
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

std::string Account(const stream::StreamRegistry& reg) { return reg.options().account_id; }

ApiError StreamNotFound(const stream::StreamRegistry& reg, std::string_view name) {
  return api::NotFound("Firehose " + std::string(name) + " under account " + Account(reg) +
                       " not found.");
}

double EpochSeconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

std::string Str(const json::object& o, std::string_view key, std::string_view def = "") {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->as_string());
  return std::string(def);
}

json::object DescribeStream(const stream::StreamMeta& m, const json::object& input) {
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
    dests.push_back(api::DescribeDestination(m.destination, m.destination_id));
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

}  // namespace

FirehoseApi::FirehoseApi(stream::StreamRegistry* registry) : registry_(registry) {}

bool FirehoseApi::IsFirehoseRequest(const http::Request& req) {
  return req.Header("X-Amz-Target").starts_with(kTargetPrefix);
}

std::string FirehoseApi::RequestId() { return NewRequestId(); }

void FirehoseApi::Handle(http::Request&& req, http::Respond respond) {
  const auto received = Steady::now();
  std::string rid = RequestId();
  if (req.method != "POST") {
    respond(AwsJsonError({"UnknownOperationException", "Firehose operations use POST /."}, rid));
    return;
  }
  std::string_view op = req.Header("X-Amz-Target").substr(kTargetPrefix.size());
  if (op == "PutRecord" || op == "PutRecordBatch") {
    return PutRecords(op, std::move(req), std::move(respond));
  }

  boost::system::error_code ec;
  json::value body = req.body.empty() ? json::value(json::object()) : json::parse(req.body, ec);
  if (ec) {
    respond(AwsJsonError(api::SerializationError("The request body is not valid JSON: " + ec.message()), rid));
    return;
  }
  if (!body.is_object()) {
    if (auto err = api::ValidateRequest(op, body)) respond(AwsJsonError(*err, rid));
    else respond(AwsJsonError(api::SerializationError("The request body must be a JSON object."), rid));
    return;
  }
  json::object& in = body.as_object();
  static const std::unordered_map<std::string_view, int> kOps = {
      {"CreateDeliveryStream", 0},      {"DescribeDeliveryStream", 1},
      {"ListDeliveryStreams", 2},       {"DeleteDeliveryStream", 3},
      {"UpdateDestination", 4},         {"TagDeliveryStream", 5},
      {"UntagDeliveryStream", 6},       {"ListTagsForDeliveryStream", 7},
      {"StartDeliveryStreamEncryption", 8}, {"StopDeliveryStreamEncryption", 9}};
  auto it = kOps.find(op);
  if (it == kOps.end()) {
    respond(AwsJsonError({"UnknownOperationException",
                           "Unknown operation Firehose_20150804." + std::string(op) + "."},
                          rid));
    return;
  }
  if (auto err = api::ValidateRequest(op, in)) {
    respond(AwsJsonError(*err, rid));
    return;
  }
  auto& reg = *registry_;
  const int64_t now = reg.clock().NowMillis();
  const std::string name = Str(in, "DeliveryStreamName");
  ApiResult<json::object> result = json::object();
  // Every operation but Create, List and Delete works on an existing stream.
  std::shared_ptr<stream::DeliveryStream> s;
  if (it->second == 1 || it->second >= 4) {
    s = reg.Get(name);
    if (!s) {
      respond(AwsJsonError(StreamNotFound(reg, name), rid));
      return;
    }
  }

  switch (it->second) {
    case 0: {  // CreateDeliveryStream
      std::string type = Str(in, "DeliveryStreamType", "DirectPut");
      if (auto e = api::CheckSourceConfiguration(in)) {
        result = *e;
        break;
      }
      if (type != "DirectPut") {
        result = api::InvalidArgument("DeliveryStreamType " + type +
                                      " is not supported by hydrant yet; use DirectPut.");
        break;
      }
      auto dest = api::DestinationFromCreate(in);
      if (auto* e = std::get_if<ApiError>(&dest)) {
        result = *e;
        break;
      }
      if (auto e = api::CheckRunnable(std::get<json::object>(dest))) {
        result = *e;
        break;
      }
      stream::StreamMeta m;
      m.name = name;
      m.arn = stream::StreamArn(reg.options().region, reg.options().account_id, name);
      m.type = type;
      m.create_ms = now;
      m.destination = std::move(std::get<json::object>(dest));
      if (auto* src = in.if_contains("DirectPutSourceConfiguration"); src && src->is_object()) {
        json::object dp;
        if (auto* t = src->as_object().if_contains("ThroughputHintInMBs")) dp["ThroughputHintInMBs"] = *t;
        m.source["DirectPutSourceDescription"] = std::move(dp);
      }
      json::object enc;
      if (auto* e = in.if_contains("DeliveryStreamEncryptionConfigurationInput"); e && e->is_object()) {
        const auto& eo = e->as_object();
        std::string kt = Str(eo, "KeyType");
        if (eo.contains("KeyARN")) enc["KeyARN"] = eo.at("KeyARN");
        enc["KeyType"] = kt;
        enc["Status"] = "ENABLED";
      } else {
        enc["Status"] = "DISABLED";
      }
      m.encryption = std::move(enc);
      if (auto* tags = in.if_contains("Tags")) MergeTags(*tags, &m.tags);
      {
        std::random_device rd;
        char buf[33];
        std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
        m.incarnation = buf;
      }
      std::string arn = m.arn;
      Status st = reg.Create(std::move(m));
      if (st.code() == StatusCode::kAlreadyExists) {
        result = api::InUse("Firehose " + name + " under account " + Account(reg) + " already exists.");
      } else if (st.code() == StatusCode::kResourceExhausted) {
        result = api::LimitExceeded("You have already consumed your limit of " +
                                    std::to_string(reg.options().max_streams) + " Firehose streams.");
      } else if (!st.ok()) {
        spdlog::error("stream={} event=create_failed error=\"{}\"", name, st.ToString());
        result = ApiError{"InternalFailure", "Could not create the stream: " + st.message()};
      } else {
        spdlog::info("stream={} event=created", name);
        result = json::object{{"DeliveryStreamARN", arn}};
      }
      break;
    }
    case 1: {  // DescribeDeliveryStream
      result = json::object{{"DeliveryStreamDescription", DescribeStream(s->Meta(), in)}};
      break;
    }
    case 2: {  // ListDeliveryStreams
      int64_t limit = 10;
      if (auto* l = in.if_contains("Limit"); l && l->is_int64()) limit = l->as_int64();
      std::string type = Str(in, "DeliveryStreamType");
      std::string start = Str(in, "ExclusiveStartDeliveryStreamName");
      json::array names;
      bool more = false;
      for (const auto& m : reg.List()) {
        if (!type.empty() && m.type != type) continue;
        if (!start.empty() && m.name <= start) continue;
        if (static_cast<int64_t>(names.size()) >= limit) {
          more = true;
          break;
        }
        names.push_back(json::string(m.name));
      }
      result = json::object{{"DeliveryStreamNames", std::move(names)}, {"HasMoreDeliveryStreams", more}};
      break;
    }
    case 3: {  // DeleteDeliveryStream
      Status st = reg.Delete(name);
      if (st.code() == StatusCode::kNotFound) {
        result = StreamNotFound(reg, name);
      } else if (!st.ok()) {
        spdlog::error("stream={} event=delete_failed error=\"{}\"", name, st.ToString());
        result = ApiError{"InternalFailure", "Could not delete the stream's data: " + st.message()};
      } else {
        spdlog::info("stream={} event=deleted", name);
      }
      break;
    }
    case 4: {  // UpdateDestination
      auto update_lock = s->LockForUpdate();
      stream::StreamMeta m = s->Meta();
      std::string cur = Str(in, "CurrentDeliveryStreamVersionId");
      if (cur != std::to_string(m.version_id)) {
        result = api::ConcurrentModification(
            "Cannot update Firehose " + name + " because CurrentDeliveryStreamVersionId " + cur +
            " is not the current version " + std::to_string(m.version_id) +
            "; describe the stream again and retry with its VersionId.");
        break;
      }
      std::string did = Str(in, "DestinationId");
      if (did != m.destination_id) {
        result = api::InvalidArgument("Destination " + did + " not found in Firehose " + name +
                                      "; its destination is " + m.destination_id + ".");
        break;
      }
      auto dest = api::DestinationFromUpdate(m.destination, in);
      if (auto* e = std::get_if<ApiError>(&dest)) {
        result = *e;
        break;
      }
      if (auto e = api::CheckRunnable(std::get<json::object>(dest))) {
        result = *e;
        break;
      }
      auto& nd = std::get<json::object>(dest);
      if (nd != m.destination) {
        m.destination = std::move(nd);
        m.version_id += 1;
        m.last_update_ms = now;
        Status st = s->SetMeta(std::move(m));
        if (!st.ok()) {
          result = ApiError{"InternalFailure", "Could not save the update: " + st.message()};
          break;
        }
        spdlog::info("stream={} event=destination_updated", name);
      }
      break;
    }
    case 5: {  // TagDeliveryStream
      auto update_lock = s->LockForUpdate();
      stream::StreamMeta m = s->Meta();
      MergeTags(in.at("Tags"), &m.tags);
      if (m.tags.size() > 50) {
        result = api::LimitExceeded("A Firehose stream can have at most 50 tags; this request would give " +
                                    name + " " + std::to_string(m.tags.size()) + ".");
        break;
      }
      if (Status st = s->SetMeta(std::move(m)); !st.ok()) {
        result = ApiError{"InternalFailure", st.message()};
      }
      break;
    }
    case 6: {  // UntagDeliveryStream
      auto update_lock = s->LockForUpdate();
      stream::StreamMeta m = s->Meta();
      for (const auto& k : in.at("TagKeys").as_array()) {
        std::string key(k.as_string());
        std::erase_if(m.tags, [&](auto& p) { return p.first == key; });
      }
      if (Status st = s->SetMeta(std::move(m)); !st.ok()) {
        result = ApiError{"InternalFailure", st.message()};
      }
      break;
    }
    case 7: {  // ListTagsForDeliveryStream
      auto tags = s->Meta().tags;
      std::sort(tags.begin(), tags.end());
      int64_t limit = 50;
      if (auto* l = in.if_contains("Limit"); l && l->is_int64()) limit = l->as_int64();
      std::string start = Str(in, "ExclusiveStartTagKey");
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
      result = json::object{{"Tags", std::move(out)}, {"HasMoreTags", more}};
      break;
    }
    case 8:    // StartDeliveryStreamEncryption
    case 9: {  // StopDeliveryStreamEncryption
      auto update_lock = s->LockForUpdate();
      stream::StreamMeta m = s->Meta();
      json::object enc;
      if (it->second == 8) {
        json::object eo;
        if (auto* e = in.if_contains("DeliveryStreamEncryptionConfigurationInput"); e && e->is_object()) {
          eo = e->as_object();
        }
        std::string kt = Str(eo, "KeyType", "AWS_OWNED_CMK");
        if (auto err = api::CheckStreamEncryptionInput(eo)) {
          result = *err;
          break;
        }
        if (eo.contains("KeyARN")) enc["KeyARN"] = eo.at("KeyARN");
        enc["KeyType"] = kt;
        enc["Status"] = "ENABLED";
      } else {
        enc["Status"] = "DISABLED";
      }
      m.encryption = std::move(enc);
      if (Status st = s->SetMeta(std::move(m)); !st.ok()) {
        result = ApiError{"InternalFailure", st.message()};
      }
      break;
    }
  }
  http::Response response = std::holds_alternative<ApiError>(result)
                                ? AwsJsonError(std::get<ApiError>(result), rid)
                                : AwsJsonResponse(json::serialize(std::get<json::object>(result)), rid);
  // DescribeDeliveryStream, UpdateDeliveryStream (UpdateDestination) and
  // ListDeliveryStreams .Requests/.Latency; the others have no Firehose metric.
  stream::OperationProbe* op_probe = it->second == 1   ? &s->probe().describe
                                     : it->second == 4 ? &s->probe().update
                                     : it->second == 2 ? &reg.account_probe().list_delivery_streams
                                                       : nullptr;
  if (op_probe) op_probe->Record(MicrosSince(received));
  respond(std::move(response));
}

// The data plane: the body parsed, validated and decoded by api::PutRecordsParser
// (simdjson; base64 decoded into the parser's arena); one log append and one
// group-commit wait per request.
void FirehoseApi::PutRecords(std::string_view op, http::Request&& req, http::Respond respond) {
  const auto received = Steady::now();
  const std::string rid = RequestId();
  const bool batch = op == "PutRecordBatch";
  thread_local api::PutRecordsParser parser;
  api::PutRecordsInput input;
  if (auto e = parser.Parse(batch, req.body, &input)) {
    respond(AwsJsonError(*e, rid));
    return;
  }
  const auto& payloads = input.records;
  const size_t total = input.total_bytes;
  std::string sname(input.stream_name);
  auto s = registry_->Get(sname);
  if (!s) {
    respond(AwsJsonError(StreamNotFound(*registry_, sname), rid));
    return;
  }
  const bool encrypted = s->encrypted();
  const size_t n = payloads.size();
  int64_t arrival = registry_->clock().NowMillis();
  stream::DeliveryStream* target = s.get();
  target->Put(arrival, payloads,
         [respond = std::move(respond), rid, batch, n, total, encrypted, s, received, arrival,
          ids = api::RecordIdEncoder(s->incarnation()), sname](Result<uint64_t> r) {
           auto& probe = s->probe();
           (batch ? probe.put_record_batch : probe.put_record).Record(MicrosSince(received));
           if (!r.ok()) {
             probe.throttled_records.fetch_add(n, std::memory_order_relaxed);
             bool quota = r.status().code() == StatusCode::kResourceExhausted;
             std::string code = quota ? "ServiceUnavailableException" : "InternalFailure";
             std::string msg = quota ? "Slow down." : "Internal service failure.";
             if (!quota) {
               spdlog::error("stream={} event=put_failed error=\"{}\"", sname, r.status().ToString());
             }
             if (!batch) {
               respond(AwsJsonError({code, msg}, rid));
               return;
             }
             std::string out = "{\"FailedPutCount\":" + std::to_string(n) + ",\"Encrypted\":" +
                               (encrypted ? "true" : "false") + ",\"RequestResponses\":[";
             for (size_t i = 0; i < n; ++i) {
               out += i ? ",{" : "{";
               out += "\"ErrorCode\":\"" + code + "\",\"ErrorMessage\":\"" + msg + "\"}";
             }
             out += "]}";
             respond(AwsJsonResponse(std::move(out), rid));
             return;
           }
           probe.incoming_put_requests.fetch_add(1, std::memory_order_relaxed);
           probe.last_put_ms.store(arrival, std::memory_order_relaxed);
           probe.incoming_records.fetch_add(n, std::memory_order_relaxed);
           probe.incoming_bytes.fetch_add(total, std::memory_order_relaxed);
           if (batch) {
             probe.put_record_batch_records.fetch_add(n, std::memory_order_relaxed);
             probe.put_record_batch_bytes.fetch_add(total, std::memory_order_relaxed);
           } else {
             probe.put_record_bytes.fetch_add(total, std::memory_order_relaxed);
           }
           uint64_t first = *r;
           std::string out;
           if (!batch) {
             out = "{\"RecordId\":\"";
             ids.Append(first, &out);
             out += encrypted ? "\",\"Encrypted\":true}" : "\",\"Encrypted\":false}";
           } else {
             out.reserve(64 + n * 48);
             out = "{\"FailedPutCount\":0,\"Encrypted\":";
             out += encrypted ? "true" : "false";
             out += ",\"RequestResponses\":[";
             for (size_t i = 0; i < n; ++i) {
               out += i ? ",{\"RecordId\":\"" : "{\"RecordId\":\"";
               ids.Append(first + i, &out);
               out += "\"}";
             }
             out += "]}";
           }
           respond(AwsJsonResponse(std::move(out), rid));
         });
}

}  // namespace hydrant::server
