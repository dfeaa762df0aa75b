// The syslog-to-JSON and syslog-to-CSV blueprints: each record is a syslog line,
// matched with the blueprint's regular expression (blueprints_regex.cc) and
// reformatted; a line that does not match comes back as ProcessingFailed.

#include <optional>

#include "common/base64.h"
#include "processing/blueprints_handlers.h"

namespace hydrant::processing::blueprints {

namespace json = boost::json;

namespace {

std::string FormatSyslog(const blueprints::SyslogFields& f, SyslogFormat format) {
  std::string out;
  if (format == SyslogFormat::kCsv) {
    // m[1] + ',' + ... + (m[4] or 'null') + ',' + m[5] + '\n', no quoting.
    out.reserve(f.timestamp.size() + f.hostname.size() + f.program.size() + f.message.size() + 16);
    out.append(f.timestamp).append(",").append(f.hostname).append(",").append(f.program);
    out.append(",").append(f.pid ? *f.pid : "null").append(",").append(f.message).append("\n");
    return out;
  }
  out.append("{\"timestamp\": ");
  AppendPyJsonString(f.timestamp, &out);
  out.append(", \"hostname\": ");
  AppendPyJsonString(f.hostname, &out);
  out.append(", \"program\": ");
  AppendPyJsonString(f.program, &out);
  out.append(", \"processid\": ");
  if (f.pid) {
    AppendPyJsonString(*f.pid, &out);
  } else {
    out.append("null");
  }
  out.append(", \"message\": ");
  AppendPyJsonString(f.message, &out);
  out.append("}");
  return out;
}

}  // namespace

bool RunSyslog(const json::value& event, SyslogFormat format, json::array* out, PyError* err) {
  const json::value* records = Subscript(event, "records", err);
  if (records == nullptr) return false;
  return PyIterate(*records, err, [&](const json::value& record) {
    RecordInput in;
    if (!ReadRecord(record, &in, err)) return false;
    if (!PyUtf8Check(in.payload, err)) return false;  // .decode('utf-8')
    std::optional<blueprints::SyslogFields> fields = blueprints::MatchSyslog(in.payload);
    if (!fields) {
      out->push_back(OutputRecord(*in.record_id, "ProcessingFailed", *in.data));
      return true;
    }
    out->push_back(OutputRecord(*in.record_id, "Ok",
                                json::string(base64::Encode(FormatSyslog(*fields, format)))));
    return true;
  });
}

}  // namespace hydrant::processing::blueprints
