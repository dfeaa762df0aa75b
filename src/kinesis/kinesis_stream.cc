#include "kinesis/kinesis_stream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

#include <spdlog/spdlog.h>

#include "buffer/group_commit.h"
#include "buffer/stream_log.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/log_fields.h"
#include "kinesis/sequence_number.h"
#include "kinesis/shard_record.h"

namespace hydrant::kinesis {

namespace {

constexpr std::string_view kMetaFile = "/stream.json";
constexpr std::string_view kShardPrefix = "shard-";

int64_t RetentionMs(int hours) { return static_cast<int64_t>(hours) * 3600 * 1000; }

using Steady = std::chrono::steady_clock;

uint64_t MicrosSince(Steady::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - t).count());
}

}  // namespace

KinesisStream::KinesisStream(std::string dir, StreamMeta meta, StreamDeps deps)
    : dir_(std::move(dir)),
      name_(meta.name),
      created_ms_(meta.created_ms),
      deps_(deps),
      meta_(std::move(meta)) {}

KinesisStream::~KinesisStream() = default;

std::string KinesisStream::ShardDir(uint32_t index) const {
  return dir_ + "/" + std::string(kShardPrefix) + std::to_string(index);
}

Result<std::shared_ptr<KinesisStream>> KinesisStream::Open(const std::string& dir, StreamMeta meta,
                                                           StreamDeps deps, bool create) {
  if (!deps.clock) deps.clock = &SystemClock::Get();
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(dir));
  std::shared_ptr<KinesisStream> s(new KinesisStream(dir, std::move(meta), deps));
  std::unique_lock lk(s->mu_);
  if (create) HYDRANT_RETURN_IF_ERROR(s->SaveLocked());
  // Folders of shards the definition does not name (a reshard or an expiry cut
  // by a crash before or after stream.json changed) go.
  for (const auto& entry : fs::ListDir(dir)) {
    if (!entry.starts_with(kShardPrefix)) continue;
    const std::string num = entry.substr(kShardPrefix.size());
    bool known = false;
    for (const auto& sh : s->meta_.shards) known |= std::to_string(sh.index) == num;
    if (!known) {
      spdlog::info("kinesis_stream={} event=orphan_shard_removed dir={}", s->name_, LogQuote(entry));
      HYDRANT_RETURN_IF_ERROR(fs::RemoveAll(dir + "/" + entry));
    }
  }
  for (const auto& sh : s->meta_.shards) {
    HYDRANT_RETURN_IF_ERROR(s->OpenShardLog(sh.index));
    if (sh.open()) s->open_by_start_[sh.start] = sh.index;
  }
  return s;
}

Status KinesisStream::OpenShardLog(uint32_t index) {
  buffer::LogOptions lo;
  lo.segment_target_bytes = deps_.segment_bytes;
  lo.quota = deps_.quota;
  lo.lock_dir = false;
  lo.reuse_segments = 1;
  lo.env = deps_.env;
  buffer::RecoveryReport report;
  auto log = buffer::StreamLog::Open(ShardDir(index), lo, &report);
  if (!log.ok()) return log.status();
  if (!report.torn_tail.empty()) {
    spdlog::info("kinesis_stream={} shard={} event=torn_tail_cut detail={}", name_, ShardId(index),
                 LogQuote(report.torn_tail));
  }
  for (const auto& p : report.problems) {
    spdlog::error("kinesis_stream={} shard={} event=log_damage detail={}", name_, ShardId(index),
                  LogQuote(p));
  }
  logs_[index] = std::shared_ptr<buffer::RecordLog>(std::move(log).value());
  return Status::Ok();
}

Status KinesisStream::SaveLocked() const {
  return fs::WriteFileAtomic(dir_ + std::string(kMetaFile), meta_.ToJson());
}

std::shared_ptr<buffer::RecordLog> KinesisStream::LogLocked(uint32_t index) const {
  auto it = logs_.find(index);
  return it == logs_.end() ? nullptr : it->second;
}

StreamMeta KinesisStream::meta() const {
  std::shared_lock lk(mu_);
  return meta_;
}

// ---------------------------------------------------------------- puts

void KinesisStream::Put(int64_t arrival_ms, std::span<const PutEntry> entries,
                        std::function<void(Result<std::vector<PutOutcome>>)> done, PutOp op) {
  // Counted when the caller is answered: the records written (and their data
  // bytes) succeeded unless a sync failed.
  struct Meter {
    std::shared_ptr<KinesisStreamProbe> probe;
    PutOp op = PutOp::kPutRecords;
    uint64_t total = 0, written_records = 0, written_bytes = 0;
    Steady::time_point start = Steady::now();
    void Answer(Result<std::vector<PutOutcome>> r,
                const std::function<void(Result<std::vector<PutOutcome>>)>& done) const {
      const bool ok = r.ok();
      probe->RecordPut(op, total, ok ? written_records : 0, ok ? written_bytes : 0,
                       MicrosSince(start));
      done(std::move(r));
    }
  };
  Meter meter{probe_, op, entries.size()};
  struct Group {
    std::shared_ptr<buffer::RecordLog> log;
    std::vector<size_t> entries;  // indices into `entries`, in order
  };
  std::vector<PutOutcome> out(entries.size());
  std::vector<std::shared_ptr<buffer::RecordLog>> to_sync;
  {
    std::shared_lock lk(mu_);
    if (destroyed_ || open_by_start_.empty()) {
      meter.Answer(Status::NotFound("stream " + name_ + " is being deleted"), done);
      return;
    }
    std::map<uint32_t, Group> groups;
    for (size_t i = 0; i < entries.size(); ++i) {
      const HashKey hk = entries[i].explicit_hash_key ? *entries[i].explicit_hash_key
                                                      : PartitionKeyHash(entries[i].partition_key);
      auto it = open_by_start_.upper_bound(hk);  // the open shard whose start is <= hk
      --it;
      Group& g = groups[it->second];
      if (!g.log) g.log = LogLocked(it->second);
      g.entries.push_back(i);
      out[i].shard = it->second;
    }
    std::vector<std::string_view> views;
    std::string arena;
    for (auto& [shard, g] : groups) {
      size_t total = 0;
      for (size_t i : g.entries) total += 2 + entries[i].partition_key.size() + entries[i].data.size();
      arena.clear();
      arena.reserve(total);
      std::vector<size_t> ends;
      ends.reserve(g.entries.size());
      for (size_t i : g.entries) {
        AppendShardRecord(entries[i].partition_key, entries[i].data, &arena);
        ends.push_back(arena.size());
      }
      views.clear();
      size_t at = 0;
      for (size_t e : ends) {
        views.emplace_back(arena.data() + at, e - at);
        at = e;
      }
      auto first = g.log->Append(arrival_ms, views);
      if (!first.ok()) {
        for (size_t i : g.entries) out[i].error = first.status();
        continue;
      }
      for (size_t k = 0; k < g.entries.size(); ++k) out[g.entries[k]].seq = *first + k;
      meter.written_records += g.entries.size();
      for (size_t i : g.entries) meter.written_bytes += entries[i].data.size();
      to_sync.push_back(g.log);
    }
  }
  if (to_sync.empty()) {
    meter.Answer(std::move(out), done);
    return;
  }
  struct Pending {
    std::atomic<size_t> left;
    std::mutex mu;
    Status error;
    std::vector<PutOutcome> out;
    std::function<void(Result<std::vector<PutOutcome>>)> done;
    Meter meter;
  };
  auto p = std::make_shared<Pending>();
  p->left = to_sync.size();
  p->out = std::move(out);
  p->done = std::move(done);
  p->meter = std::move(meter);
  for (auto& log : to_sync) {
    deps_.committer->SyncThen(log, [p, name = name_](Status st) {
      if (!st.ok()) {
        spdlog::error("kinesis_stream={} event=sync_failed error={}", name, LogQuote(st.ToString()));
        std::lock_guard lk(p->mu);
        if (p->error.ok()) p->error = st;
      }
      if (p->left.fetch_sub(1) != 1) return;
      if (!p->error.ok()) {
        p->meter.Answer(p->error, p->done);
      } else {
        p->meter.Answer(std::move(p->out), p->done);
      }
    });
  }
}

// ---------------------------------------------------------------- reads

Result<ReadResult> KinesisStream::Read(uint32_t shard, uint64_t from, size_t max_records,
                                       uint64_t max_bytes) const {
  const Steady::time_point start = Steady::now();
  auto r = ReadRecords(shard, from, max_records, max_bytes);
  KinesisStreamProbe& p = *probe_;
  p.get_records.Record(r.ok(), MicrosSince(start));
  if (r.ok()) {
    uint64_t bytes = 0;
    for (const auto& rec : r->records) bytes += rec.data.size();
    p.get_records_records.fetch_add(r->records.size(), std::memory_order_relaxed);
    p.get_records_bytes.fetch_add(bytes, std::memory_order_relaxed);
    // GetRecords.IteratorAgeMilliseconds: how old the last record returned is;
    // 0 when none was (the reader is caught up).
    const int64_t age = r->records.empty()
                            ? 0
                            : std::max<int64_t>(0, deps_.clock->NowMillis() -
                                                       r->records.back().arrival_ms);
    p.get_records_iterator_age_ms.store(age, std::memory_order_relaxed);
  }
  return r;
}

Result<ReadResult> KinesisStream::ReadRecords(uint32_t shard, uint64_t from, size_t max_records,
                                              uint64_t max_bytes) const {
  std::shared_ptr<buffer::RecordLog> log;
  std::optional<uint64_t> end;  // closed shards: the position past their last record
  {
    std::shared_lock lk(mu_);
    const ShardInfo* s = meta_.Shard(shard);
    if (!s) return Status::NotFound("no shard " + ShardId(shard));
    log = LogLocked(shard);
    if (!s->open()) end = s->end_seq;
  }
  ReadResult r;
  const uint64_t tip = log->next_seq();
  const uint64_t stop = end ? std::min(*end, tip) : tip;
  from = std::max(from, log->first_undelivered());
  r.next = from;
  if (from < stop && max_records > 0) {
    HYDRANT_RETURN_IF_ERROR(log->Read(from, max_bytes, [&](const buffer::LogRecord& rec) {
      if (rec.seq >= stop) return false;
      auto view = ParseShardRecord(rec.data);
      ShardRecord out;
      out.seq = rec.seq;
      out.arrival_ms = rec.arrival_ms;
      if (view) {
        out.partition_key.assign(view->partition_key);
        out.data.assign(view->data);
      } else {
        spdlog::error("kinesis_stream={} shard={} seq={} event=shard_record_damaged", name_,
                      ShardId(shard), rec.seq);
      }
      r.records.push_back(std::move(out));
      r.next = rec.seq + 1;
      return r.records.size() < max_records;
    }));
  }
  r.shard_ended = end.has_value() && r.next >= stop;
  if (r.next < tip && !r.records.empty()) {
    r.millis_behind = std::max<int64_t>(0, deps_.clock->NowMillis() - r.records.back().arrival_ms);
  }
  return r;
}

Result<uint64_t> KinesisStream::TrimHorizon(uint32_t shard) const {
  std::shared_lock lk(mu_);
  if (!meta_.Shard(shard)) return Status::NotFound("no shard " + ShardId(shard));
  return LogLocked(shard)->first_undelivered();
}

Result<uint64_t> KinesisStream::Latest(uint32_t shard) const {
  std::shared_lock lk(mu_);
  const ShardInfo* s = meta_.Shard(shard);
  if (!s) return Status::NotFound("no shard " + ShardId(shard));
  const uint64_t tip = LogLocked(shard)->next_seq();
  return s->open() ? tip : std::min(tip, s->end_seq);
}

Result<uint64_t> KinesisStream::AtTimestamp(uint32_t shard, int64_t at_ms) const {
  std::shared_ptr<buffer::RecordLog> log;
  {
    std::shared_lock lk(mu_);
    if (!meta_.Shard(shard)) return Status::NotFound("no shard " + ShardId(shard));
    log = LogLocked(shard);
  }
  uint64_t pos = log->first_undelivered();
  const uint64_t tip = log->next_seq();
  bool found = false;
  while (pos < tip && !found) {
    uint64_t next = pos;
    HYDRANT_RETURN_IF_ERROR(log->Read(pos, 4 << 20, [&](const buffer::LogRecord& rec) {
      if (rec.arrival_ms >= at_ms) {
        found = true;
        next = rec.seq;
        return false;
      }
      next = rec.seq + 1;
      return true;
    }));
    if (next == pos && !found) break;  // nothing readable there
    pos = next;
  }
  return found ? pos : tip;
}

// ---------------------------------------------------------------- control plane

Status KinesisStream::SetRetention(int hours) {
  std::unique_lock lk(mu_);
  meta_.retention_hours = hours;
  return SaveLocked();
}

Status KinesisStream::AddTags(const std::map<std::string, std::string>& tags, size_t max_tags) {
  std::unique_lock lk(mu_);
  auto merged = meta_.tags;
  for (const auto& [k, v] : tags) merged[k] = v;
  if (merged.size() > max_tags) {
    return Status::ResourceExhausted("A stream cannot have more than " + std::to_string(max_tags) +
                                     " tags.");
  }
  meta_.tags = std::move(merged);
  return SaveLocked();
}

Status KinesisStream::RemoveTags(std::span<const std::string> keys) {
  std::unique_lock lk(mu_);
  for (const auto& k : keys) meta_.tags.erase(k);
  return SaveLocked();
}

void KinesisStream::CloseLocked(ShardInfo* s, int64_t now_ms) {
  s->closed_ms = now_ms;
  s->end_seq = LogLocked(s->index)->next_seq();
  open_by_start_.erase(s->start);
}

Result<uint32_t> KinesisStream::AddShardLocked(HashKey start, HashKey end,
                                               std::optional<uint32_t> parent,
                                               std::optional<uint32_t> adjacent, int64_t now_ms,
                                               bool open) {
  ShardInfo c;
  c.index = meta_.next_shard_index++;
  c.start = start;
  c.end = end;
  c.parent = parent;
  c.adjacent_parent = adjacent;
  c.created_ms = now_ms;
  HYDRANT_RETURN_IF_ERROR(OpenShardLog(c.index));
  if (open) {
    open_by_start_[start] = c.index;
  } else {  // a step of UpdateShardCount: closed at once, empty
    c.closed_ms = now_ms;
    c.end_seq = 0;
  }
  meta_.shards.push_back(c);
  return c.index;
}

Status KinesisStream::Split(uint32_t shard, HashKey new_start) {
  std::unique_lock lk(mu_);
  ShardInfo* s = meta_.Shard(shard);
  if (!s) return Status::NotFound("Could not find shard " + ShardId(shard) + " in stream " + name_ + ".");
  if (!s->open()) {
    return Status::NotFound("Could not find shard " + ShardId(shard) + " in stream " + name_ + ".");
  }
  if (new_start <= s->start || new_start > s->end) {
    return Status::InvalidArgument("NewStartingHashKey " + HashKeyToString(new_start) +
                                   " used in SplitShard() on shard " + ShardId(shard) + " in stream " +
                                   name_ + " is not within the shard's hash key range.");
  }
  const int64_t now = deps_.clock->NowMillis();
  const HashKey start = s->start, end = s->end;
  CloseLocked(s, now);
  HYDRANT_RETURN_IF_ERROR(AddShardLocked(start, new_start - 1, shard, std::nullopt, now, true).status());
  HYDRANT_RETURN_IF_ERROR(AddShardLocked(new_start, end, shard, std::nullopt, now, true).status());
  return SaveLocked();
}

Status KinesisStream::Merge(uint32_t shard, uint32_t adjacent) {
  std::unique_lock lk(mu_);
  ShardInfo* a = meta_.Shard(shard);
  ShardInfo* b = meta_.Shard(adjacent);
  for (auto [info, idx] : {std::pair{a, shard}, std::pair{b, adjacent}}) {
    if (!info || !info->open()) {
      return Status::NotFound("Could not find shard " + ShardId(idx) + " in stream " + name_ + ".");
    }
  }
  if (!(a->end + 1 == b->start || b->end + 1 == a->start)) {
    return Status::InvalidArgument("Shards " + ShardId(shard) + " and " + ShardId(adjacent) +
                                   " in stream " + name_ + " are not an adjacent pair of shards eligible for merging");
  }
  const int64_t now = deps_.clock->NowMillis();
  const HashKey start = std::min(a->start, b->start), end = std::max(a->end, b->end);
  CloseLocked(a, now);
  CloseLocked(b, now);
  HYDRANT_RETURN_IF_ERROR(AddShardLocked(start, end, shard, adjacent, now, true).status());
  return SaveLocked();
}

Status KinesisStream::UpdateShardCount(uint32_t target) {
  std::unique_lock lk(mu_);
  if (target == 0) return Status::InvalidArgument("TargetShardCount must be at least 1.");
  const int64_t now = deps_.clock->NowMillis();
  // The ranges to reach, and the open shards as they are, by first key.
  const std::vector<ShardInfo> want = EvenShards(target, 0, now);
  std::vector<uint32_t> open;
  for (const auto& [start, idx] : open_by_start_) open.push_back(idx);
  // 1. Split every open shard at each new boundary inside it: pieces with one
  //    parent each. A shard no boundary cuts stays as it is.
  struct Piece {
    HashKey start, end;
    uint32_t index;
  };
  std::vector<Piece> pieces;
  for (uint32_t idx : open) {
    ShardInfo s = *meta_.Shard(idx);
    std::vector<HashKey> cuts;
    for (const auto& w : want) {
      if (w.start > s.start && w.start <= s.end) cuts.push_back(w.start);
    }
    if (cuts.empty()) {
      pieces.push_back({s.start, s.end, idx});
      continue;
    }
    CloseLocked(meta_.Shard(idx), now);
    HashKey from = s.start;
    cuts.push_back(s.end + 1);  // wraps to 0 for the last shard: handled below
    for (size_t i = 0; i < cuts.size(); ++i) {
      const HashKey to = i + 1 == cuts.size() ? s.end : cuts[i] - 1;
      auto c = AddShardLocked(from, to, idx, std::nullopt, now, true);
      if (!c.ok()) return c.status();
      pieces.push_back({from, to, *c});
      from = cuts[i];
    }
  }
  // 2. Merge the pieces of each wanted range, left to right, two at a time: the
  //    intermediate shards close at once (they never take a record).
  size_t p = 0;
  for (const auto& w : want) {
    std::vector<Piece> mine;
    while (p < pieces.size() && pieces[p].end <= w.end) mine.push_back(pieces[p++]);
    if (mine.empty() || mine.front().start != w.start || mine.back().end != w.end) {
      return Status::Internal("UpdateShardCount: pieces do not cover " + HashKeyToString(w.start));
    }
    Piece acc = mine[0];
    for (size_t i = 1; i < mine.size(); ++i) {
      CloseLocked(meta_.Shard(acc.index), now);
      CloseLocked(meta_.Shard(mine[i].index), now);
      const bool last = i + 1 == mine.size();
      auto c = AddShardLocked(acc.start, mine[i].end, acc.index, mine[i].index, now, last);
      if (!c.ok()) return c.status();
      acc = {acc.start, mine[i].end, *c};
    }
  }
  return SaveLocked();
}

uint64_t KinesisStream::Trim() {
  const int64_t now = deps_.clock->NowMillis();
  std::vector<std::pair<uint32_t, std::shared_ptr<buffer::RecordLog>>> logs;
  int64_t cutoff = 0;
  {
    std::shared_lock lk(mu_);
    cutoff = now - RetentionMs(meta_.retention_hours);
    for (const auto& [idx, log] : logs_) logs.emplace_back(idx, log);
  }
  uint64_t dropped = 0;
  for (auto& [idx, log] : logs) {
    const uint64_t first = log->first_undelivered();
    uint64_t keep = first;
    (void)log->Read(first, 4 << 20, [&](const buffer::LogRecord& rec) {
      if (rec.arrival_ms >= cutoff) return false;
      keep = rec.seq + 1;
      return true;
    });
    if (keep > first && log->MarkDelivered(keep).ok()) dropped += keep - first;
  }
  // Closed shards whose records have all gone, and which closed before the cutoff.
  std::unique_lock lk(mu_);
  bool changed = false;
  for (auto it = meta_.shards.begin(); it != meta_.shards.end();) {
    auto log = LogLocked(it->index);
    if (it->closed_ms && *it->closed_ms < cutoff && log &&
        log->first_undelivered() >= std::min(it->end_seq, log->next_seq())) {
      spdlog::info("kinesis_stream={} shard={} event=shard_expired", name_, ShardId(it->index));
      (void)log->Destroy();
      logs_.erase(it->index);
      (void)fs::RemoveAll(ShardDir(it->index));
      it = meta_.shards.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) {
    if (Status st = SaveLocked(); !st.ok()) {
      spdlog::error("kinesis_stream={} event=save_failed error={}", name_, LogQuote(st.ToString()));
    }
  }
  return dropped;
}

void KinesisStream::ReleaseIdleFiles() {
  std::shared_lock lk(mu_);
  for (auto& [idx, log] : logs_) log->ReleaseIdleFiles();
}

uint64_t KinesisStream::disk_bytes() const {
  std::shared_lock lk(mu_);
  uint64_t n = 0;
  for (const auto& [idx, log] : logs_) n += log->disk_bytes();
  return n;
}

Status KinesisStream::Destroy() {
  std::unique_lock lk(mu_);
  destroyed_ = true;
  open_by_start_.clear();
  for (auto& [idx, log] : logs_) (void)log->Destroy();
  logs_.clear();
  return fs::RemoveAll(dir_);
}

}  // namespace hydrant::kinesis
