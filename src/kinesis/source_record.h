#pragma once
// A record of a Firehose delivery stream whose source is a Kinesis data stream,
// as it is kept in the delivery stream's source log: the Kinesis record's
// metadata (what Firehose hands a Lambda processor as kinesisRecordMetadata, and
// what its source needs to find where it stopped after a crash), then the data.
// Every record of such a delivery stream has this form; DirectPut streams'
// records are the data alone.
//
//   u8 version (1) | u8 shard id length | shard id | u16 partition key length |
//   partition key | u8 sequence number length | sequence number |
//   u32 subsequence number | i64 approximate arrival (ms) | data

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hydrant::kinesis {

struct SourceRecordMeta {
  std::string_view shard_id;
  std::string_view partition_key;
  std::string_view sequence_number;
  uint32_t subsequence_number = 0;  // the user record's index in a KPL aggregate
  int64_t approximate_arrival_ms = 0;  // when the Kinesis stream took the record
};

struct SourceRecordView {
  SourceRecordMeta meta;
  std::string_view data;
};

// Appends the record's form to *out. The shard id and sequence number must be at
// most 255 bytes and the partition key at most 65,535 (Kinesis: 256 characters).
void AppendSourceRecord(const SourceRecordMeta& meta, std::string_view data, std::string* out);
// nullopt when `payload` is not of this form (views into payload otherwise).
std::optional<SourceRecordView> ParseSourceRecord(std::string_view payload);

}  // namespace hydrant::kinesis
