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
  config_ = api::DeliveryConfig(meta_.destination);
  encrypted_ = IsEncrypted(meta_);
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
      if (!ec && v.is_object()) {
        const auto& o = v.as_object();
        Inflight in;
        in.start = o.at("start").to_number<uint64_t>();
        in.end = o.at("end").to_number<uint64_t>();
        in.oldest_ms = o.at("oldest_ms").to_number<int64_t>();
        in.key = json::value_to<std::string>(o.at("key"));
        in.from_previous_run = true;
        if (in.start == first && in.end > in.start && in.end <= s->durable_end_) {
          s->inflight_ = std::move(in);
        }
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
    config_ = api::DeliveryConfig(meta_.destination);
    encrypted_ = IsEncrypted(meta_);
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
          spdlog::error("stream={} event=sync_failed error=\"{}\"", self->meta_.name, st.ToString());
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

bool DeliveryStream::DeliverOnce(uint64_t start, uint64_t durable_end) {
  api::S3DeliveryConfig cfg;
  std::string stream_name;
  int64_t version = 1;
  {
    std::lock_guard lk(mu_);
    cfg = config_;
    stream_name = meta_.name;
    version = meta_.version_id;
  }
  const int64_t now = deps_.clock->NowMillis();
  probe_.delivery_attempts.fetch_add(1, std::memory_order_relaxed);

  bool fixed = inflight_.has_value();
  Inflight in;
  if (fixed) {
    in = *inflight_;
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
    if (!key.ok()) {
      spdlog::error("stream={} event=naming_failed error=\"{}\"", stream_name, key.status().ToString());
      return false;
    }
    in.key = std::move(*key);
  }

  auto fail = [&](const Status& st, std::string_view code) {
    probe_.delivery_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("stream={} event=delivery_failed errorCode={} bucket={} key={} error=\"{}\"",
                 stream_name, code, cfg.bucket, in.key, st.ToString());
    if (now - in.oldest_ms > deps_.options.retention_ms) {
      // Past the retention period: the data is dropped, loudly.
      uint64_t end = in.end ? in.end : durable_end;
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

  store::ObjectMeta om;
  om.content_type = "application/octet-stream";
  om.content_encoding = std::string(codecs::ContentEncoding(cfg.compression));
  auto writer = deps_.sink->BeginPut(cfg.bucket, in.key, om);
  if (!writer.ok()) {
    return fail(writer.status(), writer.status().code() == StatusCode::kNotFound ? "S3.NoSuchBucket"
                                                                                   : "InternalError");
  }
  std::string_view object_name = in.key;
  if (size_t slash = object_name.rfind('/'); slash != std::string_view::npos) {
    object_name.remove_prefix(slash + 1);
  }
  if (!cfg.extension.empty() && object_name.ends_with(cfg.extension)) {
    object_name.remove_suffix(cfg.extension.size());
  }
  auto encoder = codecs::MakeEncoder(cfg.compression, writer->get(), object_name);
  Status enc_status;
  uint64_t limit_end = fixed ? in.end : durable_end;
  uint64_t last = in.start;
  uint64_t count = 0, bytes = 0;
  Status rs = log_->Read(in.start, std::numeric_limits<uint64_t>::max(),
                         [&](const buffer::LogRecord& r) {
                           if (r.seq >= limit_end) return false;
                           if (!fixed && bytes >= cfg.buffer_size_bytes) return false;
                           enc_status = encoder->Append(r.data);
                           if (!enc_status.ok()) return false;
                           last = r.seq;
                           ++count;
                           bytes += r.data.size();
                           return true;
                         });
  if (!rs.ok()) return fail(rs, "InternalError");
  if (!enc_status.ok()) return fail(enc_status, "InternalError");
  if (count == 0) return false;
  if (!fixed) in.end = last + 1;
  in.bytes = bytes;
  Status fs_ = encoder->Finish();
  if (!fs_.ok()) return fail(fs_, "InternalError");
  if (!fixed) {
    // Fix the batch and its key before the object can become visible.
    std::lock_guard lk(mu_);
    inflight_ = in;
  }
  {
    Status ps = PersistInflight();
    if (!ps.ok()) return fail(ps, "InternalError");
  }
  auto info = (*writer)->Commit();
  if (!info.ok()) {
    return fail(info.status(), info.status().code() == StatusCode::kNotFound ? "S3.NoSuchBucket"
                                                                               : "InternalError");
  }
  Status ms = log_->MarkDelivered(in.end);
  if (!ms.ok()) {
    spdlog::error("stream={} event=checkpoint_failed error=\"{}\"", stream_name, ms.ToString());
    return false;
  }
  probe_.delivered_objects.fetch_add(1, std::memory_order_relaxed);
  probe_.delivered_records.fetch_add(count, std::memory_order_relaxed);
  probe_.delivered_bytes.fetch_add(bytes, std::memory_order_relaxed);
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
