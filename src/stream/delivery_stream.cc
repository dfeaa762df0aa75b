#include "stream/delivery_stream.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "codecs/codec.h"
#include "common/file_util.h"

namespace hydrant::stream {

namespace json = boost::json;

namespace {
constexpr const char* kInflightFile = "delivery.json";
constexpr int64_t kBacklogTrigger = std::numeric_limits<int64_t>::max() / 4;

bool IsEncrypted(const StreamMeta& m) {
  const auto* st = m.encryption.if_contains("Status");
  return st && st->is_string() && st->as_string() == "ENABLED";
}
}  // namespace

DeliveryStream::DeliveryStream(std::string dir, StreamMeta meta, DeliveryDeps deps)
    : dir_(std::move(dir)), deps_(std::move(deps)), incarnation_(meta.incarnation),
      meta_(std::move(meta)) {
  ApplyMetaLocked();
}

void DeliveryStream::ApplyMetaLocked() {
  config_ = api::DeliveryConfig(meta_.destination);
  encrypted_ = IsEncrypted(meta_);
  backup_config_.reset();
  const json::value* mode = meta_.destination.if_contains("S3BackupMode");
  const json::value* backup = meta_.destination.if_contains("S3BackupDescription");
  if (mode && mode->is_string() && mode->as_string() == "Enabled" && backup && backup->is_object()) {
    backup_config_ = api::DeliveryConfig(backup->as_object());
  }
  pipeline_.reset();
  pipeline_error_.clear();
  const json::value* pc = meta_.destination.if_contains("ProcessingConfiguration");
  if (pc && pc->is_object()) {
    processing::Pipeline::Context ctx;
    ctx.delivery_stream_arn = meta_.arn;
    ctx.region = deps_.region;
    ctx.invoker = deps_.invoker;
    ctx.clock = deps_.clock ? deps_.clock : &SystemClock::Get();
    auto p = processing::Pipeline::Create(pc->as_object(), ctx);
    if (p.ok()) {
      pipeline_ = std::shared_ptr<processing::Pipeline>(std::move(p).value());
    } else {
      // Never deliver untransformed records for a stream that asks for processing.
      pipeline_error_ = p.status().ToString();
      spdlog::error("stream={} event=processing_config_invalid error=\"{}\"", meta_.name,
                    pipeline_error_);
    }
  }
}

Result<std::shared_ptr<DeliveryStream>> DeliveryStream::Open(const std::string& dir,
                                                             StreamMeta meta, DeliveryDeps deps) {
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(dir));
  if (!deps.clock) deps.clock = &SystemClock::Get();
  if (!deps.random) deps.random = naming::DefaultRandom();
  std::shared_ptr<DeliveryStream> s(new DeliveryStream(dir, std::move(meta), std::move(deps)));
  HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(dir + "/stream.json",
                                              json::serialize(s->meta_.ToJson())));
  buffer::LogOptions lo;
  lo.segment_target_bytes = s->deps_.options.segment_bytes;
  lo.quota = s->deps_.quota;
  buffer::RecoveryReport report;
  auto log = buffer::StreamLog::Open(dir + "/log", lo, &report);
  if (!log.ok()) return log.status();
  s->log_ = std::shared_ptr<buffer::StreamLog>(std::move(log).value());
  for (const auto& p : report.problems) {
    spdlog::error("stream={} event=log_damage detail=\"{}\"", s->meta_.name, p);
  }
  s->probe_.recovered_records = report.records_recovered;
  s->probe_.truncated_bytes = report.bytes_truncated;
  s->durable_end_ = s->log_->next_seq();
  uint64_t first = s->log_->first_undelivered();
  if (s->durable_end_ > first) {
    s->pending_bytes_ = kBacklogTrigger;  // deliver the backlog by size, at once
    spdlog::info("stream={} event=recovered records={} truncated_bytes={}", s->meta_.name,
                 s->durable_end_ - first, report.bytes_truncated);
    // A batch that was being written when we stopped is rewritten under its key.
    auto saved = fs::ReadFile(dir + "/" + kInflightFile);
    if (saved.ok()) {
      boost::system::error_code ec;
      json::value v = json::parse(*saved, ec);
      if (!ec && v.is_object()) try {
        const auto& o = v.as_object();
        Inflight in;
        in.start = o.at("start").to_number<uint64_t>();
        in.end = o.at("end").to_number<uint64_t>();
        in.oldest_ms = o.at("oldest_ms").to_number<int64_t>();
        in.key = json::value_to<std::string>(o.at("key"));
        if (auto* k = o.if_contains("error_keys"); k && k->is_object()) {
          for (const auto& [type, key] : k->as_object()) {
            in.error_keys[std::string(type)] = json::value_to<std::string>(key);
          }
        }
        if (auto* k = o.if_contains("backup_key")) in.backup_key = json::value_to<std::string>(*k);
        in.from_previous_run = true;
        if (in.start == first && in.end > in.start && in.end <= s->durable_end_) {
          s->inflight_ = std::move(in);
        }
      } catch (const std::exception& e) {
        // A damaged record of the last batch: deliver from the log with new keys.
        spdlog::warn("stream={} event=inflight_record_ignored error=\"{}\"", s->meta_.name, e.what());
      }
    }
  }
  s->thread_ = std::thread([raw = s.get()] { raw->Run(); });
  return s;
}

DeliveryStream::~DeliveryStream() { Stop(); }

void DeliveryStream::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Status DeliveryStream::Destroy() {
  Stop();
  Status st = log_->Destroy();
  Status st2 = fs::RemoveAll(dir_);
  return st.ok() ? st2 : st;
}

StreamMeta DeliveryStream::Meta() const {
  std::lock_guard lk(mu_);
  return meta_;
}

Status DeliveryStream::SetMeta(StreamMeta meta) {
  HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(dir_ + "/stream.json", json::serialize(meta.ToJson())));
  {
    std::lock_guard lk(mu_);
    meta_ = std::move(meta);
    ApplyMetaLocked();
  }
  cv_.notify_all();
  return Status::Ok();
}

uint64_t DeliveryStream::backlog_records() const {
  return log_->next_seq() - log_->first_undelivered();
}

uint64_t DeliveryStream::backlog_disk_bytes() const { return log_->disk_bytes(); }

void DeliveryStream::Put(int64_t arrival_ms, std::span<const std::string_view> payloads,
                         std::function<void(Result<uint64_t>)> done) {
  auto first = log_->Append(arrival_ms, payloads);
  if (!first.ok()) {
    done(first.status());
    return;
  }
  uint64_t bytes = 0;
  for (auto p : payloads) bytes += p.size();
  uint64_t first_seq = *first;
  uint64_t end = first_seq + payloads.size();
  deps_.committer->SyncThen(
      log_, [self = shared_from_this(), first_seq, end, bytes, done = std::move(done)](Status st) {
        if (!st.ok()) {
          spdlog::error("stream_dir={} event=sync_failed error=\"{}\"", self->dir_, st.ToString());
          done(st);
          return;
        }
        {
          std::lock_guard lk(self->mu_);
          self->durable_end_ = std::max(self->durable_end_, end);
          self->pending_bytes_ += static_cast<int64_t>(bytes);
        }
        self->cv_.notify_one();
        done(first_seq);
      });
}

Status DeliveryStream::PersistInflight() {
  json::object o;
  o["start"] = inflight_->start;
  o["end"] = inflight_->end;
  o["oldest_ms"] = inflight_->oldest_ms;
  o["key"] = inflight_->key;
  json::object ek;
  for (const auto& [type, key] : inflight_->error_keys) ek[type] = key;
  o["error_keys"] = std::move(ek);
  o["backup_key"] = inflight_->backup_key;
  return fs::WriteFileAtomic(dir_ + "/" + kInflightFile, json::serialize(o));
}

void DeliveryStream::Run() {
  std::unique_lock lk(mu_);
  int failures = 0;
  int64_t next_attempt_ms = 0;
  uint64_t cached_seq = std::numeric_limits<uint64_t>::max();
  int64_t cached_oldest = 0;
  while (!stop_) {
    uint64_t start = log_->first_undelivered();
    uint64_t end = durable_end_;
    if (start >= end && !inflight_) {
      probe_.oldest_undelivered_ms = 0;
      pending_bytes_ = 0;
      cv_.wait(lk);
      continue;
    }
    int64_t now = deps_.clock->NowMillis();
    if (!inflight_) {
      if (cached_seq != start) {
        lk.unlock();
        int64_t oldest = 0;
        bool found = false;
        Status st = log_->Read(start, 1, [&](const buffer::LogRecord& r) {
          oldest = r.arrival_ms;
          found = true;
          return false;
        });
        lk.lock();
        if (!st.ok() || !found) {
          spdlog::error("stream={} event=log_read_failed seq={} error=\"{}\"", meta_.name, start,
                        st.ToString());
          cv_.wait_for(lk, std::chrono::seconds(1));
          continue;
        }
        cached_seq = start;
        cached_oldest = oldest;
        continue;  // re-check state after relocking
      }
      probe_.oldest_undelivered_ms = cached_oldest;
      int64_t due_ms = cached_oldest + static_cast<int64_t>(config_.buffer_interval_seconds) * 1000;
      bool size_reached = pending_bytes_ >= static_cast<int64_t>(config_.buffer_size_bytes);
      if (!size_reached && now < due_ms) {
        cv_.wait_for(lk, std::chrono::milliseconds(std::min<int64_t>(due_ms - now, 1000)));
        continue;
      }
    }
    if (now < next_attempt_ms) {
      cv_.wait_for(lk, std::chrono::milliseconds(std::min<int64_t>(next_attempt_ms - now, 1000)));
      continue;
    }
    lk.unlock();
    bool progressed = DeliverOnce(start, end);
    lk.lock();
    if (progressed) {
      failures = 0;
      next_attempt_ms = 0;
    } else {
      ++failures;
      int64_t backoff = deps_.options.min_backoff_ms << std::min(failures - 1, 10);
      backoff = std::min(backoff, deps_.options.max_backoff_ms);
      // Jitter: 50-100% of the backoff.
      backoff = backoff / 2 + static_cast<int64_t>(deps_.random() % (backoff / 2 + 1));
      next_attempt_ms = deps_.clock->NowMillis() + backoff;
    }
  }
}

namespace {

// One object being written: opened on its first byte, so an output that receives
// nothing (no failed records, say) writes nothing.
struct Output {
  store::ObjectSink* sink = nullptr;
  std::string bucket, key;
  codecs::Compression compression = codecs::Compression::kUncompressed;
  std::string extension;
  std::unique_ptr<store::ObjectWriter> writer;
  std::unique_ptr<codecs::Encoder> encoder;
  uint64_t records = 0, bytes = 0;

  Status Append(std::string_view data) {
    if (!writer) {
      store::ObjectMeta om;
      om.content_type = "application/octet-stream";
      om.content_encoding = std::string(codecs::ContentEncoding(compression));
      auto w = sink->BeginPut(bucket, key, om);
      if (!w.ok()) return w.status();
      writer = std::move(w).value();
      std::string_view entry = key;
      if (size_t slash = entry.rfind('/'); slash != std::string_view::npos) entry.remove_prefix(slash + 1);
      if (!extension.empty() && entry.ends_with(extension)) entry.remove_suffix(extension.size());
      encoder = codecs::MakeEncoder(compression, writer.get(), entry);
    }
    ++records;
    bytes += data.size();
    return encoder->Append(data);
  }
  // Publishes the object (if anything was written).
  Status Commit() {
    if (!writer) return Status::Ok();
    HYDRANT_RETURN_IF_ERROR(encoder->Finish());
    auto info = writer->Commit();
    return info.ok() ? Status::Ok() : info.status();
  }
};

std::string_view ErrorCodeFor(const Status& st) {
  return st.code() == StatusCode::kNotFound ? "S3.NoSuchBucket" : "InternalError";
}

// Source records of one processing chunk, copied out of the log.
struct Chunk {
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;  // offset, length in arena
  std::vector<processing::SourceRecord> records;
  void Clear() {
    arena.clear();
    spans.clear();
    records.clear();
  }
  void Add(const buffer::LogRecord& r) {
    spans.emplace_back(arena.size(), r.data.size());
    arena.append(r.data);
    records.push_back({std::string_view(), r.arrival_ms});
  }
  void Seal() {
    for (size_t i = 0; i < records.size(); ++i) {
      records[i].data = std::string_view(arena).substr(spans[i].first, spans[i].second);
    }
  }
};

constexpr uint64_t kChunkBytes = 4ull << 20;

}  // namespace

bool DeliveryStream::DeliverOnce(uint64_t start, uint64_t durable_end) {
  api::S3DeliveryConfig cfg;
  std::optional<api::S3DeliveryConfig> backup_cfg;
  std::shared_ptr<processing::Pipeline> pipeline;
  std::string stream_name;
  std::string pipeline_error;
  int64_t version = 1;
  {
    std::lock_guard lk(mu_);
    cfg = config_;
    backup_cfg = backup_config_;
    pipeline = pipeline_;
    pipeline_error = pipeline_error_;
    stream_name = meta_.name;
    version = meta_.version_id;
  }
  if (!pipeline_error.empty()) return false;  // logged when the configuration was applied
  const int64_t now = deps_.clock->NowMillis();
  probe_.delivery_attempts.fetch_add(1, std::memory_order_relaxed);

  bool fixed = inflight_.has_value();
  Inflight in;
  if (fixed) {
    in = *inflight_;
    if (backup_cfg && in.backup_key.empty()) {
      // Backup was enabled while this batch was being retried.
      naming::ObjectNameInput bi;
      bi.stream_name = stream_name;
      bi.version_id = version;
      bi.oldest_arrival_ms = in.oldest_ms;
      bi.time_zone = backup_cfg->time_zone;
      bi.extension = backup_cfg->extension;
      auto bk = naming::DataObjectKey(backup_cfg->prefix, bi, deps_.random);
      if (!bk.ok()) return false;
      in.backup_key = std::move(*bk);
    }
  } else {
    in.start = start;
    bool found = false;
    Status st = log_->Read(start, 1, [&](const buffer::LogRecord& r) {
      in.oldest_ms = r.arrival_ms;
      found = true;
      return false;
    });
    if (!st.ok() || !found) return false;
    naming::ObjectNameInput ni;
    ni.stream_name = stream_name;
    ni.version_id = version;
    ni.oldest_arrival_ms = in.oldest_ms;
    ni.time_zone = cfg.time_zone;
    ni.extension = cfg.extension;
    auto key = naming::DataObjectKey(cfg.prefix, ni, deps_.random);
    Result<std::string> backup_key = std::string();
    if (key.ok() && backup_cfg) {
      naming::ObjectNameInput bi = ni;
      bi.time_zone = backup_cfg->time_zone;
      bi.extension = backup_cfg->extension;
      backup_key = naming::DataObjectKey(backup_cfg->prefix, bi, deps_.random);
    }
    for (const Result<std::string>* k : {&key, &backup_key}) {
      if (!k->ok()) {
        spdlog::error("stream={} event=naming_failed error=\"{}\"", stream_name,
                      k->status().ToString());
        return false;
      }
    }
    in.key = std::move(*key);
    in.backup_key = std::move(*backup_key);
  }

  auto fail = [&](const Status& st, std::string_view code) {
    probe_.delivery_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("stream={} event=delivery_failed errorCode={} bucket={} key={} error=\"{}\"",
                 stream_name, code, cfg.bucket, in.key, st.ToString());
    if (now - in.oldest_ms > deps_.options.retention_ms) {
      // Past the retention period: the records older than it are dropped, loudly.
      // Younger records of the batch stay (an unfixed batch is cut at the first record
      // inside the period; a fixed one goes as a whole, its keys being promised).
      uint64_t end = in.end;
      if (!end) {
        const int64_t cutoff = now - deps_.options.retention_ms;
        end = in.start;
        Status rs = log_->Read(in.start, std::numeric_limits<uint64_t>::max(),
                               [&](const buffer::LogRecord& r) {
                                 if (r.seq >= durable_end || r.arrival_ms >= cutoff) return false;
                                 end = r.seq + 1;
                                 return true;
                               });
        if (!rs.ok() || end == in.start) return false;
      }
      uint64_t n = end - in.start;
      Status ms = log_->MarkDelivered(end);
      if (!ms.ok()) return false;
      probe_.expired_records.fetch_add(n, std::memory_order_relaxed);
      spdlog::error(
          "stream={} event=records_expired records={} first_seq={} errorCode={} reason=\"undeliverable "
          "for longer than the retention period ({} ms)\"",
          stream_name, n, in.start, code, deps_.options.retention_ms);
      std::lock_guard lk(mu_);
      inflight_.reset();
      if (end >= durable_end_) pending_bytes_ = 0;
      return true;
    }
    return false;
  };

  Output dest{deps_.sink, cfg.bucket, in.key, cfg.compression, cfg.extension};
  // Error objects, by error output type; their keys join the inflight record.
  std::map<std::string, Output> failed;
  Status naming_status;
  auto failed_output = [&](const std::string& type) -> Output* {
    auto it = failed.find(type);
    if (it != failed.end()) return &it->second;
    auto k = in.error_keys.find(type);
    if (k == in.error_keys.end()) {
      naming::ObjectNameInput ni;
      ni.stream_name = stream_name;
      ni.version_id = version;
      ni.oldest_arrival_ms = in.oldest_ms;
      ni.time_zone = cfg.time_zone;
      ni.extension = cfg.extension;
      auto key = naming::ErrorObjectKey(
          cfg.prefix,
          cfg.error_output_prefix ? std::optional<std::string_view>(*cfg.error_output_prefix)
                                  : std::nullopt,
          type, ni, deps_.random);
      if (!key.ok()) {
        naming_status = key.status();
        return nullptr;
      }
      k = in.error_keys.emplace(type, std::move(*key)).first;
    }
    return &failed.emplace(type, Output{deps_.sink, cfg.bucket, k->second, cfg.compression,
                                        cfg.extension})
                .first->second;
  };
  Output backup;
  if (backup_cfg) {
    backup = Output{deps_.sink, backup_cfg->bucket, in.backup_key, backup_cfg->compression,
                    backup_cfg->extension};
  }

  const uint64_t limit_end = fixed ? in.end : durable_end;
  uint64_t cursor = in.start;
  uint64_t count = 0, bytes = 0;
  Status out_status;
  Chunk chunk;
  processing::ProcessingStats stats;
  bool done = false;
  while (!done) {
    // Stop (shutdown, stream deletion) between chunks; the batch is redone later.
    if (stopping_.load()) return false;
    chunk.Clear();
    uint64_t chunk_bytes = 0;
    bool any = false;
    Status rs = log_->Read(cursor, std::numeric_limits<uint64_t>::max(),
                           [&](const buffer::LogRecord& r) {
                             if (r.seq >= limit_end || (!fixed && bytes >= cfg.buffer_size_bytes)) {
                               done = true;
                               return false;
                             }
                             any = true;
                             cursor = r.seq + 1;
                             ++count;
                             bytes += r.data.size();
                             if (backup_cfg) {
                               out_status = backup.Append(r.data);
                               if (!out_status.ok()) return false;
                             }
                             if (!pipeline) {
                               out_status = dest.Append(r.data);
                               return out_status.ok();
                             }
                             chunk.Add(r);
                             chunk_bytes += r.data.size();
                             return chunk_bytes < kChunkBytes;
                           });
    if (!rs.ok()) return fail(rs, "InternalError");
    if (!out_status.ok()) return fail(out_status, ErrorCodeFor(out_status));
    if (!any) done = true;
    if (pipeline && !chunk.records.empty()) {
      chunk.Seal();
      auto outcomes = pipeline->Process(chunk.records, &stats);
      for (size_t i = 0; i < outcomes.size() && out_status.ok(); ++i) {
        const auto& o = outcomes[i];
        switch (o.kind) {
          case processing::RecordOutcome::Kind::kOk:
            for (const auto& d : o.outputs) {
              out_status = dest.Append(d);
              if (!out_status.ok()) break;
            }
            break;
          case processing::RecordOutcome::Kind::kDropped:
            probe_.dropped_records.fetch_add(1, std::memory_order_relaxed);
            break;
          case processing::RecordOutcome::Kind::kFailed:
            probe_.processing_failed_records.fetch_add(1, std::memory_order_relaxed);
            if (Output* f = failed_output(o.error_output_type)) {
              out_status = f->Append(processing::ProcessingFailedLine(o, chunk.records[i]));
            } else {
              out_status = naming_status;
            }
            break;
        }
      }
      if (!out_status.ok()) return fail(out_status, ErrorCodeFor(out_status));
    }
  }
  probe_.processing_invocations.fetch_add(stats.invocations, std::memory_order_relaxed);
  probe_.processing_failed_invocations.fetch_add(stats.failed_invocations, std::memory_order_relaxed);
  probe_.processing_duration_ms.fetch_add(stats.total_duration_ms, std::memory_order_relaxed);
  probe_.processing_ok_records.fetch_add(stats.ok_records, std::memory_order_relaxed);
  probe_.processing_ok_bytes.fetch_add(stats.ok_bytes, std::memory_order_relaxed);
  if (count == 0) return false;
  if (!fixed) in.end = cursor;
  {
    // Fix the batch and its keys before any object can become visible.
    std::lock_guard lk(mu_);
    inflight_ = in;
  }
  if (Status ps = PersistInflight(); !ps.ok()) return fail(ps, "InternalError");
  std::vector<Output*> commits;
  for (auto& [type, o] : failed) commits.push_back(&o);
  commits.push_back(&backup);
  commits.push_back(&dest);
  for (Output* o : commits) {
    Status cs = o->Commit();
    if (!cs.ok()) return fail(cs, ErrorCodeFor(cs));
  }
  Status ms = log_->MarkDelivered(in.end);
  if (!ms.ok()) {
    spdlog::error("stream={} event=checkpoint_failed error=\"{}\"", stream_name, ms.ToString());
    return false;
  }
  if (dest.writer) probe_.delivered_objects.fetch_add(1, std::memory_order_relaxed);
  probe_.delivered_records.fetch_add(dest.records, std::memory_order_relaxed);
  probe_.delivered_bytes.fetch_add(dest.bytes, std::memory_order_relaxed);
  if (backup.writer) {
    probe_.backup_records.fetch_add(backup.records, std::memory_order_relaxed);
    probe_.backup_bytes.fetch_add(backup.bytes, std::memory_order_relaxed);
  }
  if (in.from_previous_run) probe_.redelivered_records.fetch_add(count, std::memory_order_relaxed);
  spdlog::debug("stream={} event=delivered bucket={} key={} records={} bytes={}", stream_name,
                cfg.bucket, in.key, count, bytes);
  std::lock_guard lk(mu_);
  inflight_.reset();
  if (in.end >= durable_end_) {
    pending_bytes_ = 0;
  } else if (pending_bytes_ < kBacklogTrigger) {
    pending_bytes_ = std::max<int64_t>(0, pending_bytes_ - static_cast<int64_t>(bytes));
  }
  return true;
}

}  // namespace hydrant::stream
