// One invocation of a local function (see local_runtime_function.h): take a worker
// from the pool (starting or replacing its process as needed), send it the event,
// wait for its answer within the timeout, and write START / END / REPORT to its log
// stream as Lambda does.

#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/log_fields.h"
#include "common/request_id.h"
#include "processing/local_runtime_function.h"

namespace hydrant::processing {

using Function = LocalHandlerInvoker::Function;

namespace json = boost::json;

namespace {

// Lambda gives a function's initialisation (imports, top-level code) 10 seconds.
constexpr std::chrono::seconds kInitTimeout{10};
constexpr std::string_view kFunctionError = "Lambda.FunctionError";
constexpr std::string_view kFunctionErrorMessage =
    "The Lambda function was successfully invoked but it returned an error result.";


std::string IsoTime(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string Fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

double MillisSince(SteadyClock::time_point t) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count();
}

InvokeResult FunctionErrorResult(std::string payload) {
  InvokeResult r;
  r.kind = InvokeResult::Kind::kFunctionError;
  r.payload = std::move(payload);
  r.error_code = std::string(kFunctionError);
  r.error_message = std::string(kFunctionErrorMessage);
  return r;
}

std::string ErrorDocument(std::string_view type, std::string_view message) {
  json::object o;
  o["errorType"] = type;
  o["errorMessage"] = message;
  return json::serialize(o);
}

InvokeResult TimeoutResult(std::string payload) {
  InvokeResult r;
  r.kind = InvokeResult::Kind::kRetryable;
  r.payload = std::move(payload);
  r.error_code = std::string(kTimeoutErrorCode);
  r.error_message = std::string(kTimeoutErrorMessage);
  return r;
}

}  // namespace

std::unique_ptr<Worker> Function::Acquire(SteadyClock::time_point deadline) {
  std::unique_lock lock(mu);
  while (idle.empty() && workers >= config.pool_size) {
    if (cv.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
        workers >= config.pool_size)
      return nullptr;
  }
  if (!idle.empty()) {
    auto w = std::move(idle.back());  // the most recently used: its caches are warm
    idle.pop_back();
    return w;
  }
  ++workers;
  return std::make_unique<Worker>();
}

void Function::Release(std::unique_ptr<Worker> w) {
  {
    std::lock_guard lock(mu);
    if (w->alive()) {
      idle.push_back(std::move(w));
    } else {
      --workers;
    }
  }
  cv.notify_one();
}

InvokeResult LocalHandlerInvoker::Function::Invoke(const FunctionRef& fn,
                                                   const std::string& event_json,
                                                   std::chrono::milliseconds timeout) {
  const auto call_start = SteadyClock::now();
  const auto call_deadline = call_start + timeout;
  const std::string request_id = NewUuid();
  auto finish = [&](InvokeResult r) {
    r.duration_ms = static_cast<int64_t>(MillisSince(call_start) + 0.5);
    return r;
  };

  std::unique_ptr<Worker> w = Acquire(call_deadline);
  if (!w) {
    InvokeResult r;
    r.kind = InvokeResult::Kind::kRetryable;
    r.error_code = "Lambda.InvokeLimitExceeded";
    r.error_message = "Rate Exceeded.";
    r.payload = json::serialize(json::object{{"Type", "User"}, {"message", "Rate Exceeded."}});
    return finish(std::move(r));
  }
  // A process that died while idle, or runs code that has since been edited, is
  // replaced (Lambda starts new environments for new code too).
  if (w->alive()) {
    siginfo_t info{};
    bool exited =
        ::waitid(P_PID, static_cast<id_t>(w->pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == w->pid;
    if (exited || !(StampOf(module_file) == w->code_stamp)) Kill(*w);
  }

  std::string header, body;
  if (!w->alive()) {
    auto init_start = SteadyClock::now();
    Status st = Spawn(*w);
    if (!st.ok()) {
      spdlog::error(
          "lambda={} errorCode=Runtime.InvalidEntrypoint event=worker_spawn_failed error={}",
          config.name, LogQuote(st.ToString()));
      std::string doc = ErrorDocument("Runtime.InvalidEntrypoint",
                                      "RequestId: " + request_id + " Error: " + st.message());
      Release(std::move(w));
      return finish(FunctionErrorResult(std::move(doc)));
    }
    auto init_deadline = std::min(call_deadline, init_start + kInitTimeout);
    ReadStatus rs = ReadMessage(*w, init_deadline, &header, &body);
    w->init_ms = MillisSince(init_start);
    std::string init_report =
        "INIT_REPORT Init Duration: " + Fixed2(w->init_ms) + " ms\tPhase: init\t";
    json::error_code ec;
    json::value h = rs == ReadStatus::kOk ? json::parse(header, ec) : json::value();
    const json::object* ho = h.if_object();
    const json::value* type = ho ? ho->if_contains("type") : nullptr;
    if (rs == ReadStatus::kOk && type && type->is_string() && type->as_string() == "ready") {
      if (const json::value* v = ho->if_contains("runtime"); v && v->is_string()) {
        std::lock_guard lock(mu);
        runtime_version = std::string(v->as_string());
      }
    } else if (rs == ReadStatus::kOk && type && type->is_string() &&
               type->as_string() == "init_error") {
      const json::value* err = ho->if_contains("error");
      const json::value* log = ho->if_contains("log");
      std::string doc = err && err->is_object() ? json::serialize(*err)
                                                : ErrorDocument("Runtime.Unknown", "init failed");
      std::string etype = "Runtime.Unknown";
      if (err && err->is_object())
        if (auto* t = err->as_object().if_contains("errorType"); t && t->is_string())
          etype = std::string(t->as_string());
      Kill(*w);
      if (log && log->is_string()) Log(*w, std::string(log->as_string()));
      Log(*w, init_report + "Status: error\tError Type: " + etype);
      Release(std::move(w));
      return finish(FunctionErrorResult(std::move(doc)));
    } else if (rs == ReadStatus::kTimeout) {
      Kill(*w);
      Log(*w, init_report + "Status: timeout");
      Release(std::move(w));
      return finish(TimeoutResult(ErrorDocument(
          "Sandbox.Timedout", "RequestId: " + request_id + " Error: Task timed out after " +
                                  Fixed2(MillisSince(init_start) / 1000) + " seconds")));
    } else {
      std::string how = rs == ReadStatus::kClosed ? Reap(*w) : (Kill(*w), "bad init message");
      Log(*w, init_report + "Status: error\tError Type: Runtime.ExitError");
      Release(std::move(w));
      return finish(FunctionErrorResult(
          ErrorDocument("Runtime.ExitError",
                        "RequestId: " + request_id + " Error: Runtime exited with error: " + how)));
    }
  }

  // The invocation proper.
  const auto fn_timeout = std::chrono::seconds(config.timeout_seconds);
  const auto start = SteadyClock::now();
  const auto deadline = std::min(
      call_deadline, start + std::chrono::duration_cast<SteadyClock::duration>(fn_timeout));
  const int64_t deadline_epoch_ms =
      NowMs() + std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start).count();
  std::string invoked_arn = fn.arn.rfind("arn:", 0) == 0
                                ? fn.arn
                                : arn + (fn.qualifier.empty() ? "" : ":" + fn.qualifier);
  Log(*w, "START RequestId: " + request_id + " Version: $LATEST");

  json::object req;
  req["requestId"] = request_id;
  req["invokedFunctionArn"] = invoked_arn;
  req["deadlineMs"] = deadline_epoch_ms;
  SendStatus ss = SendMessage(*w, json::serialize(req), event_json, deadline);
  ReadStatus rs = ReadStatus::kClosed;
  if (ss == SendStatus::kOk)
    rs = ReadMessage(*w, deadline, &header, &body);
  else if (ss == SendStatus::kTimeout)
    rs = ReadStatus::kTimeout;
  const double duration = MillisSince(start);
  UpdateMemory(*w);

  InvokeResult result;
  std::string status_suffix;
  if (rs == ReadStatus::kOk) {
    PumpOutput(*w, true);  // the worker flushed its output before answering
    json::error_code ec;
    json::value h = json::parse(header, ec);
    const json::object* ho = h.if_object();
    const json::value* type = ho ? ho->if_contains("type") : nullptr;
    if (type && type->is_string() && type->as_string() == "result") {
      result.kind = InvokeResult::Kind::kOk;
      result.payload = std::move(body);
    } else if (type && type->is_string() && type->as_string() == "error") {
      const json::value* err = ho->if_contains("error");
      const json::value* log = ho->if_contains("log");
      if (log && log->is_string()) Log(*w, std::string(log->as_string()));
      result = FunctionErrorResult(err && err->is_object() ? json::serialize(*err)
                                                           : ErrorDocument("Runtime.Unknown", ""));
      if (const json::value* fatal = ho->if_contains("fatal");
          fatal && fatal->is_bool() && fatal->as_bool())
        Reap(*w);  // it exits after an uncaught exception, as Lambda's runtime does
    } else {
      Kill(*w);
      result = FunctionErrorResult(
          ErrorDocument("Runtime.InvalidResponse", "bad message from the worker"));
    }
  } else if (rs == ReadStatus::kTimeout) {
    Kill(*w);
    double secs = std::chrono::duration<double>(deadline - start).count();
    Log(*w,
        IsoTime(NowMs()) + " " + request_id + " Task timed out after " + Fixed2(secs) + " seconds");
    result = TimeoutResult(ErrorDocument(
        "Sandbox.Timedout",
        "RequestId: " + request_id + " Error: Task timed out after " + Fixed2(secs) + " seconds"));
    status_suffix = "Status: timeout";
  } else if (rs == ReadStatus::kTooLarge) {
    Kill(*w);
    result = FunctionErrorResult(ErrorDocument(
        "Function.ResponseSizeTooLarge",
        "Response payload size exceeded maximum allowed payload size (6291556 bytes)."));
    status_suffix = "Status: error\tError Type: Function.ResponseSizeTooLarge";
  } else {
    std::string how = Reap(*w);
    std::string message = "RequestId: " + request_id + " Error: Runtime exited with error: " + how;
    Log(*w, message + "\nRuntime.ExitError");
    result = FunctionErrorResult(ErrorDocument("Runtime.ExitError", message));
    status_suffix = "Status: error\tError Type: Runtime.ExitError";
  }

  Log(*w, "END RequestId: " + request_id);
  std::string report =
      "REPORT RequestId: " + request_id + "\tDuration: " + Fixed2(duration) +
      " ms\tBilled Duration: " + std::to_string(static_cast<int64_t>(std::ceil(duration))) +
      " ms\tMemory Size: " + std::to_string(config.memory_mb) +
      " MB\tMax Memory Used: " + std::to_string(w->max_memory_mb) + " MB\t";
  if (w->first_invoke) report += "Init Duration: " + Fixed2(w->init_ms) + " ms\t";
  report += status_suffix;
  Log(*w, std::move(report));
  w->first_invoke = false;
  Release(std::move(w));
  return finish(std::move(result));
}

}  // namespace hydrant::processing
