#pragma once
// The builtin blueprints' handlers (see blueprints.h for what BuiltinInvoker
// promises). Each takes the parsed event and appends the handler's output records
// to *out, or returns false with *err set where the Python code raises; *out is
// then to be discarded.
//
// Internal to the blueprints (src/processing/blueprints*.cc).

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "processing/blueprints.h"
#include "processing/blueprints_python.h"

namespace hydrant::processing::blueprints {

// The fields every blueprint reads first: print(record['recordId']), then
// base64.b64decode(record['data']).
struct RecordInput {
  const boost::json::value* record_id = nullptr;
  const boost::json::value* data = nullptr;
  std::string payload;
};

bool ReadRecord(const boost::json::value& record, RecordInput* in, PyError* err);

// {"recordId": record_id, "result": result, "data": data}
boost::json::object OutputRecord(const boost::json::value& record_id, std::string_view result,
                                 boost::json::value data);

// General processing and Kinesis-streams processing (blueprints_identity.cc).
bool RunIdentity(const boost::json::value& event, bool kinesis_source, boost::json::array* out,
                 PyError* err);

// Syslog to JSON and syslog to CSV (blueprints_syslog.cc).
enum class SyslogFormat { kJson, kCsv };
bool RunSyslog(const boost::json::value& event, SyslogFormat format, boost::json::array* out,
               PyError* err);

// The CloudWatch Logs processor (blueprints_cloudwatch_logs.cc). `reingest` and
// `kinesis_reingest` may be empty (see BuiltinInvoker).
bool RunCloudWatchLogs(const boost::json::value& event, const ReingestFn& reingest,
                       const KinesisReingestFn& kinesis_reingest, boost::json::array* out,
                       PyError* err);

}  // namespace hydrant::processing::blueprints
