#include "kinesis/stream_meta.h"

#include <boost/json.hpp>

namespace hydrant::kinesis {

namespace json = boost::json;

const ShardInfo* StreamMeta::Shard(uint32_t index) const {
  for (const auto& s : shards) {
    if (s.index == index) return &s;
  }
  return nullptr;
}

ShardInfo* StreamMeta::Shard(uint32_t index) {
  return const_cast<ShardInfo*>(static_cast<const StreamMeta*>(this)->Shard(index));
}

size_t StreamMeta::open_shards() const {
  size_t n = 0;
  for (const auto& s : shards) n += s.open() ? 1 : 0;
  return n;
}

std::string StreamMeta::ToJson() const {
  json::object o;
  o["name"] = name;
  o["arn"] = arn;
  o["created_ms"] = created_ms;
  o["mode"] = mode;
  o["retention_hours"] = retention_hours;
  o["next_shard_index"] = next_shard_index;
  json::array arr;
  for (const auto& s : shards) {
    json::object j;
    j["index"] = s.index;
    j["start"] = HashKeyToString(s.start);
    j["end"] = HashKeyToString(s.end);
    if (s.parent) j["parent"] = *s.parent;
    if (s.adjacent_parent) j["adjacent_parent"] = *s.adjacent_parent;
    j["created_ms"] = s.created_ms;
    if (s.closed_ms) {
      j["closed_ms"] = *s.closed_ms;
      j["end_seq"] = s.end_seq;
    }
    arr.push_back(std::move(j));
  }
  o["shards"] = std::move(arr);
  json::object t;
  for (const auto& [k, v] : tags) t[k] = v;
  o["tags"] = std::move(t);
  return json::serialize(o);
}

Result<StreamMeta> StreamMeta::FromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("stream.json is not a JSON object");
  try {
    const json::object& o = v.as_object();
    StreamMeta m;
    m.name = json::value_to<std::string>(o.at("name"));
    m.arn = json::value_to<std::string>(o.at("arn"));
    m.created_ms = o.at("created_ms").to_number<int64_t>();
    m.mode = json::value_to<std::string>(o.at("mode"));
    m.retention_hours = o.at("retention_hours").to_number<int>();
    m.next_shard_index = o.at("next_shard_index").to_number<uint32_t>();
    for (const auto& jv : o.at("shards").as_array()) {
      const json::object& j = jv.as_object();
      ShardInfo s;
      s.index = j.at("index").to_number<uint32_t>();
      auto start = ParseHashKey(j.at("start").as_string());
      auto end = ParseHashKey(j.at("end").as_string());
      if (!start || !end || *start > *end) return Status::Corruption("stream.json: a bad hash key range");
      s.start = *start;
      s.end = *end;
      if (const auto* p = j.if_contains("parent")) s.parent = p->to_number<uint32_t>();
      if (const auto* p = j.if_contains("adjacent_parent")) s.adjacent_parent = p->to_number<uint32_t>();
      s.created_ms = j.at("created_ms").to_number<int64_t>();
      if (const auto* c = j.if_contains("closed_ms")) {
        s.closed_ms = c->to_number<int64_t>();
        s.end_seq = j.at("end_seq").to_number<uint64_t>();
      }
      m.shards.push_back(s);
    }
    for (const auto& [k, tv] : o.at("tags").as_object()) {
      m.tags[std::string(k)] = json::value_to<std::string>(tv);
    }
    return m;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("stream.json: ") + e.what());
  }
}

std::vector<ShardInfo> EvenShards(uint32_t count, uint32_t first_index, int64_t now_ms) {
  std::vector<ShardInfo> out;
  if (count == 0) return out;
  // floor(2^128 / count), as AWS divides the key space.
  const HashKey width = kMaxHashKey / count + ((kMaxHashKey % count) + 1 == count ? 1 : 0);
  HashKey start = 0;
  for (uint32_t i = 0; i < count; ++i) {
    ShardInfo s;
    s.index = first_index + i;
    s.start = start;
    s.end = i + 1 == count ? kMaxHashKey : start + width - 1;
    s.created_ms = now_ms;
    out.push_back(s);
    start = s.end + 1;
  }
  return out;
}

}  // namespace hydrant::kinesis
