#include "server/firehose_api.h"

#include <chrono>
#include <unordered_map>

#include <boost/json.hpp>

#include "api/errors.h"
#include "api/put_records.h"
#include "api/validation.h"
#include "common/request_id.h"
#include "server/authorization.h"
#include "server/aws_json.h"
#include "stream/registry.h"

namespace hydrant::server {

namespace json = boost::json;
using api::ApiError;
using Steady = std::chrono::steady_clock;

namespace {

constexpr std::string_view kTargetPrefix = "Firehose_20150804.";

uint64_t MicrosSince(Steady::time_point t) {
  auto d = std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - t).count();
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

// Every control-plane operation, by the name in X-Amz-Target.
using Operation = stream::ControlPlane::Result (stream::ControlPlane::*)(const json::object&);
const std::unordered_map<std::string_view, Operation>& Operations() {
  using CP = stream::ControlPlane;
  static const std::unordered_map<std::string_view, Operation> kOperations = {
      {"CreateDeliveryStream", &CP::CreateDeliveryStream},
      {"DescribeDeliveryStream", &CP::DescribeDeliveryStream},
      {"ListDeliveryStreams", &CP::ListDeliveryStreams},
      {"DeleteDeliveryStream", &CP::DeleteDeliveryStream},
      {"UpdateDestination", &CP::UpdateDestination},
      {"TagDeliveryStream", &CP::TagDeliveryStream},
      {"UntagDeliveryStream", &CP::UntagDeliveryStream},
      {"ListTagsForDeliveryStream", &CP::ListTagsForDeliveryStream},
      {"StartDeliveryStreamEncryption", &CP::StartDeliveryStreamEncryption},
      {"StopDeliveryStreamEncryption", &CP::StopDeliveryStreamEncryption},
  };
  return kOperations;
}

}  // namespace

FirehoseApi::FirehoseApi(stream::StreamRegistry* registry, const Authorizer* authz)
    : registry_(registry), authz_(authz), control_(registry), direct_put_(registry) {}

std::optional<ApiError> FirehoseApi::Denied(const http::Request& req, std::string_view op,
                                            std::string_view stream_name) const {
  if (!authz_ || !Authorizer::Applies(req)) return std::nullopt;
  auto denied = authz_->Check(req, FirehoseAccess(op, stream_name, registry_->options().account));
  if (!denied) return std::nullopt;
  return ApiError{"AccessDeniedException", std::move(*denied)};
}

bool FirehoseApi::IsFirehoseRequest(const http::Request& req) {
  return req.Header("X-Amz-Target").starts_with(kTargetPrefix);
}

void FirehoseApi::Handle(http::Request&& req, http::Respond respond) {
  const auto received = Steady::now();
  std::string rid = NewUuid();
  if (req.method != "POST") {
    respond(AwsJsonError({"UnknownOperationException", "Firehose operations use POST /."}, rid));
    return;
  }
  std::string_view op = req.Header("X-Amz-Target").substr(kTargetPrefix.size());
  if (op == "PutRecord" || op == "PutRecordBatch") {
    return PutRecords(op, std::move(req), std::move(respond));
  }

  boost::system::error_code ec;
  json::value body = req.body.empty() ? json::value(json::object()) : json::parse(req.body, ec);
  if (ec) {
    respond(AwsJsonError(api::SerializationError("The request body is not valid JSON: " + ec.message()), rid));
    return;
  }
  if (!body.is_object()) {
    if (auto err = api::ValidateRequest(op, body)) respond(AwsJsonError(*err, rid));
    else respond(AwsJsonError(api::SerializationError("The request body must be a JSON object."), rid));
    return;
  }
  const json::object& in = body.as_object();
  auto it = Operations().find(op);
  if (it == Operations().end()) {
    respond(AwsJsonError({"UnknownOperationException",
                           "Unknown operation Firehose_20150804." + std::string(op) + "."},
                          rid));
    return;
  }
  if (auto err = api::ValidateRequest(op, in)) {
    respond(AwsJsonError(*err, rid));
    return;
  }
  {
    const json::value* name = in.if_contains("DeliveryStreamName");
    if (auto denied = Denied(req, op, name && name->is_string() ? std::string_view(name->as_string())
                                                                  : std::string_view())) {
      respond(AwsJsonError(*denied, rid));
      return;
    }
  }
  stream::ControlPlane::Result result = (control_.*(it->second))(in);
  http::Response response = std::holds_alternative<ApiError>(result)
                                ? AwsJsonError(std::get<ApiError>(result), rid)
                                : AwsJsonResponse(json::serialize(std::get<json::object>(result)), rid);
  if (stream::OperationProbe* probe = control_.ProbeFor(op, in)) probe->Record(MicrosSince(received));
  respond(std::move(response));
}

// The data plane: the body parsed, validated and decoded by api::PutRecordsParser
// (simdjson; base64 decoded into the parser's arena); one log append and one
// group-commit wait per request (sources::DirectPut).
void FirehoseApi::PutRecords(std::string_view op, http::Request&& req, http::Respond respond) {
  const auto received = Steady::now();
  const std::string rid = NewUuid();
  const bool batch = op == "PutRecordBatch";
  thread_local api::PutRecordsParser parser;
  api::PutRecordsInput input;
  if (auto e = parser.Parse(batch, req.body, &input)) {
    respond(AwsJsonError(*e, rid));
    return;
  }
  if (auto denied = Denied(req, op, input.stream_name)) {
    respond(AwsJsonError(*denied, rid));
    return;
  }
  auto s = registry_->Get(std::string(input.stream_name));
  if (!s) {
    respond(AwsJsonError(
        stream::StreamNotFound(registry_->options().account.account_id, input.stream_name), rid));
    return;
  }
  if (s->kinesis_source()) {
    respond(AwsJsonError(api::InvalidArgument("This operation is not permitted on "
                                              "KinesisStreamAsSource delivery stream type."),
                         rid));
    return;
  }
  const bool encrypted = s->encrypted();
  const size_t n = input.records.size();
  api::RecordIdEncoder ids(s->incarnation());
  direct_put_.Put(
      std::move(s), batch ? sources::PutKind::kPutRecordBatch : sources::PutKind::kPutRecord,
      input.records, input.total_bytes, received,
      [respond = std::move(respond), rid, batch, n, encrypted, ids](Result<uint64_t> r) {
        if (!r.ok() && !stream::KmsErrorCode(r.status()).empty()) {
          // The stream's key cannot be used: nothing was written (not even in plaintext).
          respond(AwsJsonError(stream::InvalidKmsResource(r.status()), rid));
          return;
        }
        if (!r.ok()) {
          bool quota = r.status().code() == StatusCode::kResourceExhausted;
          std::string code = quota ? "ServiceUnavailableException" : "InternalFailure";
          std::string msg = quota ? "Slow down." : "Internal service failure.";
          if (!batch) {
            respond(AwsJsonError({code, msg}, rid));
            return;
          }
          std::string out = "{\"FailedPutCount\":" + std::to_string(n) + ",\"Encrypted\":" +
                            (encrypted ? "true" : "false") + ",\"RequestResponses\":[";
          for (size_t i = 0; i < n; ++i) {
            out += i ? ",{" : "{";
            out += "\"ErrorCode\":\"" + code + "\",\"ErrorMessage\":\"" + msg + "\"}";
          }
          out += "]}";
          respond(AwsJsonResponse(std::move(out), rid));
          return;
        }
        uint64_t first = *r;
        std::string out;
        if (!batch) {
          out = "{\"RecordId\":\"";
          ids.Append(first, &out);
          out += encrypted ? "\",\"Encrypted\":true}" : "\",\"Encrypted\":false}";
        } else {
          out.reserve(64 + n * 48);
          out = "{\"FailedPutCount\":0,\"Encrypted\":";
          out += encrypted ? "true" : "false";
          out += ",\"RequestResponses\":[";
          for (size_t i = 0; i < n; ++i) {
            out += i ? ",{\"RecordId\":\"" : "{\"RecordId\":\"";
            ids.Append(first + i, &out);
            out += "\"}";
          }
          out += "]}";
        }
        respond(AwsJsonResponse(std::move(out), rid));
      });
}

}  // namespace hydrant::server
