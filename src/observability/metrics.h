#pragma once
// Prometheus text exposition (format 0.0.4) of every stream's metrics, for
// unsigned GET /metrics. Firehose's CloudWatch metrics are named in Prometheus
// style under hydrant_firehose_ with the stream as a label, and their HELP text
// quotes the CloudWatch name:
//   IncomingRecords     -> hydrant_firehose_incoming_records_total{delivery_stream="NAME"}
//   PutRecord.Latency   -> hydrant_firehose_put_record_latency_seconds (histogram)
//   DeliveryToS3.Success -> hydrant_firehose_delivery_to_s3_success_ratio (gauge)
// hydrant's own figures (expired records, backlog, ...) are under hydrant_.
// hydrant's Kinesis data streams, when given, are under hydrant_kinesis_ with the
// label stream="NAME" (Kinesis Data Streams' stream-level CloudWatch metrics:
//   PutRecords.Latency -> hydrant_kinesis_put_records_latency_seconds).
// docs/metrics.md lists every metric and how it is computed.

#include <string>

namespace hydrant::stream {
class StreamRegistry;
}
namespace hydrant::kinesis {
class KinesisRegistry;
}

namespace hydrant::observability {

// Reads the probes (relaxed atomics) and the registry's clock (for DataFreshness);
// `kinesis` (optional): the Kinesis streams' probes too. As many label values
// as streams, which each registry bounds (max_streams).
std::string RenderPrometheus(const stream::StreamRegistry& registry,
                             const kinesis::KinesisRegistry* kinesis = nullptr);

}  // namespace hydrant::observability
