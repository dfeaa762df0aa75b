#pragma once
// LambdaApi: the subset of the Lambda REST API that lets a user try the functions
// hydrant runs itself (local handlers, blueprints) before wiring them to a stream:
//   POST /2015-03-31/functions/NAME/invocations   (aws lambda invoke)
//   GET  /2015-03-31/functions/                   (aws lambda list-functions)
//   GET  /2015-03-31/functions/NAME               (aws lambda get-function)
// Invocations may take minutes, so each runs on a thread of its own; at most
// kMaxInFlight at once (more get 429 TooManyRequestsException, as Lambda's
// concurrency limit answers), and the destructor waits for those running.

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

#include "common/account.h"
#include "server/http_types.h"

namespace hydrant::processing {
class InvokerRegistry;
}

namespace hydrant::server {

class Authorizer;

class LambdaApi {
 public:
  static constexpr int kMaxInFlight = 64;

  // `authz` (optional, outlives this object) authorizes signed requests:
  // lambda:ListFunctions, lambda:GetFunction, lambda:InvokeFunction.
  LambdaApi(processing::InvokerRegistry* invokers, AccountContext account,
            const Authorizer* authz = nullptr);
  ~LambdaApi();

  // A request for this API: its path, and no SigV4 scope naming another service.
  static bool IsLambdaRequest(const http::Request& req);
  void Handle(http::Request&& req, http::Respond respond);

 private:
  // Answers AccessDeniedException (403) and returns true when the signed caller
  // may not do `action` on the function.
  bool Denied(const http::Request& req, std::string_view action, std::string_view arn,
              const http::Respond& respond) const;

  processing::InvokerRegistry* invokers_;
  AccountContext account_;
  const Authorizer* authz_;
  std::mutex mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;
};

// The service named in a SigV4 Authorization header's credential scope
// ("firehose", "s3", "lambda", "logs"), or "" when the request is unsigned.
std::string SignedService(const http::Request& req);

}  // namespace hydrant::server
