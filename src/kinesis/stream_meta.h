#pragma once
// What a Kinesis data stream is, apart from its records: its shards (open and
// closed), their hash key ranges and lineage, the retention period, mode and
// tags. Kept as stream.json in the stream's folder (KinesisStream), written
// atomically whenever it changes.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "common/status.h"
#include "kinesis/hash_key.h"

namespace hydrant::kinesis {

struct ShardInfo {
  uint32_t index = 0;  // shardId-000000000007 is 7
  HashKey start = 0;   // the hash keys it owns, inclusive
  HashKey end = 0;
  std::optional<uint32_t> parent;
  std::optional<uint32_t> adjacent_parent;
  int64_t created_ms = 0;
  // Set once the shard was split, merged or resharded away: no record enters it
  // after; its records stay readable for the retention period.
  std::optional<int64_t> closed_ms;
  uint64_t end_seq = 0;  // closed: the log position past its last record

  bool open() const { return !closed_ms.has_value(); }
};

inline constexpr int kDefaultRetentionHours = 24;
inline constexpr int kMaxRetentionHours = 8760;  // 365 days

struct StreamMeta {
  std::string name;
  std::string arn;
  int64_t created_ms = 0;  // also the epoch of its sequence numbers
  std::string mode = "PROVISIONED";  // or "ON_DEMAND"
  int retention_hours = kDefaultRetentionHours;
  uint32_t next_shard_index = 0;
  std::vector<ShardInfo> shards;  // by index
  std::map<std::string, std::string> tags;

  const ShardInfo* Shard(uint32_t index) const;
  ShardInfo* Shard(uint32_t index);
  size_t open_shards() const;

  std::string ToJson() const;
  static Result<StreamMeta> FromJson(std::string_view text);
};

// `count` shards of equal hash key ranges covering every key, the last taking
// the remainder, numbered from `first_index`.
std::vector<ShardInfo> EvenShards(uint32_t count, uint32_t first_index, int64_t now_ms);

}  // namespace hydrant::kinesis
