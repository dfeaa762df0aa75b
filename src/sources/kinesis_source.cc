#include "sources/kinesis_source.h"

#include <algorithm>
#include <future>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/file_util.h"
#include "common/log_fields.h"
#include "kinesis/kpl.h"
#include "kinesis/source_record.h"
#include "stream/delivery_stream.h"
#include "stream/registry.h"

namespace hydrant::sources {

namespace json = boost::json;

namespace {

constexpr std::string_view kCheckpointFile = "/kinesis_source.json";
constexpr int64_t kRefreshMs = 1000;
// An iterator is used within its 5 minutes or made again.
constexpr int64_t kIteratorReuseMs = 240'000;

// Sequence numbers are decimal strings: the longer is the larger.
bool SeqLess(std::string_view a, std::string_view b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

// "Kinesis.ResourceNotFound" for ResourceNotFoundException, as Firehose names
// source errors.
std::string SourceErrorCode(const Status& st) {
  std::string_view code = st.error_code();
  if (code.empty()) return "Kinesis.InternalError";
  if (code.starts_with("Kinesis.")) return std::string(code);  // hydrant's own (Kinesis.Timeout)
  if (code.ends_with("Exception")) code.remove_suffix(9);
  return "Kinesis." + std::string(code);
}

}  // namespace

struct KinesisSources::Source {
  std::string name;
  std::string incarnation;
  std::string stream_arn;
  int64_t start_ms = 0;  // DeliveryStartTimestamp
  std::weak_ptr<stream::DeliveryStream> stream;
  std::unique_ptr<KinesisReader> reader;
  struct Shard {
    std::string last;  // the last sequence number appended ("" = none)
    bool done = false;  // closed and read to its end
    std::string iterator;
    int64_t iterator_ms = 0;
  };
  std::map<std::string, Shard> shards;
  std::vector<KinesisShard> listing;
  int64_t listed_ms = 0;
  bool relist = true;
  bool loaded = false;
  int64_t next_ms = 0;
  bool busy = false;
  bool gone = false;
};

KinesisSources::KinesisSources(stream::StreamRegistry* registry, KinesisReaderFactory factory,
                               KinesisSourceOptions opts, const Clock* clock)
    : registry_(registry),
      factory_(std::move(factory)),
      opts_(opts),
      clock_(clock ? clock : &SystemClock::Get()) {}

KinesisSources::~KinesisSources() { Stop(); }

void KinesisSources::Start() {
  std::lock_guard lk(mu_);
  stop_ = false;
  for (size_t i = 0; i < std::max<size_t>(1, opts_.threads); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
}

void KinesisSources::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void KinesisSources::Refresh() {
  // Called with mu_ held.
  std::map<std::string, bool> seen;
  for (const auto& m : registry_->List()) {
    if (!m.kinesis_source()) continue;
    seen[m.name] = true;
    auto it = sources_.find(m.name);
    if (it != sources_.end() && it->second->incarnation == m.incarnation) continue;
    auto s = registry_->Get(m.name);
    if (!s) continue;
    if (it != sources_.end()) it->second->gone = true;  // re-created: a new source
    auto src = std::make_shared<Source>();
    src->name = m.name;
    src->incarnation = m.incarnation;
    src->stream_arn = m.kinesis_stream_arn();
    src->start_ms = m.delivery_start_ms();
    src->stream = s;
    sources_[m.name] = src;
  }
  for (auto it = sources_.begin(); it != sources_.end();) {
    if (!seen.count(it->first)) {
      it->second->gone = true;
      it = sources_.erase(it);
    } else {
      ++it;
    }
  }
}

void KinesisSources::Run() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    const int64_t now = clock_->NowMillis();
    if (now - refreshed_ms_ >= kRefreshMs) {
      refreshed_ms_ = now;
      Refresh();
    }
    std::shared_ptr<Source> due;
    int64_t wake = now + kRefreshMs;
    for (auto& [name, src] : sources_) {
      if (src->busy) continue;
      if (src->next_ms <= now && (!due || src->next_ms < due->next_ms)) due = src;
      wake = std::min(wake, src->next_ms);
    }
    if (!due) {
      cv_.wait_for(lk, std::chrono::milliseconds(std::max<int64_t>(1, wake - now)));
      continue;
    }
    due->busy = true;
    lk.unlock();
    uint64_t appended = 0;
    int64_t next = Poll(*due, &appended);
    lk.lock();
    due->busy = false;
    due->next_ms = next;
    cv_.notify_all();
  }
}

uint64_t KinesisSources::PollAll() {
  std::vector<std::shared_ptr<Source>> all;
  {
    std::lock_guard lk(mu_);
    refreshed_ms_ = clock_->NowMillis();
    Refresh();
    for (auto& [name, src] : sources_) {
      if (!src->busy) {
        src->busy = true;
        all.push_back(src);
      }
    }
  }
  uint64_t appended = 0;
  for (auto& src : all) {
    const int64_t next = Poll(*src, &appended);
    std::lock_guard lk(mu_);
    src->busy = false;
    src->next_ms = next;
  }
  return appended;
}

// ---------------------------------------------------------------- checkpoints

Status KinesisSources::Load(Source& src, stream::DeliveryStream& s) {
  const std::string path = s.dir() + std::string(kCheckpointFile);
  uint64_t log_next = 0;
  if (fs::Exists(path)) {
    auto text = fs::ReadFile(path, 64 << 20);
    if (!text.ok()) return text.status();
    boost::system::error_code ec;
    json::value v = json::parse(*text, ec);
    if (ec || !v.is_object()) return Status::Corruption(path + " is not a JSON object");
    const json::object& o = v.as_object();
    // A poll of a deleted stream may have written its positions after a new
    // stream of the same name took the folder: they are not this stream's.
    if (const auto* inc = o.if_contains("incarnation");
        inc && inc->is_string() && inc->as_string() != src.incarnation) {
      spdlog::warn("stream={} event=kinesis_source_checkpoint_ignored reason=\"another incarnation's\"",
                   src.name);
      src.loaded = true;
      return Save(src, s, s.source_next_seq());
    }
    if (const auto* n = o.if_contains("log_next"); n && n->is_number()) {
      log_next = n->to_number<uint64_t>();
    }
    if (const auto* sh = o.if_contains("shards"); sh && sh->is_object()) {
      for (const auto& [id, st] : sh->as_object()) {
        if (!st.is_object()) continue;
        Source::Shard& shard = src.shards[std::string(id)];
        if (const auto* last = st.as_object().if_contains("last"); last && last->is_string()) {
          shard.last = std::string(last->as_string());
        }
        if (const auto* done = st.as_object().if_contains("done"); done && done->is_bool()) {
          shard.done = done->as_bool();
        }
      }
    }
  }
  // Batches made durable after the last save: their records are in the log.
  uint64_t scanned = 0;
  HYDRANT_RETURN_IF_ERROR(s.ReadSource(log_next, [&](const buffer::LogRecord& r) {
    if (auto v = kinesis::ParseSourceRecord(r.data)) {
      Source::Shard& shard = src.shards[std::string(v->meta.shard_id)];
      if (SeqLess(shard.last, v->meta.sequence_number)) shard.last = std::string(v->meta.sequence_number);
    }
    ++scanned;
    return true;
  }));
  if (scanned > 0) {
    spdlog::info("stream={} event=kinesis_source_recovered records_after_checkpoint={}", src.name,
                 scanned);
    HYDRANT_RETURN_IF_ERROR(Save(src, s, s.source_next_seq()));
  }
  src.loaded = true;
  return Status::Ok();
}

Status KinesisSources::Save(Source& src, stream::DeliveryStream& s, uint64_t log_next) {
  json::object shards;
  for (const auto& [id, shard] : src.shards) {
    json::object o;
    o["last"] = shard.last;
    o["done"] = shard.done;
    shards[id] = std::move(o);
  }
  json::object out;
  out["incarnation"] = src.incarnation;
  out["log_next"] = log_next;
  out["shards"] = std::move(shards);
  return fs::WriteFileAtomic(s.dir() + std::string(kCheckpointFile), json::serialize(out));
}

// ---------------------------------------------------------------- polling

int64_t KinesisSources::Poll(Source& src, uint64_t* appended) {
  const int64_t now = clock_->NowMillis();
  auto s = src.stream.lock();
  if (!s || src.gone) return now + kRefreshMs;
  auto& probe = s->probe();
  auto fail = [&](const Status& st) {
    s->ReportSourceError(SourceErrorCode(st), st.message());
    return clock_->NowMillis() + opts_.error_backoff.count();
  };
  if (!src.reader) {
    auto r = factory_(src.stream_arn);
    if (!r.ok()) return fail(r.status());
    src.reader = std::move(r).value();
  }
  if (!src.loaded) {
    if (Status st = Load(src, *s); !st.ok()) {
      spdlog::error("stream={} event=kinesis_source_load_failed error={}", src.name,
                    LogQuote(st.ToString()));
      return now + opts_.error_backoff.count();
    }
  }
  // Backpressure: the destination is behind; the records wait in Kinesis.
  if (s->backlog_disk_bytes() > opts_.max_backlog_bytes) return now + opts_.poll_interval.count();
  if (src.relist || now - src.listed_ms >= opts_.list_shards_every.count()) {
    auto shards = src.reader->ListShards();
    if (!shards.ok()) {
      if (shards.status().code() == StatusCode::kResourceExhausted) {
        probe.kinesis_throttled_describe_stream.fetch_add(1, std::memory_order_relaxed);
        return now + opts_.poll_interval.count();
      }
      return fail(shards.status());
    }
    src.listing = std::move(shards).value();
    src.listed_ms = now;
    src.relist = false;
  }
  // A shard is read once its parents are read to their end (or gone).
  std::map<std::string, bool> listed;
  for (const auto& sh : src.listing) listed[sh.id] = true;
  auto finished = [&](const std::optional<std::string>& parent) {
    if (!parent || !listed.count(*parent)) return true;
    auto it = src.shards.find(*parent);
    return it != src.shards.end() && it->second.done;
  };
  bool more = false;
  int64_t behind = 0;
  for (const auto& sh : src.listing) {
    Source::Shard& state = src.shards[sh.id];
    if (state.done || !finished(sh.parent) || !finished(sh.adjacent_parent)) continue;
    if (state.iterator.empty() || now - state.iterator_ms > kIteratorReuseMs) {
      auto it = state.last.empty()
                    ? src.reader->ShardIterator(sh.id, StartAt::kAtTimestamp, "", src.start_ms)
                    : src.reader->ShardIterator(sh.id, StartAt::kAfterSequenceNumber, state.last, 0);
      if (!it.ok()) {
        if (it.status().code() == StatusCode::kResourceExhausted) {
          probe.kinesis_throttled_get_shard_iterator.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (it.status().code() == StatusCode::kNotFound) src.relist = true;
        return fail(it.status());
      }
      state.iterator = std::move(it).value();
      state.iterator_ms = now;
    }
    auto batch = src.reader->GetRecords(state.iterator, opts_.get_records_limit);
    if (!batch.ok()) {
      if (batch.status().code() == StatusCode::kResourceExhausted) {
        probe.kinesis_throttled_get_records.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      state.iterator.clear();  // expired or refused: made again next time
      if (batch.status().error_code() == kKinesisExpiredIterator) continue;
      if (batch.status().code() == StatusCode::kNotFound) src.relist = true;
      return fail(batch.status());
    }
    behind = std::max(behind, batch->millis_behind);
    if (!batch->records.empty()) {
      // The records, de-aggregated, each with its metadata.
      std::string arena;
      std::vector<size_t> ends;
      uint64_t bytes = 0;
      std::vector<kinesis::UserRecord> users;
      for (const auto& rec : batch->records) {
        bytes += rec.data.size();
        kinesis::SourceRecordMeta m{sh.id, rec.partition_key, rec.sequence_number, 0, rec.arrival_ms};
        if (kinesis::Deaggregate(rec.data, &users)) {
          for (size_t i = 0; i < users.size(); ++i) {
            m.partition_key = users[i].partition_key;
            m.subsequence_number = static_cast<uint32_t>(i);
            kinesis::AppendSourceRecord(m, users[i].data, &arena);
            ends.push_back(arena.size());
          }
        } else {
          kinesis::AppendSourceRecord(m, rec.data, &arena);
          ends.push_back(arena.size());
        }
      }
      std::vector<std::string_view> views;
      views.reserve(ends.size());
      size_t at = 0;
      for (size_t e : ends) {
        views.emplace_back(arena.data() + at, e - at);
        at = e;
      }
      if (!views.empty()) {
        std::promise<Result<uint64_t>> done;
        s->Put(clock_->NowMillis(), views, [&](Result<uint64_t> r) { done.set_value(std::move(r)); });
        auto put = done.get_future().get();
        if (!put.ok()) {
          // The disk or its quota: nothing was written; read again later.
          spdlog::warn("stream={} event=kinesis_source_append_failed error={}", src.name,
                       LogQuote(put.status().ToString()));
          state.iterator.clear();
          return clock_->NowMillis() + opts_.poll_interval.count();
        }
        *appended += views.size();
      }
      probe.kinesis_read_records.fetch_add(batch->records.size(), std::memory_order_relaxed);
      probe.kinesis_read_bytes.fetch_add(bytes, std::memory_order_relaxed);
      state.last = batch->records.back().sequence_number;
    }
    state.iterator = batch->next_iterator;
    state.iterator_ms = clock_->NowMillis();
    if (batch->next_iterator.empty()) {
      state.done = true;
      src.relist = true;  // its children may be new
      more = true;
    }
    if (batch->records.size() >= opts_.get_records_limit) more = true;
    if (!batch->records.empty() || state.done) {
      if (Status st = Save(src, *s, s->source_next_seq()); !st.ok()) {
        spdlog::error("stream={} event=kinesis_source_save_failed error={}", src.name,
                      LogQuote(st.ToString()));
      }
    }
  }
  probe.kinesis_millis_behind.store(behind, std::memory_order_relaxed);
  return more ? clock_->NowMillis() : clock_->NowMillis() + opts_.poll_interval.count();
}

}  // namespace hydrant::sources
