#pragma once
// What the files of DeliveryStream's implementation share (delivery_stream.cc: the
// delivery pass and the destination/backup stages; processing_stage.cc: the
// processing stage; stream_files.cc: the stream folder's files and crash repair).
// Not for other modules.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "stream/delivery_stream.h"

namespace hydrant::stream::internal {

inline constexpr const char* kCursorsFile = "cursors.json";
// A pending-bytes value that makes a stage's size trigger fire at once (a backlog
// found at start is delivered by size, not after an interval).
inline constexpr int64_t kBacklogTrigger = std::numeric_limits<int64_t>::max() / 4;

}  // namespace hydrant::stream::internal

namespace hydrant::stream {

// What one delivery pass sees (taken under mu_).
struct DeliveryStream::Snapshot {
  std::shared_ptr<const api::DestinationSpec> spec;  // never null
  std::shared_ptr<processing::Pipeline> pipeline;
  bool processing_configured = false;
  std::string pipeline_error;
  std::string stream_name, stream_arn;
  int64_t version = 1;
  uint64_t durable_end = 0;
  int64_t pending_main = 0, pending_backup = 0;
  uint64_t generation = 0;
};

}  // namespace hydrant::stream
