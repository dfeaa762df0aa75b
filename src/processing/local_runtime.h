#pragma once
// LocalHandlerInvoker: runs AWS Lambda handler files unchanged, the way Lambda runs
// them, for functions configured to run inside hydrant (docs/local-lambda.md).
//
//   Python  def lambda_handler(event, context)                 -> /usr/bin/python3
//   Node.js exports.handler = async (event, context) => ...    -> `node` on PATH
//           exports.handler = (event, context, callback) => ...
//           export const handler = ... (.mjs, or .js under "type": "module")
//
// Each function has a pool of long-lived worker processes (pool_size, spawned
// lazily, one invocation at a time each, replaced after a crash, a timeout or a
// change of the handler file). A worker talks to hydrant over a socket on fd 3 with
// length-prefixed JSON frames; its stdout and stderr go to a pipe hydrant reads line
// by line into the log group /aws/lambda/NAME, one log stream per worker
// ("YYYY/MM/DD/[$LATEST]<32 hex>"), framed by START / END / REPORT lines as Lambda
// writes them. The worker programs are src/processing/workers/python_worker.py and
// node_worker.cjs, compiled into the binary (hydrant_embed_text in CMakeLists.txt)
// and written to `worker_dir` by Create(). local_runtime_function.h says which file
// does what.
//
// Results (see InvokeResult):
//   handler returns             kOk, payload = JSON of the returned value
//   handler raises / throws     kFunctionError, payload = Lambda's error document
//                               ({"errorMessage","errorType","stackTrace"} for Python,
//                               {"errorType","errorMessage","trace"} for Node.js)
//   past the function timeout   the worker is killed; kRetryable, Lambda.FunctionError,
//                               Firehose's timeout message
//   worker dies                 kFunctionError, errorType "Runtime.ExitError"
//   unknown function name       kFatal, Lambda.ResourceNotFound
//
// Thread-safety: Invoke may be called from any number of threads; calls beyond the
// pool size wait for a free worker (until their timeout). The invoker must outlive
// every call; destroying it kills the workers.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/account.h"
#include "common/status.h"
#include "processing/invoker.h"

namespace hydrant::logs {
class LogStore;
}

namespace hydrant::processing {

struct LocalFunctionConfig {
  std::string name;     // Lambda function name: [A-Za-z0-9_-]{1,64}
  std::string runtime;  // "python3" or "nodejs" (AWS names such as python3.12, nodejs20.x too)
  // The handler file (lambda_function.py, index.js, index.mjs), or the code directory
  // when `handler` uses Lambda's "module.function" notation. "file.py:function" is
  // accepted here too when `handler` is empty.
  std::string path;
  // "" = lambda_handler (Python) / handler (Node.js); "function"; or "module.function"
  // (module relative to the code directory, may contain '/').
  std::string handler;
  int timeout_seconds = 60;  // 1..300 (Firehose calls functions for at most 5 minutes)
  int memory_mb = 128;       // 128..10240; reported to the handler, not enforced
  std::map<std::string, std::string> environment;
  int pool_size = 2;  // 1..64 worker processes
};

struct LocalRuntimeOptions {
  std::vector<LocalFunctionConfig> functions;
  AccountContext account;
  logs::LogStore* log_store = nullptr;  // handler output; not owned; nullptr = discarded
  std::string worker_dir;               // worker programs are written here, e.g. <data-dir>/runtime
  std::string python = "/usr/bin/python3";
  std::string node = "node";  // looked up on PATH
};

// What ListFunctions shows.
struct FunctionInfo {
  std::string name;
  std::string arn;
  std::string runtime;          // as configured
  std::string runtime_version;  // "python3.11", "nodejs20.x" once a worker started; else ""
  std::string handler;          // Lambda's notation, e.g. "lambda_function.lambda_handler"
  std::string code_path;        // the handler file
  int timeout_seconds = 0;
  int memory_mb = 0;
};

class LocalHandlerInvoker final : public FunctionInvoker {
 public:
  // InvalidArgument for a bad configuration (name, runtime, missing handler file,
  // limits, reserved environment variable); IoError if the workers cannot be written.
  static Result<std::unique_ptr<LocalHandlerInvoker>> Create(LocalRuntimeOptions options);
  ~LocalHandlerInvoker() override;

  // Functions are matched by name; the region, account and qualifier of an ARN are
  // not checked (every qualifier runs $LATEST).
  InvokeResult Invoke(const FunctionRef& fn, const std::string& event_json,
                      std::chrono::milliseconds timeout) override;

  std::vector<FunctionInfo> ListFunctions() const;
  bool HasFunction(std::string_view name) const;

  struct Function;

 private:
  explicit LocalHandlerInvoker(LocalRuntimeOptions options);
  Function* Find(std::string_view name) const;

  LocalRuntimeOptions options_;
  std::vector<std::unique_ptr<Function>> functions_;
};

// The worker programs (the bytes of src/processing/workers/python_worker.py and
// node_worker.cjs, embedded at build time), and where Create() writes them (file
// names in worker_dir).
extern const std::string_view kPythonWorkerSource;
extern const std::string_view kNodeWorkerSource;
inline constexpr std::string_view kPythonWorkerFile = "python_worker.py";
inline constexpr std::string_view kNodeWorkerFile = "node_worker.cjs";

// Error code and message for a timed-out invocation (see docs/local-lambda.md).
inline constexpr std::string_view kTimeoutErrorCode = "Lambda.FunctionError";
inline constexpr std::string_view kTimeoutErrorMessage =
    "Firehose encountered timeout errors when calling AWS Lambda. The maximum supported "
    "function timeout is 5 minutes.";

}  // namespace hydrant::processing
