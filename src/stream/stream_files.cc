// DeliveryStream's folder: opening a stream (its logs, cursors and promised
// batches), repairing what a crash cut, and persisting cursors and batches
// (docs/wal-format.md, "A stream's folder").

#include <algorithm>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "stream/definition_store.h"
#include "stream/delivery_internal.h"
#include "stream/transformed_record.h"

namespace hydrant::stream {

namespace json = boost::json;
using internal::kBacklogTrigger;
using internal::kCursorsFile;

Result<std::shared_ptr<DeliveryStream>> DeliveryStream::Open(const std::string& dir,
                                                             StreamMeta meta, DeliveryDeps deps) {
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(dir));
  if (!deps.clock) deps.clock = &SystemClock::Get();
  if (!deps.random) deps.random = naming::DefaultRandom();
  std::shared_ptr<DeliveryStream> s(new DeliveryStream(dir, std::move(meta), std::move(deps)));
  if (s->deps_.definitions && !s->deps_.definition_loaded) {
    HYDRANT_RETURN_IF_ERROR(s->deps_.definitions->Save(s->meta_));
  }
  buffer::LogOptions lo;
  lo.segment_target_bytes = s->deps_.options.segment_bytes;
  lo.quota = s->deps_.quota;
  lo.lock_dir = s->deps_.options.lock_logs;
  lo.env = s->deps_.options.env;
  buffer::RecoveryReport report;
  auto log = buffer::StreamLog::Open(dir + "/log", lo, &report);
  if (!log.ok()) return log.status();
  s->log_ = std::shared_ptr<buffer::StreamLog>(std::move(log).value());
  // The transformed log is not charged to the quota: it only grows by draining the
  // source log, and refusing it could never free space.
  buffer::LogOptions xo;
  xo.segment_target_bytes = s->deps_.options.segment_bytes;
  xo.lock_dir = s->deps_.options.lock_logs;
  xo.env = s->deps_.options.env;
  buffer::RecoveryReport xreport;
  auto xlog = buffer::StreamLog::Open(dir + "/transformed", xo, &xreport);
  if (!xlog.ok()) return xlog.status();
  s->transformed_ = std::shared_ptr<buffer::StreamLog>(std::move(xlog).value());
  // Encryption at rest (buffer/encrypted_log.h): the stages read and append
  // through the wrappers.
  if (s->deps_.log_keys) {
    // Wraps *log (in folder `sub`), keeping the wrapper in *enc too.
    auto wrap = [&](std::shared_ptr<buffer::RecordLog>* log,
                    std::shared_ptr<buffer::EncryptedLog>* enc, const char* sub,
                    const char* name) -> Status {
      auto e = buffer::EncryptedLog::Open(
          *log, {dir + "/" + sub, s->meta_.arn + "/" + s->meta_.incarnation + "/" + name,
                 s->deps_.log_keys});
      if (!e.ok()) return e.status();
      *enc = *e;
      *log = *enc;
      return Status::Ok();
    };
    HYDRANT_RETURN_IF_ERROR(wrap(&s->log_, &s->enc_log_, "log", "source"));
    HYDRANT_RETURN_IF_ERROR(wrap(&s->transformed_, &s->enc_transformed_, "transformed", "transformed"));
    if (s->meta_.key_at_rest) {
      if (Status st = s->SetLogEncryption(s->meta_.key_at_rest); !st.ok()) {
        // Puts fail (never in plaintext) until the key can be used again.
        spdlog::error("stream={} event=encryption_key_unusable errorCode={} error=\"{}\"",
                      s->meta_.name, st.error_code(), st.message());
      }
    }
    if (Status st = s->FinishEncryptionChange(); !st.ok()) return st;
  }
  for (const auto* r : {&report, &xreport}) {
    if (!r->torn_tail.empty()) {
      spdlog::info("stream={} event=torn_tail_cut detail=\"{}\"", s->meta_.name, r->torn_tail);
    }
    for (const auto& p : r->problems) {
      spdlog::error("stream={} event=log_damage detail=\"{}\"", s->meta_.name, p);
      s->recovery_problems_.push_back(p);
    }
  }
  s->probe_.lost_records = report.records_lost + xreport.records_lost;
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
      if (auto b = num("backup"); b && s->meta_.spec().backup) {
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
  if (s->meta_.spec().backup && !s->backup_cursor_) s->backup_cursor_ = s->log_->first_undelivered();
  HYDRANT_RETURN_IF_ERROR(s->RepairAfterCrash());

  uint64_t first = s->log_->first_undelivered();
  if (s->durable_end_ > first) {
    spdlog::info("stream={} event=recovered records={} truncated_bytes={} lost_records={}",
                 s->meta_.name, report.records_recovered, report.bytes_truncated,
                 report.records_lost);
  }
  // A backlog found at start is delivered by size, at once.
  if (s->durable_end_ > s->main_cursor_) s->pending_main_ = kBacklogTrigger;
  if (s->backup_cursor_ && s->durable_end_ > *s->backup_cursor_) s->pending_backup_ = kBacklogTrigger;
  if (s->transformed_->next_seq() > s->transformed_->first_undelivered()) {
    s->pending_transformed_ = kBacklogTrigger;
  }
  // Batches that were being written when we stopped are rewritten under their keys.
  for (Stage* st : {&s->processing_, &s->destination_, &s->backup_}) s->LoadInflight(*st);
  // Recovery left the segments' files open: the first pass opens what it reads.
  s->ReleaseFiles();
  s->BindBudgetSelf(s);
  if (s->deps_.scheduler) {
    s->scheduler_ = s->deps_.scheduler;
  } else {
    s->own_scheduler_ = std::make_unique<DeliveryScheduler>(SchedulerOptions{1, 1});
    s->scheduler_ = s->own_scheduler_.get();
  }
  auto task = s->scheduler_->Register([raw = s.get()] { return raw->RunPass(); });
  std::lock_guard lk(s->mu_);
  s->task_ = std::move(task);
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

}  // namespace hydrant::stream
