#include "observability/metrics.h"

#include <atomic>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "kinesis/registry.h"
#include "stream/registry.h"

namespace hydrant::observability {

namespace {

using stream::StreamProbe;

// What a metric reads: one stream's probe and gauges, at one instant.
struct View {
  const stream::DeliveryStream& stream;
  const StreamProbe& probe;
  int64_t now_ms;
};

enum class Kind { kCounter, kGauge, kHistogram, kSummary };

// One metric family. Counters and gauges have `value` (nullopt: no sample for this
// stream, e.g. a success ratio before any attempt, as CloudWatch has no datapoint);
// histograms have `histogram`; summaries (sum and count only) have `summary`;
// counters with one more label (bounded by the probe) have `label` and `labeled`:
// one sample per value, none before the first.
struct Family {
  const char* name;
  Kind kind;
  const char* help;
  std::optional<double> (*value)(const View&) = nullptr;
  const LatencyHistogram& (*histogram)(const View&) = nullptr;
  std::pair<double, uint64_t> (*summary)(const StreamProbe&) = nullptr;
  const char* label = nullptr;
  std::vector<std::pair<std::string, uint64_t>> (*labeled)(const StreamProbe&) = nullptr;
};

double Load(const std::atomic<uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}
double Load(const std::atomic<int64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

// successes / attempts, or 1 - failures / attempts; nullopt before any attempt.
std::optional<double> Ratio(const std::atomic<uint64_t>& num, const std::atomic<uint64_t>& den,
                            bool num_counts_failures) {
  uint64_t d = den.load(std::memory_order_relaxed);
  if (d == 0) return std::nullopt;
  double r = static_cast<double>(num.load(std::memory_order_relaxed)) / static_cast<double>(d);
  return num_counts_failures ? 1.0 - r : r;
}

// Age in seconds of the oldest record not yet written (0 when there is none).
double AgeSeconds(const std::atomic<int64_t>& oldest_ms, int64_t now_ms) {
  int64_t o = oldest_ms.load(std::memory_order_relaxed);
  return o > 0 && now_ms > o ? static_cast<double>(now_ms - o) / 1000.0 : 0.0;
}

#define COUNTER(field) [](const View& v) -> std::optional<double> { return Load(v.probe.field); }
#define HISTOGRAM(op) [](const View& v) -> const LatencyHistogram& { return v.probe.op.latency; }

const Family kStreamFamilies[] = {
    // Ingestion.
    {"hydrant_firehose_incoming_bytes_total", Kind::kCounter,
     "IncomingBytes: bytes of records accepted by PutRecord and PutRecordBatch.",
     COUNTER(incoming_bytes)},
    {"hydrant_firehose_incoming_records_total", Kind::kCounter,
     "IncomingRecords: records accepted by PutRecord and PutRecordBatch.", COUNTER(incoming_records)},
    {"hydrant_firehose_incoming_put_requests_total", Kind::kCounter,
     "IncomingPutRequests: successful PutRecord and PutRecordBatch requests.",
     COUNTER(incoming_put_requests)},
    {"hydrant_firehose_throttled_records_total", Kind::kCounter,
     "ThrottledRecords: records refused (disk quota reached or disk full: \"Slow down.\").",
     COUNTER(throttled_records)},
    // Kinesis source (KinesisStreamAsSource).
    {"hydrant_firehose_data_read_from_kinesis_stream_bytes_total", Kind::kCounter,
     "DataReadFromKinesisStream.Bytes: bytes of Kinesis records read from the source stream.",
     COUNTER(kinesis_read_bytes)},
    {"hydrant_firehose_data_read_from_kinesis_stream_records_total", Kind::kCounter,
     "DataReadFromKinesisStream.Records: Kinesis records read from the source stream (before KPL "
     "de-aggregation).",
     COUNTER(kinesis_read_records)},
    {"hydrant_firehose_kinesis_millis_behind_latest", Kind::kGauge,
     "KinesisMillisBehindLatest: how far the last read was behind the tip of the source stream, ms.",
     COUNTER(kinesis_millis_behind)},
    {"hydrant_firehose_throttled_get_records_total", Kind::kCounter,
     "ThrottledGetRecords: GetRecords calls to the source stream that were throttled.",
     COUNTER(kinesis_throttled_get_records)},
    {"hydrant_firehose_throttled_get_shard_iterator_total", Kind::kCounter,
     "ThrottledGetShardIterator: GetShardIterator calls to the source stream that were throttled.",
     COUNTER(kinesis_throttled_get_shard_iterator)},
    {"hydrant_firehose_throttled_describe_stream_total", Kind::kCounter,
     "ThrottledDescribeStream: shard listings of the source stream that were throttled.",
     COUNTER(kinesis_throttled_describe_stream)},
    {"hydrant_firehose_kinesis_read_errors_total", Kind::kCounter,
     "Calls to the source Kinesis stream that failed (each also an error-log event).",
     COUNTER(kinesis_read_errors)},
    // PutRecord and PutRecordBatch.
    {"hydrant_firehose_put_record_bytes_total", Kind::kCounter,
     "PutRecord.Bytes: bytes accepted by PutRecord.", COUNTER(put_record_bytes)},
    {"hydrant_firehose_put_record_requests_total", Kind::kCounter,
     "PutRecord.Requests: PutRecord requests to this stream, throttled ones included.",
     COUNTER(put_record.requests)},
    {"hydrant_firehose_put_record_latency_seconds", Kind::kHistogram,
     "PutRecord.Latency: time from receiving a PutRecord request to its durable acknowledgement.",
     nullptr, HISTOGRAM(put_record)},
    {"hydrant_firehose_put_record_batch_bytes_total", Kind::kCounter,
     "PutRecordBatch.Bytes: bytes accepted by PutRecordBatch.", COUNTER(put_record_batch_bytes)},
    {"hydrant_firehose_put_record_batch_records_total", Kind::kCounter,
     "PutRecordBatch.Records: records accepted by PutRecordBatch.", COUNTER(put_record_batch_records)},
    {"hydrant_firehose_put_record_batch_requests_total", Kind::kCounter,
     "PutRecordBatch.Requests: PutRecordBatch requests to this stream, throttled ones included.",
     COUNTER(put_record_batch.requests)},
    {"hydrant_firehose_put_record_batch_latency_seconds", Kind::kHistogram,
     "PutRecordBatch.Latency: time from receiving a PutRecordBatch request to its durable "
     "acknowledgement.",
     nullptr, HISTOGRAM(put_record_batch)},
    // Control plane on the stream.
    {"hydrant_firehose_describe_delivery_stream_requests_total", Kind::kCounter,
     "DescribeDeliveryStream.Requests: DescribeDeliveryStream requests for this stream.",
     COUNTER(describe.requests)},
    {"hydrant_firehose_describe_delivery_stream_latency_seconds", Kind::kHistogram,
     "DescribeDeliveryStream.Latency: time to answer DescribeDeliveryStream.", nullptr,
     HISTOGRAM(describe)},
    {"hydrant_firehose_update_delivery_stream_requests_total", Kind::kCounter,
     "UpdateDeliveryStream.Requests: UpdateDestination requests for this stream.",
     COUNTER(update.requests)},
    {"hydrant_firehose_update_delivery_stream_latency_seconds", Kind::kHistogram,
     "UpdateDeliveryStream.Latency: time to answer UpdateDestination.", nullptr, HISTOGRAM(update)},
    // Delivery to the destination bucket.
    {"hydrant_firehose_delivery_to_s3_bytes_total", Kind::kCounter,
     "DeliveryToS3.Bytes: bytes of records delivered to the destination, before compression.",
     COUNTER(delivered_bytes)},
    {"hydrant_firehose_delivery_to_s3_records_total", Kind::kCounter,
     "DeliveryToS3.Records: records delivered to the destination.", COUNTER(delivered_records)},
    {"hydrant_firehose_delivery_to_s3_objects_total", Kind::kCounter,
     "DeliveryToS3.ObjectCount: objects delivered to the destination.", COUNTER(delivered_objects)},
    {"hydrant_firehose_delivery_to_s3_put_attempts_total", Kind::kCounter,
     "Object puts attempted to the destination (denominator of DeliveryToS3.Success).",
     COUNTER(s3_put_attempts)},
    {"hydrant_firehose_delivery_to_s3_put_successes_total", Kind::kCounter,
     "Object puts that succeeded (numerator of DeliveryToS3.Success).", COUNTER(s3_put_successes)},
    {"hydrant_firehose_delivery_to_s3_success_ratio", Kind::kGauge,
     "DeliveryToS3.Success: successful object puts / all object puts since start (absent before "
     "the first put).",
     [](const View& v) { return Ratio(v.probe.s3_put_successes, v.probe.s3_put_attempts, false); }},
    {"hydrant_firehose_delivery_to_s3_data_freshness_seconds", Kind::kGauge,
     "DeliveryToS3.DataFreshness: age of the oldest record not yet delivered (0 when none).",
     [](const View& v) -> std::optional<double> {
       return AgeSeconds(v.probe.oldest_undelivered_ms, v.now_ms);
     }},
    // Source record backup.
    {"hydrant_firehose_backup_to_s3_bytes_total", Kind::kCounter,
     "BackupToS3.Bytes: bytes of source records backed up.", COUNTER(backup_bytes)},
    {"hydrant_firehose_backup_to_s3_records_total", Kind::kCounter,
     "BackupToS3.Records: source records backed up.", COUNTER(backup_records)},
    {"hydrant_firehose_backup_to_s3_objects_total", Kind::kCounter,
     "Backup objects written (BackupToS3 has no ObjectCount metric on AWS).", COUNTER(backup_objects)},
    {"hydrant_firehose_backup_to_s3_success_ratio", Kind::kGauge,
     "BackupToS3.Success: successful backup object puts / all backup object puts since start.",
     [](const View& v) {
       return Ratio(v.probe.backup_put_successes, v.probe.backup_put_attempts, false);
     }},
    {"hydrant_firehose_backup_to_s3_data_freshness_seconds", Kind::kGauge,
     "BackupToS3.DataFreshness: age of the oldest source record not yet backed up (0 when none).",
     [](const View& v) -> std::optional<double> {
       return AgeSeconds(v.probe.backup_oldest_unsent_ms, v.now_ms);
     }},
    // Transformation.
    {"hydrant_firehose_execute_processing_duration_seconds", Kind::kSummary,
     "ExecuteProcessing.Duration: time spent in Lambda invocations (_count = invocations).", nullptr,
     nullptr,
     [](const StreamProbe& p) -> std::pair<double, uint64_t> {
       return {Load(p.processing_duration_ms) / 1000.0,
               p.processing_invocations.load(std::memory_order_relaxed)};
     }},
    {"hydrant_firehose_execute_processing_failed_invocations_total", Kind::kCounter,
     "Lambda invocations that failed (complement of ExecuteProcessing.Success).",
     COUNTER(processing_failed_invocations)},
    {"hydrant_firehose_execute_processing_success_ratio", Kind::kGauge,
     "ExecuteProcessing.Success: 1 - failed invocations / invocations since start (absent before "
     "the first invocation).",
     [](const View& v) {
       return Ratio(v.probe.processing_failed_invocations, v.probe.processing_invocations, true);
     }},
    {"hydrant_firehose_succeed_processing_records_total", Kind::kCounter,
     "SucceedProcessing.Records: records the function returned with result Ok.",
     COUNTER(processing_ok_records)},
    {"hydrant_firehose_succeed_processing_bytes_total", Kind::kCounter,
     "SucceedProcessing.Bytes: bytes of the records the function returned with result Ok.",
     COUNTER(processing_ok_bytes)},
    // hydrant's own (no CloudWatch counterpart).
    {"hydrant_processing_dropped_records_total", Kind::kCounter,
     "Records the function returned with result Dropped.", COUNTER(dropped_records)},
    {"hydrant_processing_failed_records_total", Kind::kCounter,
     "Records written to processing-failed error objects.", COUNTER(processing_failed_records)},
    {"hydrant_delivery_failures_total", Kind::kCounter,
     "Failed delivery attempts, any stage (each is retried until the retention period ends).",
     COUNTER(delivery_failures)},
    {"hydrant_delivery_errors_total", Kind::kCounter,
     "Delivery errors by Firehose error code, one per error-log event: each failed delivery "
     "attempt of any stage and each record a processor failed (at most 32 codes per stream, "
     "later ones count as \"Other\").",
     nullptr, nullptr, nullptr, "error_code",
     [](const StreamProbe& p) { return p.errors_by_code.Read(); }},
    {"hydrant_expired_records_total", Kind::kCounter,
     "Records dropped after the retention period without delivery.", COUNTER(expired_records)},
    {"hydrant_redelivered_records_total", Kind::kCounter,
     "Records written again after a restart (possible duplicates).", COUNTER(redelivered_records)},
    {"hydrant_recovered_records", Kind::kGauge,
     "Undelivered records found in the stream's log at start.", COUNTER(recovered_records)},
    {"hydrant_log_truncated_bytes", Kind::kGauge,
     "Damaged log bytes cut off at start.", COUNTER(truncated_bytes)},
    {"hydrant_log_lost_records", Kind::kGauge,
     "Undelivered records found lost to damage at start (deleted segments, skipped frames).",
     COUNTER(lost_records)},
    {"hydrant_disk_full_records_total", Kind::kCounter,
     "Records refused because the disk was full (ENOSPC, EDQUOT): \"Slow down.\".",
     COUNTER(disk_full_records)},
    {"hydrant_backlog_records", Kind::kGauge, "Records buffered and not yet delivered.",
     [](const View& v) -> std::optional<double> {
       return static_cast<double>(v.stream.backlog_records());
     }},
    {"hydrant_backlog_disk_bytes", Kind::kGauge, "Bytes of the stream's log on disk.",
     [](const View& v) -> std::optional<double> {
       return static_cast<double>(v.stream.backlog_disk_bytes());
     }},
    {"hydrant_log_sync_latency_seconds", Kind::kHistogram,
     "Time of each flush of the stream's log to disk (fdatasync); a put's answer waits for "
     "the flush in progress and its own.",
     nullptr, [](const View& v) -> const LatencyHistogram& { return v.stream.log_sync_latency(); }},
};

#undef COUNTER
#undef HISTOGRAM

// The metrics of hydrant's own Kinesis data streams (kinesis/probe.h), label
// stream="NAME": Kinesis Data Streams' stream-level CloudWatch metrics.
struct KinesisFamily {
  const char* name;
  Kind kind;
  const char* help;
  std::optional<double> (*value)(const kinesis::KinesisStreamProbe&) = nullptr;
  const LatencyHistogram& (*histogram)(const kinesis::KinesisStreamProbe&) = nullptr;
};

#define KCOUNTER(field) \
  [](const kinesis::KinesisStreamProbe& p) -> std::optional<double> { return Load(p.field); }
#define KHISTOGRAM(op) \
  nullptr, [](const kinesis::KinesisStreamProbe& p) -> const LatencyHistogram& { \
    return p.op.latency;                                                       \
  }
#define KRATIO(op)                                                      \
  [](const kinesis::KinesisStreamProbe& p) {                            \
    return Ratio(p.op.successes, p.op.calls, false);                    \
  }

const KinesisFamily kKinesisFamilies[] = {
    {"hydrant_kinesis_incoming_bytes_total", Kind::kCounter,
     "IncomingBytes: bytes of data put into the stream (PutRecord and PutRecords), durable.",
     KCOUNTER(incoming_bytes)},
    {"hydrant_kinesis_incoming_records_total", Kind::kCounter,
     "IncomingRecords: records put into the stream (PutRecord and PutRecords), durable.",
     KCOUNTER(incoming_records)},
    {"hydrant_kinesis_put_record_bytes_total", Kind::kCounter,
     "PutRecord.Bytes: bytes of data put with PutRecord.", KCOUNTER(put_record_bytes)},
    {"hydrant_kinesis_put_record_latency_seconds", Kind::kHistogram,
     "PutRecord.Latency: time from the put to its durable acknowledgement.", KHISTOGRAM(put_record)},
    {"hydrant_kinesis_put_record_requests_total", Kind::kCounter,
     "PutRecord calls that reached the stream (denominator of PutRecord.Success).",
     KCOUNTER(put_record.calls)},
    {"hydrant_kinesis_put_record_success_total", Kind::kCounter,
     "PutRecord.Success (Sum): successful PutRecord calls.", KCOUNTER(put_record.successes)},
    {"hydrant_kinesis_put_record_success_ratio", Kind::kGauge,
     "PutRecord.Success (Average): successful / all PutRecord calls since start (absent before "
     "the first call).",
     KRATIO(put_record)},
    {"hydrant_kinesis_put_records_bytes_total", Kind::kCounter,
     "PutRecords.Bytes: bytes of data put with PutRecords.", KCOUNTER(put_records_bytes)},
    {"hydrant_kinesis_put_records_latency_seconds", Kind::kHistogram,
     "PutRecords.Latency: time from the put to its durable acknowledgement.",
     KHISTOGRAM(put_records)},
    {"hydrant_kinesis_put_records_records_total", Kind::kCounter,
     "PutRecords.Records: records put successfully with PutRecords.",
     KCOUNTER(put_records_successful_records)},
    {"hydrant_kinesis_put_records_requests_total", Kind::kCounter,
     "PutRecords calls that reached the stream (denominator of PutRecords.Success).",
     KCOUNTER(put_records.calls)},
    {"hydrant_kinesis_put_records_success_total", Kind::kCounter,
     "PutRecords.Success (Sum): PutRecords calls with at least one record put.",
     KCOUNTER(put_records.successes)},
    {"hydrant_kinesis_put_records_success_ratio", Kind::kGauge,
     "PutRecords.Success (Average): PutRecords calls with at least one record put / all calls "
     "since start (absent before the first call).",
     KRATIO(put_records)},
    {"hydrant_kinesis_put_records_successful_records_total", Kind::kCounter,
     "PutRecords.SuccessfulRecords: records put successfully with PutRecords.",
     KCOUNTER(put_records_successful_records)},
    {"hydrant_kinesis_put_records_failed_records_total", Kind::kCounter,
     "PutRecords.FailedRecords: records of PutRecords calls that failed (internal failures).",
     KCOUNTER(put_records_failed_records)},
    {"hydrant_kinesis_put_records_throttled_records_total", Kind::kCounter,
     "PutRecords.ThrottledRecords: records refused for the shard's throughput (always 0: "
     "hydrant does not throttle Kinesis puts).",
     KCOUNTER(put_records_throttled_records)},
    {"hydrant_kinesis_put_records_total_records_total", Kind::kCounter,
     "PutRecords.TotalRecords: records sent in PutRecords calls.",
     KCOUNTER(put_records_total_records)},
    {"hydrant_kinesis_get_records_bytes_total", Kind::kCounter,
     "GetRecords.Bytes: bytes of data returned by GetRecords (Firehose sources' reads included).",
     KCOUNTER(get_records_bytes)},
    {"hydrant_kinesis_get_records_records_total", Kind::kCounter,
     "GetRecords.Records: records returned by GetRecords (Firehose sources' reads included).",
     KCOUNTER(get_records_records)},
    {"hydrant_kinesis_get_records_latency_seconds", Kind::kHistogram,
     "GetRecords.Latency: time to read the records of a GetRecords call.",
     KHISTOGRAM(get_records)},
    {"hydrant_kinesis_get_records_requests_total", Kind::kCounter,
     "GetRecords calls that reached the stream (denominator of GetRecords.Success).",
     KCOUNTER(get_records.calls)},
    {"hydrant_kinesis_get_records_success_total", Kind::kCounter,
     "GetRecords.Success (Sum): successful GetRecords calls.", KCOUNTER(get_records.successes)},
    {"hydrant_kinesis_get_records_success_ratio", Kind::kGauge,
     "GetRecords.Success (Average): successful / all GetRecords calls since start (absent before "
     "the first call).",
     KRATIO(get_records)},
    {"hydrant_kinesis_get_records_iterator_age_milliseconds", Kind::kGauge,
     "GetRecords.IteratorAgeMilliseconds: age of the last record returned by the latest "
     "GetRecords call, any shard (0: it returned none, the reader is caught up).",
     [](const kinesis::KinesisStreamProbe& p) -> std::optional<double> {
       return Load(p.get_records_iterator_age_ms);
     }},
    {"hydrant_kinesis_write_provisioned_throughput_exceeded_total", Kind::kCounter,
     "WriteProvisionedThroughputExceeded: puts refused for the shard's throughput (always 0: "
     "hydrant does not throttle Kinesis).",
     KCOUNTER(write_throughput_exceeded)},
    {"hydrant_kinesis_read_provisioned_throughput_exceeded_total", Kind::kCounter,
     "ReadProvisionedThroughputExceeded: GetRecords calls refused for the shard's throughput "
     "(always 0: hydrant does not throttle Kinesis).",
     KCOUNTER(read_throughput_exceeded)},
};

#undef KCOUNTER
#undef KHISTOGRAM
#undef KRATIO

static_assert(stream::ErrorCodeCounts::kMaxCodes == 32 &&
                  stream::ErrorCodeCounts::kOtherCode == "Other",
              "the help text of hydrant_delivery_errors_total states the cap");

const char* TypeName(Kind k) {
  switch (k) {
    case Kind::kCounter: return "counter";
    case Kind::kGauge: return "gauge";
    case Kind::kHistogram: return "histogram";
    case Kind::kSummary: return "summary";
  }
  return "untyped";
}

void AppendNumber(double v, std::string* out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

void AppendHeader(const char* name, Kind kind, const char* help, std::string* out) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += TypeName(kind);
  *out += '\n';
}

// name+suffix{labels[,extra]} value. `labels` is "" or `k="v"` pairs.
void AppendSample(std::string_view name, std::string_view suffix, std::string_view labels,
                  std::string_view extra, double value, std::string* out) {
  *out += name;
  *out += suffix;
  if (!labels.empty() || !extra.empty()) {
    *out += '{';
    *out += labels;
    if (!labels.empty() && !extra.empty()) *out += ',';
    *out += extra;
    *out += '}';
  }
  *out += ' ';
  AppendNumber(value, out);
  *out += '\n';
}

// name="value" with the value escaped as the exposition format requires (error
// codes are [A-Za-z0-9.]: this is defence, not the common case).
std::string LabelPair(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

void AppendHistogram(std::string_view name, std::string_view labels, const LatencyHistogram& h,
                     std::string* out) {
  auto snap = h.Read();
  uint64_t cumulative = 0;
  std::string le;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    cumulative += snap.buckets[i];
    le = "le=\"";
    if (i < LatencyHistogram::kBoundsMicros.size()) {
      // Fixed notation ("0.0001", not "1e-04"), as Prometheus' own clients write it.
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf,
                             static_cast<double>(LatencyHistogram::kBoundsMicros[i]) / 1e6,
                             std::chars_format::fixed);
      le.append(buf, r.ptr);
    } else {
      le += "+Inf";
    }
    le += '"';
    AppendSample(name, "_bucket", labels, le, static_cast<double>(cumulative), out);
  }
  AppendSample(name, "_sum", labels, "", static_cast<double>(snap.sum_us) / 1e6, out);
  AppendSample(name, "_count", labels, "", static_cast<double>(cumulative), out);
}

// Every Kinesis stream's families, one sample (or histogram) per stream.
void AppendKinesis(const kinesis::KinesisRegistry& kinesis, std::string* out) {
  std::vector<std::pair<std::string, std::shared_ptr<kinesis::KinesisStream>>> streams;
  for (const auto& name : kinesis.List()) {
    if (auto s = kinesis.Get(name)) streams.emplace_back(LabelPair("stream", name), std::move(s));
  }
  for (const auto& f : kKinesisFamilies) {
    AppendHeader(f.name, f.kind, f.help, out);
    for (const auto& [labels, s] : streams) {
      if (f.histogram) {
        AppendHistogram(f.name, labels, f.histogram(s->probe()), out);
      } else if (auto v = f.value(s->probe())) {
        AppendSample(f.name, "", labels, "", *v, out);
      }
    }
  }
}

}  // namespace

std::string RenderPrometheus(const stream::StreamRegistry& registry,
                             const kinesis::KinesisRegistry* kinesis) {
  struct Named {
    std::string labels;  // delivery_stream="NAME"
    std::shared_ptr<stream::DeliveryStream> stream;
  };
  std::vector<Named> streams;
  for (auto& s : registry.All()) {
    // Stream names are [a-zA-Z0-9_.-]: nothing to escape.
    streams.push_back({"delivery_stream=\"" + s->Meta().name + "\"", s});
  }
  const int64_t now = registry.clock().NowMillis();
  std::string out;
  out.reserve(4096 + streams.size() * 8192);
  for (const auto& f : kStreamFamilies) {
    AppendHeader(f.name, f.kind, f.help, &out);
    for (const auto& [labels, s] : streams) {
      const StreamProbe& p = s->probe();
      if (f.histogram) {
        AppendHistogram(f.name, labels, f.histogram(View{*s, p, now}), &out);
      } else if (f.labeled) {
        for (const auto& [value, count] : f.labeled(p)) {
          AppendSample(f.name, "", labels, LabelPair(f.label, value), static_cast<double>(count),
                       &out);
        }
      } else if (f.summary) {
        auto [sum, count] = f.summary(p);
        AppendSample(f.name, "_sum", labels, "", sum, &out);
        AppendSample(f.name, "_count", labels, "", static_cast<double>(count), &out);
      } else if (auto v = f.value(View{*s, p, now})) {
        AppendSample(f.name, "", labels, "", *v, &out);
      }
    }
  }
  // Account level: ListDeliveryStreams has no DeliveryStreamName dimension.
  const auto& list = registry.account_probe().list_delivery_streams;
  constexpr const char* kListRequests = "hydrant_firehose_list_delivery_streams_requests_total";
  constexpr const char* kListLatency = "hydrant_firehose_list_delivery_streams_latency_seconds";
  AppendHeader(kListRequests, Kind::kCounter, "ListDeliveryStreams.Requests: ListDeliveryStreams requests.",
               &out);
  AppendSample(kListRequests, "", "", "", Load(list.requests), &out);
  AppendHeader(kListLatency, Kind::kHistogram,
               "ListDeliveryStreams.Latency: time to answer ListDeliveryStreams.", &out);
  AppendHistogram(kListLatency, "", list.latency, &out);
  constexpr const char* kS3DiskFull = "hydrant_s3_disk_full_requests_total";
  AppendHeader(kS3DiskFull, Kind::kCounter,
               "S3 writes to the embedded store refused with 507 because the disk is full.", &out);
  AppendSample(kS3DiskFull, "", "", "", Load(registry.account_probe().s3_disk_full_requests), &out);
  constexpr const char* kQuarantined = "hydrant_quarantined_streams";
  AppendHeader(kQuarantined, Kind::kGauge,
               "Streams that could not be opened (kept, retried; see /health and the doctor).",
               &out);
  AppendSample(kQuarantined, "", "", "", static_cast<double>(registry.Quarantined().size()), &out);
  if (kinesis) AppendKinesis(*kinesis, &out);
  return out;
}

}  // namespace hydrant::observability
