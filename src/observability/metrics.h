#pragma once
// Prometheus text exposition of every stream's counters (GET /metrics).
// Names follow Firehose's CloudWatch metrics, in Prometheus style:
// IncomingRecords -> hydrant_incoming_records_total{delivery_stream="NAME"}.

#include <string>

namespace hydrant::stream {
class StreamRegistry;
}

namespace hydrant::observability {

std::string RenderPrometheus(const stream::StreamRegistry& registry);

}  // namespace hydrant::observability
