#include "server/kinesis_api.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include <boost/json.hpp>

#include "api/cbor.h"
#include "api/kinesis_validation.h"
#include "common/base64.h"
#include "common/clock.h"
#include "common/request_id.h"
#include "kinesis/hash_key.h"
#include "kinesis/registry.h"
#include "kinesis/sequence_number.h"
#include "server/authorization.h"
#include "server/aws_json.h"

namespace hydrant::server {

namespace json = boost::json;
using api::ApiError;
using kinesis::HashKey;
using kinesis::KinesisStream;
using kinesis::ShardInfo;

namespace {

constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
constexpr int64_t kIteratorLifetimeMs = 300'000;
constexpr uint64_t kGetRecordsMaxBytes = 10ull << 20;
constexpr size_t kGetRecordsMaxRecords = 10000;
constexpr size_t kMaxTags = 50;
constexpr uint32_t kOnDemandShards = 4;

// Operations whose output shape is empty: answered with an empty body.
bool HasNoOutput(std::string_view op) {
  return op == "CreateStream" || op == "DeleteStream" || op == "IncreaseStreamRetentionPeriod" ||
         op == "DecreaseStreamRetentionPeriod" || op == "SplitShard" || op == "MergeShards" ||
         op == "AddTagsToStream" || op == "RemoveTagsFromStream";
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// "Thu Jan 22 01:22:02 UTC 2015", as Kinesis prints times in its messages.
std::string AmzUtc(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

const json::value* Member(const json::object& in, std::string_view name) {
  const json::value* v = in.if_contains(name);
  return v && !v->is_null() ? v : nullptr;
}

std::string Str(const json::object& in, std::string_view name) {
  const json::value* v = Member(in, name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<int64_t> Int(const json::object& in, std::string_view name) {
  const json::value* v = Member(in, name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(std::min<uint64_t>(v->as_uint64(), INT64_MAX));
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return std::nullopt;
}

std::optional<double> Number(const json::object& in, std::string_view name) {
  const json::value* v = Member(in, name);
  if (!v) return std::nullopt;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return std::nullopt;
}

// A shard id as Kinesis reads it: "shardId-000000000007", or anything with the
// index after a '-', or the bare index.
std::optional<uint32_t> ResolveShardId(std::string_view id) {
  const size_t dash = id.find('-');
  std::string_view digits = dash == std::string_view::npos ? id : id.substr(dash + 1);
  const size_t next = digits.find('-');
  if (next != std::string_view::npos) digits = digits.substr(0, next);
  if (digits.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > 2147483647) return std::nullopt;
  }
  if (v > 2147483647) return std::nullopt;
  return static_cast<uint32_t>(v);
}

ApiError FromStatus(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound:
      return api::NotFound(st.message());
    case StatusCode::kInvalidArgument:
      return api::InvalidArgument(st.message());
    case StatusCode::kResourceExhausted:
      return api::LimitExceeded(st.message());
    case StatusCode::kAlreadyExists:
      return api::InUse(st.message());
    default:
      return {"InternalFailure", "Internal service failure."};
  }
}

json::object HashRange(const ShardInfo& s) {
  json::object r;
  r["StartingHashKey"] = kinesis::HashKeyToString(s.start);
  r["EndingHashKey"] = kinesis::HashKeyToString(s.end);
  return r;
}

json::object ShardJson(const ShardInfo& s, int64_t epoch) {
  json::object o;
  o["ShardId"] = kinesis::ShardId(s.index);
  if (s.parent) o["ParentShardId"] = kinesis::ShardId(*s.parent);
  if (s.adjacent_parent) o["AdjacentParentShardId"] = kinesis::ShardId(*s.adjacent_parent);
  o["HashKeyRange"] = HashRange(s);
  json::object seq;
  seq["StartingSequenceNumber"] = kinesis::EncodeSequenceNumber({epoch, s.index, 0});
  if (!s.open()) {
    seq["EndingSequenceNumber"] =
        kinesis::EncodeSequenceNumber({epoch, s.index, s.end_seq > 0 ? s.end_seq - 1 : 0});
  }
  o["SequenceNumberRange"] = std::move(seq);
  return o;
}

json::object ModeJson(const std::string& mode) {
  json::object m;
  m["StreamMode"] = mode;
  return m;
}

json::array NoEnhancedMonitoring() {
  json::object e;
  e["ShardLevelMetrics"] = json::array();
  json::array a;
  a.push_back(std::move(e));
  return a;
}

// The children of a closed shard, as GetRecords lists them at its end.
json::array ChildShards(const kinesis::StreamMeta& m, uint32_t parent) {
  json::array out;
  for (const auto& s : m.shards) {
    if (s.parent != parent && s.adjacent_parent != parent) continue;
    json::object c;
    c["ShardId"] = kinesis::ShardId(s.index);
    json::array parents;
    if (s.parent) parents.push_back(json::value(kinesis::ShardId(*s.parent)));
    if (s.adjacent_parent) parents.push_back(json::value(kinesis::ShardId(*s.adjacent_parent)));
    c["ParentShards"] = std::move(parents);
    c["HashKeyRange"] = HashRange(s);
    out.push_back(std::move(c));
  }
  return out;
}

// The answer's encoding: JSON 1.1, or CBOR for a request sent in CBOR (the Java
// SDKs and the KCL; api/cbor.h), errors included, as the SDKs parse them.
struct Wire {
  bool cbor = false;
  std::string rid;

  http::Response Body(std::string body, int status) const {
    http::Response r = AwsJsonResponse(std::move(body), rid);
    r.status = status;
    if (cbor) r.SetHeader("Content-Type", std::string(api::cbor::kContentType));
    return r;
  }
  // An answer; `out` null: the operation has no output (an empty body).
  http::Response Ok(const json::object* out) const {
    if (!out) return Body(std::string(), 200);
    return Body(cbor ? api::cbor::FromJson(*out, api::cbor::kKinesisSchema) : json::serialize(*out),
                200);
  }
  // An error: {"__type","message"}; in JSON a SerializationException's text is
  // "Message" (capital M, as Kinesis writes it), and an error without text (an
  // unknown operation) has only "__type".
  http::Response Error(const ApiError& e) const {
    json::object o;
    o["__type"] = e.type;
    if (!e.message.empty()) {
      o[!cbor && e.type == "SerializationException" ? "Message" : "message"] = e.message;
    }
    http::Response r = Body(cbor ? api::cbor::FromJson(o, api::cbor::kKinesisSchema) : json::serialize(o),
                            e.http_status());
    r.headers.emplace_back("x-amzn-ErrorType", e.type + ":");
    return r;
  }
};

using Reply = api::ApiResult<json::object>;

// One request: its parsed input and what every operation needs.
class Call {
 public:
  Call(kinesis::KinesisRegistry* reg, const json::object& in)
      : reg_(reg), in_(in), account_(reg->options().account), now_(reg->clock().NowMillis()) {}

  // The stream the request names (StreamARN wins over StreamName).
  api::ApiResult<std::shared_ptr<KinesisStream>> Stream() const {
    std::string name = StreamName();
    if (name.empty()) {
      return api::InvalidArgument("Either StreamName or StreamARN should be provided.");
    }
    auto s = reg_->Get(name);
    if (!s) return NotFound(name);
    return s;
  }
  // The name from StreamARN (the part after "stream/", when the ARN is this
  // account's and region's) or StreamName.
  std::string StreamName() const {
    std::string arn = Str(in_, "StreamARN");
    if (!arn.empty()) {
      const std::string prefix = account_.Arn("kinesis", "stream/");
      return arn.starts_with(prefix) ? arn.substr(prefix.size()) : arn;
    }
    return Str(in_, "StreamName");
  }
  ApiError NotFound(const std::string& name) const {
    return api::NotFound("Stream " + name + " under account " + account_.account_id + " not found.");
  }
  ApiError NoShard(const std::string& shard, const std::string& stream) const {
    return api::NotFound("Shard " + shard + " in stream " + stream + " under account " +
                         account_.account_id + " does not exist");
  }
  ApiError CouldNotFindShard(const std::string& shard, const std::string& stream) const {
    return api::NotFound("Could not find shard " + shard + " in stream " + stream +
                         " under account " + account_.account_id + ".");
  }

  Reply CreateStream() {
    const std::string name = Str(in_, "StreamName");
    std::string mode = "PROVISIONED";
    if (const json::value* d = Member(in_, "StreamModeDetails"); d && d->is_object()) {
      mode = Str(d->as_object(), "StreamMode");
    }
    auto count = Int(in_, "ShardCount");
    if (mode == "ON_DEMAND") {
      if (count) {
        return api::InvalidArgument("ShardCount cannot be specified for streams in ON_DEMAND mode.");
      }
      count = kOnDemandShards;
    } else if (!count) {
      return api::InvalidArgument("ShardCount is required for streams in PROVISIONED mode.");
    }
    std::map<std::string, std::string> tags;
    if (const json::value* t = Member(in_, "Tags"); t && t->is_object()) {
      for (const auto& [k, v] : t->as_object()) {
        if (v.is_string()) tags[std::string(k)] = std::string(v.as_string());
      }
    }
    auto s = reg_->Create(name, static_cast<uint32_t>(*count), mode, tags);
    if (!s.ok()) return FromStatus(s.status());
    return json::object();
  }

  Reply DeleteStream() {
    const std::string name = StreamName();
    Status st = reg_->Delete(name);
    if (st.code() == StatusCode::kNotFound) return NotFound(name);
    if (!st.ok()) return FromStatus(st);
    return json::object();
  }

  Reply DescribeStream() {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    const auto m = std::get<0>(s)->meta();
    const int64_t limit = Int(in_, "Limit").value_or(100);
    const std::string start = Str(in_, "ExclusiveStartShardId");
    std::optional<uint32_t> after;
    if (!start.empty()) after = ResolveShardId(start);
    json::array shards;
    bool more = false;
    for (const auto& sh : m.shards) {
      if (after && sh.index <= *after) continue;
      if (static_cast<int64_t>(shards.size()) == limit) {
        more = true;
        break;
      }
      shards.push_back(ShardJson(sh, m.created_ms));
    }
    json::object d;
    d["StreamName"] = m.name;
    d["StreamARN"] = m.arn;
    d["StreamStatus"] = "ACTIVE";
    d["StreamModeDetails"] = ModeJson(m.mode);
    d["Shards"] = std::move(shards);
    d["HasMoreShards"] = more;
    d["RetentionPeriodHours"] = m.retention_hours;
    d["StreamCreationTimestamp"] = Seconds(m.created_ms);
    d["EnhancedMonitoring"] = NoEnhancedMonitoring();
    d["EncryptionType"] = "NONE";
    json::object out;
    out["StreamDescription"] = std::move(d);
    return out;
  }

  Reply DescribeStreamSummary() {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    const auto m = std::get<0>(s)->meta();
    json::object d;
    d["StreamName"] = m.name;
    d["StreamARN"] = m.arn;
    d["StreamStatus"] = "ACTIVE";
    d["StreamModeDetails"] = ModeJson(m.mode);
    d["RetentionPeriodHours"] = m.retention_hours;
    d["StreamCreationTimestamp"] = Seconds(m.created_ms);
    d["EnhancedMonitoring"] = NoEnhancedMonitoring();
    d["EncryptionType"] = "NONE";
    d["OpenShardCount"] = m.open_shards();
    d["ConsumerCount"] = 0;
    json::object out;
    out["StreamDescriptionSummary"] = std::move(d);
    return out;
  }

  Reply ListStreams() {
    const int64_t limit = Int(in_, "Limit").value_or(100);
    std::string after = Str(in_, "ExclusiveStartStreamName");
    if (const std::string token = Str(in_, "NextToken"); !token.empty()) {
      auto raw = base64::Decode(token);
      if (!raw) return api::InvalidArgument("Invalid NextToken.");
      after = *raw;
    }
    json::array names, summaries;
    bool more = false;
    std::string last;
    for (const auto& name : reg_->List()) {
      if (!after.empty() && name <= after) continue;
      if (static_cast<int64_t>(names.size()) == limit) {
        more = true;
        break;
      }
      auto s = reg_->Get(name);
      if (!s) continue;
      const auto m = s->meta();
      names.push_back(json::value(name));
      json::object sum;
      sum["StreamName"] = m.name;
      sum["StreamARN"] = m.arn;
      sum["StreamStatus"] = "ACTIVE";
      sum["StreamModeDetails"] = ModeJson(m.mode);
      sum["StreamCreationTimestamp"] = Seconds(m.created_ms);
      summaries.push_back(std::move(sum));
      last = name;
    }
    json::object out;
    out["StreamNames"] = std::move(names);
    out["HasMoreStreams"] = more;
    if (more) out["NextToken"] = base64::Encode(last);
    out["StreamSummaries"] = std::move(summaries);
    return out;
  }

  Reply ListShards() {
    const std::string token = Str(in_, "NextToken");
    const bool named = Member(in_, "StreamName") || Member(in_, "StreamARN");
    if (!named && token.empty()) {
      return api::InvalidArgument("Either NextToken or StreamName should be provided.");
    }
    if (named && !token.empty()) {
      return api::InvalidArgument("NextToken and StreamName cannot be provided together.");
    }
    // The token carries the stream, the last shard listed and the filter.
    json::object params = in_;
    if (!token.empty()) {
      auto raw = base64::Decode(token);
      boost::system::error_code ec;
      json::value v = raw ? json::parse(*raw, ec) : json::value();
      if (!raw || ec || !v.is_object()) return api::InvalidArgument("Invalid NextToken.");
      params = v.as_object();
      if (const auto* issued = params.if_contains("issued");
          issued && issued->is_int64() && now_ - issued->as_int64() > kIteratorLifetimeMs) {
        return ApiError{"ExpiredNextTokenException", "The requested token has expired."};
      }
    }
    Call inner(reg_, params);
    auto s = inner.Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    const auto m = std::get<0>(s)->meta();
    const int64_t limit = Int(in_, "MaxResults").value_or(1000);
    std::optional<uint32_t> after;
    if (auto start = Str(params, "ExclusiveStartShardId"); !start.empty()) after = ResolveShardId(start);
    std::string type;
    std::optional<int64_t> at_ms;
    if (const json::value* f = Member(params, "ShardFilter"); f && f->is_object()) {
      const json::object& fo = f->as_object();
      type = Str(fo, "Type");
      if (type == "AFTER_SHARD_ID") {
        auto id = ResolveShardId(Str(fo, "ShardId"));
        if (!id) return api::InvalidArgument("ShardId is required for the AFTER_SHARD_ID filter.");
        after = std::max(after.value_or(0), *id);
      }
      if (type == "AT_TIMESTAMP" || type == "FROM_TIMESTAMP") {
        auto ts = Number(fo, "Timestamp");
        if (!ts) return api::InvalidArgument("Timestamp is required for the " + type + " filter.");
        at_ms = static_cast<int64_t>(*ts * 1000);
      }
    }
    auto kept = [&](uint32_t index) { return m.Shard(index) != nullptr; };
    json::array shards;
    std::optional<uint32_t> last;
    bool more = false;
    for (const auto& sh : m.shards) {
      if (after && sh.index <= *after) continue;
      bool in = true;
      if (type == "AT_LATEST") in = sh.open();
      if (type == "AT_TRIM_HORIZON") {
        in = !(sh.parent && kept(*sh.parent)) && !(sh.adjacent_parent && kept(*sh.adjacent_parent));
      }
      if (type == "AT_TIMESTAMP") in = sh.created_ms <= *at_ms && (sh.open() || *sh.closed_ms > *at_ms);
      if (type == "FROM_TIMESTAMP") in = sh.open() || *sh.closed_ms >= *at_ms;
      if (!in) continue;
      if (static_cast<int64_t>(shards.size()) == limit) {
        more = true;
        break;
      }
      shards.push_back(ShardJson(sh, m.created_ms));
      last = sh.index;
    }
    json::object out;
    out["Shards"] = std::move(shards);
    if (more && last) {
      json::object next;
      next["StreamName"] = m.name;
      next["ExclusiveStartShardId"] = kinesis::ShardId(*last);
      if (const json::value* f = Member(params, "ShardFilter")) next["ShardFilter"] = *f;
      next["issued"] = now_;
      out["NextToken"] = base64::Encode(json::serialize(next));
    }
    return out;
  }

  Reply GetShardIterator() {
    const std::string name = StreamName();
    const std::string shard_arg = Str(in_, "ShardId");
    auto index = ResolveShardId(shard_arg);
    if (!index) return CouldNotFindShard(shard_arg, name);
    const std::string shard_id = kinesis::ShardId(*index);
    auto s = reg_->Get(name);
    if (!s) return NoShard(shard_id, name);
    const auto m = s->meta();
    if (!m.Shard(*index)) return NoShard(shard_id, name);
    const std::string type = Str(in_, "ShardIteratorType");
    const std::string start = Str(in_, "StartingSequenceNumber");
    auto either = [&](const char* also) {
      return api::InvalidArgument(
          "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
          "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
          "Request specified " + type + also);
    };
    Result<uint64_t> pos = uint64_t{0};
    if (!start.empty()) {
      if (type == "TRIM_HORIZON" || type == "LATEST") return either(" and also a StartingSequenceNumber.");
      if (type != "AT_SEQUENCE_NUMBER" && type != "AFTER_SEQUENCE_NUMBER") {
        return either(" and also a StartingSequenceNumber.");
      }
      auto p = kinesis::DecodeSequenceNumber(start);
      const std::string where = "StartingSequenceNumber " + start + " used in GetShardIterator on shard " +
                                shard_id + " in stream " + name + " under account " +
                                account_.account_id + " is invalid";
      if (!p) return api::InvalidArgument(where + ".");
      if (p->shard != *index) {
        return api::InvalidArgument("Invalid StartingSequenceNumber. It encodes " +
                                    kinesis::ShardId(p->shard) +
                                    ", while it was used in a call to a shard with " + shard_id);
      }
      if (p->stream_epoch_ms != m.created_ms) {
        return api::InvalidArgument(where + " because it did not come from this stream.");
      }
      pos = type == "AT_SEQUENCE_NUMBER" ? p->seq : p->seq + 1;
    } else if (type == "TRIM_HORIZON") {
      pos = s->TrimHorizon(*index);
    } else if (type == "LATEST") {
      pos = s->Latest(*index);
    } else if (type == "AT_TIMESTAMP") {
      auto ts = Number(in_, "Timestamp");
      if (!ts) {
        return api::InvalidArgument(
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current "
            "request has no timestamp parameter.");
      }
      const int64_t at = static_cast<int64_t>(*ts * 1000);
      if (at > now_) {
        return api::InvalidArgument(
            "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
            "timestampInMillis: " + std::to_string(at) +
            ", currentTimestampInMillis: " + std::to_string(now_));
      }
      pos = s->AtTimestamp(*index, at);
    } else {
      return either(" and no StartingSequenceNumber.");
    }
    if (!pos.ok()) return NoShard(shard_id, name);
    json::object out;
    out["ShardIterator"] = reg_->iterators().Encode({name, m.created_ms, *index, *pos, now_});
    return out;
  }

  Reply GetRecords(std::string* stream_for_authz) {
    const std::string token = Str(in_, "ShardIterator");
    auto it = reg_->iterators().Decode(token);
    if (!it) return api::InvalidArgument("Invalid ShardIterator.");
    if (stream_for_authz) *stream_for_authz = it->stream_name;
    if (now_ - it->issued_ms > kIteratorLifetimeMs) {
      return ApiError{"ExpiredIteratorException",
                      "Iterator expired. The iterator was created at time " + AmzUtc(it->issued_ms) +
                          " while right now it is " + AmzUtc(now_) +
                          " which is further in the future than the tolerated delay of 300000 "
                          "milliseconds."};
    }
    const std::string shard_id = kinesis::ShardId(it->shard);
    auto s = reg_->Get(it->stream_name);
    if (!s || s->created_ms() != it->stream_epoch_ms) return NoShard(shard_id, it->stream_name);
    const size_t limit = static_cast<size_t>(Int(in_, "Limit").value_or(kGetRecordsMaxRecords));
    auto r = s->Read(it->shard, it->seq, limit, kGetRecordsMaxBytes);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kNotFound) return NoShard(shard_id, it->stream_name);
      return FromStatus(r.status());
    }
    json::array records;
    for (const auto& rec : r->records) {
      json::object o;
      o["SequenceNumber"] = kinesis::EncodeSequenceNumber({it->stream_epoch_ms, it->shard, rec.seq});
      o["ApproximateArrivalTimestamp"] = Seconds(rec.arrival_ms);
      o["Data"] = base64::Encode(rec.data);
      o["PartitionKey"] = rec.partition_key;
      records.push_back(std::move(o));
    }
    json::object out;
    out["Records"] = std::move(records);
    out["MillisBehindLatest"] = r->millis_behind;
    if (r->shard_ended) {
      out["ChildShards"] = ChildShards(s->meta(), it->shard);
    } else {
      kinesis::IteratorState next = *it;
      next.seq = r->next;
      next.issued_ms = now_;
      out["NextShardIterator"] = reg_->iterators().Encode(next);
    }
    return out;
  }

  Reply ChangeRetention(bool increase) {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    auto& stream = *std::get<0>(s);
    const int64_t hours = Int(in_, "RetentionPeriodHours").value_or(0);
    if (hours < kinesis::kDefaultRetentionHours) {
      return api::InvalidArgument("Minimum allowed retention period is 24 hours. Requested retention period (" +
                                  std::to_string(hours) + " hours) is too short.");
    }
    if (hours > kinesis::kMaxRetentionHours) {
      return api::InvalidArgument("Maximum allowed retention period is 8760 hours. Requested retention period (" +
                                  std::to_string(hours) + " hours) is too long.");
    }
    const int current = stream.meta().retention_hours;
    if (increase && hours < current) {
      return api::InvalidArgument("Requested retention period (" + std::to_string(hours) +
                                  " hours) for stream " + stream.name() +
                                  " can not be shorter than existing retention period (" +
                                  std::to_string(current) + " hours). Use DecreaseRetentionPeriod API.");
    }
    if (!increase && hours > current) {
      return api::InvalidArgument("Requested retention period (" + std::to_string(hours) +
                                  " hours) for stream " + stream.name() +
                                  " can not be longer than existing retention period (" +
                                  std::to_string(current) + " hours). Use IncreaseRetentionPeriod API.");
    }
    Status st = stream.SetRetention(static_cast<int>(hours));
    if (!st.ok()) return FromStatus(st);
    return json::object();
  }

  Reply SplitShard() {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    auto& stream = *std::get<0>(s);
    const std::string arg = Str(in_, "ShardToSplit");
    auto index = ResolveShardId(arg);
    const auto m = stream.meta();
    const ShardInfo* sh = index ? m.Shard(*index) : nullptr;
    if (!sh || !sh->open()) return CouldNotFindShard(index ? kinesis::ShardId(*index) : arg, stream.name());
    const std::string key_arg = Str(in_, "NewStartingHashKey");
    auto key = kinesis::ParseHashKey(key_arg);
    if (!key || *key <= sh->start || *key > sh->end) {
      return api::InvalidArgument(
          "NewStartingHashKey " + key_arg + " used in SplitShard() on shard " +
          kinesis::ShardId(*index) + " in stream " + stream.name() + " under account " +
          account_.account_id + " is not both greater than one plus the shard's StartingHashKey " +
          kinesis::HashKeyToString(sh->start) + " and less than the shard's EndingHashKey " +
          kinesis::HashKeyToString(sh->end) + ".");
    }
    Status st = reg_->Split(stream, *index, *key);
    if (!st.ok()) return FromStatus(st);
    return json::object();
  }

  Reply MergeShards() {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    auto& stream = *std::get<0>(s);
    const auto m = stream.meta();
    uint32_t idx[2];
    const std::string args[2] = {Str(in_, "ShardToMerge"), Str(in_, "AdjacentShardToMerge")};
    for (int i = 0; i < 2; ++i) {
      auto index = ResolveShardId(args[i]);
      const ShardInfo* sh = index ? m.Shard(*index) : nullptr;
      if (!sh || !sh->open()) {
        return CouldNotFindShard(index ? kinesis::ShardId(*index) : args[i], stream.name());
      }
      idx[i] = *index;
    }
    const ShardInfo* a = m.Shard(idx[0]);
    const ShardInfo* b = m.Shard(idx[1]);
    if (!(a->end + 1 == b->start || b->end + 1 == a->start)) {
      return api::InvalidArgument("Shards " + kinesis::ShardId(idx[0]) + " and " +
                                  kinesis::ShardId(idx[1]) + " in stream " + stream.name() +
                                  " under account " + account_.account_id +
                                  " are not an adjacent pair of shards eligible for merging");
    }
    Status st = reg_->Merge(stream, idx[0], idx[1]);
    if (!st.ok()) return FromStatus(st);
    return json::object();
  }

  Reply UpdateShardCount() {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    auto& stream = *std::get<0>(s);
    if (stream.meta().mode == "ON_DEMAND") {
      return api::Validation("UpdateShardCount is not supported for stream " + stream.name() +
                             " under account " + account_.account_id +
                             " because it is in ON_DEMAND mode.");
    }
    const int64_t target = Int(in_, "TargetShardCount").value_or(0);
    const auto current = static_cast<int64_t>(stream.meta().open_shards());
    if (target > 2 * current || 2 * target < current) {
      return api::LimitExceeded("UpdateShardCount can scale stream " + stream.name() +
                                " to at most double (" + std::to_string(2 * current) +
                                ") and at least half (" + std::to_string((current + 1) / 2) +
                                ") of its current open shard count (" + std::to_string(current) +
                                "); requested " + std::to_string(target) + ".");
    }
    Status st = reg_->UpdateShardCount(stream, static_cast<uint32_t>(target));
    if (!st.ok()) return FromStatus(st);
    json::object out;
    out["StreamName"] = stream.name();
    out["CurrentShardCount"] = current;
    out["TargetShardCount"] = target;
    out["StreamARN"] = stream.meta().arn;
    return out;
  }

  Reply AddTagsToStream() {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    auto& stream = *std::get<0>(s);
    std::map<std::string, std::string> tags;
    if (const json::value* t = Member(in_, "Tags"); t && t->is_object()) {
      for (const auto& [k, v] : t->as_object()) {
        tags[std::string(k)] = v.is_string() ? std::string(v.as_string()) : std::string();
      }
    }
    Status st = stream.AddTags(tags, kMaxTags);
    if (st.code() == StatusCode::kResourceExhausted) {
      return api::InvalidArgument("Failed to add tags to stream " + stream.name() + " under account " +
                                  account_.account_id +
                                  " because a given stream cannot have more than 50 tags associated with it.");
    }
    if (!st.ok()) return FromStatus(st);
    return json::object();
  }

  Reply RemoveTagsFromStream() {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    std::vector<std::string> keys;
    if (const json::value* t = Member(in_, "TagKeys"); t && t->is_array()) {
      for (const auto& k : t->as_array()) {
        if (k.is_string()) keys.emplace_back(k.as_string());
      }
    }
    Status st = std::get<0>(s)->RemoveTags(keys);
    if (!st.ok()) return FromStatus(st);
    return json::object();
  }

  Reply ListTagsForStream() {
    auto s = Stream();
    if (auto* e = std::get_if<ApiError>(&s)) return *e;
    const auto m = std::get<0>(s)->meta();
    const std::string after = Str(in_, "ExclusiveStartTagKey");
    const int64_t limit = Int(in_, "Limit").value_or(static_cast<int64_t>(kMaxTags));
    json::array tags;
    bool more = false;
    for (const auto& [k, v] : m.tags) {
      if (!after.empty() && k <= after) continue;
      if (static_cast<int64_t>(tags.size()) == limit) {
        more = true;
        break;
      }
      json::object t;
      t["Key"] = k;
      t["Value"] = v;
      tags.push_back(std::move(t));
    }
    json::object out;
    out["Tags"] = std::move(tags);
    out["HasMoreTags"] = more;
    return out;
  }

  Reply DescribeLimits() {
    size_t on_demand = 0;
    for (const auto& name : reg_->List()) {
      if (auto s = reg_->Get(name); s && s->meta().mode == "ON_DEMAND") ++on_demand;
    }
    json::object out;
    out["ShardLimit"] = reg_->options().max_open_shards;
    out["OpenShardCount"] = reg_->open_shards();
    out["OnDemandStreamCount"] = on_demand;
    out["OnDemandStreamCountLimit"] = reg_->options().max_streams;
    return out;
  }

 private:
  kinesis::KinesisRegistry* reg_;
  const json::object& in_;
  const AccountContext& account_;
  const int64_t now_;
};

using Operation = Reply (Call::*)();
const std::unordered_map<std::string_view, Operation>& Operations() {
  static const std::unordered_map<std::string_view, Operation> kOps = {
      {"CreateStream", &Call::CreateStream},
      {"DeleteStream", &Call::DeleteStream},
      {"DescribeStream", &Call::DescribeStream},
      {"DescribeStreamSummary", &Call::DescribeStreamSummary},
      {"ListStreams", &Call::ListStreams},
      {"ListShards", &Call::ListShards},
      {"GetShardIterator", &Call::GetShardIterator},
      {"IncreaseStreamRetentionPeriod", nullptr},
      {"DecreaseStreamRetentionPeriod", nullptr},
      {"SplitShard", &Call::SplitShard},
      {"MergeShards", &Call::MergeShards},
      {"UpdateShardCount", &Call::UpdateShardCount},
      {"AddTagsToStream", &Call::AddTagsToStream},
      {"RemoveTagsFromStream", &Call::RemoveTagsFromStream},
      {"ListTagsForStream", &Call::ListTagsForStream},
      {"DescribeLimits", &Call::DescribeLimits},
      {"GetRecords", nullptr},
      {"PutRecord", nullptr},
      {"PutRecords", nullptr},
  };
  return kOps;
}

// PutRecord / PutRecords: every record decoded, then one append per shard and
// the answer once they are durable.
void PutRecords(kinesis::KinesisRegistry* reg, bool batch, const Call& call, const json::object& in,
                const Wire& wire, http::Respond respond) {
  const std::string name = call.StreamName();
  auto s = reg->Get(name);
  if (!s) {
    respond(wire.Error(call.NotFound(name)));
    return;
  }
  std::vector<const json::object*> items;
  if (batch) {
    if (const json::value* r = Member(in, "Records"); r && r->is_array()) {
      for (const auto& v : r->as_array()) {
        if (v.is_object()) items.push_back(&v.as_object());
      }
    }
  } else {
    items.push_back(&in);
  }
  std::vector<std::string> data(items.size());
  std::vector<kinesis::PutEntry> entries(items.size());
  uint64_t total = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const json::object& r = *items[i];
    const json::value* d = Member(r, "Data");
    if (d && d->is_string() && !base64::DecodeInto(d->as_string(), &data[i])) {
      respond(wire.Error(api::SerializationError("Base64 encoded data expected for Data.")));
      return;
    }
    const json::value* pk = Member(r, "PartitionKey");
    entries[i].partition_key = pk && pk->is_string() ? std::string_view(pk->as_string()) : std::string_view();
    entries[i].data = data[i];
    const std::string explicit_key = Str(r, "ExplicitHashKey");
    if (!explicit_key.empty()) {
      auto hk = kinesis::ParseHashKey(explicit_key);
      if (!hk) {
        respond(wire.Error(api::InvalidArgument(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            "Specified value was " + explicit_key)));
        return;
      }
      entries[i].explicit_hash_key = *hk;
    }
    total += data[i].size() + entries[i].partition_key.size();
  }
  if (batch && total > (5ull << 20)) {
    respond(wire.Error(api::InvalidArgument("Records size exceeds 5 MB limit")));
    return;
  }
  const int64_t epoch = s->created_ms();
  const size_t n = entries.size();
  s->Put(reg->clock().NowMillis(), entries,
         [respond = std::move(respond), wire, batch, epoch, n](
             Result<std::vector<kinesis::PutOutcome>> r) {
           if (!r.ok()) {
             respond(wire.Error({"InternalFailure", "Internal service failure."}));
             return;
           }
           auto answer = [epoch](const kinesis::PutOutcome& o, json::object* out) {
             if (!o.error.ok()) {
               (*out)["ErrorCode"] = "InternalFailure";
               (*out)["ErrorMessage"] = "Internal service failure.";
               return false;
             }
             (*out)["SequenceNumber"] = kinesis::EncodeSequenceNumber({epoch, o.shard, o.seq});
             (*out)["ShardId"] = kinesis::ShardId(o.shard);
             return true;
           };
           json::object out;
           if (!batch) {
             if (!answer((*r)[0], &out)) {
               respond(wire.Error({"InternalFailure", "Internal service failure."}));
               return;
             }
             respond(wire.Ok(&out));
             return;
           }
           json::array records;
           int64_t failed = 0;
           for (size_t i = 0; i < n; ++i) {
             json::object one;
             failed += answer((*r)[i], &one) ? 0 : 1;
             records.push_back(std::move(one));
           }
           out["FailedRecordCount"] = failed;
           out["Records"] = std::move(records);
           respond(wire.Ok(&out));
         },
         batch ? kinesis::PutOp::kPutRecords : kinesis::PutOp::kPutRecord);
}

Access KinesisAccess(std::string_view op, const std::string& stream, const AccountContext& account) {
  Access a;
  a.action = "kinesis:" + std::string(op);
  a.resource = op == "ListStreams" || op == "DescribeLimits" || stream.empty()
                   ? "*"
                   : account.Arn("kinesis", "stream/" + stream);
  return a;
}

}  // namespace

KinesisApi::KinesisApi(kinesis::KinesisRegistry* registry, const Authorizer* authz)
    : registry_(registry), authz_(authz) {}

bool KinesisApi::IsKinesisRequest(const http::Request& req) {
  return req.Header("X-Amz-Target").starts_with(kTargetPrefix);
}

bool KinesisApi::RunsInline(const http::Request& req) {
  std::string_view op = req.Header("X-Amz-Target").substr(kTargetPrefix.size());
  return op == "PutRecord" || op == "PutRecords";
}

void KinesisApi::Handle(http::Request&& req, http::Respond respond) {
  Wire wire;
  wire.rid = NewUuid();
  wire.cbor = req.Header("Content-Type").starts_with(api::cbor::kContentType);
  if (req.method != "POST") {
    respond(wire.Error({"UnknownOperationException", ""}));
    return;
  }
  const std::string op(req.Header("X-Amz-Target").substr(kTargetPrefix.size()));
  auto op_it = Operations().find(op);
  if (op_it == Operations().end()) {
    respond(wire.Error({"UnknownOperationException", ""}));
    return;
  }
  json::value body = json::object();
  if (wire.cbor && !req.body.empty()) {
    auto parsed = api::cbor::ToJson(req.body, api::cbor::kKinesisSchema);
    if (!parsed.ok()) {
      respond(wire.Error(api::SerializationError(parsed.status().message())));
      return;
    }
    body = std::move(parsed).value();
  } else if (!req.body.empty()) {
    boost::system::error_code ec;
    body = json::parse(req.body, ec);
    if (ec) {
      respond(wire.Error(api::SerializationError("")));
      return;
    }
  }
  if (auto err = api::ValidateKinesisRequest(op, body)) {
    respond(wire.Error(*err));
    return;
  }
  const json::object& in = body.as_object();
  Call call(registry_, in);

  // Authorization: kinesis:<op> on the stream (GetRecords: the iterator's).
  std::string stream_name = call.StreamName();
  if (op == "CreateStream") stream_name = Str(in, "StreamName");
  if (op == "GetRecords") {
    auto it = registry_->iterators().Decode(Str(in, "ShardIterator"));
    stream_name = it ? it->stream_name : std::string();
  }
  if (authz_ && Authorizer::Applies(req)) {
    if (auto denied = authz_->Check(req, KinesisAccess(op, stream_name, registry_->options().account))) {
      respond(wire.Error({"AccessDeniedException", std::move(*denied)}));
      return;
    }
  }

  if (op == "PutRecord" || op == "PutRecords") {
    PutRecords(registry_, op == "PutRecords", call, in, wire, std::move(respond));
    return;
  }
  Reply reply;
  if (op == "GetRecords") {
    reply = call.GetRecords(nullptr);
  } else if (op == "IncreaseStreamRetentionPeriod" || op == "DecreaseStreamRetentionPeriod") {
    reply = call.ChangeRetention(op == "IncreaseStreamRetentionPeriod");
  } else {
    reply = (call.*(op_it->second))();
  }
  if (auto* e = std::get_if<ApiError>(&reply)) {
    respond(wire.Error(*e));
    return;
  }
  respond(wire.Ok(HasNoOutput(op) ? nullptr : &std::get<0>(reply)));
}

}  // namespace hydrant::server
