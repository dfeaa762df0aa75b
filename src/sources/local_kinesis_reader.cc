#include "sources/local_kinesis_reader.h"

#include "common/clock.h"
#include "kinesis/registry.h"
#include "kinesis/sequence_number.h"

namespace hydrant::sources {

namespace {

constexpr int64_t kIteratorLifetimeMs = 300'000;
constexpr uint64_t kMaxBytes = 10ull << 20;

Status NotFound(const std::string& what) {
  return Status::NotFound(what).WithErrorCode(kKinesisResourceNotFound);
}

}  // namespace

std::string LocalStreamName(std::string_view arn, std::string_view region,
                            std::string_view account_id) {
  const std::string prefix =
      "arn:aws:kinesis:" + std::string(region) + ":" + std::string(account_id) + ":stream/";
  if (!arn.starts_with(prefix) || arn.size() == prefix.size()) return "";
  return std::string(arn.substr(prefix.size()));
}

LocalKinesisReader::LocalKinesisReader(kinesis::KinesisRegistry* registry, std::string stream_name)
    : registry_(registry), name_(std::move(stream_name)) {}

Result<std::vector<KinesisShard>> LocalKinesisReader::ListShards() {
  auto s = registry_->Get(name_);
  if (!s) return NotFound("Stream " + name_ + " not found.");
  std::vector<KinesisShard> out;
  for (const auto& sh : s->meta().shards) {
    KinesisShard k;
    k.id = kinesis::ShardId(sh.index);
    if (sh.parent) k.parent = kinesis::ShardId(*sh.parent);
    if (sh.adjacent_parent) k.adjacent_parent = kinesis::ShardId(*sh.adjacent_parent);
    k.closed = !sh.open();
    out.push_back(std::move(k));
  }
  return out;
}

Result<std::string> LocalKinesisReader::ShardIterator(const std::string& shard_id, StartAt at,
                                                      const std::string& sequence_number,
                                                      int64_t timestamp_ms) {
  auto s = registry_->Get(name_);
  if (!s) return NotFound("Stream " + name_ + " not found.");
  auto index = kinesis::ParseShardId(shard_id);
  if (!index) return NotFound("Shard " + shard_id + " in stream " + name_ + " does not exist");
  Result<uint64_t> pos = uint64_t{0};
  switch (at) {
    case StartAt::kTrimHorizon:
      pos = s->TrimHorizon(*index);
      break;
    case StartAt::kLatest:
      pos = s->Latest(*index);
      break;
    case StartAt::kAtTimestamp:
      pos = s->AtTimestamp(*index, timestamp_ms);
      break;
    case StartAt::kAfterSequenceNumber: {
      auto p = kinesis::DecodeSequenceNumber(sequence_number);
      if (!p || p->shard != *index || p->stream_epoch_ms != s->created_ms()) {
        return Status::InvalidArgument("StartingSequenceNumber " + sequence_number +
                                       " is invalid for shard " + shard_id)
            .WithErrorCode(kKinesisInvalidArgument);
      }
      pos = p->seq + 1;
      break;
    }
  }
  if (!pos.ok()) return NotFound("Shard " + shard_id + " in stream " + name_ + " does not exist");
  return registry_->iterators().Encode(
      {name_, s->created_ms(), *index, *pos, registry_->clock().NowMillis()});
}

Result<KinesisBatch> LocalKinesisReader::GetRecords(const std::string& iterator, size_t limit) {
  auto it = registry_->iterators().Decode(iterator);
  if (!it) return Status::InvalidArgument("Invalid ShardIterator.").WithErrorCode(kKinesisInvalidArgument);
  const int64_t now = registry_->clock().NowMillis();
  if (now - it->issued_ms > kIteratorLifetimeMs) {
    return Status::InvalidArgument("Iterator expired.").WithErrorCode(kKinesisExpiredIterator);
  }
  auto s = registry_->Get(it->stream_name);
  if (!s || s->created_ms() != it->stream_epoch_ms) {
    return NotFound("Stream " + it->stream_name + " not found.");
  }
  auto r = s->Read(it->shard, it->seq, limit, kMaxBytes);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) {
      return NotFound("Shard " + kinesis::ShardId(it->shard) + " does not exist");
    }
    return r.status();
  }
  KinesisBatch b;
  b.records.reserve(r->records.size());
  for (auto& rec : r->records) {
    KinesisRecord k;
    k.sequence_number = kinesis::EncodeSequenceNumber({it->stream_epoch_ms, it->shard, rec.seq});
    k.arrival_ms = rec.arrival_ms;
    k.partition_key = std::move(rec.partition_key);
    k.data = std::move(rec.data);
    b.records.push_back(std::move(k));
  }
  b.millis_behind = r->millis_behind;
  if (!r->shard_ended) {
    kinesis::IteratorState next = *it;
    next.seq = r->next;
    next.issued_ms = now;
    b.next_iterator = registry_->iterators().Encode(next);
  }
  return b;
}

}  // namespace hydrant::sources
