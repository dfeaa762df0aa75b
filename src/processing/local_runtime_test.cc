#include "processing/local_runtime.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "logs/log_store.h"
#include "testing/temp_dir.h"

// Requests are written with designated initializers naming only what a test sets.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace hydrant::processing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr milliseconds kFirehoseTimeout{5 * 60 * 1000};

bool HaveNode() { return std::system("node --version >/dev/null 2>&1") == 0; }

class LocalRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    code_ = dir_.Sub("code");
    ASSERT_TRUE(fs::MakeDirs(code_).ok());
    auto store = logs::LogStore::Open(dir_.Sub("logs"));
    ASSERT_TRUE(store.ok());
    logs_ = std::move(store).value();
  }
  void TearDown() override {
    invoker_.reset();  // kills the workers before their files go (with dir_)
  }

  std::string Write(const std::string& name, const std::string& content) {
    return dir_.Write("code/" + name, content);
  }

  LocalFunctionConfig Fn(std::string name, std::string runtime, std::string path) {
    LocalFunctionConfig c;
    c.name = std::move(name);
    c.runtime = std::move(runtime);
    c.path = std::move(path);
    return c;
  }

  LocalHandlerInvoker& Start(std::vector<LocalFunctionConfig> functions) {
    LocalRuntimeOptions o;
    o.functions = std::move(functions);
    o.account = {"eu-west-1", "123456789012"};
    o.log_store = logs_.get();
    o.worker_dir = dir_.Sub("runtime");
    auto inv = LocalHandlerInvoker::Create(std::move(o));
    EXPECT_TRUE(inv.ok()) << inv.status().ToString();
    invoker_ = std::move(inv).value();
    return *invoker_;
  }

  Status CreateStatus(std::vector<LocalFunctionConfig> functions) {
    LocalRuntimeOptions o;
    o.functions = std::move(functions);
    o.worker_dir = dir_.Sub("runtime");
    return LocalHandlerInvoker::Create(std::move(o)).status();
  }

  static FunctionRef Ref(const std::string& name) {
    return {"arn:aws:lambda:eu-west-1:123456789012:function:" + name, "eu-west-1", "123456789012",
            name, ""};
  }

  InvokeResult Call(const std::string& name, const std::string& event,
                    milliseconds timeout = kFirehoseTimeout) {
    return invoker_->Invoke(Ref(name), event, timeout);
  }

  // Every event of the function's log group: stream name -> messages in order.
  std::map<std::string, std::vector<std::string>> Logs(const std::string& function) {
    std::map<std::string, std::vector<std::string>> out;
    logs::ListStreamsRequest list{.group = "/aws/lambda/" + function};
    auto streams = logs_->ListStreams(list);
    if (!streams.ok()) return out;
    for (const auto& s : streams->streams) {
      logs::GetEventsRequest req{.group = list.group, .stream = s.name, .start_from_head = true};
      auto page = logs_->GetEvents(req);
      EXPECT_TRUE(page.ok());
      for (auto& e : page->events) out[s.name].push_back(e.message);
    }
    return out;
  }

  std::vector<std::string> AllLogLines(const std::string& function) {
    std::vector<std::string> out;
    for (auto& [_, lines] : Logs(function)) out.insert(out.end(), lines.begin(), lines.end());
    return out;
  }

  static json::object Parse(const std::string& payload) {
    json::error_code ec;
    json::value v = json::parse(payload, ec);
    EXPECT_FALSE(ec) << payload;
    return v.is_object() ? v.as_object() : json::object();
  }

  static std::string Str(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string("<missing>");
  }

  ::hydrant::testing::TempDir dir_;
  std::string code_;
  std::unique_ptr<logs::LogStore> logs_;
  std::unique_ptr<LocalHandlerInvoker> invoker_;
};

// Firehose's event shape, with two records ("hello", "world" in base64).
const std::string kFirehoseEvent = R"({
  "invocationId": "inv-1",
  "deliveryStreamArn": "arn:aws:firehose:eu-west-1:123456789012:deliverystream/s",
  "region": "eu-west-1",
  "records": [
    {"recordId": "r1", "approximateArrivalTimestamp": 1700000000000, "data": "aGVsbG8="},
    {"recordId": "r2", "approximateArrivalTimestamp": 1700000000001, "data": "d29ybGQ="}
  ]})";

void ExpectUpperCasedRecords(const json::object& result) {
  const json::value* recs = result.if_contains("records");
  ASSERT_TRUE(recs && recs->is_array());
  const json::array& a = recs->as_array();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].at("recordId"), "r1");
  EXPECT_EQ(a[0].at("result"), "Ok");
  EXPECT_EQ(a[0].at("data"), "SEVMTE8=");  // base64("HELLO")
  EXPECT_EQ(a[1].at("recordId"), "r2");
  EXPECT_EQ(a[1].at("data"), "V09STEQ=");  // base64("WORLD")
}

TEST_F(LocalRuntimeTest, PythonFirehoseTransformAndItsLog) {
  std::string path = Write("lambda_function.py", R"(import base64
print("cold start")

def lambda_handler(event, context):
    print("processing", len(event["records"]), "records")
    out = []
    for r in event["records"]:
        data = base64.b64decode(r["data"]).upper()
        out.append({"recordId": r["recordId"], "result": "Ok",
                    "data": base64.b64encode(data).decode()})
    print("done")
    return {"records": out}
)");
  Start({Fn("transform", "python3", path)});
  for (int i = 0; i < 2; ++i) {
    InvokeResult r = Call("transform", kFirehoseEvent);
    ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
    ExpectUpperCasedRecords(Parse(r.payload));
  }

  auto streams = Logs("transform");
  ASSERT_EQ(streams.size(), 1u);  // both calls ran on the same long-lived worker
  std::regex stream_re(R"(\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32})");
  EXPECT_TRUE(std::regex_match(streams.begin()->first, stream_re)) << streams.begin()->first;
  const auto& lines = streams.begin()->second;
  ASSERT_EQ(lines.size(), 11u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "cold start");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      lines[1], m, std::regex(R"(START RequestId: ([0-9a-f-]{36}) Version: \$LATEST)")));
  std::string id = m[1];
  EXPECT_EQ(lines[2], "processing 2 records");
  EXPECT_EQ(lines[3], "done");
  EXPECT_EQ(lines[4], "END RequestId: " + id);
  EXPECT_TRUE(std::regex_match(
      lines[5],
      std::regex("REPORT RequestId: " + id +
                 R"(\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB)"
                 R"(\tMax Memory Used: [1-9]\d* MB\tInit Duration: \d+\.\d\d ms\t)")))
      << lines[5];
  // The second call: another request id, and no Init Duration (a warm start).
  EXPECT_TRUE(lines[6].starts_with("START RequestId: "));
  EXPECT_EQ(lines[6].find(id), std::string::npos);
  EXPECT_EQ(lines[10].find("Init Duration"), std::string::npos);
}

TEST_F(LocalRuntimeTest, PythonExceptionIsAFunctionErrorWithLambdasDocument) {
  std::string path = Write("raiser.py", R"(import logging
logger = logging.getLogger()

def handler(event, context):
    logger.warning("about to fail")
    raise ValueError("bad input: " + event["why"])
)");
  auto f = Fn("raiser", "python3.11", path);
  f.handler = "raiser.handler";
  Start({f});
  InvokeResult r = Call("raiser", R"({"why":"no records"})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  EXPECT_EQ(r.error_code, "Lambda.FunctionError");
  json::object doc = Parse(r.payload);
  EXPECT_EQ(Str(doc, "errorType"), "ValueError");
  EXPECT_EQ(Str(doc, "errorMessage"), "bad input: no records");
  ASSERT_TRUE(doc.contains("stackTrace") && doc.at("stackTrace").is_array());
  const auto& trace = doc.at("stackTrace").as_array();
  ASSERT_EQ(trace.size(), 1u);  // only the handler's frame, not the runtime's
  EXPECT_NE(std::string(trace[0].as_string()).find("raiser.py\", line 6, in handler"),
            std::string::npos)
      << trace[0];

  auto lines = AllLogLines("raiser");
  ASSERT_GE(lines.size(), 5u);
  EXPECT_TRUE(std::regex_match(
      lines[1],
      std::regex(
          R"(\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t[0-9a-f-]{36}\tabout to fail)")))
      << lines[1];
  EXPECT_TRUE(lines[2].starts_with(
      "[ERROR] ValueError: bad input: no records\nTraceback (most recent call last):\n"))
      << lines[2];
  EXPECT_NE(lines[2].find("raise ValueError"), std::string::npos);
  EXPECT_TRUE(lines[3].starts_with("END RequestId: "));

  // The worker survives a handled exception: the next call reuses it.
  r = Call("raiser", R"({"why":"again"})");
  EXPECT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  EXPECT_EQ(Logs("raiser").size(), 1u);
}

TEST_F(LocalRuntimeTest, TimeoutKillsTheWorkerAndTheNextCallWorks) {
  std::string path = Write("slow.py", R"(import time
def lambda_handler(event, context):
    print("sleeping", event["sleep"])
    time.sleep(event["sleep"])
    return {"slept": event["sleep"]}
)");
  auto f = Fn("slow", "python3", path);
  f.timeout_seconds = 1;
  Start({f});
  auto start = std::chrono::steady_clock::now();
  InvokeResult r = Call("slow", R"({"sleep": 30})");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.kind, InvokeResult::Kind::kRetryable);
  EXPECT_EQ(r.error_message, kTimeoutErrorMessage);
  EXPECT_EQ(r.error_code, kTimeoutErrorCode);
  EXPECT_EQ(Str(Parse(r.payload), "errorType"), "Sandbox.Timedout");
  EXPECT_GE(took, std::chrono::milliseconds(950));
  EXPECT_LT(took, std::chrono::seconds(4));

  auto lines = AllLogLines("slow");
  bool timed_out = false;
  for (const auto& l : lines)
    timed_out |= std::regex_match(
        l,
        std::regex(R"(\d{4}-\d\d-\d\dT[\d:.]+Z [0-9a-f-]{36} Task timed out after 1\.00 seconds)"));
  EXPECT_TRUE(timed_out) << ::testing::PrintToString(lines);
  EXPECT_NE(lines.back().find("Status: timeout"), std::string::npos) << lines.back();

  // The call's own timeout bounds the function's too.
  r = Call("slow", R"({"sleep": 30})", milliseconds(300));
  EXPECT_EQ(r.kind, InvokeResult::Kind::kRetryable);
  EXPECT_LT(r.duration_ms, 900);

  r = Call("slow", R"({"sleep": 0})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  EXPECT_EQ(r.payload, R"({"slept": 0})");
  EXPECT_EQ(Logs("slow").size(), 3u);  // a fresh worker (and log stream) after each kill
}

TEST_F(LocalRuntimeTest, PythonContextEnvironmentAndModulePath) {
  Write("helper.py", "GREETING = 'hi from helper'\n");
  std::string path = Write("ctx.py", R"(import os, sys, helper

def lambda_handler(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "helper": helper.GREETING,
        "cwd": os.getcwd(),
        "env": {k: os.environ.get(k) for k in [
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION",
            "AWS_DEFAULT_REGION", "AWS_LAMBDA_LOG_GROUP_NAME", "LAMBDA_TASK_ROOT", "MY_SETTING"]},
    }
)");
  auto f = Fn("ctx", "python3", path);
  f.memory_mb = 256;
  f.timeout_seconds = 30;
  f.environment = {{"MY_SETTING", "configured value"}};
  Start({f});
  FunctionRef ref = Ref("ctx");
  ref.arn += ":$LATEST";
  ref.qualifier = "$LATEST";
  InvokeResult r = invoker_->Invoke(ref, "{}", kFirehoseTimeout);
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  json::object o = Parse(r.payload);
  EXPECT_EQ(Str(o, "function_name"), "ctx");
  EXPECT_EQ(Str(o, "function_version"), "$LATEST");
  EXPECT_EQ(Str(o, "invoked_function_arn"),
            "arn:aws:lambda:eu-west-1:123456789012:function:ctx:$LATEST");
  EXPECT_EQ(Str(o, "memory_limit_in_mb"), "256");  // a string, as in Lambda's Python runtime
  EXPECT_EQ(Str(o, "log_group_name"), "/aws/lambda/ctx");
  EXPECT_EQ(Str(o, "helper"), "hi from helper");
  EXPECT_EQ(Str(o, "cwd"), code_);
  int64_t remaining = o.at("remaining").to_number<int64_t>();
  EXPECT_GT(remaining, 25'000);
  EXPECT_LE(remaining, 30'000);
  const json::object& env = o.at("env").as_object();
  EXPECT_EQ(Str(env, "AWS_LAMBDA_FUNCTION_NAME"), "ctx");
  EXPECT_EQ(Str(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "256");
  EXPECT_EQ(Str(env, "AWS_REGION"), "eu-west-1");
  EXPECT_EQ(Str(env, "AWS_DEFAULT_REGION"), "eu-west-1");
  EXPECT_EQ(Str(env, "AWS_LAMBDA_LOG_GROUP_NAME"), "/aws/lambda/ctx");
  EXPECT_EQ(Str(env, "LAMBDA_TASK_ROOT"), code_);
  EXPECT_EQ(Str(env, "MY_SETTING"), "configured value");

  // The request id and log stream the handler saw are the ones in the log group.
  auto streams = Logs("ctx");
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams.begin()->first, Str(o, "log_stream_name"));
  EXPECT_EQ(streams.begin()->second.front(),
            "START RequestId: " + Str(o, "aws_request_id") + " Version: $LATEST");
  EXPECT_TRUE(std::regex_match(
      Str(o, "aws_request_id"),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
}

TEST_F(LocalRuntimeTest, NodeAsyncCallbackAndEsmHandlers) {
  if (!HaveNode()) GTEST_SKIP() << "node is not installed";
  Write("upper.js",
        "exports.upper = (b64) => Buffer.from(Buffer.from(b64, "
        "'base64').toString().toUpperCase()).toString('base64');\n");
  std::string async_path = Write("index.js", R"(const { upper } = require('./upper');
exports.handler = async (event, context) => {
  console.log('records:', event.records.length);
  await new Promise((r) => setTimeout(r, 20));
  return {
    records: event.records.map((r) => ({ recordId: r.recordId, result: 'Ok', data: upper(r.data) })),
    context: {
      functionName: context.functionName, functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB,
      awsRequestId: context.awsRequestId, logGroupName: context.logGroupName,
      logStreamName: context.logStreamName, remaining: context.getRemainingTimeInMillis(),
      waits: context.callbackWaitsForEmptyEventLoop, region: process.env.AWS_REGION,
      taskRoot: process.env.LAMBDA_TASK_ROOT,
    },
  };
};
)");
  std::string cb_path =
      Write("callback.js", R"(exports.handler = function (event, context, callback) {
  setTimeout(() => {
    if (event.fail) return callback(new Error('callback failure'));
    callback(null, { got: event.value });
  }, 10);
};
)");
  std::string esm_path =
      Write("esm.mjs", R"(import { setTimeout as sleep } from 'node:timers/promises';
export const handler = async (event) => {
  await sleep(5);
  if (event.fail) throw new TypeError('esm failure');
  return { esm: event.value };
};
)");
  Start({Fn("node-async", "nodejs", async_path), Fn("node-callback", "nodejs20.x", cb_path),
         Fn("node-esm", "nodejs", esm_path)});

  InvokeResult r = Call("node-async", kFirehoseEvent);
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  json::object o = Parse(r.payload);
  ExpectUpperCasedRecords(o);
  const json::object& ctx = o.at("context").as_object();
  EXPECT_EQ(Str(ctx, "functionName"), "node-async");
  EXPECT_EQ(Str(ctx, "functionVersion"), "$LATEST");
  EXPECT_EQ(Str(ctx, "invokedFunctionArn"),
            "arn:aws:lambda:eu-west-1:123456789012:function:node-async");
  EXPECT_EQ(Str(ctx, "memoryLimitInMB"), "128");
  EXPECT_EQ(Str(ctx, "logGroupName"), "/aws/lambda/node-async");
  EXPECT_EQ(Str(ctx, "region"), "eu-west-1");
  EXPECT_EQ(Str(ctx, "taskRoot"), code_);
  EXPECT_EQ(ctx.at("waits"), true);
  EXPECT_GT(ctx.at("remaining").to_number<int64_t>(), 50'000);
  auto streams = Logs("node-async");
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams.begin()->first, Str(ctx, "logStreamName"));
  const auto& lines = streams.begin()->second;
  ASSERT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "START RequestId: " + Str(ctx, "awsRequestId") + " Version: $LATEST");
  EXPECT_TRUE(
      std::regex_match(lines[1], std::regex(R"(\d{4}-\d\d-\d\dT[\d:.]+Z\t)" +
                                            Str(ctx, "awsRequestId") + "\tINFO\trecords: 2")))
      << lines[1];

  r = Call("node-callback", R"({"value": 42})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  EXPECT_EQ(r.payload, R"({"got":42})");
  r = Call("node-callback", R"({"fail": true})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  json::object err = Parse(r.payload);
  EXPECT_EQ(Str(err, "errorType"), "Error");
  EXPECT_EQ(Str(err, "errorMessage"), "callback failure");
  ASSERT_TRUE(err.contains("trace"));
  EXPECT_EQ(err.at("trace").as_array()[0], "Error: callback failure");
  bool logged = false;
  for (const auto& l : AllLogLines("node-callback"))
    logged |= l.find(
                  "\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"callback "
                  "failure\"") != std::string::npos;
  EXPECT_TRUE(logged);

  // An ES module in a .js file under "type": "module", named the Lambda way.
  ASSERT_TRUE(fs::MakeDirs(code_ + "/esmpkg/lib").ok());
  std::ofstream(code_ + "/esmpkg/package.json") << R"({"type": "module"})";
  std::ofstream(code_ + "/esmpkg/lib/app.js")
      << "export async function handler(event) { return { pkg: event.value }; }\n";
  auto pkg = Fn("node-esm-js", "nodejs", code_ + "/esmpkg");
  pkg.handler = "lib/app.handler";
  LocalRuntimeOptions pkg_options;
  pkg_options.functions = {pkg};
  pkg_options.worker_dir = dir_.Sub("runtime");
  auto pkg_invoker = LocalHandlerInvoker::Create(pkg_options);
  ASSERT_TRUE(pkg_invoker.ok()) << pkg_invoker.status().ToString();
  r = (*pkg_invoker)->Invoke(Ref("node-esm-js"), R"({"value": 7})", kFirehoseTimeout);
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  EXPECT_EQ(r.payload, R"({"pkg":7})");
  EXPECT_EQ((*pkg_invoker)->ListFunctions()[0].handler, "lib/app.handler");

  r = Call("node-esm", R"({"value": "x"})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  EXPECT_EQ(r.payload, R"({"esm":"x"})");
  r = Call("node-esm", R"({"fail": true})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  EXPECT_EQ(Str(Parse(r.payload), "errorType"), "TypeError");
  EXPECT_EQ(Str(Parse(r.payload), "errorMessage"), "esm failure");
}

TEST_F(LocalRuntimeTest, NodeUncaughtExceptionEndsTheWorker) {
  if (!HaveNode()) GTEST_SKIP() << "node is not installed";
  std::string path = Write("boom.js", R"(exports.handler = async (event) => {
  if (event.boom) { setTimeout(() => { throw new RangeError('late boom'); }, 1); await new Promise(() => {}); }
  return process.pid;
};
)");
  Start({Fn("boom", "nodejs", path)});
  InvokeResult first = Call("boom", "{}");
  ASSERT_EQ(first.kind, InvokeResult::Kind::kOk);
  InvokeResult r = Call("boom", R"({"boom": true})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError) << r.payload;
  EXPECT_EQ(Str(Parse(r.payload), "errorType"), "RangeError");
  InvokeResult after = Call("boom", "{}");
  ASSERT_EQ(after.kind, InvokeResult::Kind::kOk);
  EXPECT_NE(after.payload, first.payload);  // another process
}

TEST_F(LocalRuntimeTest, ConcurrentCallsShareAPoolOfTwo) {
  // Each call reports when it ran (CLOCK_MONOTONIC, shared by every process);
  // "hold" calls announce that they run, then wait for a release file.
  std::string path = Write("pool.py", R"(import os, time
def lambda_handler(event, context):
    start = time.monotonic()
    if "hold" in event:
        open(event["hold"] + "." + str(event["n"]), "w").close()
        deadline = time.monotonic() + 20
        while not os.path.exists(event["hold"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    else:
        time.sleep(0.2)
    return {"pid": os.getpid(), "n": event["n"], "start": start, "end": time.monotonic()}
)");
  Start({Fn("pool", "python3", path)});  // pool_size defaults to 2
  std::vector<InvokeResult> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back(
        [&, i] { results[i] = Call("pool", R"({"n": )" + std::to_string(i) + "}"); });
  for (auto& t : threads) t.join();
  std::set<int64_t> pids;
  std::vector<std::pair<double, int>> edges;  // (time, +1 start / -1 end)
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(results[i].kind, InvokeResult::Kind::kOk) << results[i].payload;
    json::object o = Parse(results[i].payload);
    EXPECT_EQ(o.at("n").to_number<int64_t>(), i);
    pids.insert(o.at("pid").to_number<int64_t>());
    edges.emplace_back(o.at("start").to_number<double>(), 1);
    edges.emplace_back(o.at("end").to_number<double>(), -1);
  }
  EXPECT_EQ(pids.size(), 2u);
  // Two at a time: the calls overlapped two by two, never more (ends sort first).
  std::sort(edges.begin(), edges.end());
  int running = 0, most = 0;
  for (const auto& [t, d] : edges) most = std::max(most, running += d);
  EXPECT_EQ(most, 2);
  EXPECT_EQ(Logs("pool").size(), 2u);

  // A caller that cannot get a worker before its timeout is told to retry: both
  // workers are held until the release file exists.
  const std::string release = dir_.Sub("release");
  const std::string hold = R"(, "hold": ")" + release + R"("})";
  std::thread busy1([&] { Call("pool", R"({"n": 10)" + hold); });
  std::thread busy2([&] { Call("pool", R"({"n": 11)" + hold); });
  for (int i = 0; i < 2000 && !(fs::Exists(release + ".10") && fs::Exists(release + ".11")); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(fs::Exists(release + ".10") && fs::Exists(release + ".11"));
  InvokeResult r = Call("pool", R"({"n": 12})", milliseconds(100));
  Write("../release", "");
  busy1.join();
  busy2.join();
  EXPECT_EQ(r.kind, InvokeResult::Kind::kRetryable);
  EXPECT_EQ(r.error_code, "Lambda.InvokeLimitExceeded");
}

TEST_F(LocalRuntimeTest, WorkerCrashIsRuntimeExitErrorAndTheNextCallWorks) {
  std::string path = Write("crash.py", R"(import os
def lambda_handler(event, context):
    if event.get("crash"):
        print("going down")
        os._exit(3)
    return {"pid": os.getpid()}
)");
  Start({Fn("crash", "python3", path)});
  InvokeResult before = Call("crash", "{}");
  ASSERT_EQ(before.kind, InvokeResult::Kind::kOk);
  InvokeResult r = Call("crash", R"({"crash": true})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  json::object doc = Parse(r.payload);
  EXPECT_EQ(Str(doc, "errorType"), "Runtime.ExitError");
  EXPECT_TRUE(std::regex_match(
      Str(doc, "errorMessage"),
      std::regex("RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3")))
      << Str(doc, "errorMessage");
  InvokeResult after = Call("crash", "{}");
  ASSERT_EQ(after.kind, InvokeResult::Kind::kOk) << after.payload;
  EXPECT_NE(after.payload, before.payload);  // a new process

  auto lines = AllLogLines("crash");
  bool printed = false, exit_line = false, status = false;
  for (const auto& l : lines) {
    printed |= l == "going down";
    exit_line |= l.find("Error: Runtime exited with error: exit status 3\nRuntime.ExitError") !=
                 std::string::npos;
    status |= l.find("Status: error\tError Type: Runtime.ExitError") != std::string::npos;
  }
  EXPECT_TRUE(printed);
  EXPECT_TRUE(exit_line);
  EXPECT_TRUE(status);
}

TEST_F(LocalRuntimeTest, OversizedResponseAndMissingInterpreter) {
  std::string path = Write("big.py", R"(def lambda_handler(event, context):
    return "x" * event["size"]
)");
  Start({Fn("big", "python3", path)});
  InvokeResult r = Call("big", R"({"size": 7000000})");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  EXPECT_EQ(Str(Parse(r.payload), "errorType"), "Function.ResponseSizeTooLarge");
  r = Call("big", R"({"size": 6000000})");  // under the limit
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk);
  EXPECT_EQ(r.payload.size(), 6000002u);

  LocalRuntimeOptions o;
  o.functions = {Fn("big", "python3", path)};
  o.worker_dir = dir_.Sub("runtime");
  o.python = dir_.Sub("no-such-python");
  auto broken = LocalHandlerInvoker::Create(o);
  ASSERT_TRUE(broken.ok());
  r = (*broken)->Invoke(Ref("big"), R"({"size": 1})", kFirehoseTimeout);
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  json::object doc = Parse(r.payload);
  EXPECT_EQ(Str(doc, "errorType"), "Runtime.InvalidEntrypoint");
  EXPECT_NE(Str(doc, "errorMessage").find("no-such-python"), std::string::npos)
      << Str(doc, "errorMessage");
}

TEST_F(LocalRuntimeTest, InitErrorsAndEditedCodeIsPickedUp) {
  std::string path = Write("edit.py", "def lambda_handler(event, context):\n    return 'v1' +\n");
  Start({Fn("edit", "python3", path)});
  InvokeResult r = Call("edit", "{}");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  EXPECT_EQ(Str(Parse(r.payload), "errorType"), "Runtime.UserCodeSyntaxError");

  Write("edit.py", "def other(event, context):\n    return 'v1'\n");
  r = Call("edit", "{}");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kFunctionError);
  EXPECT_EQ(Str(Parse(r.payload), "errorType"), "Runtime.HandlerNotFound");
  EXPECT_EQ(Str(Parse(r.payload), "errorMessage"),
            "Handler 'lambda_handler' missing on module 'edit'");

  Write("edit.py", "def lambda_handler(event, context):\n    return 'v1'\n");
  r = Call("edit", "{}");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  EXPECT_EQ(r.payload, "\"v1\"");
  Write("edit.py", "def lambda_handler(event, context):\n    return 'version 2'\n");
  r = Call("edit", "{}");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  EXPECT_EQ(r.payload, "\"version 2\"");

  bool init_report = false;
  for (const auto& l : AllLogLines("edit"))
    init_report |=
        l.find("INIT_REPORT Init Duration: ") == 0 &&
        l.find("Status: error\tError Type: Runtime.UserCodeSyntaxError") != std::string::npos;
  EXPECT_TRUE(init_report);
}

TEST_F(LocalRuntimeTest, UnknownFunctionIsResourceNotFound) {
  Start({});
  InvokeResult r = Call("nope", "{}");
  EXPECT_EQ(r.kind, InvokeResult::Kind::kFatal);
  EXPECT_EQ(r.error_code, "Lambda.ResourceNotFound");
  EXPECT_EQ(r.error_message,
            "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:nope");
  // The worker programs are written even so.
  EXPECT_TRUE(fs::Exists(dir_.Sub("runtime/python_worker.py")));
  EXPECT_TRUE(fs::Exists(dir_.Sub("runtime/node_worker.cjs")));
}

TEST_F(LocalRuntimeTest, ConfigurationIsValidated) {
  std::string py = Write("ok.py", "def lambda_handler(e, c):\n    return 1\n");
  EXPECT_TRUE(CreateStatus({Fn("ok", "python3", py)}).ok());
  EXPECT_EQ(CreateStatus({Fn("ok", "ruby3.2", py)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateStatus({Fn("bad name", "python3", py)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateStatus({Fn("ok", "python3", code_ + "/missing.py")}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateStatus({Fn("ok", "python3", py), Fn("ok", "python3", py)}).code(),
            StatusCode::kInvalidArgument);
  auto f = Fn("ok", "python3", py);
  f.timeout_seconds = 301;
  EXPECT_EQ(CreateStatus({f}).code(), StatusCode::kInvalidArgument);
  f = Fn("ok", "python3", py);
  f.environment = {{"AWS_REGION", "x"}};
  EXPECT_EQ(CreateStatus({f}).code(), StatusCode::kInvalidArgument);
  // Lambda's "module.function" with the code directory, and "file:function".
  f = Fn("ok", "python3", code_);
  f.handler = "ok.lambda_handler";
  EXPECT_TRUE(CreateStatus({f}).ok());
  f.handler = "nomodule.lambda_handler";
  EXPECT_EQ(CreateStatus({f}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CreateStatus({Fn("ok", "python3", py + ":lambda_handler")}).ok());
}

TEST_F(LocalRuntimeTest, ListFunctionsAndHandlerNotations) {
  Write("app.py", "def main(event, context):\n    return {'from': 'main'}\n");
  std::string py = Write("lambda_function.py", "def lambda_handler(e, c):\n    return 1\n");
  auto dir_fn = Fn("by-dir", "python3", code_);
  dir_fn.handler = "app.main";
  dir_fn.timeout_seconds = 10;
  dir_fn.memory_mb = 512;
  Start({Fn("plain", "python3", py), dir_fn, Fn("colon", "python3", code_ + "/app.py:main")});
  auto list = invoker_->ListFunctions();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "plain");
  EXPECT_EQ(list[0].arn, "arn:aws:lambda:eu-west-1:123456789012:function:plain");
  EXPECT_EQ(list[0].handler, "lambda_function.lambda_handler");
  EXPECT_EQ(list[0].runtime, "python3");
  EXPECT_EQ(list[0].runtime_version, "");  // no worker started yet
  EXPECT_EQ(list[1].handler, "app.main");
  EXPECT_EQ(list[1].timeout_seconds, 10);
  EXPECT_EQ(list[1].memory_mb, 512);
  EXPECT_EQ(list[2].handler, "app.main");
  InvokeResult r = Call("by-dir", "{}");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  EXPECT_EQ(r.payload, R"({"from": "main"})");
  r = Call("colon", "{}");
  ASSERT_EQ(r.kind, InvokeResult::Kind::kOk) << r.payload;
  EXPECT_TRUE(invoker_->ListFunctions()[1].runtime_version.starts_with("python3."));
}

}  // namespace
}  // namespace hydrant::processing
