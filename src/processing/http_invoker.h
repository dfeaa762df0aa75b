#pragma once
// HttpLambdaInvoker: runs a function through the Lambda Invoke API over HTTP,
//   POST {endpoint}/2015-03-31/functions/{name-or-ARN}/invocations[?Qualifier=Q]
//   X-Amz-Invocation-Type: RequestResponse, body = the event,
// against AWS Lambda (SigV4, service "lambda") or any compatible endpoint such as
// serverless-offline. The reply is mapped to an InvokeResult as Firehose reports
// Lambda failures (docs/aws.md has the full table):
//   2xx                                   → kOk, payload = body
//   2xx + X-Amz-Function-Error            → kFunctionError "Lambda.FunctionError" (payload = the
//                                           function's error document)
//   body > 6 MB                           → kFunctionError "Lambda.FunctionError"
//   404                                   → kFatal "Lambda.ResourceNotFound"
//   401/403                               → kFatal "Lambda.InvokeAccessDenied"
//   429                                   → kRetryable "Lambda.InvokeLimitExceeded"
//   413                                   → kFatal "Lambda.FunctionError" (request over 6 MB)
//   400 InvalidRequestContentException    → kFatal "Lambda.JsonProcessingException"
//   other 4xx                             → kFatal "Lambda.<ErrorType>" (or Lambda.InvalidRequest)
//   5xx                                   → kRetryable "Lambda.<ErrorType>" (or
//   Lambda.ServiceUnavailable) timeout                               → kRetryable
//   "Lambda.FunctionError" + the documented
//                                           timeout message
//   refused / reset / DNS                 → kRetryable "Lambda.ServiceUnavailable"
//   credentials cannot be loaded          → kFatal "Lambda.AssumeRoleAccessDenied"
// Thread-safe: Invoke may run on many threads at once (the HttpClient must be too).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/clock.h"
#include "processing/invoker.h"

namespace hydrant::aws {
class CredentialsProvider;
class HttpClient;
struct HttpResponse;
}  // namespace hydrant::aws

namespace hydrant::processing {

struct HttpInvokerOptions {
  // Base URL, e.g. "http://127.0.0.1:3002". "" = AWS Lambda in the function's region
  // (https://lambda.REGION.amazonaws.com, .amazonaws.com.cn for cn- regions).
  std::string endpoint;
  // Region for signing and for the AWS endpoint when the function ref has none.
  std::string region = "us-east-1";
  // What goes in the path. kAuto: the unqualified function ARN for AWS endpoints
  // (*.amazonaws.com, so cross-account ARNs work), the bare name elsewhere
  // (serverless-offline answers 404 to an ARN in the path).
  enum class FunctionId { kAuto, kName, kArn };
  FunctionId function_id = FunctionId::kAuto;
  // Null, or a provider answering NotFound: requests go unsigned.
  std::shared_ptr<aws::CredentialsProvider> credentials;
  // Null = a CurlHttpClient of our own.
  std::shared_ptr<aws::HttpClient> http;
  // Signing time; null = the system clock. Not owned.
  const Clock* clock = nullptr;
  // Lambda's synchronous response limit, 6 MB = 6,291,456 bytes (kLambdaPayloadLimit);
  // a longer body is the function's failure (kFunctionError).
  size_t max_response_bytes = 6291456;
};

class HttpLambdaInvoker final : public FunctionInvoker {
 public:
  explicit HttpLambdaInvoker(HttpInvokerOptions opts);
  ~HttpLambdaInvoker() override;

  InvokeResult Invoke(const FunctionRef& fn, const std::string& event_json,
                      std::chrono::milliseconds timeout) override;

  // The URL Invoke would POST to (for logs and tests).
  std::string InvokeUrl(const FunctionRef& fn) const;

 private:
  HttpInvokerOptions opts_;
};

// Maps one HTTP reply from the Invoke API to an InvokeResult (duration_ms not set).
InvokeResult MapInvokeResponse(const aws::HttpResponse& resp);

}  // namespace hydrant::processing
