#pragma once
// A Kinesis record as it is kept in its shard's log (buffer::RecordLog): the
// partition key's length (2 bytes, little-endian), the partition key, then the
// data. The arrival time is the log record's own. (The ExplicitHashKey only
// chooses the shard; GetRecords does not return it, so it is not kept.)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/coding.h"

namespace hydrant::kinesis {

inline void AppendShardRecord(std::string_view partition_key, std::string_view data,
                              std::string* out) {
  coding::PutFixed16(out, static_cast<uint16_t>(partition_key.size()));
  out->append(partition_key);
  out->append(data);
}

struct ShardRecordView {
  std::string_view partition_key;
  std::string_view data;
};

// nullopt when `payload` is too short for the key it announces.
inline std::optional<ShardRecordView> ParseShardRecord(std::string_view payload) {
  if (payload.size() < 2) return std::nullopt;
  const size_t n = coding::DecodeFixed16(payload.data());
  if (payload.size() < 2 + n) return std::nullopt;
  return ShardRecordView{payload.substr(2, n), payload.substr(2 + n)};
}

}  // namespace hydrant::kinesis
