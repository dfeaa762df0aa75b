#include "processing/invoker_registry.h"

#include <spdlog/spdlog.h>

#include "aws/credentials.h"
#include "processing/blueprints.h"
#include "processing/http_invoker.h"
#include "processing/local_runtime.h"

namespace hydrant::processing {

struct InvokerRegistry::Impl {
  InvokerOptions opts;
  std::unique_ptr<LocalHandlerInvoker> local;
  std::unique_ptr<BuiltinInvoker> builtin;
  std::map<std::string, std::unique_ptr<HttpLambdaInvoker>> http_functions;
  std::unique_ptr<HttpLambdaInvoker> default_http;
};

Result<std::unique_ptr<InvokerRegistry>> InvokerRegistry::Create(const InvokerOptions& opts) {
  std::unique_ptr<InvokerRegistry> r(new InvokerRegistry());
  r->impl_ = std::make_unique<Impl>();
  auto& impl = *r->impl_;
  impl.opts = opts;
  std::shared_ptr<aws::CredentialsProvider> creds = aws::MakeDefaultCredentialsChain();
  LocalRuntimeOptions lo;
  lo.account = opts.account;
  lo.log_store = opts.logs;
  lo.worker_dir = opts.runtime_dir;
  for (const auto& f : opts.functions) {
    if (f.runtime == "http") {
      HttpInvokerOptions ho;
      ho.endpoint = f.endpoint;
      ho.region = opts.account.region;
      ho.credentials = creds;
      impl.http_functions[f.name] = std::make_unique<HttpLambdaInvoker>(std::move(ho));
      continue;
    }
    LocalFunctionConfig lf;
    lf.name = f.name;
    lf.runtime = f.runtime;
    lf.path = f.handler;
    lf.timeout_seconds = f.timeout_seconds;
    lf.memory_mb = f.memory_mb;
    lf.environment = f.environment;
    lo.functions.push_back(std::move(lf));
  }
  auto local = LocalHandlerInvoker::Create(std::move(lo));
  if (!local.ok()) return local.status();
  impl.local = std::move(local).value();
  impl.builtin = std::make_unique<BuiltinInvoker>(opts.reingest, opts.kinesis_reingest);
  HttpInvokerOptions dflt;
  dflt.endpoint = opts.default_endpoint;
  dflt.region = opts.account.region;
  dflt.credentials = creds;
  impl.default_http = std::make_unique<HttpLambdaInvoker>(std::move(dflt));
  return r;
}

InvokerRegistry::~InvokerRegistry() = default;

InvokeResult InvokerRegistry::Invoke(const FunctionRef& fn, const std::string& event_json,
                                     std::chrono::milliseconds timeout) {
  auto& impl = *impl_;
  if (impl.local->HasFunction(fn.name)) return impl.local->Invoke(fn, event_json, timeout);
  if (BuiltinInvoker::Has(fn.name)) return impl.builtin->Invoke(fn, event_json, timeout);
  if (auto it = impl.http_functions.find(fn.name); it != impl.http_functions.end()) {
    return it->second->Invoke(fn, event_json, timeout);
  }
  return impl.default_http->Invoke(fn, event_json, timeout);
}

std::vector<LocalFunctionInfo> InvokerRegistry::LocalFunctions() const {
  std::vector<LocalFunctionInfo> out;
  for (const auto& f : impl_->local->ListFunctions()) {
    LocalFunctionInfo i;
    i.name = f.name;
    i.arn = f.arn;
    i.runtime = !f.runtime_version.empty() ? f.runtime_version
                : f.runtime == "nodejs"    ? "nodejs20.x"
                                           : "python3.11";
    i.handler = f.handler;
    i.timeout_seconds = f.timeout_seconds;
    i.memory_mb = f.memory_mb;
    out.push_back(std::move(i));
  }
  for (const auto& name : BuiltinInvoker::Names()) {
    LocalFunctionInfo i;
    i.name = name;
    i.arn = impl_->opts.account.Arn("lambda", "function:" + name);
    i.runtime = "builtin";
    i.handler = "hydrant.blueprint";
    i.timeout_seconds = 300;
    out.push_back(std::move(i));
  }
  return out;
}

bool InvokerRegistry::IsLocal(const std::string& name) const {
  return impl_->local->HasFunction(name) || BuiltinInvoker::Has(name);
}

}  // namespace hydrant::processing
