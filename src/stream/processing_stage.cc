// DeliveryStream's processing stage: a batch of source records through the
// Pipeline, its transformed records into the transformed log (one batch that names
// the source position it completes), its failed records into processing-failed
// objects.

#include <map>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "destinations/sink_errors.h"
#include "kinesis/source_record.h"
#include "stream/delivery_internal.h"
#include "stream/object_output.h"
#include "stream/transformed_record.h"

namespace hydrant::stream {

namespace {

// Source records of one processing chunk, copied out of the log.
struct Chunk {
  std::string arena;
  std::vector<std::pair<size_t, size_t>> spans;  // offset, length in arena
  std::vector<processing::SourceRecord> records;
  // Kinesis sources: each record's metadata, its strings in `arena` too.
  std::vector<processing::KinesisRecordMetadata> kinesis;
  struct KinesisSpans {
    std::pair<size_t, size_t> shard, key, sequence;
  };
  std::vector<KinesisSpans> kinesis_spans;
  void Clear() {
    arena.clear();
    spans.clear();
    records.clear();
    kinesis.clear();
    kinesis_spans.clear();
  }
  std::pair<size_t, size_t> Keep(std::string_view s) {
    std::pair<size_t, size_t> at{arena.size(), s.size()};
    arena.append(s);
    return at;
  }
  // `kinesis_source`: the record is kinesis/source_record.h's form.
  void Add(const buffer::LogRecord& r, bool kinesis_source) {
    std::optional<kinesis::SourceRecordView> v;
    if (kinesis_source) v = kinesis::ParseSourceRecord(r.data);
    spans.push_back(Keep(v ? v->data : r.data));
    records.push_back({std::string_view(), r.arrival_ms});
    if (v) {
      kinesis_spans.push_back({Keep(v->meta.shard_id), Keep(v->meta.partition_key),
                               Keep(v->meta.sequence_number)});
      processing::KinesisRecordMetadata m;
      m.subsequence_number = v->meta.subsequence_number;
      m.approximate_arrival_ms = v->meta.approximate_arrival_ms;
      kinesis.push_back(m);
    } else if (kinesis_source) {
      kinesis_spans.push_back({});
      kinesis.push_back({});
    }
  }
  void Seal() {
    const std::string_view a(arena);
    for (size_t i = 0; i < records.size(); ++i) {
      records[i].data = a.substr(spans[i].first, spans[i].second);
    }
    for (size_t i = 0; i < kinesis.size(); ++i) {
      kinesis[i].shard_id = a.substr(kinesis_spans[i].shard.first, kinesis_spans[i].shard.second);
      kinesis[i].partition_key = a.substr(kinesis_spans[i].key.first, kinesis_spans[i].key.second);
      kinesis[i].sequence_number =
          a.substr(kinesis_spans[i].sequence.first, kinesis_spans[i].sequence.second);
      records[i].kinesis = &kinesis[i];
    }
  }
};

}  // namespace

using internal::kBacklogTrigger;

bool DeliveryStream::Process(const Snapshot& snap, uint64_t start, uint64_t end,
                             uint64_t max_bytes) {
  Stage& st = processing_;
  const std::string& name = snap.stream_name;
  if (!snap.pipeline) {
    ReportFailure(snap, st, "InternalError", snap.spec->s3.bucket, "",
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
                           chunk.Add(r, kinesis_source_);
                           cursor = r.seq + 1;
                           source_bytes += r.data.size();
                           return true;
                         });
  if (!rs.ok()) {
    const std::string_view code = LogReadErrorCode(rs);
    ReportFailure(snap, st, code, snap.spec->s3.bucket, "", rs);
    return ExpireOld(st, false, start, end, name, code);
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
  const api::S3DestinationSpec& cfg = snap.spec->s3;
  std::map<std::string, ObjectOutput> failed;
  Status out_status;
  bool new_keys = false;
  auto failed_output = [&](const std::string& type) -> ObjectOutput* {
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
        if (ObjectOutput* f = failed_output(o.error_output_type)) {
          out_status = f->Append(processing::ProcessingFailedLine(o, chunk.records[i]));
        }
        break;
    }
  }
  std::string error_key = failed.empty() ? "" : failed.begin()->second.key();
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
      ReportFailure(snap, st, store::FirehoseErrorCode(cs), cfg.bucket, o.key(), cs);
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

void DeliveryStream::ReportProcessingFailure(const Snapshot& snap,
                                             const processing::RecordOutcome& failed) {
  probe_.errors_by_code.Add(failed.error_code);
  if (!deps_.error_log) return;
  logs::DeliveryErrorEvent ev;
  ev.delivery_stream_arn = snap.stream_arn;
  ev.destination = "arn:aws:s3:::" + snap.spec->s3.bucket;
  ev.version_id = snap.version;
  ev.error_code = failed.error_code;
  ev.message = failed.error_message;
  ev.processor = failed.lambda_arn;
  // Lambda errors go to the destination's log stream, as Firehose writes them.
  deps_.error_log->Write(snap.spec->s3.logging, snap.stream_name, false, ev, snap.spec->s3.role_arn);
}

}  // namespace hydrant::stream
