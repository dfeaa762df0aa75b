#pragma once
// FunctionInvoker: runs a Lambda function synchronously (RequestResponse): a JSON
// event in, the function's JSON result out. Three kinds implement it:
//   - HttpLambdaInvoker: the Lambda Invoke API over HTTP (AWS Lambda with SigV4, or
//     any compatible endpoint such as serverless-offline)
//   - LocalHandlerInvoker: Python/Node.js handler files run by hydrant's worker pool
//   - BuiltinInvoker: blueprints compiled into hydrant
// An InvokerRegistry picks one per function ARN from the configuration.
// Implementations are thread-safe: several invocations may run at once.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hydrant::processing {

// The parts of a function ARN: arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].
// A bare NAME (or NAME:QUALIFIER) is accepted too, with region and account empty.
struct FunctionRef {
  std::string arn;        // as configured
  std::string region;
  std::string account;
  std::string name;
  std::string qualifier;  // "" when unqualified ($LATEST)
  // The role Firehose invokes the function as (a Lambda processor's RoleArn);
  // "" = none. Invokers that authorize (server/delivery_role.h) check it.
  std::string role_arn;
};
// False when `arn` is neither a Lambda function ARN nor a valid function name.
bool ParseFunctionRef(std::string_view arn, FunctionRef* out);

struct InvokeResult {
  enum class Kind {
    kOk,             // the function returned; payload is its result
    kFunctionError,  // the function ran and failed (X-Amz-Function-Error, a handler exception)
    kRetryable,      // timeout, network error, throttling (429), 5xx: worth retrying
    kFatal,          // not found, access denied, bad request: retrying will not help
  };
  Kind kind = Kind::kOk;
  std::string payload;        // the function's result (kOk), or its error document
  std::string error_code;     // Firehose's code, e.g. "Lambda.FunctionError", "Lambda.ResourceNotFound"
  std::string error_message;  // what went wrong, for processing-failed records and logs
  int64_t duration_ms = 0;
};

class FunctionInvoker {
 public:
  virtual ~FunctionInvoker() = default;
  // `timeout` bounds the whole call (Firehose allows at most 5 minutes).
  virtual InvokeResult Invoke(const FunctionRef& fn, const std::string& event_json,
                              std::chrono::milliseconds timeout) = 0;
};

}  // namespace hydrant::processing
