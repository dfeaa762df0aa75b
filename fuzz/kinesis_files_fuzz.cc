// Fuzz target: what the Kinesis side reads back from disk or from clients that
// it did not write itself in this process (docs/kinesis.md): a stream's
// stream.json (kinesis::StreamMeta::FromJson), a shard log record
// (ParseShardRecord), a Kinesis-sourced delivery stream's source record
// (ParseSourceRecord), a shard iterator token (IteratorCodec::Decode), and the
// sequence numbers and shard ids clients send.
//
// Input parts (fuzz_util.h SplitParts): stream.json text; a shard record; a
// source record; an iterator token; a sequence number; a shard id.
//
// Invariants: nothing crashes or reads out of bounds; a StreamMeta that parses
// serializes to JSON that parses to the same JSON again; parsed records' views lie
// inside the input and re-encode to the same bytes; a token decodes only if it is
// with a valid MAC, and what it decodes to survives Encode and Decode; a sequence number or shard id
// that parses encodes back to the same string.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_util.h"
#include "kinesis/sequence_number.h"
#include "kinesis/shard_iterator.h"
#include "kinesis/shard_record.h"
#include "kinesis/source_record.h"
#include "kinesis/stream_meta.h"

namespace k = hydrant::kinesis;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts =
      hydrant::fuzz::SplitParts(std::string_view(reinterpret_cast<const char*>(data), size), 6);
  if (auto meta = k::StreamMeta::FromJson(parts[0]); meta.ok()) {
    const std::string once = meta->ToJson();
    auto again = k::StreamMeta::FromJson(once);
    Check(again.ok() && again->ToJson() == once);
  }
  if (auto r = k::ParseShardRecord(parts[1])) {
    Check(Inside(r->partition_key, parts[1]) && Inside(r->data, parts[1]));
    std::string back;
    k::AppendShardRecord(r->partition_key, r->data, &back);
    Check(back == parts[1]);
  }
  if (auto v = k::ParseSourceRecord(parts[2])) {
    Check(Inside(v->data, parts[2]) && Inside(v->meta.shard_id, parts[2]));
    std::string back;
    k::AppendSourceRecord(v->meta, v->data, &back);
    Check(back == parts[2]);
  }
  static const k::IteratorCodec codec(std::string(32, 'k'));
  if (auto st = codec.Decode(parts[3])) {
    auto again = codec.Decode(codec.Encode(*st));
    Check(again && again->stream_name == st->stream_name && again->seq == st->seq &&
          again->shard == st->shard && again->issued_ms == st->issued_ms &&
          again->stream_epoch_ms == st->stream_epoch_ms);
  }
  if (auto p = k::DecodeSequenceNumber(parts[4])) Check(k::EncodeSequenceNumber(*p) == parts[4]);
  if (auto id = k::ParseShardId(parts[5])) Check(k::ShardId(*id) == parts[5]);
  return 0;
}
