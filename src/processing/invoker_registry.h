#pragma once
// InvokerRegistry: which code runs a Lambda function, chosen per function name from
// the configuration ([lambda] in hydrant's TOML file):
//   1. functions listed with runtime "python3" or "nodejs": hydrant runs the handler
//      file itself (LocalHandlerInvoker);
//   2. built-in blueprints, by name (BuiltinInvoker, e.g. "hydrant-syslog-to-json");
//   3. functions listed with runtime "http": that function's Invoke API endpoint;
//   4. anything else: the default endpoint ([lambda] endpoint), or AWS Lambda in the
//      ARN's region when none is set.
// The functions of 1 and 2 can also be invoked through hydrant's own Lambda API.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/account.h"
#include "common/status.h"
#include "processing/invoker.h"

namespace hydrant::logs {
class LogStore;
}

namespace hydrant::processing {

struct FunctionConfig {
  std::string name;
  std::string runtime;   // "python3", "nodejs", "http"
  std::string handler;   // python3/nodejs: handler file, optionally "file.py:function"
  std::string endpoint;  // http: Invoke API base URL
  int timeout_seconds = 60;
  int memory_mb = 128;
  std::map<std::string, std::string> environment;
};

struct InvokerOptions {
  AccountContext account;
  std::string default_endpoint;  // "" = AWS Lambda (https://lambda.REGION.amazonaws.com)
  std::vector<FunctionConfig> functions;
  logs::LogStore* logs = nullptr;  // where local functions' output goes; not owned
  std::string runtime_dir;         // where worker scripts are written
  // Puts records back into a delivery stream (the CloudWatch Logs blueprint re-ingests
  // records too large for one response); null = such records fail.
  std::function<Status(std::string_view stream_name, std::vector<std::string> records)> reingest;
  // The same into a Kinesis data stream (a delivery stream that reads one), as
  // PutRecords of (partition key, data); null = such records fail.
  std::function<Status(std::string_view stream_arn,
                       std::vector<std::pair<std::string, std::string>> records)>
      kinesis_reingest;
};

// What ListFunctions shows for a function hydrant runs itself.
struct LocalFunctionInfo {
  std::string name;
  std::string arn;
  std::string runtime;  // "python3.11", "nodejs20.x", "builtin"
  std::string handler;
  int timeout_seconds = 60;
  int memory_mb = 128;
};

class InvokerRegistry final : public FunctionInvoker {
 public:
  static Result<std::unique_ptr<InvokerRegistry>> Create(const InvokerOptions& opts);
  ~InvokerRegistry() override;

  InvokeResult Invoke(const FunctionRef& fn, const std::string& event_json,
                      std::chrono::milliseconds timeout) override;

  // Functions hydrant runs itself (local handlers and blueprints).
  std::vector<LocalFunctionInfo> LocalFunctions() const;
  bool IsLocal(const std::string& name) const;

 private:
  InvokerRegistry() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydrant::processing
