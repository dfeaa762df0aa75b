// BuiltinInvoker: the Firehose Lambda blueprints, reimplemented from their
// published Python source (read, not copied) with Python 3 semantics. This file
// holds the invoker (name -> blueprint, Lambda's response limit and error
// documents) and the record fields every blueprint reads. The rest:
//   blueprints_python.{h,cc}       the Python behaviour the blueprints rely on
//   blueprints_regex.cc            the syslog pattern under Python `re` semantics
//   blueprints_handlers.h          the blueprints' handlers, one file each:
//     blueprints_identity.cc, blueprints_syslog.cc, blueprints_cloudwatch_logs.cc
// docs/blueprints.md describes each blueprint and every known divergence.

#include "processing/blueprints.h"

#include <boost/json.hpp>
#include <utility>

#include "processing/blueprints_handlers.h"

namespace hydrant::processing {

namespace json = boost::json;
using blueprints::PyError;
using blueprints::RunCloudWatchLogs;
using blueprints::RunIdentity;
using blueprints::RunSyslog;
using blueprints::SyslogFormat;

namespace {

// What Firehose records for any function error (spec section 5).
constexpr std::string_view kFunctionErrorMessage =
    "The Lambda function was successfully invoked but it returned an error result.";
// Lambda's synchronous response limit, as its error message states it.
constexpr size_t kLambdaMaxResponseBytes = 6291556;

}  // namespace

namespace blueprints {

bool ReadRecord(const json::value& record, RecordInput* in, PyError* err) {
  if ((in->record_id = Subscript(record, "recordId", err)) == nullptr) return false;
  if ((in->data = Subscript(record, "data", err)) == nullptr) return false;
  return PyB64Decode(*in->data, &in->payload, err);
}

json::object OutputRecord(const json::value& record_id, std::string_view result, json::value data) {
  json::object o;
  o["recordId"] = record_id;
  o["result"] = result;
  o["data"] = std::move(data);
  return o;
}

}  // namespace blueprints

BuiltinInvoker::BuiltinInvoker(ReingestFn reingest, KinesisReingestFn kinesis_reingest)
    : reingest_(std::move(reingest)), kinesis_reingest_(std::move(kinesis_reingest)) {}

std::vector<std::string> BuiltinInvoker::Names() {
  return {std::string(kGeneralProcessing), std::string(kSyslogToJson), std::string(kSyslogToCsv),
          std::string(kKinesisStreamsProcessing), std::string(kCloudWatchLogsProcessor)};
}

bool BuiltinInvoker::Has(std::string_view name) {
  for (const std::string& n : Names()) {
    if (n == name) return true;
  }
  return false;
}

namespace {

std::string ErrorDocument(std::string_view type, std::string_view message) {
  json::object doc;
  doc["errorMessage"] = message;
  doc["errorType"] = type;
  return json::serialize(doc);
}

}  // namespace

InvokeResult BuiltinInvoker::Invoke(const FunctionRef& fn, const std::string& event_json,
                                    std::chrono::milliseconds /*timeout*/) {
  const auto started = std::chrono::steady_clock::now();
  InvokeResult result;
  auto finish = [&]() -> InvokeResult {
    result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    return std::move(result);
  };
  if (!Has(fn.name)) {
    result.kind = InvokeResult::Kind::kFatal;
    result.error_code = "Lambda.ResourceNotFound";
    result.error_message = "Function not found: " + fn.arn + " (builtin blueprints: " + [] {
      std::string all;
      for (const std::string& n : Names()) all += (all.empty() ? "" : ", ") + n;
      return all;
    }() + ")";
    json::object doc;
    doc["Type"] = "User";
    doc["Message"] = "Function not found: " + fn.arn;
    result.payload = json::serialize(doc);
    return finish();
  }

  boost::system::error_code ec;
  const json::value event = json::parse(event_json, ec);
  if (ec) {
    // What Lambda's Invoke API answers for a payload that is not JSON.
    result.kind = InvokeResult::Kind::kFatal;
    result.error_code = "Lambda.InvalidRequestContent";
    result.error_message = "Could not parse request body into json: " + ec.message();
    json::object doc;
    doc["Type"] = "User";
    doc["message"] = result.error_message;
    result.payload = json::serialize(doc);
    return finish();
  }

  json::array records;
  PyError err;
  bool ok = false;
  const std::string_view name = fn.name;
  if (name == kGeneralProcessing) {
    ok = RunIdentity(event, /*kinesis_source=*/false, &records, &err);
  } else if (name == kKinesisStreamsProcessing) {
    ok = RunIdentity(event, /*kinesis_source=*/true, &records, &err);
  } else if (name == kSyslogToJson) {
    ok = RunSyslog(event, SyslogFormat::kJson, &records, &err);
  } else if (name == kSyslogToCsv) {
    ok = RunSyslog(event, SyslogFormat::kCsv, &records, &err);
  } else {
    ok = RunCloudWatchLogs(event, reingest_, kinesis_reingest_, &records, &err);
  }

  if (ok) {
    json::object response;
    response["records"] = std::move(records);
    result.payload = json::serialize(response);
    if (result.payload.size() > kLambdaMaxResponseBytes) {
      err = {"Function.ResponseSizeTooLarge",
             "Response payload size exceeded maximum allowed payload size (" +
                 std::to_string(kLambdaMaxResponseBytes) + " bytes)."};
      ok = false;
    }
  }
  if (!ok) {
    result.kind = InvokeResult::Kind::kFunctionError;
    result.payload = ErrorDocument(err.type, err.message);
    result.error_code = "Lambda.FunctionError";
    result.error_message = std::string(kFunctionErrorMessage);
    return finish();
  }
  result.kind = InvokeResult::Kind::kOk;
  return finish();
}

}  // namespace hydrant::processing
