#pragma once
// Answers of AWS's JSON 1.1 protocol, shared by the APIs that speak it (Firehose,
// CloudWatch Logs): Content-Type application/x-amz-json-1.1, x-amzn-RequestId, and
// for errors the status of the error type, x-amzn-ErrorType "TYPE:" and the
// {"__type","message"} body.

#include <string>

#include "api/errors.h"
#include "server/http_types.h"

namespace hydrant::server {

http::Response AwsJsonResponse(std::string body, const std::string& request_id);
http::Response AwsJsonError(const api::ApiError& e, const std::string& request_id);

}  // namespace hydrant::server
