#include "kinesis/sequence_number.h"

#include <cstdio>

namespace hydrant::kinesis {

namespace {

constexpr size_t kEpochDigits = 14, kShardDigits = 8, kSeqDigits = 20;
constexpr size_t kDigits = 2 + kEpochDigits + kShardDigits + kSeqDigits;

std::optional<uint64_t> Digits(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

std::string EncodeSequenceNumber(const SequencePosition& p) {
  char buf[kDigits + 1];
  std::snprintf(buf, sizeof buf, "49%014lld%08u%020llu", static_cast<long long>(p.stream_epoch_ms),
                p.shard, static_cast<unsigned long long>(p.seq));
  return std::string(buf, kDigits);
}

std::optional<SequencePosition> DecodeSequenceNumber(std::string_view s) {
  if (s.size() != kDigits || !s.starts_with("49")) return std::nullopt;
  auto epoch = Digits(s.substr(2, kEpochDigits));
  auto shard = Digits(s.substr(2 + kEpochDigits, kShardDigits));
  auto seq = Digits(s.substr(2 + kEpochDigits + kShardDigits));
  if (!epoch || !shard || !seq) return std::nullopt;
  return SequencePosition{static_cast<int64_t>(*epoch), static_cast<uint32_t>(*shard), *seq};
}

std::string ShardId(uint32_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shardId-%012u", index);
  return buf;
}

std::optional<uint32_t> ParseShardId(std::string_view id) {
  constexpr std::string_view kPrefix = "shardId-";
  if (!id.starts_with(kPrefix) || id.size() != kPrefix.size() + 12) return std::nullopt;
  auto v = Digits(id.substr(kPrefix.size()));
  if (!v || *v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

}  // namespace hydrant::kinesis
