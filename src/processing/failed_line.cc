// ProcessingFailedLine: one line of a processing-failed object, in the key order
// and with the types of real Firehose objects (2019 sample, spec section 4):
//   {"attemptsMade":4,"arrivalTimestamp":1575020067711,"errorCode":"...",
//    "errorMessage":"...","attemptEndingTimestamp":1575020070123,"rawData":"<b64>",
//    "lambdaArn":"arn:..."}\n
// Numbers are JSON numbers (the developer guide's quoted strings are a template,
// not what Firehose writes). lambdaArn is spelt as the developer guide spells it
// and appears only for Lambda failures.

#include <boost/json.hpp>

#include "common/base64.h"
#include "processing/processor.h"

namespace hydrant::processing {
namespace {

void AppendJsonString(std::string_view s, std::string* out) {
  *out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

}  // namespace

std::string ProcessingFailedLine(const RecordOutcome& failed, const SourceRecord& original) {
  std::string line;
  line.reserve(160 + failed.error_message.size() + failed.lambda_arn.size() +
               (original.data.size() + 2) / 3 * 4);
  line += "{\"attemptsMade\":";
  line += std::to_string(failed.attempts);
  line += ",\"arrivalTimestamp\":";
  line += std::to_string(original.arrival_ms);
  line += ",\"errorCode\":";
  AppendJsonString(failed.error_code, &line);
  line += ",\"errorMessage\":";
  AppendJsonString(failed.error_message, &line);
  line += ",\"attemptEndingTimestamp\":";
  line += std::to_string(failed.attempt_end_ms);
  line += ",\"rawData\":\"";
  base64::EncodeAppend(original.data, &line);
  line += '"';
  if (!failed.lambda_arn.empty()) {
    line += ",\"lambdaArn\":";
    AppendJsonString(failed.lambda_arn, &line);
  }
  line += "}\n";
  return line;
}

}  // namespace hydrant::processing
