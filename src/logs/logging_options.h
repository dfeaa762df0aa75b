#pragma once
// A destination's CloudWatchLoggingOptions, read once from its description
// (api/destination_spec.h) and used by the error log (logs/delivery_errors.h)
// and the doctor.

#include <string>

namespace hydrant::logs {

struct LoggingOptions {
  bool enabled = false;
  std::string log_group_name;   // "" = /aws/kinesisfirehose/<stream>
  std::string log_stream_name;  // "" = DestinationDelivery or BackupDelivery
};

}  // namespace hydrant::logs
