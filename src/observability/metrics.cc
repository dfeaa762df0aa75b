#include "observability/metrics.h"

#include <atomic>
#include <cstdint>
#include <functional>

#include "stream/registry.h"

namespace hydrant::observability {

namespace {

struct Metric {
  const char* name;
  const char* type;
  const char* help;
  std::function<double(const stream::DeliveryStream&)> value;
};

uint64_t Load(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

}  // namespace

std::string RenderPrometheus(const stream::StreamRegistry& registry) {
  static const Metric kMetrics[] = {
      {"hydrant_incoming_bytes_total", "counter", "Payload bytes accepted by PutRecord/PutRecordBatch (IncomingBytes).",
       [](const auto& s) { return Load(s.probe().incoming_bytes); }},
      {"hydrant_incoming_records_total", "counter", "Records accepted (IncomingRecords).",
       [](const auto& s) { return Load(s.probe().incoming_records); }},
      {"hydrant_incoming_put_requests_total", "counter", "Successful put requests (IncomingPutRequests).",
       [](const auto& s) { return Load(s.probe().incoming_put_requests); }},
      {"hydrant_throttled_records_total", "counter", "Records refused, e.g. by the disk quota (ThrottledRecords).",
       [](const auto& s) { return Load(s.probe().throttled_records); }},
      {"hydrant_delivery_to_s3_bytes_total", "counter", "Payload bytes delivered, before compression (DeliveryToS3.Bytes).",
       [](const auto& s) { return Load(s.probe().delivered_bytes); }},
      {"hydrant_delivery_to_s3_records_total", "counter", "Records delivered (DeliveryToS3.Records).",
       [](const auto& s) { return Load(s.probe().delivered_records); }},
      {"hydrant_delivery_to_s3_objects_total", "counter", "Objects written (DeliveryToS3.ObjectCount).",
       [](const auto& s) { return Load(s.probe().delivered_objects); }},
      {"hydrant_delivery_to_s3_attempts_total", "counter", "Object write attempts.",
       [](const auto& s) { return Load(s.probe().delivery_attempts); }},
      {"hydrant_delivery_to_s3_failures_total", "counter", "Failed object write attempts (retried).",
       [](const auto& s) { return Load(s.probe().delivery_failures); }},
      {"hydrant_expired_records_total", "counter", "Records dropped after the retention period without delivery.",
       [](const auto& s) { return Load(s.probe().expired_records); }},
      {"hydrant_redelivered_records_total", "counter", "Records rewritten after a restart (possible duplicates).",
       [](const auto& s) { return Load(s.probe().redelivered_records); }},
      {"hydrant_recovered_records", "gauge", "Undelivered records found in the log at start.",
       [](const auto& s) { return Load(s.probe().recovered_records); }},
      {"hydrant_log_truncated_bytes", "gauge", "Damaged log bytes cut off at start.",
       [](const auto& s) { return Load(s.probe().truncated_bytes); }},
      {"hydrant_backup_to_s3_records_total", "counter", "Source records backed up (BackupToS3.Records).",
       [](const auto& s) { return Load(s.probe().backup_records); }},
      {"hydrant_backup_to_s3_bytes_total", "counter", "Source bytes backed up (BackupToS3.Bytes).",
       [](const auto& s) { return Load(s.probe().backup_bytes); }},
      {"hydrant_execute_processing_invocations_total", "counter", "Lambda invocations, retries included.",
       [](const auto& s) { return Load(s.probe().processing_invocations); }},
      {"hydrant_execute_processing_failures_total", "counter", "Lambda invocations that failed.",
       [](const auto& s) { return Load(s.probe().processing_failed_invocations); }},
      {"hydrant_execute_processing_duration_ms_total", "counter", "Time spent in Lambda invocations (ExecuteProcessing.Duration).",
       [](const auto& s) { return Load(s.probe().processing_duration_ms); }},
      {"hydrant_succeed_processing_records_total", "counter", "Records the function returned Ok (SucceedProcessing.Records).",
       [](const auto& s) { return Load(s.probe().processing_ok_records); }},
      {"hydrant_succeed_processing_bytes_total", "counter", "Bytes of records returned Ok (SucceedProcessing.Bytes).",
       [](const auto& s) { return Load(s.probe().processing_ok_bytes); }},
      {"hydrant_dropped_records_total", "counter", "Records the function returned Dropped.",
       [](const auto& s) { return Load(s.probe().dropped_records); }},
      {"hydrant_processing_failed_records_total", "counter", "Records written to processing-failed objects.",
       [](const auto& s) { return Load(s.probe().processing_failed_records); }},
      {"hydrant_backlog_records", "gauge", "Records buffered and not yet delivered.",
       [](const auto& s) { return static_cast<double>(s.backlog_records()); }},
      {"hydrant_backlog_disk_bytes", "gauge", "Bytes of the stream's log on disk.",
       [](const auto& s) { return static_cast<double>(s.backlog_disk_bytes()); }},
  };
  auto streams = registry.All();
  std::string out;
  for (const auto& m : kMetrics) {
    out += "# HELP ";
    out += m.name;
    out += ' ';
    out += m.help;
    out += "\n# TYPE ";
    out += m.name;
    out += ' ';
    out += m.type;
    out += '\n';
    for (const auto& s : streams) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", m.value(*s));
      out += m.name;
      out += "{delivery_stream=\"";
      out += s->Meta().name;  // names are [a-zA-Z0-9_.-]: nothing to escape
      out += "\"} ";
      out += buf;
      out += '\n';
    }
  }
  return out;
}

}  // namespace hydrant::observability
