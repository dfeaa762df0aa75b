#include "stream/delivery_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "codecs/codec.h"
#include "common/file_util.h"
#include "destinations/sink_errors.h"

namespace hydrant::stream {

namespace json = boost::json;

namespace {
constexpr const char* kCursorsFile = "cursors.json";
// A pending-bytes value that makes a stage's size trigger fire at once (a backlog
// found at start is delivered by size, not after an interval).
constexpr int64_t kBacklogTrigger = std::numeric_limits<int64_t>::max() / 4;
// Source bytes per processing batch for native processors (no Lambda buffering).
constexpr uint64_t kNativeBatchBytes = 4ull << 20;
constexpr int64_t kNativeIntervalMs = 1000;
// A processing batch may hold this many Lambda-sized invocations when there is a
// backlog, so several invocations are in flight (Pipeline runs them in parallel).
constexpr uint64_t kParallelBatches = 5;
// Largest payload of one transformed-log record (the log's limit is 64 MiB).
constexpr size_t kMaxPartBytes = 48ull << 20;
// A paced delivery checks its pace after reading this many bytes.
constexpr uint64_t kPaceStepBytes = 256 << 10;

bool IsEncrypted(const StreamMeta& m) {
  const auto* st = m.encryption.if_contains("Status");
  return st && st->is_string() && st->as_string() == "ENABLED";
}

// --- Transformed-log record (docs/wal-format.md, "transformed log") ----------------
// u64 source_end | u32 part | u32 parts | u32 records | concatenated record bytes,
// integers little-endian. One processed batch is `parts` consecutive records
// (normally one); source_end is the source position the batch completes.
constexpr size_t kPartHeader = 20;

struct PartHeader {
  uint64_t source_end = 0;
  uint32_t part = 0, parts = 1, records = 0;
};

void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}
void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 8);
}
uint64_t GetLE(std::string_view in, size_t off, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t(static_cast<unsigned char>(in[off + i])) << (8 * i);
  return v;
}
std::optional<PartHeader> ParsePart(std::string_view rec, std::string_view* data) {
  if (rec.size() < kPartHeader) return std::nullopt;
  PartHeader h;
  h.source_end = GetLE(rec, 0, 8);
  h.part = static_cast<uint32_t>(GetLE(rec, 8, 4));
  h.parts = static_cast<uint32_t>(GetLE(rec, 12, 4));
  h.records = static_cast<uint32_t>(GetLE(rec, 16, 4));
  if (h.parts == 0 || h.part >= h.parts) return std::nullopt;
  *data = rec.substr(kPartHeader);
  return h;
}

// One object being written: opened on its first byte, so an output that receives
// nothing (no failed records, say) writes nothing.
struct Output {
  Output(store::ObjectSink* s, const api::S3DeliveryConfig& cfg, std::string k)
      : sink(s), bucket(cfg.bucket), key(std::move(k)), compression(cfg.compression),
        extension(cfg.extension), role_arn(cfg.role_arn), kms_key_arn(cfg.kms_key_arn) {}
  store::ObjectSink* sink;
  std::string bucket, key;
  codecs::Compression compression;
  std::string extension;
  std::string role_arn, kms_key_arn;  // for remote stores: AssumeRole, SSE-KMS
  std::unique_ptr<store::ObjectWriter> writer;
  std::unique_ptr<codecs::Encoder> encoder;
  uint64_t records = 0, bytes = 0;

  Status Append(std::string_view data) {
    if (!writer) {
      store::ObjectMeta om;
      om.content_type = "application/octet-stream";
      om.content_encoding = std::string(codecs::ContentEncoding(compression));
      om.role_arn = role_arn;
      om.sse_kms_key_id = kms_key_arn;
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

// One object put's outcome (DeliveryToS3.Success / BackupToS3.Success = successes /
// attempts). Both counters move together once the outcome is known (not around the
// commit), so a sampler reading them between periods does not see a put in
// progress as a failed one.
void CountPut(std::atomic<uint64_t>& attempts, std::atomic<uint64_t>& successes, bool ok) {
  if (ok) successes.fetch_add(1, std::memory_order_relaxed);
  attempts.fetch_add(1, std::memory_order_relaxed);
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

// The transformed records of one processing batch, as transformed-log parts.
class PartBuilder {
 public:
  void Add(std::string_view d) {
    if (parts_.empty() || parts_.back().size() - kPartHeader + d.size() > kMaxPartBytes) {
      parts_.emplace_back(kPartHeader, '\0');
      counts_.push_back(0);
    }
    parts_.back().append(d);
    ++counts_.back();
    bytes_ += d.size();
  }
  uint64_t bytes() const { return bytes_; }
  // Fills the headers; always at least one part (an empty batch still carries its
  // source position).
  std::vector<std::string> Finish(uint64_t source_end) {
    if (parts_.empty()) {
      parts_.emplace_back(kPartHeader, '\0');
      counts_.push_back(0);
    }
    for (size_t i = 0; i < parts_.size(); ++i) {
      std::string h;
      PutU64(&h, source_end);
      PutU32(&h, static_cast<uint32_t>(i));
      PutU32(&h, static_cast<uint32_t>(parts_.size()));
      PutU32(&h, counts_[i]);
      std::memcpy(parts_[i].data(), h.data(), kPartHeader);
    }
    return std::move(parts_);
  }

 private:
  std::vector<std::string> parts_;
  std::vector<uint32_t> counts_;
  uint64_t bytes_ = 0;
};

// What names an object of the stream (Firehose's object naming, docs/object-naming.md).
naming::ObjectNameInput NameInputFor(const std::string& stream, int64_t version,
                                     const api::S3DeliveryConfig& cfg, int64_t oldest_ms) {
  naming::ObjectNameInput ni;
  ni.stream_name = stream;
  ni.version_id = version;
  ni.oldest_arrival_ms = oldest_ms;
  ni.time_zone = cfg.time_zone;
  ni.extension = cfg.extension;
  return ni;
}

}  // namespace

struct DeliveryStream::Snapshot {
  api::S3DeliveryConfig cfg;
  std::optional<api::S3DeliveryConfig> backup_cfg;
  std::shared_ptr<processing::Pipeline> pipeline;
  bool processing_configured = false;
  std::string pipeline_error;
  std::string stream_name, stream_arn;
  int64_t version = 1;
  // CloudWatchLoggingOptions of the destination and of the backup (never null).
  std::shared_ptr<const json::object> logging, backup_logging;
  uint64_t durable_end = 0;
  int64_t pending_main = 0, pending_backup = 0;
  uint64_t generation = 0;
};

DeliveryStream::DeliveryStream(std::string dir, StreamMeta meta, DeliveryDeps deps)
    : dir_(std::move(dir)), deps_(std::move(deps)), incarnation_(meta.incarnation),
      meta_(std::move(meta)), pacer_(deps_.options.pacing) {
  ApplyMetaLocked();
}

void DeliveryStream::ApplyMetaLocked() {
  config_ = api::DeliveryConfig(meta_.destination);
  auto logging_of = [](const json::object& d) {
    const json::value* l = d.if_contains("CloudWatchLoggingOptions");
    return std::make_shared<const json::object>(l && l->is_object() ? l->as_object() : json::object());
  };
  logging_ = logging_of(meta_.destination);
  const json::value* backup_desc = meta_.destination.if_contains("S3BackupDescription");
  backup_logging_ = logging_of(backup_desc && backup_desc->is_object() ? backup_desc->as_object()
                                                                       : json::object());
  encrypted_ = IsEncrypted(meta_);
  backup_config_.reset();
  const json::value* mode = meta_.destination.if_contains("S3BackupMode");
  const json::value* backup = meta_.destination.if_contains("S3BackupDescription");
  if (mode && mode->is_string() && mode->as_string() == "Enabled" && backup && backup->is_object()) {
    backup_config_ = api::DeliveryConfig(backup->as_object());
  }
  pipeline_.reset();
  pipeline_error_.clear();
  processing_configured_ = false;
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
      processing_configured_ = pipeline_ != nullptr;
    } else {
      // Never deliver untransformed records for a stream that asks for processing.
      processing_configured_ = true;
      pipeline_error_ = p.status().ToString();
      spdlog::error("stream={} event=processing_config_invalid errorCode=InternalError error=\"{}\"",
                    meta_.name, pipeline_error_);
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
  // The transformed log is not charged to the quota: it only grows by draining the
  // source log, and refusing it could never free space.
  buffer::LogOptions xo;
  xo.segment_target_bytes = s->deps_.options.segment_bytes;
  buffer::RecoveryReport xreport;
  auto xlog = buffer::StreamLog::Open(dir + "/transformed", xo, &xreport);
  if (!xlog.ok()) return xlog.status();
  s->transformed_ = std::shared_ptr<buffer::StreamLog>(std::move(xlog).value());
  for (const auto* r : {&report, &xreport}) {
    for (const auto& p : r->problems) {
      spdlog::error("stream={} event=log_damage detail=\"{}\"", s->meta_.name, p);
    }
  }
  s->probe_.recovered_records = report.records_recovered;
  s->probe_.truncated_bytes = report.bytes_truncated + xreport.bytes_truncated;
  s->durable_end_ = s->log_->next_seq();
  s->main_cursor_ = s->log_->first_undelivered();
  if (auto saved = fs::ReadFile(dir + "/" + kCursorsFile); saved.ok()) {
    boost::system::error_code ec;
    json::value v = json::parse(*saved, ec);
    if (!ec && v.is_object()) {
      const auto& o = v.as_object();
      auto num = [&](std::string_view k) -> std::optional<uint64_t> {
        const json::value* x = o.if_contains(k);
        if (!x || !(x->is_uint64() || x->is_int64())) return std::nullopt;
        return x->to_number<uint64_t>();
      };
      if (auto m = num("main")) s->main_cursor_ = std::max(s->main_cursor_, *m);
      if (auto b = num("backup"); b && s->backup_config_) {
        s->backup_cursor_ = std::max(*b, s->log_->first_undelivered());
      }
      if (const json::value* sk = o.if_contains("skip"); sk && sk->is_array()) {
        for (const auto& r : sk->as_array()) {
          if (r.is_array() && r.as_array().size() == 2) {
            s->skip_.emplace_back(r.as_array()[0].to_number<uint64_t>(),
                                  r.as_array()[1].to_number<uint64_t>());
          }
        }
      }
    } else {
      spdlog::warn("stream={} event=cursors_file_ignored", s->meta_.name);
    }
  }
  s->main_cursor_ = std::min(s->main_cursor_, s->durable_end_);
  if (s->backup_config_ && !s->backup_cursor_) s->backup_cursor_ = s->log_->first_undelivered();
  HYDRANT_RETURN_IF_ERROR(s->RepairAfterCrash());

  uint64_t first = s->log_->first_undelivered();
  if (s->durable_end_ > first) {
    spdlog::info("stream={} event=recovered records={} truncated_bytes={}", s->meta_.name,
                 s->durable_end_ - first, report.bytes_truncated);
  }
  // A backlog found at start is delivered by size, at once.
  if (s->durable_end_ > s->main_cursor_) s->pending_main_ = kBacklogTrigger;
  if (s->backup_cursor_ && s->durable_end_ > *s->backup_cursor_) s->pending_backup_ = kBacklogTrigger;
  if (s->transformed_->next_seq() > s->transformed_->first_undelivered()) {
    s->pending_transformed_ = kBacklogTrigger;
  }
  // Batches that were being written when we stopped are rewritten under their keys.
  for (Stage* st : {&s->processing_, &s->destination_, &s->backup_}) s->LoadInflight(*st);
  s->thread_ = std::thread([raw = s.get()] { raw->Run(); });
  return s;
}

Status DeliveryStream::RepairAfterCrash() {
  const uint64_t first = transformed_->first_undelivered();
  const uint64_t next = transformed_->next_seq();
  // Skip ranges the destination has passed are forgotten.
  std::erase_if(skip_, [&](const auto& r) { return r.second <= first; });
  if (next <= first) return Status::Ok();
  std::optional<PartHeader> last;
  uint64_t last_seq = next - 1;
  Status rs = transformed_->Read(last_seq, 1, [&](const buffer::LogRecord& r) {
    std::string_view data;
    last = ParsePart(r.data, &data);
    return false;
  });
  if (!rs.ok() || !last) {
    spdlog::error("stream={} event=transformed_log_unreadable seq={} error=\"{}\"", meta_.name,
                  last_seq, rs.ToString());
    return Status::Ok();  // the destination stage reports it when it gets there
  }
  if (last->part + 1 < last->parts) {
    // A batch of several records cut by the crash: its records are skipped (the
    // batch is processed again from the source log).
    uint64_t from = last_seq >= last->part ? last_seq - last->part : 0;
    skip_.emplace_back(std::max(from, first), next);
    spdlog::warn("stream={} event=partial_batch_skipped from={} to={}", meta_.name, from, next);
    return PersistCursors();
  }
  if (last->source_end > main_cursor_ && last->source_end <= durable_end_) {
    // The batch was appended but the source cursor not moved: move it now.
    main_cursor_ = last->source_end;
    if (backup_cursor_) HYDRANT_RETURN_IF_ERROR(PersistCursors());
    return CheckpointSource();
  }
  return Status::Ok();
}

void DeliveryStream::LoadInflight(Stage& stage) {
  auto saved = fs::ReadFile(dir_ + "/" + stage.inflight_file);
  if (!saved.ok()) return;
  boost::system::error_code ec;
  json::value v = json::parse(*saved, ec);
  if (ec || !v.is_object()) return;
  try {
    const auto& o = v.as_object();
    Inflight in;
    in.start = o.at("start").to_number<uint64_t>();
    in.end = o.at("end").to_number<uint64_t>();
    in.oldest_ms = o.at("oldest_ms").to_number<int64_t>();
    if (auto* k = o.if_contains("key")) in.key = json::value_to<std::string>(*k);
    if (auto* k = o.if_contains("error_keys"); k && k->is_object()) {
      for (const auto& [type, key] : k->as_object()) {
        in.error_keys[std::string(type)] = json::value_to<std::string>(key);
      }
    }
    in.from_previous_run = true;
    uint64_t cursor = 0, end = 0;
    if (&stage == &destination_) {
      // Written by this version only (older files had no source): an unknown
      // source could mean untransformed records of a processing stream.
      const json::value* src = o.if_contains("source");
      if (!src || !src->is_string()) return;
      in.from_transformed = src->as_string() == "transformed";
      cursor = in.from_transformed ? transformed_->first_undelivered() : main_cursor_;
      end = in.from_transformed ? transformed_->next_seq() : durable_end_;
    } else if (&stage == &backup_) {
      if (!backup_cursor_) return;
      cursor = *backup_cursor_;
      end = durable_end_;
    } else {
      cursor = main_cursor_;
      end = durable_end_;
    }
    if (in.start == cursor && in.end > in.start && in.end <= end) stage.inflight = std::move(in);
  } catch (const std::exception& e) {
    // A damaged record of the last batch: deliver from the log with new keys.
    spdlog::warn("stream={} event=inflight_record_ignored stage={} error=\"{}\"", meta_.name,
                 stage.name, e.what());
  }
}

DeliveryStream::~DeliveryStream() { Stop(); }

void DeliveryStream::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    stopping_ = true;
    ++generation_;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void DeliveryStream::Wake() {
  {
    std::lock_guard lk(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

Status DeliveryStream::Destroy() {
  Stop();
  Status st = log_->Destroy();
  Status st1 = transformed_->Destroy();
  Status st2 = fs::RemoveAll(dir_);
  return !st.ok() ? st : !st1.ok() ? st1 : st2;
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
    ++generation_;
  }
  cv_.notify_all();
  return Status::Ok();
}

uint64_t DeliveryStream::backlog_records() const {
  return log_->next_seq() - log_->first_undelivered();
}

uint64_t DeliveryStream::backlog_disk_bytes() const {
  return log_->disk_bytes() + transformed_->disk_bytes();
}

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
        bool wake = false;
        {
          std::lock_guard lk(self->mu_);
          self->durable_end_ = std::max(self->durable_end_, end);
          self->pending_main_ += static_cast<int64_t>(bytes);
          self->pending_backup_ += static_cast<int64_t>(bytes);
          ++self->generation_;
          self->fresh_bytes_ += static_cast<int64_t>(bytes);
          wake = self->fresh_bytes_ >= self->quiet_bytes_;
          self->ingested_bytes_.fetch_add(bytes, std::memory_order_relaxed);
        }
        done(first_seq);  // the answer first: the wake-up is not on the put's path
        if (wake) self->cv_.notify_one();
      });
}

Status DeliveryStream::PersistInflight(const Stage& stage) {
  const Inflight& in = *stage.inflight;
  json::object o;
  o["start"] = in.start;
  o["end"] = in.end;
  o["oldest_ms"] = in.oldest_ms;
  o["key"] = in.key;
  json::object ek;
  for (const auto& [type, key] : in.error_keys) ek[type] = key;
  o["error_keys"] = std::move(ek);
  o["source"] = in.from_transformed ? "transformed" : "log";
  return fs::WriteFileAtomic(dir_ + "/" + stage.inflight_file, json::serialize(o));
}

Status DeliveryStream::PersistCursors() {
  json::object o;
  o["main"] = main_cursor_;
  if (backup_cursor_) o["backup"] = *backup_cursor_;
  json::array sk;
  for (const auto& [a, b] : skip_) sk.push_back(json::array{a, b});
  o["skip"] = std::move(sk);
  return fs::WriteFileAtomic(dir_ + "/" + kCursorsFile, json::serialize(o));
}

Status DeliveryStream::CheckpointSource() {
  uint64_t up = backup_cursor_ ? std::min(main_cursor_, *backup_cursor_) : main_cursor_;
  if (up <= log_->first_undelivered()) return Status::Ok();
  return log_->MarkDelivered(up);
}

void DeliveryStream::Run() {
  while (true) {
    Snapshot snap;
    {
      std::lock_guard lk(mu_);
      if (stop_) return;
      snap.cfg = config_;
      snap.backup_cfg = backup_config_;
      snap.pipeline = pipeline_;
      snap.processing_configured = processing_configured_;
      snap.pipeline_error = pipeline_error_;
      snap.stream_name = meta_.name;
      snap.stream_arn = meta_.arn;
      snap.version = meta_.version_id;
      snap.logging = logging_;
      snap.backup_logging = backup_logging_;
      snap.durable_end = durable_end_;
      snap.pending_main = pending_main_;
      snap.pending_backup = pending_backup_;
      snap.generation = generation_;
    }
    if (snap.backup_cfg && !backup_cursor_) {
      // Backup enabled by an update: it starts with the records not yet taken.
      backup_cursor_ = main_cursor_;
      {
        std::lock_guard lk(mu_);
        pending_backup_ = pending_main_;
      }
      if (Status st = PersistCursors(); !st.ok()) {
        spdlog::error("stream={} event=cursor_write_failed error=\"{}\"", snap.stream_name,
                      st.ToString());
      }
      continue;
    }
    if (!snap.processing_configured) processing_.inflight.reset();
    const int64_t now = deps_.clock->NowMillis();
    pacer_.ObserveIngest(now, ingested_bytes_.load(std::memory_order_relaxed));
    int64_t wake = now + 1000;
    bool ran = MaybeRunProcessing(snap, now, &wake);
    ran = MaybeRunDestination(snap, now, &wake) || ran;
    ran = MaybeRunBackup(snap, now, &wake) || ran;
    // DataFreshness: the oldest record not yet in an object, processed or not.
    int64_t oldest = 0;
    for (const Stage* st : {&processing_, &destination_}) {
      if (st->oldest_now && (!oldest || st->oldest_now < oldest)) oldest = st->oldest_now;
    }
    probe_.oldest_undelivered_ms = oldest;
    probe_.backup_oldest_unsent_ms = backup_.oldest_now;
    if (ran) continue;
    const int64_t quiet =
        std::min({processing_.quiet_bytes, destination_.quiet_bytes, backup_.quiet_bytes});
    std::unique_lock lk(mu_);
    if (stop_) return;
    if (generation_ != snap.generation) continue;
    quiet_bytes_ = quiet;
    fresh_bytes_ = 0;
    cv_.wait_for(lk, std::chrono::milliseconds(std::clamp<int64_t>(wake - now, 1, 1000)));
  }
}

bool DeliveryStream::Due(Stage& stage, bool transformed, uint64_t start, int64_t pending,
                         uint64_t size_bytes, int64_t interval_ms, int64_t now, int64_t* wake_ms,
                         int64_t* oldest_out) {
  if (stage.inflight) {
    *oldest_out = stage.inflight->oldest_ms;
  } else {
    if (stage.cached_seq != start || stage.cached_transformed != transformed) {
      const buffer::StreamLog& log = transformed ? *transformed_ : *log_;
      int64_t oldest = 0;
      bool found = false;
      Status st = log.Read(start, 1, [&](const buffer::LogRecord& r) {
        oldest = r.arrival_ms;
        found = true;
        return false;
      });
      if (!st.ok() || !found) {
        // Nothing readable from start although bytes are pending: the records were
        // cut by damage (already reported by the log); a later put is found past them.
        if (!st.ok()) {
          spdlog::error("stream={} event=log_read_failed stage={} seq={} error=\"{}\"",
                        meta_.name, stage.name, start, st.ToString());
        }
        *wake_ms = std::min(*wake_ms, now + 1000);
        return false;
      }
      stage.cached_seq = start;
      stage.cached_transformed = transformed;
      stage.cached_oldest = oldest;
    }
    *oldest_out = stage.cached_oldest;
    const int64_t due = stage.cached_oldest + interval_ms;
    if (pending < static_cast<int64_t>(size_bytes) && now < due) {
      *wake_ms = std::min(*wake_ms, due);
      stage.quiet_bytes = std::min(stage.quiet_bytes, static_cast<int64_t>(size_bytes) - pending);
      return false;
    }
  }
  if (now < stage.next_attempt_ms) {
    *wake_ms = std::min(*wake_ms, stage.next_attempt_ms);
    return false;
  }
  return true;
}

void DeliveryStream::AfterRun(Stage& stage, bool progressed) {
  if (progressed) {
    stage.failures = 0;
    stage.next_attempt_ms = 0;
    return;
  }
  ++stage.failures;
  int64_t backoff = deps_.options.min_backoff_ms << std::min(stage.failures - 1, 10);
  backoff = std::min(backoff, deps_.options.max_backoff_ms);
  // Jitter: 50-100% of the backoff.
  backoff = backoff / 2 + static_cast<int64_t>(deps_.random() % (backoff / 2 + 1));
  stage.next_attempt_ms = deps_.clock->NowMillis() + backoff;
}

bool DeliveryStream::MaybeRunProcessing(const Snapshot& snap, int64_t now, int64_t* wake_ms) {
  Stage& st = processing_;
  st.oldest_now = 0;
  st.quiet_bytes = kNeverWake;
  if (!snap.processing_configured) return false;
  const uint64_t start = main_cursor_, end = snap.durable_end;
  if (st.inflight && st.inflight->start != start) st.inflight.reset();
  if (start >= end && !st.inflight) {
    st.quiet_bytes = 0;
    return false;
  }
  uint64_t size = kNativeBatchBytes;
  int64_t interval = std::min<int64_t>(kNativeIntervalMs, snap.cfg.buffer_interval_seconds * 1000ll);
  if (snap.pipeline) {
    if (auto lb = snap.pipeline->lambda_buffering()) {
      size = lb->size_bytes;
      interval = lb->interval_ms;
    }
  }
  if (!Due(st, false, start, snap.pending_main, size, interval, now, wake_ms, &st.oldest_now)) {
    return false;
  }
  // With a backlog, take several invocations' worth: they run in parallel.
  const uint64_t max_bytes =
      snap.pending_main >= static_cast<int64_t>(2 * size) ? kParallelBatches * size : size;
  AfterRun(st, Process(snap, start, end, max_bytes));
  return true;
}

bool DeliveryStream::MaybeRunDestination(const Snapshot& snap, int64_t now, int64_t* wake_ms) {
  Stage& st = destination_;
  st.oldest_now = 0;
  st.quiet_bytes = kNeverWake;
  // Transformed batches first (also those left after processing was turned off);
  // a promised batch is finished from the log it was taken from.
  const bool transformed =
      st.inflight ? st.inflight->from_transformed
                  : snap.processing_configured ||
                        transformed_->next_seq() > transformed_->first_undelivered();
  const uint64_t start = transformed ? transformed_->first_undelivered() : main_cursor_;
  const uint64_t end = transformed ? transformed_->next_seq() : snap.durable_end;
  const int64_t pending = transformed ? pending_transformed_ : snap.pending_main;
  if (st.inflight && st.inflight->start != start) st.inflight.reset();
  if (start >= end && !st.inflight) {
    if (!transformed) st.quiet_bytes = 0;  // fed by puts directly
    return false;
  }
  if (!Due(st, transformed, start, pending, snap.cfg.buffer_size_bytes,
           snap.cfg.buffer_interval_seconds * 1000ll, now, wake_ms, &st.oldest_now)) {
    if (transformed) st.quiet_bytes = kNeverWake;  // puts reach it through processing
    return false;
  }
  AfterRun(st, DeliverObject(snap, st, transformed, start, end));
  return true;
}

bool DeliveryStream::MaybeRunBackup(const Snapshot& snap, int64_t now, int64_t* wake_ms) {
  Stage& st = backup_;
  st.oldest_now = 0;
  st.quiet_bytes = kNeverWake;
  if (!snap.backup_cfg || !backup_cursor_) return false;
  const uint64_t start = *backup_cursor_, end = snap.durable_end;
  if (st.inflight && st.inflight->start != start) st.inflight.reset();
  if (start >= end && !st.inflight) {
    st.quiet_bytes = 0;
    return false;
  }
  if (!Due(st, false, start, snap.pending_backup, snap.backup_cfg->buffer_size_bytes,
           snap.backup_cfg->buffer_interval_seconds * 1000ll, now, wake_ms, &st.oldest_now)) {
    return false;
  }
  AfterRun(st, DeliverObject(snap, st, false, start, end));
  return true;
}

void DeliveryStream::Pace(const Stage& stage, bool transformed, uint64_t bytes,
                          uint64_t buffer_bytes) {
  const int64_t now = deps_.clock->NowMillis();
  pacer_.ObserveIngest(now, ingested_bytes_.load(std::memory_order_relaxed));
  std::unique_lock lk(mu_);
  if (stop_) return;  // finish at full speed
  const int64_t backlog = transformed            ? pending_transformed_
                          : &stage == &backup_   ? pending_backup_
                                                 : pending_main_;
  if (pacer_.Behind(backlog, buffer_bytes)) return;
  const int64_t wait = pacer_.Delay(now, bytes);
  if (wait > 0) cv_.wait_for(lk, std::chrono::milliseconds(wait), [&] { return stop_; });
}

void DeliveryStream::ReportFailure(const Snapshot& snap, const Stage& stage, std::string_view code,
                                   const std::string& bucket, const std::string& key,
                                   const Status& st) {
  probe_.delivery_failures.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("stream={} event={}_failed errorCode={} bucket={} key={} error=\"{}\"",
               snap.stream_name, stage.name, code, bucket, key, st.ToString());
  if (!deps_.error_log) return;
  const bool backup = &stage == &backup_;
  logs::DeliveryErrorEvent ev;
  ev.delivery_stream_arn = snap.stream_arn;
  ev.destination = "arn:aws:s3:::" + bucket;
  ev.version_id = snap.version;
  ev.error_code = std::string(code);
  ev.message = code == "InternalError"
                   ? "An internal error occurred while attempting to deliver data. Delivery will be "
                     "retried; if the error persists, then it will be reported to AWS for resolution. (" +
                         std::string(store::SinkErrorText(st)) + ")"
                   : std::string(store::SinkErrorText(st));
  deps_.error_log->Write(backup ? *snap.backup_logging : *snap.logging, snap.stream_name, backup, ev);
}

void DeliveryStream::ReportProcessingFailure(const Snapshot& snap,
                                             const processing::RecordOutcome& failed) {
  if (!deps_.error_log) return;
  logs::DeliveryErrorEvent ev;
  ev.delivery_stream_arn = snap.stream_arn;
  ev.destination = "arn:aws:s3:::" + snap.cfg.bucket;
  ev.version_id = snap.version;
  ev.error_code = failed.error_code;
  ev.message = failed.error_message;
  ev.processor = failed.lambda_arn;
  // Lambda errors go to the destination's log stream, as Firehose writes them.
  deps_.error_log->Write(*snap.logging, snap.stream_name, false, ev);
}

bool DeliveryStream::ExpireOld(Stage& stage, bool transformed, uint64_t start, uint64_t end,
                               const std::string& stream_name, std::string_view error_code) {
  const int64_t now = deps_.clock->NowMillis();
  const int64_t cutoff = now - deps_.options.retention_ms;
  const buffer::StreamLog& log = transformed ? *transformed_ : *log_;
  uint64_t drop_end = start;
  uint64_t records = 0;
  if (stage.inflight) {
    // A promised batch goes as a whole (its keys are promised).
    if (stage.inflight->oldest_ms >= cutoff) return false;
    drop_end = stage.inflight->end;
  }
  // Records (or transformed batches) older than the cutoff; younger ones stay.
  Status rs = log.Read(start, std::numeric_limits<uint64_t>::max(), [&](const buffer::LogRecord& r) {
    if (r.seq >= end) return false;
    if (r.seq >= drop_end && r.arrival_ms >= cutoff) return false;
    drop_end = std::max(drop_end, r.seq + 1);
    std::string_view data;
    if (!transformed) {
      ++records;
    } else if (auto h = ParsePart(r.data, &data)) {
      records += h->records;
    }
    return true;
  });
  if (!rs.ok() || drop_end == start) return false;
  Status ms;
  if (transformed) {
    ms = transformed_->MarkDelivered(drop_end);
    pending_transformed_ = drop_end >= end ? 0 : pending_transformed_;
  } else {
    if (&stage == &backup_) {
      backup_cursor_ = drop_end;
    } else {
      main_cursor_ = drop_end;
    }
    ms = backup_cursor_ ? PersistCursors() : Status::Ok();
    if (ms.ok()) ms = CheckpointSource();
    std::lock_guard lk(mu_);
    if (drop_end >= durable_end_) (&stage == &backup_ ? pending_backup_ : pending_main_) = 0;
  }
  if (!ms.ok()) return false;
  stage.inflight.reset();
  probe_.expired_records.fetch_add(records, std::memory_order_relaxed);
  spdlog::error(
      "stream={} event=records_expired stage={} records={} first_seq={} errorCode={} "
      "reason=\"undeliverable for longer than the retention period ({} ms)\"",
      stream_name, stage.name, records, start, error_code, deps_.options.retention_ms);
  return true;
}

bool DeliveryStream::Process(const Snapshot& snap, uint64_t start, uint64_t end,
                             uint64_t max_bytes) {
  Stage& st = processing_;
  const std::string& name = snap.stream_name;
  if (!snap.pipeline) {
    ReportFailure(snap, st, "InternalError", snap.cfg.bucket, "",
                  Status::InvalidArgument("the ProcessingConfiguration cannot be run: " +
                                             snap.pipeline_error));
    return ExpireOld(st, false, start, end, name, "InternalError");
  }
  const bool fixed = st.inflight.has_value();
  Inflight in = fixed ? *st.inflight : Inflight{};
  if (!fixed) in.start = start;
  const uint64_t limit = fixed ? in.end : end;
  Chunk chunk;
  uint64_t cursor = in.start;
  uint64_t source_bytes = 0;
  Status rs = log_->Read(in.start, fixed ? std::numeric_limits<uint64_t>::max() : max_bytes,
                         [&](const buffer::LogRecord& r) {
                           if (r.seq >= limit) return false;
                           chunk.Add(r);
                           cursor = r.seq + 1;
                           source_bytes += r.data.size();
                           return true;
                         });
  if (!rs.ok()) {
    ReportFailure(snap, st, "InternalError", snap.cfg.bucket, "", rs);
    return ExpireOld(st, false, start, end, name, "InternalError");
  }
  if (chunk.records.empty()) return false;
  if (!fixed) {
    in.end = cursor;
    in.oldest_ms = chunk.records.front().arrival_ms;
  }
  chunk.Seal();
  processing::ProcessingStats stats;
  const std::vector<processing::RecordOutcome> outcomes = snap.pipeline->Process(chunk.records, &stats);
  probe_.processing_invocations.fetch_add(stats.invocations, std::memory_order_relaxed);
  probe_.processing_failed_invocations.fetch_add(stats.failed_invocations, std::memory_order_relaxed);
  probe_.processing_duration_ms.fetch_add(stats.total_duration_ms, std::memory_order_relaxed);
  probe_.processing_ok_records.fetch_add(stats.ok_records, std::memory_order_relaxed);
  probe_.processing_ok_bytes.fetch_add(stats.ok_bytes, std::memory_order_relaxed);
  if (stopping_.load()) return false;  // redone after the restart

  // Failed records go to error objects of the destination bucket, by error output
  // type; their keys are fixed (persisted) before any of them can become visible.
  const api::S3DeliveryConfig& cfg = snap.cfg;
  std::map<std::string, Output> failed;
  Status out_status;
  bool new_keys = false;
  auto failed_output = [&](const std::string& type) -> Output* {
    if (auto it = failed.find(type); it != failed.end()) return &it->second;
    auto k = in.error_keys.find(type);
    if (k == in.error_keys.end()) {
      const naming::ObjectNameInput ni = NameInputFor(snap.stream_name, snap.version, cfg, in.oldest_ms);
      auto key = naming::ErrorObjectKey(
          cfg.prefix,
          cfg.error_output_prefix ? std::optional<std::string_view>(*cfg.error_output_prefix)
                                  : std::nullopt,
          type, ni, deps_.random);
      if (!key.ok()) {
        out_status = key.status();
        return nullptr;
      }
      k = in.error_keys.emplace(type, std::move(*key)).first;
      new_keys = true;
    }
    return &failed.try_emplace(type, deps_.sink, cfg, k->second).first->second;
  };
  PartBuilder parts;
  uint64_t dropped = 0, failed_records = 0;
  for (size_t i = 0; i < outcomes.size() && out_status.ok(); ++i) {
    const auto& o = outcomes[i];
    switch (o.kind) {
      case processing::RecordOutcome::Kind::kOk:
        for (const auto& d : o.outputs) {
          if (!d.empty()) parts.Add(d);
        }
        break;
      case processing::RecordOutcome::Kind::kDropped:
        ++dropped;
        break;
      case processing::RecordOutcome::Kind::kFailed:
        ++failed_records;
        ReportProcessingFailure(snap, o);
        if (Output* f = failed_output(o.error_output_type)) {
          out_status = f->Append(processing::ProcessingFailedLine(o, chunk.records[i]));
        }
        break;
    }
  }
  std::string error_key = failed.empty() ? "" : failed.begin()->second.key;
  if (!out_status.ok()) {
    probe_.s3_put_attempts.fetch_add(1, std::memory_order_relaxed);  // failed before its commit
    ReportFailure(snap, st, store::FirehoseErrorCode(out_status), cfg.bucket, error_key, out_status);
    return ExpireOld(st, false, start, end, name, store::FirehoseErrorCode(out_status));
  }
  if (new_keys) {
    st.inflight = in;
    if (Status ps = PersistInflight(st); !ps.ok()) {
      ReportFailure(snap, st, "InternalError", cfg.bucket, error_key, ps);
      return false;
    }
  }
  for (auto& [type, o] : failed) {
    Status cs = o.Commit();
    CountPut(probe_.s3_put_attempts, probe_.s3_put_successes, cs.ok());
    if (!cs.ok()) {
      ReportFailure(snap, st, store::FirehoseErrorCode(cs), cfg.bucket, o.key, cs);
      return ExpireOld(st, false, start, end, name, store::FirehoseErrorCode(cs));
    }
  }
  // The transformed records enter the transformed log as one batch that names the
  // source position it completes, then the source cursor moves.
  const uint64_t out_bytes = parts.bytes();
  std::vector<std::string> records = parts.Finish(in.end);
  std::vector<std::string_view> views(records.begin(), records.end());
  auto appended = transformed_->Append(in.oldest_ms, views);
  Status ss = appended.ok() ? transformed_->Sync() : appended.status();
  if (!ss.ok()) {
    ReportFailure(snap, st, "InternalError", cfg.bucket, "", ss);
    return false;
  }
  main_cursor_ = in.end;
  Status cs = backup_cursor_ ? PersistCursors() : Status::Ok();
  if (cs.ok()) cs = CheckpointSource();
  if (!cs.ok()) {
    // The transformed batch is durable and names its source end: a restart repairs it.
    spdlog::error("stream={} event=checkpoint_failed error=\"{}\"", name, cs.ToString());
  }
  st.inflight.reset();
  probe_.dropped_records.fetch_add(dropped, std::memory_order_relaxed);
  probe_.processing_failed_records.fetch_add(failed_records, std::memory_order_relaxed);
  pending_transformed_ = pending_transformed_ >= kBacklogTrigger
                             ? pending_transformed_
                             : pending_transformed_ + static_cast<int64_t>(out_bytes);
  std::lock_guard lk(mu_);
  if (in.end >= durable_end_) {
    pending_main_ = 0;
  } else if (pending_main_ < kBacklogTrigger) {
    pending_main_ = std::max<int64_t>(0, pending_main_ - static_cast<int64_t>(source_bytes));
  }
  return true;
}

bool DeliveryStream::DeliverObject(const Snapshot& snap, Stage& stage, bool transformed,
                                   uint64_t start, uint64_t end) {
  const bool is_backup = &stage == &backup_;
  const api::S3DeliveryConfig& cfg = is_backup ? *snap.backup_cfg : snap.cfg;
  const std::string& name = snap.stream_name;
  buffer::StreamLog& log = transformed ? *transformed_ : *log_;
  const bool fixed = stage.inflight.has_value();
  Inflight in;
  if (fixed) {
    in = *stage.inflight;
  } else {
    in.start = start;
    in.from_transformed = transformed;
    in.oldest_ms = stage.cached_oldest;
    auto key = naming::DataObjectKey(cfg.prefix, NameInputFor(snap.stream_name, snap.version, cfg, in.oldest_ms), deps_.random);
    if (!key.ok()) {
      ReportFailure(snap, stage, "InternalError", cfg.bucket, "", key.status());
      return false;
    }
    in.key = std::move(*key);
  }
  Output out(deps_.sink, cfg, in.key);
  const uint64_t limit = fixed ? in.end : end;
  uint64_t cursor = in.start, records = 0, bytes = 0;
  const bool paced = deps_.options.pace_local_writes && deps_.sink->WritesLocalDisk(cfg.bucket);
  uint64_t unpaced = 0;  // bytes read since the last pace check
  Status out_status;
  Status rs = log.Read(in.start, std::numeric_limits<uint64_t>::max(), [&](const buffer::LogRecord& r) {
    if (r.seq >= limit || (!fixed && bytes >= cfg.buffer_size_bytes)) return false;
    cursor = r.seq + 1;
    std::string_view data = r.data;
    if (transformed) {
      const bool skipped = std::any_of(skip_.begin(), skip_.end(), [&](const auto& s) {
        return r.seq >= s.first && r.seq < s.second;
      });
      if (skipped) return true;
      auto h = ParsePart(r.data, &data);
      if (!h) {
        out_status = Status::Corruption("transformed log record " + std::to_string(r.seq) +
                                        " has a bad header");
        return false;
      }
      records += h->records;
    } else {
      ++records;
    }
    bytes += data.size();
    if (!data.empty()) out_status = out.Append(data);
    unpaced += data.size();
    if (paced && unpaced >= kPaceStepBytes && out_status.ok()) {
      Pace(stage, transformed, unpaced, cfg.buffer_size_bytes);
      unpaced = 0;
    }
    return out_status.ok();
  });
  if (!rs.ok()) {
    ReportFailure(snap, stage, "InternalError", cfg.bucket, in.key, rs);
    return ExpireOld(stage, transformed, start, end, name, "InternalError");
  }
  auto& attempts = is_backup ? probe_.backup_put_attempts : probe_.s3_put_attempts;
  auto& successes = is_backup ? probe_.backup_put_successes : probe_.s3_put_successes;
  if (!out_status.ok()) {
    attempts.fetch_add(1, std::memory_order_relaxed);  // the put failed before its commit
    ReportFailure(snap, stage, store::FirehoseErrorCode(out_status), cfg.bucket, in.key, out_status);
    return ExpireOld(stage, transformed, start, end, name, store::FirehoseErrorCode(out_status));
  }
  if (cursor == in.start) return false;
  if (!fixed) in.end = cursor;
  // Fix the batch and its key before the object can become visible.
  stage.inflight = in;
  if (Status ps = PersistInflight(stage); !ps.ok()) {
    ReportFailure(snap, stage, "InternalError", cfg.bucket, in.key, ps);
    return false;
  }
  const bool wrote = out.writer != nullptr;
  Status cs = out.Commit();
  if (wrote) CountPut(attempts, successes, cs.ok());
  if (!cs.ok()) {
    ReportFailure(snap, stage, store::FirehoseErrorCode(cs), cfg.bucket, in.key, cs);
    return ExpireOld(stage, transformed, start, end, name, store::FirehoseErrorCode(cs));
  }
  Status ms;
  if (transformed) {
    ms = transformed_->MarkDelivered(in.end);
    if (std::erase_if(skip_, [&](const auto& s) { return s.second <= in.end; }) > 0 && ms.ok()) {
      ms = PersistCursors();
    }
  } else {
    (is_backup ? *backup_cursor_ : main_cursor_) = in.end;
    ms = backup_cursor_ ? PersistCursors() : Status::Ok();
    if (ms.ok()) ms = CheckpointSource();
  }
  if (!ms.ok()) {
    spdlog::error("stream={} event=checkpoint_failed stage={} error=\"{}\"", name, stage.name,
                  ms.ToString());
    return false;
  }
  stage.inflight.reset();
  if (is_backup) {
    if (out.writer) probe_.backup_objects.fetch_add(1, std::memory_order_relaxed);
    probe_.backup_records.fetch_add(records, std::memory_order_relaxed);
    probe_.backup_bytes.fetch_add(bytes, std::memory_order_relaxed);
  } else {
    if (out.writer) probe_.delivered_objects.fetch_add(1, std::memory_order_relaxed);
    probe_.delivered_records.fetch_add(records, std::memory_order_relaxed);
    probe_.delivered_bytes.fetch_add(bytes, std::memory_order_relaxed);
    if (in.from_previous_run) probe_.redelivered_records.fetch_add(records, std::memory_order_relaxed);
  }
  spdlog::debug("stream={} event=delivered stage={} bucket={} key={} records={} bytes={}", name,
                stage.name, cfg.bucket, in.key, records, bytes);
  if (transformed) {
    if (in.end >= transformed_->next_seq()) {
      pending_transformed_ = 0;
    } else if (pending_transformed_ < kBacklogTrigger) {
      pending_transformed_ = std::max<int64_t>(0, pending_transformed_ - static_cast<int64_t>(bytes));
    }
    return true;
  }
  std::lock_guard lk(mu_);
  int64_t& pending = is_backup ? pending_backup_ : pending_main_;
  if (in.end >= durable_end_) {
    pending = 0;
  } else if (pending < kBacklogTrigger) {
    pending = std::max<int64_t>(0, pending - static_cast<int64_t>(bytes));
  }
  return true;
}

}  // namespace hydrant::stream
