#include "server/aws_json.h"

namespace hydrant::server {

http::Response AwsJsonResponse(std::string body, const std::string& request_id) {
  http::Response r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.body = std::move(body);
  return r;
}

http::Response AwsJsonError(const api::ApiError& e, const std::string& request_id) {
  http::Response r = AwsJsonResponse(e.ToJson(), request_id);
  r.status = e.http_status();
  r.headers.emplace_back("x-amzn-ErrorType", e.type + ":");
  return r;
}

}  // namespace hydrant::server
