#include "stream/delivery_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "codecs/codec.h"
#include "common/file_util.h"
#include "common/log_fields.h"
#include "destinations/sink_errors.h"
#include "kinesis/source_record.h"
#include "stream/definition_store.h"
#include "stream/delivery_internal.h"
#include "stream/object_output.h"
#include "stream/transformed_record.h"

namespace hydrant::stream {

namespace json = boost::json;

namespace {
// Source bytes per processing batch for native processors (no Lambda buffering).
constexpr uint64_t kNativeBatchBytes = 4ull << 20;
constexpr int64_t kNativeIntervalMs = 1000;
// A processing batch may hold this many Lambda-sized invocations when there is a
// backlog, so several invocations are in flight (Pipeline runs them in parallel).
constexpr uint64_t kParallelBatches = 5;
// A paced delivery checks its pace after reading this many bytes.
constexpr uint64_t kPaceStepBytes = 256 << 10;

}  // namespace

using internal::kBacklogTrigger;
using internal::kCursorsFile;



DeliveryStream::DeliveryStream(std::string dir, StreamMeta meta, DeliveryDeps deps)
    : dir_(std::move(dir)), deps_(std::move(deps)), name_(meta.name), incarnation_(meta.incarnation),
      kinesis_source_(meta.kinesis_source()), meta_(std::move(meta)), pacer_(deps_.options.pacing) {
  ApplyMetaLocked();
}

void DeliveryStream::ApplyMetaLocked() {
  pipeline_.reset();
  pipeline_error_.clear();
  processing_configured_ = false;
  if (const auto& pc = meta_.spec().processing) {
    processing::Pipeline::Context ctx;
    ctx.delivery_stream_arn = meta_.arn;
    ctx.source_kinesis_stream_arn = meta_.kinesis_stream_arn();
    ctx.region = deps_.region;
    ctx.invoker = deps_.invoker;
    ctx.clock = deps_.clock ? deps_.clock : &SystemClock::Get();
    auto p = processing::Pipeline::Create(*pc, ctx);
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

DeliveryStream::~DeliveryStream() {
  Stop();
  if (deps_.files) deps_.files->Released(*this);
}

void DeliveryStream::ReleaseFiles() {
  log_->ReleaseIdleFiles();
  transformed_->ReleaseIdleFiles();
}

void DeliveryStream::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    stopping_ = true;
    ++generation_;
  }
  cv_.notify_all();  // a paced delivery finishes at full speed
  idle_cv_.notify_all();
  DeliveryScheduler::Handle task;
  {
    std::lock_guard lk(mu_);
    task = std::move(task_);  // once: the scheduler may be gone at a later Stop
  }
  if (task) scheduler_->Unregister(task);  // waits for a pass in progress
}

void DeliveryStream::MarkDue() {
  DeliveryScheduler::Handle task;
  {
    std::lock_guard lk(mu_);
    task = task_;
  }
  if (task) scheduler_->MarkDue(task);
}

void DeliveryStream::Wake() {
  {
    std::lock_guard lk(mu_);
    ++generation_;
  }
  MarkDue();
}

bool DeliveryStream::WaitUntilIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  const uint64_t target = generation_ + 1;
  return idle_cv_.wait_for(lk, timeout, [&] { return idle_generation_ >= target || stop_; });
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

void DeliveryStream::MarkDeleted() { deleted_ = true; }

Status DeliveryStream::SetMeta(StreamMeta meta) {
  if (deleted_) return Status::NotFound("delivery stream " + name_ + " is being deleted");
  if (deps_.definitions) HYDRANT_RETURN_IF_ERROR(deps_.definitions->Save(meta));
  {
    std::lock_guard lk(mu_);
    meta_ = std::move(meta);
    ApplyMetaLocked();
    ++generation_;
  }
  MarkDue();
  return Status::Ok();
}

uint64_t DeliveryStream::backlog_records() const {
  return log_->next_seq() - log_->first_undelivered();
}

uint64_t DeliveryStream::source_next_seq() const { return log_->next_seq(); }

Status DeliveryStream::ReadSource(uint64_t from,
                                  const std::function<bool(const buffer::LogRecord&)>& fn) const {
  return log_->Read(from, std::numeric_limits<uint64_t>::max(), fn);
}

uint64_t DeliveryStream::backlog_disk_bytes() const {
  return log_->disk_bytes() + transformed_->disk_bytes();
}

void DeliveryStream::Put(int64_t arrival_ms, std::span<const std::string_view> payloads,
                         std::function<void(Result<uint64_t>)> done) {
  auto first = log_->Append(arrival_ms, payloads);
  if (deps_.files) deps_.files->Use(*this);  // the append may have opened files
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
        if (wake) self->MarkDue();
      });
}

int64_t DeliveryStream::RunPass() {
  Snapshot snap;
  {
    std::lock_guard lk(mu_);
    if (stop_) return DeliveryScheduler::kNoDeadline;
    snap.spec = meta_.shared_spec();
    snap.pipeline = pipeline_;
    snap.processing_configured = processing_configured_;
    snap.pipeline_error = pipeline_error_;
    snap.stream_name = meta_.name;
    snap.stream_arn = meta_.arn;
    snap.version = meta_.version_id;
    snap.durable_end = durable_end_;
    snap.pending_main = pending_main_;
    snap.pending_backup = pending_backup_;
    snap.generation = generation_;
  }
  if (snap.spec->backup && !backup_cursor_) {
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
    return 0;
  }
  if (!snap.processing_configured) processing_.inflight.reset();
  const int64_t now = deps_.clock->NowMillis();
  const uint64_t ingested = ingested_bytes_.load(std::memory_order_relaxed);
  pacer_.ObserveIngest(now, ingested);
  int64_t wake = kNoWake;
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
  const auto steady = std::chrono::steady_clock::now();
  if (ran || ingested != files_ingested_) {
    files_ingested_ = ingested;
    files_used_at_ = steady;
    files_open_ = true;
    if (deps_.files) deps_.files->Use(*this);
  }
  if (ran) return 0;
  const int64_t quiet =
      std::min({processing_.quiet_bytes, destination_.quiet_bytes, backup_.quiet_bytes});
  {
    std::lock_guard lk(mu_);
    if (stop_) return DeliveryScheduler::kNoDeadline;
    if (generation_ != snap.generation) return 0;
    quiet_bytes_ = quiet;
    fresh_bytes_ = 0;
    idle_generation_ = snap.generation + 1;
  }
  idle_cv_.notify_all();
  // Nothing to run: the logs' files are closed once no put has come for a while
  // (at once when no stage waits for anything), so idle streams hold no fds. The
  // next put or read opens what it needs.
  if (files_open_ && (wake == kNoWake || steady - files_used_at_ >= kFilesIdleTime)) {
    files_open_ = false;
    if (deps_.files) deps_.files->Released(*this);  // before: a put meanwhile lists it again
    ReleaseFiles();
  }
  // Without a stage waiting for a time, only an event (a put, Wake, SetMeta) runs
  // the next pass. A deadline is looked at again after at most a second (the
  // clock may be a test's FakeClock, moved without Wake).
  if (wake == kNoWake) return DeliveryScheduler::kNoDeadline;
  return std::clamp<int64_t>(wake - now, 1, 1000);
}

bool DeliveryStream::Due(Stage& stage, bool transformed, uint64_t start, int64_t pending,
                         uint64_t size_bytes, int64_t interval_ms, int64_t now, int64_t* wake_ms,
                         int64_t* oldest_out) {
  if (stage.inflight) {
    *oldest_out = stage.inflight->oldest_ms;
  } else {
    if (stage.cached_seq != start || stage.cached_transformed != transformed) {
      const buffer::RecordLog& log = transformed ? *transformed_ : *log_;
      int64_t oldest = 0;
      bool found = false;
      Status st = log.Read(start, 1, [&](const buffer::LogRecord& r) {
        oldest = r.arrival_ms;
        found = true;
        return false;
      });
      if (!st.ok() && !KmsErrorCode(st).empty()) {
        // The buffer cannot be decrypted now (the key of its encryption at rest is
        // unusable): the stage runs, fails with the KMS code and backs off, as for
        // any delivery failure, until the key works again.
        *oldest_out = now;
        if (now < stage.next_attempt_ms) {
          *wake_ms = std::min(*wake_ms, stage.next_attempt_ms);
          return false;
        }
        return true;
      }
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
  stage.next_attempt_ms =
      deps_.clock->NowMillis() + deps_.options.backoff.Delay(stage.failures, deps_.random());
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
  int64_t interval = std::min<int64_t>(kNativeIntervalMs, snap.spec->s3.buffer_interval_seconds * 1000ll);
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
  if (!Due(st, transformed, start, pending, snap.spec->s3.buffer_size_bytes,
           snap.spec->s3.buffer_interval_seconds * 1000ll, now, wake_ms, &st.oldest_now)) {
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
  if (!snap.spec->backup || !backup_cursor_) return false;
  const uint64_t start = *backup_cursor_, end = snap.durable_end;
  if (st.inflight && st.inflight->start != start) st.inflight.reset();
  if (start >= end && !st.inflight) {
    st.quiet_bytes = 0;
    return false;
  }
  if (!Due(st, false, start, snap.pending_backup, snap.spec->backup->buffer_size_bytes,
           snap.spec->backup->buffer_interval_seconds * 1000ll, now, wake_ms, &st.oldest_now)) {
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
  probe_.errors_by_code.Add(code);
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
                         st.message() + ")"
                   : st.message();
  const std::string& role = backup && snap.spec->backup ? snap.spec->backup->role_arn : snap.spec->s3.role_arn;
  deps_.error_log->Write(backup ? snap.spec->backup_logging : snap.spec->s3.logging, snap.stream_name, backup,
                         ev, role);
}

void DeliveryStream::ReportSourceError(std::string_view code, const std::string& message) {
  probe_.kinesis_read_errors.fetch_add(1, std::memory_order_relaxed);
  probe_.errors_by_code.Add(code);
  StreamMeta m = Meta();
  spdlog::warn("stream={} event=source_read_failed errorCode={} source={} error={}", m.name, code,
               m.kinesis_stream_arn(), LogQuote(message));
  if (!deps_.error_log) return;
  logs::DeliveryErrorEvent ev;
  ev.delivery_stream_arn = m.arn;
  ev.destination = m.kinesis_stream_arn();
  ev.version_id = m.version_id;
  ev.error_code = std::string(code);
  ev.message = message;
  deps_.error_log->Write(m.spec().s3.logging, m.name, false, ev, m.spec().s3.role_arn);
}

bool DeliveryStream::ExpireOld(Stage& stage, bool transformed, uint64_t start, uint64_t end,
                               const std::string& stream_name, std::string_view error_code) {
  const int64_t now = deps_.clock->NowMillis();
  const int64_t cutoff = now - deps_.options.retention_ms;
  const buffer::RecordLog& log = transformed ? *transformed_ : *log_;
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

bool DeliveryStream::DeliverObject(const Snapshot& snap, Stage& stage, bool transformed,
                                   uint64_t start, uint64_t end) {
  const bool is_backup = &stage == &backup_;
  const api::S3DestinationSpec& cfg = is_backup ? *snap.spec->backup : snap.spec->s3;
  const std::string& name = snap.stream_name;
  buffer::RecordLog& log = transformed ? *transformed_ : *log_;
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
  ObjectOutput out(deps_.sink, cfg, in.key);
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
      if (kinesis_source_) {
        // Objects hold the data alone, as Firehose writes a Kinesis record's data.
        if (auto v = kinesis::ParseSourceRecord(r.data)) data = v->data;
      }
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
    const std::string_view code = LogReadErrorCode(rs);
    ReportFailure(snap, stage, code, cfg.bucket, in.key, rs);
    return ExpireOld(stage, transformed, start, end, name, code);
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
  const bool wrote = out.opened();
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
    if (out.opened()) probe_.backup_objects.fetch_add(1, std::memory_order_relaxed);
    probe_.backup_records.fetch_add(records, std::memory_order_relaxed);
    probe_.backup_bytes.fetch_add(bytes, std::memory_order_relaxed);
  } else {
    if (out.opened()) probe_.delivered_objects.fetch_add(1, std::memory_order_relaxed);
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
