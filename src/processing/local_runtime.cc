// LocalHandlerInvoker (local_runtime.h): checks the configuration, resolves each
// function's handler file, writes the worker programs, and routes an invocation
// to its function (local_runtime_function.h says where the rest is).

#include "processing/local_runtime.h"

#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <climits>
#include <cstdlib>

#include "common/file_util.h"
#include "processing/local_runtime_function.h"

namespace hydrant::processing {

namespace json = boost::json;

namespace {

// Lambda's payload limit for a synchronous request: 6 MB.
constexpr size_t kMaxRequestBytes = 6 * 1024 * 1024;
constexpr int kMaxTimeoutSeconds = 300;

// Variables Lambda sets itself; a function's configuration may not override them
// (Lambda refuses them as "reserved keys" as well).
constexpr std::string_view kReservedVariables[] = {
    "_HANDLER",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
};

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string AbsolutePath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

}  // namespace

// --- LocalHandlerInvoker ------------------------------------------------------------

LocalHandlerInvoker::LocalHandlerInvoker(LocalRuntimeOptions options)
    : options_(std::move(options)) {}

LocalHandlerInvoker::~LocalHandlerInvoker() {
  for (auto& f : functions_) {
    std::lock_guard lock(f->mu);
    for (auto& w : f->idle) f->Kill(*w);
    f->idle.clear();
  }
}

namespace {

Status ResolveHandler(const LocalFunctionConfig& c, Family family,
                      LocalHandlerInvoker::Function* f);

}  // namespace

Result<std::unique_ptr<LocalHandlerInvoker>> LocalHandlerInvoker::Create(
    LocalRuntimeOptions options) {
  if (options.worker_dir.empty())
    return Status::InvalidArgument("local Lambda runtime: no worker directory");
  std::unique_ptr<LocalHandlerInvoker> inv(new LocalHandlerInvoker(std::move(options)));
  const LocalRuntimeOptions& o = inv->options_;
  for (const auto& c : o.functions) {
    std::string where = "function " + c.name + ": ";
    if (c.name.empty() || c.name.size() > 64 ||
        c.name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            std::string::npos)
      return Status::InvalidArgument("function name \"" + c.name +
                                     "\" must be 1 to 64 letters, digits, '-' or '_'");
    if (inv->Find(c.name) != nullptr) return Status::InvalidArgument(where + "defined twice");
    auto f = std::make_unique<Function>();
    f->config = c;
    f->options = &inv->options_;
    if (c.runtime.rfind("python3", 0) == 0) {
      f->family = Family::kPython;
    } else if (c.runtime.rfind("nodejs", 0) == 0) {
      f->family = Family::kNode;
    } else {
      return Status::InvalidArgument(where + "runtime \"" + c.runtime +
                                     "\" is not supported (python3 or nodejs)");
    }
    if (c.timeout_seconds < 1 || c.timeout_seconds > kMaxTimeoutSeconds)
      return Status::InvalidArgument(where + "timeout must be 1 to 300 seconds");
    if (c.memory_mb < 128 || c.memory_mb > 10240)
      return Status::InvalidArgument(where + "memory must be 128 to 10240 MB");
    if (c.pool_size < 1 || c.pool_size > 64)
      return Status::InvalidArgument(where + "pool size must be 1 to 64");
    for (const auto& [k, v] : c.environment) {
      if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos ||
          v.find('\0') != std::string::npos)
        return Status::InvalidArgument(where + "bad environment variable \"" + k + "\"");
      for (auto reserved : kReservedVariables)
        if (k == reserved)
          return Status::InvalidArgument(where + "environment variable " + k +
                                         " is reserved (Lambda sets it)");
    }
    HYDRANT_RETURN_IF_ERROR(ResolveHandler(c, f->family, f.get()));
    f->arn = o.account.Arn("lambda", "function:" + c.name);
    f->log_group = "/aws/lambda/" + c.name;
    f->worker_script =
        o.worker_dir + "/" +
        std::string(f->family == Family::kPython ? kPythonWorkerFile : kNodeWorkerFile);
    inv->functions_.push_back(std::move(f));
  }
  // Written even without functions, so the directory always holds the current ones.
  HYDRANT_RETURN_IF_ERROR(fs::MakeDirs(o.worker_dir));
  for (auto [file, source] : {std::pair{kPythonWorkerFile, kPythonWorkerSource},
                              std::pair{kNodeWorkerFile, kNodeWorkerSource}}) {
    std::string path = o.worker_dir + "/" + std::string(file);
    auto existing = fs::ReadFile(path);
    if (existing.ok() && *existing == source) continue;
    HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(path, source));
  }
  return inv;
}

namespace {

// Finds the module file and function a configuration names (see LocalFunctionConfig).
Status ResolveHandler(const LocalFunctionConfig& c, Family family,
                      LocalHandlerInvoker::Function* f) {
  std::string where = "function " + c.name + ": ";
  std::string path = c.path;
  std::string handler = c.handler;
  if (handler.empty()) {
    size_t colon = path.rfind(':');
    size_t slash = path.rfind('/');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash) &&
        !IsRegularFile(path)) {
      handler = path.substr(colon + 1);
      path = path.substr(0, colon);
    }
  }
  if (path.empty()) return Status::InvalidArgument(where + "no handler path");
  std::string default_function = family == Family::kPython ? "lambda_handler" : "handler";
  std::vector<std::string> extensions = family == Family::kPython
                                            ? std::vector<std::string>{".py"}
                                            : std::vector<std::string>{".js", ".mjs", ".cjs"};
  if (IsDirectory(path)) {
    // Lambda's notation: "module.function", the module relative to the code directory.
    size_t dot = handler.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == handler.size())
      return Status::InvalidArgument(where +
                                     "with a code directory, handler must be \"module.function\"");
    std::string module = handler.substr(0, dot);
    f->function_name = handler.substr(dot + 1);
    f->task_root = AbsolutePath(path);
    for (const auto& ext : extensions) {
      std::string candidate = f->task_root + "/" + module + ext;
      if (IsRegularFile(candidate)) {
        f->module_file = candidate;
        break;
      }
    }
    if (f->module_file.empty())
      return Status::InvalidArgument(where + "no " + module + extensions[0] + " in " + path);
  } else {
    if (!IsRegularFile(path))
      return Status::InvalidArgument(where + "handler file " + path + " not found");
    f->module_file = AbsolutePath(path);
    size_t slash = f->module_file.rfind('/');
    f->task_root = f->module_file.substr(0, slash);
    size_t dot = handler.rfind('.');
    f->function_name = handler.empty()
                           ? default_function
                           : (dot == std::string::npos ? handler : handler.substr(dot + 1));
  }
  for (char ch : f->function_name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '$')
      return Status::InvalidArgument(where + "bad handler function name \"" + f->function_name +
                                     "\"");
  }
  if (f->function_name.empty())
    return Status::InvalidArgument(where + "empty handler function name");
  // The module name as Lambda shows it: the path under the code directory, no extension.
  std::string rel = f->module_file.substr(f->task_root.size() + 1);
  std::string stem = rel.substr(0, rel.rfind('.'));
  f->handler_notation = stem + "." + f->function_name;
  f->module_name = stem;
  if (family == Family::kPython)
    std::replace(f->module_name.begin(), f->module_name.end(), '/', '.');
  return Status::Ok();
}

}  // namespace

LocalHandlerInvoker::Function* LocalHandlerInvoker::Find(std::string_view name) const {
  for (const auto& f : functions_)
    if (f->config.name == name) return f.get();
  return nullptr;
}

bool LocalHandlerInvoker::HasFunction(std::string_view name) const { return Find(name) != nullptr; }

InvokeResult LocalHandlerInvoker::Invoke(const FunctionRef& fn, const std::string& event_json,
                                         std::chrono::milliseconds timeout) {
  Function* f = Find(fn.name);
  if (f == nullptr) {
    std::string arn = fn.arn.rfind("arn:", 0) == 0
                          ? fn.arn
                          : options_.account.Arn("lambda", "function:" + fn.name);
    InvokeResult r;
    r.kind = InvokeResult::Kind::kFatal;
    r.error_code = "Lambda.ResourceNotFound";
    r.error_message = "Function not found: " + arn;
    r.payload = json::serialize(json::object{{"Type", "User"}, {"message", r.error_message}});
    return r;
  }
  if (event_json.size() > kMaxRequestBytes) {
    InvokeResult r;
    r.kind = InvokeResult::Kind::kFatal;
    r.error_code = "Lambda.RequestTooLarge";
    r.error_message = "Request must be smaller than 6291456 bytes for the InvokeFunction operation";
    r.payload = json::serialize(json::object{{"Type", "User"}, {"message", r.error_message}});
    return r;
  }
  return f->Invoke(fn, event_json, timeout);
}

std::vector<FunctionInfo> LocalHandlerInvoker::ListFunctions() const {
  std::vector<FunctionInfo> out;
  for (const auto& f : functions_) {
    FunctionInfo info;
    info.name = f->config.name;
    info.arn = f->arn;
    info.runtime = f->config.runtime;
    {
      std::lock_guard lock(f->mu);
      info.runtime_version = f->runtime_version;
    }
    info.handler = f->handler_notation;
    info.code_path = f->module_file;
    info.timeout_seconds = f->config.timeout_seconds;
    info.memory_mb = f->config.memory_mb;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace hydrant::processing
