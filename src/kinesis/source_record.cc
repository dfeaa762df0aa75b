#include "kinesis/source_record.h"

#include "common/coding.h"

namespace hydrant::kinesis {

namespace {
constexpr char kVersion = 1;
}  // namespace

void AppendSourceRecord(const SourceRecordMeta& meta, std::string_view data, std::string* out) {
  out->push_back(kVersion);
  out->push_back(static_cast<char>(meta.shard_id.size()));
  out->append(meta.shard_id.substr(0, 255));
  coding::PutFixed16(out, static_cast<uint16_t>(meta.partition_key.size()));
  out->append(meta.partition_key.substr(0, 65535));
  out->push_back(static_cast<char>(meta.sequence_number.size()));
  out->append(meta.sequence_number.substr(0, 255));
  coding::PutFixed32(out, meta.subsequence_number);
  coding::PutFixed64(out, static_cast<uint64_t>(meta.approximate_arrival_ms));
  out->append(data);
}

std::optional<SourceRecordView> ParseSourceRecord(std::string_view p) {
  SourceRecordView v;
  size_t at = 0;
  auto take = [&](size_t n) -> std::optional<std::string_view> {
    if (p.size() - at < n) return std::nullopt;
    std::string_view s = p.substr(at, n);
    at += n;
    return s;
  };
  auto version = take(1);
  if (!version || (*version)[0] != kVersion) return std::nullopt;
  auto shard_len = take(1);
  if (!shard_len) return std::nullopt;
  auto shard = take(static_cast<unsigned char>((*shard_len)[0]));
  auto pk_len = shard ? take(2) : std::nullopt;
  if (!pk_len) return std::nullopt;
  auto pk = take(coding::DecodeFixed16(pk_len->data()));
  auto seq_len = pk ? take(1) : std::nullopt;
  if (!seq_len) return std::nullopt;
  auto seq = take(static_cast<unsigned char>((*seq_len)[0]));
  auto sub = seq ? take(4) : std::nullopt;
  auto arrival = sub ? take(8) : std::nullopt;
  if (!arrival) return std::nullopt;
  v.meta.shard_id = *shard;
  v.meta.partition_key = *pk;
  v.meta.sequence_number = *seq;
  v.meta.subsequence_number = coding::DecodeFixed32(sub->data());
  v.meta.approximate_arrival_ms = static_cast<int64_t>(coding::DecodeFixed64(arrival->data()));
  v.data = p.substr(at);
  return v;
}

}  // namespace hydrant::kinesis
