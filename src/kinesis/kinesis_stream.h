#pragma once
// KinesisStream: one Kinesis data stream. Its definition (StreamMeta, kept in
// stream.json) and one durable log per shard (buffer::RecordLog, the same
// machinery as delivery streams: CRC-framed segments, fdatasync before the
// answer, group commit, recovery after a crash) under shard-<index>/ in the
// stream's folder. A record's place in its shard's log is its sequence number
// (kinesis/sequence_number.h).
//
// Puts route each record to the open shard owning its hash key and are
// acknowledged once durable. Reads take any shard, open or closed, from a log
// position. Resharding (split, merge, UpdateShardCount) closes shards, so no
// record enters them after, and opens children that own their keys. Records
// older than the retention period are dropped (Trim), and so are closed shards
// once their last record has expired.
//
// Every put and read is counted in the stream's KinesisStreamProbe (probe()):
// the CloudWatch metrics of Kinesis Data Streams, exported at /metrics.
//
// Thread-safety: every method may be called from any thread. Puts and reads
// share the shard map; control-plane changes take it exclusively and write
// stream.json before they return.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kinesis/hash_key.h"
#include "kinesis/probe.h"
#include "kinesis/stream_meta.h"

namespace hydrant {
class Clock;
class Env;
}  // namespace hydrant
namespace hydrant::buffer {
class DiskQuota;
class GroupCommitter;
class RecordLog;
}  // namespace hydrant::buffer

namespace hydrant::kinesis {

struct StreamDeps {
  buffer::GroupCommitter* committer = nullptr;  // not owned
  buffer::DiskQuota* quota = nullptr;           // optional, not owned
  const Clock* clock = nullptr;                 // not owned
  Env* env = nullptr;                           // null: Env::Default()
  uint64_t segment_bytes = 16ull << 20;         // a shard log's segment size
};

struct PutEntry {
  std::string_view partition_key;
  std::optional<HashKey> explicit_hash_key;
  std::string_view data;
};

// Where a put record went, or why it did not.
struct PutOutcome {
  uint32_t shard = 0;
  uint64_t seq = 0;
  Status error;  // not OK: this record was not written
};

struct ShardRecord {
  uint64_t seq = 0;
  int64_t arrival_ms = 0;
  std::string partition_key;
  std::string data;
};

struct ReadResult {
  std::vector<ShardRecord> records;
  uint64_t next = 0;           // the position after the last record returned
  bool shard_ended = false;    // closed shard, and nothing is left past `next`
  int64_t millis_behind = 0;   // 0 when caught up with the shard's last record
};

class KinesisStream : public std::enable_shared_from_this<KinesisStream> {
 public:
  // Opens the stream in `dir` (creating its shards' logs as needed) with `meta`
  // as its definition; `create` writes stream.json first.
  static Result<std::shared_ptr<KinesisStream>> Open(const std::string& dir, StreamMeta meta,
                                                     StreamDeps deps, bool create);
  ~KinesisStream();

  // Appends each entry to the open shard owning its hash key (in order within a
  // shard) and calls done(outcomes) once every written record is durable, or
  // done(error) when a sync failed. done runs on the committer's thread, or on
  // the caller's when nothing needed syncing. `op` says which API call this is,
  // for the PutRecord.* or PutRecords.* metrics; the latency counted is from
  // this call to done.
  void Put(int64_t arrival_ms, std::span<const PutEntry> entries,
           std::function<void(Result<std::vector<PutOutcome>>)> done,
           PutOp op = PutOp::kPutRecords);

  // Up to max_records records (and about max_bytes of data, at least one record)
  // of `shard` from log position `from` (a position below the trim horizon
  // reads from the trim horizon). NotFound when there is no such shard.
  // Counted as a GetRecords call (GetRecords.* metrics).
  Result<ReadResult> Read(uint32_t shard, uint64_t from, size_t max_records,
                          uint64_t max_bytes) const;

  // Positions: the oldest record kept, the next record to come, and the first
  // record that arrived at or after `at_ms`. NotFound for an unknown shard.
  Result<uint64_t> TrimHorizon(uint32_t shard) const;
  Result<uint64_t> Latest(uint32_t shard) const;
  Result<uint64_t> AtTimestamp(uint32_t shard, int64_t at_ms) const;

  StreamMeta meta() const;
  const std::string& name() const { return name_; }
  int64_t created_ms() const { return created_ms_; }
  // The stream's counters (kinesis/probe.h); valid as long as the stream is.
  const KinesisStreamProbe& probe() const { return *probe_; }

  // Control plane. Each change is written to stream.json before it returns.
  // InvalidArgument / NotFound / ResourceExhausted carry the API's message.
  Status SetRetention(int hours);
  Status AddTags(const std::map<std::string, std::string>& tags, size_t max_tags);
  Status RemoveTags(std::span<const std::string> keys);
  // Splits `shard` at `new_start` (the second child's first key).
  Status Split(uint32_t shard, HashKey new_start);
  // Merges `shard` with `adjacent` (their ranges must touch).
  Status Merge(uint32_t shard, uint32_t adjacent);
  // Uniform scaling to `target` open shards of equal ranges, through splits and
  // merges (so that every shard has at most two parents).
  Status UpdateShardCount(uint32_t target);

  // Drops records older than the retention period, and closed shards whose
  // records have all expired. Returns the records dropped.
  uint64_t Trim();
  // Closes the files idle logs keep open.
  void ReleaseIdleFiles();
  uint64_t disk_bytes() const;
  // Deletes the stream's files; unusable afterwards.
  Status Destroy();

 private:
  KinesisStream(std::string dir, StreamMeta meta, StreamDeps deps);
  Status OpenShardLog(uint32_t index);
  std::string ShardDir(uint32_t index) const;
  Status SaveLocked() const;
  // Closes an open shard (under the exclusive lock): its end is its log's next
  // position.
  void CloseLocked(ShardInfo* s, int64_t now_ms);
  // A new open shard for [start, end] with its parents (under the exclusive lock).
  Result<uint32_t> AddShardLocked(HashKey start, HashKey end, std::optional<uint32_t> parent,
                                  std::optional<uint32_t> adjacent, int64_t now_ms, bool open);
  std::shared_ptr<buffer::RecordLog> LogLocked(uint32_t index) const;
  Result<ReadResult> ReadRecords(uint32_t shard, uint64_t from, size_t max_records,
                                 uint64_t max_bytes) const;

  const std::string dir_;
  const std::string name_;
  const int64_t created_ms_;
  StreamDeps deps_;
  // Shared with the put callbacks, which may run after the stream is gone.
  const std::shared_ptr<KinesisStreamProbe> probe_ = std::make_shared<KinesisStreamProbe>();
  mutable std::shared_mutex mu_;
  StreamMeta meta_;
  // Open shards by their first hash key (for routing puts).
  std::map<HashKey, uint32_t> open_by_start_;
  std::map<uint32_t, std::shared_ptr<buffer::RecordLog>> logs_;
  bool destroyed_ = false;
};

}  // namespace hydrant::kinesis
