#include "processing/lambda_processor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "common/base64.h"
#include "common/clock.h"

namespace hydrant::processing {
namespace {

namespace json = boost::json;
using Kind = RecordOutcome::Kind;

constexpr char kStreamArn[] = "arn:aws:firehose:us-east-1:123456789012:deliverystream/s";
constexpr char kFnArn[] = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST";

// A FunctionInvoker whose answers come from a script; it records every call.
class FakeInvoker final : public FunctionInvoker {
 public:
  using Handler = std::function<InvokeResult(const json::object& event, int call)>;
  explicit FakeInvoker(Handler h) : handler_(std::move(h)) {}

  InvokeResult Invoke(const FunctionRef& fn, const std::string& event_json,
                      std::chrono::milliseconds timeout) override {
    int call;
    {
      std::lock_guard lock(mu_);
      call = static_cast<int>(events_.size());
      events_.push_back(event_json);
      fns_.push_back(fn.arn);
      timeouts_.push_back(timeout);
    }
    int now = ++in_flight_;
    int prev = max_in_flight_.load();
    while (now > prev && !max_in_flight_.compare_exchange_weak(prev, now)) {
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    json::value parsed = json::parse(event_json);
    InvokeResult r = handler_(parsed.as_object(), call);
    --in_flight_;
    return r;
  }

  size_t calls() const {
    std::lock_guard lock(mu_);
    return events_.size();
  }
  json::object event(size_t i) const {
    std::lock_guard lock(mu_);
    return json::parse(events_.at(i)).as_object();
  }
  std::string raw_event(size_t i) const {
    std::lock_guard lock(mu_);
    return events_.at(i);
  }
  std::string fn(size_t i) const { return fns_.at(i); }
  std::chrono::milliseconds timeout(size_t i) const { return timeouts_.at(i); }
  int max_in_flight() const { return max_in_flight_; }
  void set_delay(std::chrono::milliseconds d) { delay_ = d; }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<std::string> events_;
  std::vector<std::string> fns_;
  std::vector<std::chrono::milliseconds> timeouts_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::chrono::milliseconds delay_{0};
};

std::string Decode(const json::value& v) { return *base64::Decode(std::string(v.as_string())); }

// A response giving every record `result`, with data = f(original data).
InvokeResult Respond(const json::object& event, std::string_view result,
                     const std::function<std::string(std::string)>& f) {
  json::array out;
  for (const json::value& r : event.at("records").as_array()) {
    json::object o;
    o["recordId"] = r.at("recordId");
    o["result"] = result;
    o["data"] = base64::Encode(f(Decode(r.at("data"))));
    out.push_back(o);
  }
  json::object body;
  body["records"] = out;
  InvokeResult res;
  res.payload = json::serialize(body);
  return res;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

InvokeResult UpperCase(const json::object& event, int) { return Respond(event, "Ok", Upper); }

InvokeResult Raw(std::string payload) {
  InvokeResult r;
  r.payload = std::move(payload);
  return r;
}

InvokeResult Error(InvokeResult::Kind kind, std::string code = "", std::string message = "") {
  InvokeResult r;
  r.kind = kind;
  r.error_code = std::move(code);
  r.error_message = std::move(message);
  return r;
}

struct Harness {
  explicit Harness(FakeInvoker::Handler h, int retries = 3) : invoker(std::move(h)) {
    options.lambda_arn = kFnArn;
    EXPECT_TRUE(ParseFunctionRef(kFnArn, &options.function));
    options.number_of_retries = retries;
  }
  std::vector<RecordOutcome> Run(const std::vector<SourceRecord>& records,
                                 ProcessingStats* stats = nullptr) {
    Pipeline::Context ctx;
    ctx.delivery_stream_arn = kStreamArn;
    ctx.region = "us-east-1";
    ctx.invoker = &invoker;
    ctx.clock = &clock;
    ctx.max_parallel_invocations = parallel;
    ctx.sleep_for = [this](std::chrono::milliseconds d) {
      std::lock_guard lock(sleep_mu);
      sleeps.push_back(d.count());
    };
    LambdaProcessor p(options, ctx);
    auto out = p.Process(records, stats);
    EXPECT_EQ(out.size(), records.size());  // one outcome per record, always
    return out;
  }

  FakeInvoker invoker;
  LambdaOptions options;
  FakeClock clock{1'700'000'000'000};
  int parallel = 5;
  std::mutex sleep_mu;
  std::vector<int64_t> sleeps;
};

std::vector<SourceRecord> Records(const std::vector<std::string>& data, int64_t first_ms = 1000) {
  std::vector<SourceRecord> out;
  for (size_t i = 0; i < data.size(); ++i) {
    out.push_back(SourceRecord{data[i], first_ms + static_cast<int64_t>(i)});
  }
  return out;
}

void ExpectFailed(const RecordOutcome& o, std::string_view code, int attempts) {
  EXPECT_EQ(o.kind, Kind::kFailed);
  EXPECT_EQ(o.error_code, code);
  EXPECT_EQ(o.attempts, attempts);
  EXPECT_EQ(o.lambda_arn, kFnArn);
  EXPECT_EQ(o.error_output_type, "processing-failed");
  EXPECT_TRUE(o.outputs.empty());
}

// --- The event -----------------------------------------------------------------

TEST(LambdaProcessor, EventHasFirehoseShape) {
  Harness h(UpperCase);
  std::string binary("\x00\xff\x10\"\\", 5);
  std::vector<std::string> data = {"hello", "", binary};
  auto out = h.Run(Records(data, 1495072949453));
  ASSERT_EQ(h.invoker.calls(), 1u);
  json::object ev = h.invoker.event(0);
  // Exactly these members, in this order.
  std::vector<std::string> keys;
  for (const auto& kv : ev) keys.emplace_back(kv.key());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"invocationId", "deliveryStreamArn", "region", "records"}));
  EXPECT_TRUE(std::regex_match(
      std::string(ev.at("invocationId").as_string()),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_EQ(ev.at("deliveryStreamArn").as_string(), kStreamArn);
  EXPECT_EQ(ev.at("region").as_string(), "us-east-1");
  const json::array& recs = ev.at("records").as_array();
  ASSERT_EQ(recs.size(), 3u);
  std::set<std::string> ids;
  for (size_t i = 0; i < 3; ++i) {
    const json::object& r = recs[i].as_object();
    std::vector<std::string> rkeys;
    for (const auto& kv : r) rkeys.emplace_back(kv.key());
    EXPECT_EQ(rkeys, (std::vector<std::string>{"recordId", "approximateArrivalTimestamp", "data"}));
    ids.insert(std::string(r.at("recordId").as_string()));
    ASSERT_TRUE(r.at("approximateArrivalTimestamp").is_int64());  // a number, in ms
    EXPECT_EQ(r.at("approximateArrivalTimestamp").as_int64(), 1495072949453 + int64_t(i));
    EXPECT_EQ(Decode(r.at("data")), data[i]);
  }
  EXPECT_EQ(recs[1].at("data").as_string(), "");  // empty data is ""
  EXPECT_EQ(ids.size(), 3u);                      // unique within the invocation
  EXPECT_EQ(h.invoker.fn(0), kFnArn);
  EXPECT_EQ(h.invoker.timeout(0), std::chrono::minutes(5));
  ASSERT_EQ(out[0].kind, Kind::kOk);
  EXPECT_EQ(out[0].outputs, std::vector<std::string>{"HELLO"});
  EXPECT_EQ(out[1].outputs, std::vector<std::string>{""});
  EXPECT_EQ(out[2].outputs, std::vector<std::string>{Upper(binary)});
}

TEST(LambdaProcessor, JsonSpecialCharactersInStreamArnAreEscaped) {
  Harness h(UpperCase);
  Pipeline::Context ctx;
  ctx.delivery_stream_arn = "arn:\"odd\"\\name";
  ctx.region = "local";
  ctx.invoker = &h.invoker;
  LambdaProcessor p(h.options, ctx);
  std::vector<std::string> data = {"x"};
  p.Process(Records(data), nullptr);
  EXPECT_EQ(h.invoker.event(0).at("deliveryStreamArn").as_string(), "arn:\"odd\"\\name");
}

// --- The status model ----------------------------------------------------------

TEST(LambdaProcessor, OkDroppedAndProcessingFailedPerRecord) {
  Harness h([](const json::object& ev, int) {
    json::array out;
    for (const json::value& r : ev.at("records").as_array()) {
      std::string d = Decode(r.at("data"));
      json::object o;
      o["recordId"] = r.at("recordId");
      o["result"] = d == "drop" ? "Dropped" : d == "fail" ? "ProcessingFailed" : "Ok";
      o["data"] = base64::Encode("<" + d + ">");
      out.push_back(o);
    }
    return Raw(json::serialize(json::object{{"records", out}}));
  });
  ProcessingStats stats;
  auto out = h.Run(Records({"a", "drop", "fail", "b"}), &stats);
  EXPECT_EQ(out[0].kind, Kind::kOk);
  EXPECT_EQ(out[0].outputs, std::vector<std::string>{"<a>"});
  EXPECT_EQ(out[1].kind, Kind::kDropped);
  EXPECT_TRUE(out[1].outputs.empty());
  ExpectFailed(out[2], "Lambda.ProcessingFailedStatus", 1);
  EXPECT_EQ(out[2].error_message, "ProcessingFailed status set for record");
  EXPECT_EQ(out[2].attempt_end_ms, 1'700'000'000'000);
  EXPECT_EQ(out[3].outputs, std::vector<std::string>{"<b>"});
  EXPECT_EQ(stats.invocations, 1u);
  EXPECT_EQ(stats.failed_invocations, 0u);
}

TEST(LambdaProcessor, ResponseOrderDoesNotMatter) {
  Harness h([](const json::object& ev, int) {
    InvokeResult r = Respond(ev, "Ok", Upper);
    json::object body = json::parse(r.payload).as_object();
    json::array& a = body["records"].as_array();
    std::reverse(a.begin(), a.end());
    r.payload = json::serialize(body);
    return r;
  });
  auto out = h.Run(Records({"a", "b", "c"}));
  EXPECT_EQ(out[0].outputs[0], "A");
  EXPECT_EQ(out[1].outputs[0], "B");
  EXPECT_EQ(out[2].outputs[0], "C");
}

TEST(LambdaProcessor, MissingRecordIdFailsOnlyTheMissingRecords) {
  Harness h([](const json::object& ev, int) {
    InvokeResult r = Respond(ev, "Ok", Upper);
    json::object body = json::parse(r.payload).as_object();
    body["records"].as_array().erase(body["records"].as_array().begin() + 1);
    r.payload = json::serialize(body);
    return r;
  });
  auto out = h.Run(Records({"a", "b", "c"}));
  EXPECT_EQ(h.invoker.calls(), 1u);  // not retried
  EXPECT_EQ(out[0].outputs[0], "A");
  ExpectFailed(out[1], "Lambda.MissingRecordId", 1);
  EXPECT_EQ(out[1].error_message,
            "One or more record Ids were not returned. Ensure that the Lambda function returns "
            "all received record Ids.");
  EXPECT_EQ(out[2].outputs[0], "C");
}

TEST(LambdaProcessor, UnknownRecordIdIsIgnoredAndTheOneItReplacedIsMissing) {
  Harness h([](const json::object& ev, int) {
    InvokeResult r = Respond(ev, "Ok", Upper);
    json::object body = json::parse(r.payload).as_object();
    body["records"].as_array()[0].as_object()["recordId"] = "not-an-id-we-sent";
    r.payload = json::serialize(body);
    return r;
  });
  auto out = h.Run(Records({"a", "b"}));
  ExpectFailed(out[0], "Lambda.MissingRecordId", 1);
  EXPECT_EQ(out[1].outputs[0], "B");
}

TEST(LambdaProcessor, DuplicatedRecordIdFailsThatRecord) {
  Harness h([](const json::object& ev, int) {
    InvokeResult r = Respond(ev, "Ok", Upper);
    json::object body = json::parse(r.payload).as_object();
    json::array& a = body["records"].as_array();
    a.push_back(a[0]);
    r.payload = json::serialize(body);
    return r;
  });
  auto out = h.Run(Records({"a", "b"}));
  EXPECT_EQ(h.invoker.calls(), 1u);
  ExpectFailed(out[0], "Lambda.DuplicatedRecordId", 1);
  EXPECT_EQ(out[1].outputs[0], "B");
}

TEST(LambdaProcessor, ResponsesOutsideTheModelFailTheWholeInvocation) {
  const std::vector<std::string> bad = {
      "not json",
      "[]",
      "{}",
      R"({"records":{}})",
      R"({"records":[1]})",
      // result outside Ok|Dropped|ProcessingFailed (case matters)
      R"({"records":[{"recordId":"@0","result":"ok","data":""}]})",
      R"({"records":[{"recordId":"@0","data":""}]})",
      R"({"records":[{"recordId":7,"result":"Ok","data":""}]})",
      R"({"records":[{"recordId":"@0","result":"Ok","data":12}]})",
  };
  for (const std::string& payload : bad) {
    SCOPED_TRACE(payload);
    Harness h([&](const json::object& ev, int) {
      std::string p = payload;
      // Put a real recordId where the template says @0, so only the defect is wrong.
      std::string id(ev.at("records").as_array()[0].at("recordId").as_string());
      if (auto pos = p.find("@0"); pos != std::string::npos) p.replace(pos, 2, id);
      return Raw(p);
    });
    ProcessingStats stats;
    auto out = h.Run(Records({"a", "b"}), &stats);
    EXPECT_EQ(h.invoker.calls(), 1u);  // not retried
    ExpectFailed(out[0], "Lambda.JsonProcessingException", 1);
    ExpectFailed(out[1], "Lambda.JsonProcessingException", 1);
    EXPECT_EQ(stats.failed_invocations, 1u);
  }
}

TEST(LambdaProcessor, OkWithInvalidOrMissingDataIsAFunctionErrorForThatRecord) {
  Harness h([](const json::object& ev, int) {
    const json::array& recs = ev.at("records").as_array();
    json::array out;
    out.push_back(json::object{
        {"recordId", recs[0].at("recordId")}, {"result", "Ok"}, {"data", "!!!notbase64"}});
    out.push_back(json::object{{"recordId", recs[1].at("recordId")}, {"result", "Ok"}});
    out.push_back(json::object{
        {"recordId", recs[2].at("recordId")}, {"result", "Ok"}, {"data", base64::Encode("ok")}});
    // Dropped needs no data.
    out.push_back(json::object{{"recordId", recs[3].at("recordId")}, {"result", "Dropped"}});
    return Raw(json::serialize(json::object{{"records", out}}));
  });
  auto out = h.Run(Records({"a", "b", "c", "d"}));
  EXPECT_EQ(h.invoker.calls(), 1u);
  ExpectFailed(out[0], "Lambda.FunctionError", 1);
  ExpectFailed(out[1], "Lambda.FunctionError", 1);
  EXPECT_EQ(out[2].outputs, std::vector<std::string>{"ok"});
  EXPECT_EQ(out[3].kind, Kind::kDropped);
}

// --- Invocation failures and retries --------------------------------------------

TEST(LambdaProcessor, RetryableErrorsAreRetriedNumberOfRetriesTimes) {
  for (int retries : {0, 1, 3, 5}) {
    SCOPED_TRACE(retries);
    Harness h(
        [](const json::object&, int) {
          return Error(InvokeResult::Kind::kRetryable, "Lambda.InvokeLimitExceeded",
                       "Rate exceeded");
        },
        retries);
    ProcessingStats stats;
    auto out = h.Run(Records({"a", "b"}), &stats);
    EXPECT_EQ(h.invoker.calls(), static_cast<size_t>(retries + 1));
    for (const RecordOutcome& o : out) {
      ExpectFailed(o, "Lambda.InvokeLimitExceeded", retries + 1);
      EXPECT_EQ(o.error_message, "Rate exceeded");
    }
    EXPECT_EQ(stats.invocations, static_cast<uint64_t>(retries + 1));
    EXPECT_EQ(stats.failed_invocations, static_cast<uint64_t>(retries + 1));
    // Exponential backoff between calls, none after the last.
    std::vector<int64_t> expected;
    for (int i = 0; i < retries; ++i) expected.push_back(500LL << i);
    EXPECT_EQ(h.sleeps, expected);
  }
}

TEST(LambdaProcessor, BackoffIsCapped) {
  Harness h([](const json::object&, int) { return Error(InvokeResult::Kind::kRetryable); }, 8);
  h.Run(Records({"a"}));
  EXPECT_EQ(h.sleeps, (std::vector<int64_t>{500, 1000, 2000, 4000, 8000, 10000, 10000, 10000}));
}

TEST(LambdaProcessor, RetriesKeepRecordIdsAndDataButChangeInvocationId) {
  Harness h([](const json::object& ev, int call) {
    if (call < 2) {
      return Error(InvokeResult::Kind::kRetryable, "Lambda.FunctionError",
                   std::string(kLambdaTimeoutMessage));
    }
    return UpperCase(ev, call);
  });
  auto out = h.Run(Records({"a", "b"}));
  ASSERT_EQ(h.invoker.calls(), 3u);
  std::set<std::string> invocation_ids;
  for (size_t i = 0; i < 3; ++i) {
    json::object ev = h.invoker.event(i);
    invocation_ids.insert(std::string(ev.at("invocationId").as_string()));
    EXPECT_EQ(ev.at("records"), h.invoker.event(0).at("records"));
  }
  EXPECT_EQ(invocation_ids.size(), 3u);
  EXPECT_EQ(out[0].outputs[0], "A");
  EXPECT_EQ(out[1].outputs[0], "B");
}

TEST(LambdaProcessor, AttemptsCountEarlierFailedCalls) {
  Harness h([](const json::object& ev, int call) {
    if (call == 0) return Error(InvokeResult::Kind::kRetryable);
    return Raw(R"({"records":[]})");
  });
  auto out = h.Run(Records({"a"}));
  ExpectFailed(out[0], "Lambda.MissingRecordId", 2);
}

TEST(LambdaProcessor, FunctionErrorsAreRetriedAndReportedWithFirehoseMessage) {
  Harness h([](const json::object&, int) { return Error(InvokeResult::Kind::kFunctionError); });
  auto out = h.Run(Records({"a"}));
  EXPECT_EQ(h.invoker.calls(), 4u);  // 1 + 3 retries, as real records show
  ExpectFailed(out[0], "Lambda.FunctionError", 4);
  EXPECT_EQ(out[0].error_message,
            "The Lambda function was successfully invoked but it returned an error result.");
}

TEST(LambdaProcessor, FatalErrorsAreNotRetried) {
  Harness h([](const json::object&, int) {
    return Error(InvokeResult::Kind::kFatal, "Lambda.ResourceNotFound", "Function not found");
  });
  h.clock.Set(42);
  auto out = h.Run(Records({"a", "b"}));
  EXPECT_EQ(h.invoker.calls(), 1u);
  EXPECT_TRUE(h.sleeps.empty());
  ExpectFailed(out[0], "Lambda.ResourceNotFound", 1);
  EXPECT_EQ(out[0].error_message, "Function not found");
  EXPECT_EQ(out[0].attempt_end_ms, 42);
}

TEST(LambdaProcessor, ResponseOverSixMegabytesIsAFunctionError) {
  Harness h(
      [](const json::object& ev, int) {
        InvokeResult r = Respond(ev, "Ok", Upper);
        r.payload.append(kLambdaPayloadLimit, ' ');  // still valid JSON, but too large
        return r;
      },
      1);
  auto out = h.Run(Records({"a"}));
  EXPECT_EQ(h.invoker.calls(), 2u);
  ExpectFailed(out[0], "Lambda.FunctionError", 2);
}

TEST(LambdaProcessor, StatsSumInvocationsAndDurations) {
  Harness h([](const json::object& ev, int call) {
    InvokeResult r = call == 0 ? Error(InvokeResult::Kind::kRetryable) : UpperCase(ev, call);
    r.duration_ms = 100 + call;
    return r;
  });
  ProcessingStats stats;
  h.Run(Records({"a"}), &stats);
  EXPECT_EQ(stats.invocations, 2u);
  EXPECT_EQ(stats.failed_invocations, 1u);
  EXPECT_EQ(stats.total_duration_ms, 201u);
}

// --- Batching ------------------------------------------------------------------

// Every record reaches exactly one invocation, in order; returns the data per call.
std::vector<std::vector<std::string>> DataPerCall(const FakeInvoker& inv) {
  std::vector<std::vector<std::string>> calls;
  for (size_t i = 0; i < inv.calls(); ++i) {
    std::vector<std::string> d;
    json::object ev = inv.event(i);
    for (const json::value& r : ev.at("records").as_array()) {
      d.push_back(Decode(r.at("data")));
    }
    calls.push_back(std::move(d));
  }
  std::sort(calls.begin(), calls.end());  // parallel calls arrive in any order
  return calls;
}

TEST(LambdaProcessor, InvocationsHoldAtMostBufferSizeOfSourceData) {
  Harness h(UpperCase);
  h.options.buffer_size_bytes = 1024 * 1024;  // BufferSizeInMBs 1 = 1 MiB
  std::vector<std::string> data;
  for (int i = 0; i < 10; ++i) data.push_back(std::string(300'000, static_cast<char>('a' + i)));
  auto out = h.Run(Records(data));
  // 3 x 300,000 fits in 1,048,576, a 4th does not: 3 + 3 + 3 + 1.
  auto calls = DataPerCall(h.invoker);
  ASSERT_EQ(calls.size(), 4u);
  std::vector<std::string> seen;
  for (const auto& c : calls) {
    size_t total = 0;
    for (const auto& d : c) total += d.size();
    EXPECT_LE(total, 1024u * 1024u);
    seen.insert(seen.end(), c.begin(), c.end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, data);
  for (size_t i = 0; i < data.size(); ++i) EXPECT_EQ(out[i].outputs[0], Upper(data[i]));
}

TEST(LambdaProcessor, InvocationsStayUnderTheSixMegabyteEventLimit) {
  Harness h(UpperCase);
  h.options.buffer_size_bytes = 3 * 1024 * 1024;
  h.parallel = 1;  // calls in record order
  // Small records: the per-record JSON overhead, not the data, fills the event.
  std::vector<std::string> data;
  for (int i = 0; i < 120'000; ++i) data.push_back(std::to_string(i % 10));
  auto out = h.Run(Records(data));
  ASSERT_GE(h.invoker.calls(), 2u);
  size_t total_records = 0;
  for (size_t i = 0; i < h.invoker.calls(); ++i) {
    std::string ev = h.invoker.raw_event(i);
    EXPECT_LE(ev.size(), kLambdaPayloadLimit);
    size_t n = h.invoker.event(i).at("records").as_array().size();
    total_records += n;
    if (i + 1 < h.invoker.calls()) {
      // Greedy: one more record (about 130 bytes) would not have fitted.
      EXPECT_GT(ev.size() + 140, kLambdaPayloadLimit);
    }
  }
  EXPECT_EQ(total_records, data.size());
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(out[i].outputs[0], data[i]);
}

TEST(LambdaProcessor, ARecordTooLargeForAnyEventFailsWithoutACall) {
  Harness h(UpperCase);
  // 4.8 MB of data is 6.4 MB of base64: no event can hold it.
  std::string big(4'800'000, 'x');
  auto out = h.Run(Records({"a", big, "b"}));
  EXPECT_EQ(out[0].outputs[0], "A");
  ExpectFailed(out[1], "Lambda.FunctionError", 1);
  EXPECT_EQ(out[2].outputs[0], "B");
  ASSERT_EQ(h.invoker.calls(), 1u);
  EXPECT_EQ(h.invoker.event(0).at("records").as_array().size(), 2u);
}

TEST(LambdaProcessor, ARecordLargerThanTheBufferGoesAlone) {
  Harness h(UpperCase);
  h.options.buffer_size_bytes = 200'000;
  h.parallel = 1;
  auto out = h.Run(Records({"a", std::string(300'000, 'y'), "b"}));
  EXPECT_EQ(h.invoker.calls(), 3u);
  EXPECT_EQ(out[1].outputs[0], std::string(300'000, 'Y'));
}

TEST(LambdaProcessor, RunsUpToMaxParallelInvocationsAtOnce) {
  for (int parallel : {1, 3}) {
    SCOPED_TRACE(parallel);
    Harness h(UpperCase);
    h.invoker.set_delay(std::chrono::milliseconds(60));
    h.options.buffer_size_bytes = 10;  // one record per invocation
    h.parallel = parallel;
    std::vector<std::string> data;
    for (int i = 0; i < 9; ++i) data.push_back("record" + std::to_string(i));
    auto out = h.Run(Records(data));
    EXPECT_EQ(h.invoker.calls(), 9u);
    EXPECT_LE(h.invoker.max_in_flight(), parallel);
    if (parallel > 1) {
      EXPECT_GE(h.invoker.max_in_flight(), 2);
    }
    for (size_t i = 0; i < data.size(); ++i) EXPECT_EQ(out[i].outputs[0], Upper(data[i]));
  }
}

TEST(LambdaProcessor, ParallelInvocationsFailIndependently) {
  Harness h([](const json::object& ev, int) {
    std::string d = Decode(ev.at("records").as_array()[0].at("data"));
    if (d == "bad") return Error(InvokeResult::Kind::kFatal, "Lambda.InvokeAccessDenied", "no");
    return UpperCase(ev, 0);
  });
  h.options.buffer_size_bytes = 3;
  auto out = h.Run(Records({"aaa", "bad", "ccc"}));
  EXPECT_EQ(out[0].outputs[0], "AAA");
  ExpectFailed(out[1], "Lambda.InvokeAccessDenied", 1);
  EXPECT_EQ(out[2].outputs[0], "CCC");
}

TEST(LambdaProcessor, EmptyBatchMakesNoCall) {
  Harness h(UpperCase);
  EXPECT_TRUE(h.Run({}).empty());
  EXPECT_EQ(h.invoker.calls(), 0u);
}

// --- Parameters ----------------------------------------------------------------

TEST(ParseLambdaOptions, DefaultsAndValues) {
  std::map<std::string, std::string, std::less<>> p = {{"LambdaArn", kFnArn}};
  auto o = ParseLambdaOptions(p);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->lambda_arn, kFnArn);
  EXPECT_EQ(o->function.name, "f");
  EXPECT_EQ(o->function.qualifier, "$LATEST");
  EXPECT_EQ(o->number_of_retries, 3);
  EXPECT_EQ(o->buffer_size_bytes, 3u * 1024u * 1024u);  // the seed: 3 MB by default
  EXPECT_EQ(o->buffer_interval_ms, 60'000);

  p["NumberOfRetries"] = "0";
  p["BufferSizeInMBs"] = "0.5";
  p["BufferIntervalInSeconds"] = "900";
  p["RoleArn"] = "arn:aws:iam::123456789012:role/r";
  o = ParseLambdaOptions(p);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->number_of_retries, 0);
  EXPECT_EQ(o->buffer_size_bytes, 512u * 1024u);
  EXPECT_EQ(o->buffer_interval_ms, 900'000);
}

TEST(ParseLambdaOptions, RejectsBadValues) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"LambdaArn", "arn:aws:s3:::bucket"}, {"NumberOfRetries", "-1"},
      {"NumberOfRetries", "301"},           {"NumberOfRetries", "3x"},
      {"BufferSizeInMBs", "0.1"},           {"BufferSizeInMBs", "4"},
      {"BufferSizeInMBs", "one"},           {"BufferIntervalInSeconds", "901"},
  };
  for (const auto& [name, value] : bad) {
    SCOPED_TRACE(name + "=" + value);
    std::map<std::string, std::string, std::less<>> p = {{"LambdaArn", kFnArn}};
    p[name] = value;
    auto o = ParseLambdaOptions(p);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(o.status().message().find(name), std::string::npos);
  }
  EXPECT_FALSE(ParseLambdaOptions({}).ok());  // LambdaArn is required
}

}  // namespace
}  // namespace hydrant::processing
