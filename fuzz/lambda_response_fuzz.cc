// Fuzz target: the Lambda transformation function's answer, as
// processing/lambda_processor.h checks it against Firehose's data-transformation
// model ({"records":[{"recordId","result","data"}]}). The function is a fake
// invoker answering the input, in which each "%0".."%3" is replaced by the
// recordId hydrant gave record 0..3 of the invocation (so the fuzzer reaches the
// per-record paths without guessing random ids).
// Invariants: one outcome per record; an Ok outcome carries exactly one output;
// a failed one carries an error code and message.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "processing/invoker.h"
#include "processing/lambda_processor.h"

namespace processing = hydrant::processing;

namespace {

class ScriptedInvoker final : public processing::FunctionInvoker {
 public:
  std::string_view answer;
  processing::InvokeResult Invoke(const processing::FunctionRef&, const std::string& event_json,
                                  std::chrono::milliseconds) override {
    std::vector<std::string> ids;
    constexpr std::string_view kKey = "\"recordId\":\"";
    for (size_t at = event_json.find(kKey); at != std::string::npos;
         at = event_json.find(kKey, at + 1)) {
      size_t begin = at + kKey.size();
      ids.push_back(event_json.substr(begin, event_json.find('"', begin) - begin));
    }
    processing::InvokeResult r;
    r.payload.reserve(answer.size());
    for (size_t i = 0; i < answer.size(); ++i) {
      if (answer[i] == '%' && i + 1 < answer.size() && answer[i + 1] >= '0' &&
          answer[i + 1] <= '3' && static_cast<size_t>(answer[i + 1] - '0') < ids.size()) {
        r.payload += ids[answer[i + 1] - '0'];
        ++i;
      } else {
        r.payload += answer[i];
      }
    }
    return r;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScriptedInvoker* invoker = new ScriptedInvoker;
  static processing::LambdaProcessor* processor = [] {
    processing::LambdaOptions opts;
    opts.lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:fuzz";
    processing::ParseFunctionRef(opts.lambda_arn, &opts.function);
    opts.number_of_retries = 0;
    processing::Pipeline::Context ctx;
    ctx.delivery_stream_arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/fuzz";
    ctx.region = "us-east-1";
    ctx.invoker = invoker;
    ctx.max_parallel_invocations = 1;
    ctx.sleep_for = [](std::chrono::milliseconds) {};
    return new processing::LambdaProcessor(opts, ctx);
  }();
  invoker->answer = hydrant::fuzz::AsView(data, size);

  const std::string big(300, 'x');
  const processing::SourceRecord records[] = {
      {"hello", 1000}, {"", 2000}, {big, 3000}, {"{\"k\":1}\n", 4000}};
  processing::ProcessingStats stats;
  auto outcomes = processor->Process(records, &stats);
  FUZZ_CHECK(outcomes.size() == std::size(records), "not one outcome per record");
  for (const auto& o : outcomes) {
    if (o.kind == processing::RecordOutcome::Kind::kOk) {
      FUZZ_CHECK(o.outputs.size() == 1, "an Ok outcome without exactly one output");
    } else if (o.kind == processing::RecordOutcome::Kind::kFailed) {
      FUZZ_CHECK(!o.error_code.empty() && !o.error_message.empty(), "a failure without a code");
    }
  }
  return 0;
}
