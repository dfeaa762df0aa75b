#pragma once
// Kinesis sequence numbers as hydrant writes them: decimal strings, increasing
// within a shard, that name the stream incarnation, the shard and the record's
// position in the shard's log, so that GetShardIterator can turn one back into a
// position (docs/kinesis.md, "Sequence numbers"):
//
//   "49" | 14 digits: the stream's creation time in ms | 8 digits: shard index |
//   20 digits: the record's sequence in the shard's log
//
// 44 digits in all (AWS writes 56; clients treat them as opaque strings or
// BigIntegers). A stream deleted and created again under the same name has
// another creation time, so the old stream's numbers are not taken for the new
// one's.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydrant::kinesis {

struct SequencePosition {
  int64_t stream_epoch_ms = 0;  // the stream's creation time
  uint32_t shard = 0;           // shard index (shardId-000000000007 is 7)
  uint64_t seq = 0;             // position in the shard's log
};

std::string EncodeSequenceNumber(const SequencePosition& p);
// nullopt unless `s` is one of ours (44 digits, the "49" prefix).
std::optional<SequencePosition> DecodeSequenceNumber(std::string_view s);

// "shardId-000000000007" for 7; the index back from an id (nullopt when it is
// not of that form).
std::string ShardId(uint32_t index);
std::optional<uint32_t> ParseShardId(std::string_view id);

}  // namespace hydrant::kinesis
