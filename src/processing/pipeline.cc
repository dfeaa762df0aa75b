// Pipeline::Create and the processing chain. Whatever order the configuration
// lists them in, processors run in Firehose's order:
//   Decompression -> CloudWatchLogProcessing -> RecordDeAggregation -> Lambda
//   -> AppendDelimiterToRecord
// A source record may become several intermediate records (one per log event,
// one per de-aggregated object); each goes to the Lambda as its own record, and
// their results are gathered back into the source record's single outcome.

#include <boost/json.hpp>
#include <deque>
#include <optional>

#include "processing/lambda_processor.h"
#include "processing/native_processors.h"
#include "processing/processor.h"

namespace hydrant::processing {
namespace {

namespace json = boost::json;

struct Chain {
  std::vector<std::unique_ptr<NativeProcessor>> before_lambda;  // in Firehose's order
  std::optional<LambdaOptions> lambda;
  std::vector<std::unique_ptr<NativeProcessor>> after_lambda;
  bool empty() const { return before_lambda.empty() && !lambda && after_lambda.empty(); }
};

// nullopt chain (with OK status) = processing disabled. The checks run in the
// order the configuration lists its processors, so the first problem is the one
// reported.
Result<std::optional<Chain>> ParseChain(const ProcessingSpec& spec) {
  if (!spec.enabled && spec.invalid.empty()) return std::optional<Chain>();
  static constexpr std::string_view kOrder[] = {
      "Decompression", "CloudWatchLogProcessing", "RecordDeAggregation",
      "Lambda",        "AppendDelimiterToRecord", "MetadataExtraction"};
  std::unique_ptr<NativeProcessor> natives[std::size(kOrder)];
  bool seen[std::size(kOrder)] = {};
  Chain chain;
  for (const ProcessorSpec& p : spec.processors) {
    std::string_view type = p.type;
    size_t slot = std::find(std::begin(kOrder), std::end(kOrder), type) - std::begin(kOrder);
    if (slot == std::size(kOrder)) {
      return Status::InvalidArgument("unknown processor type " + std::string(type));
    }
    if (seen[slot]) {
      return Status::InvalidArgument("processor type " + std::string(type) +
                                     " is given more than once");
    }
    seen[slot] = true;
    if (!p.invalid.empty()) return Status::InvalidArgument(p.invalid);
    const ProcessorParameters* params = &p.parameters;
    if (type == "Lambda") {
      auto options = ParseLambdaOptions(*params);
      if (!options.ok()) return options.status();
      chain.lambda = std::move(*options);
    } else if (type == "MetadataExtraction") {
      // Feeds dynamic partitioning only (partition keys, not record data), which
      // hydrant does not implement: accepted and ignored.
    } else {
      auto native = MakeNativeProcessor(type, *params);
      if (!native.ok()) return native.status();
      natives[slot] = std::move(*native);
    }
  }
  if (!spec.invalid.empty()) return Status::InvalidArgument(spec.invalid);
  for (size_t slot = 0; slot < 3; ++slot) {
    if (natives[slot]) chain.before_lambda.push_back(std::move(natives[slot]));
  }
  if (natives[4]) chain.after_lambda.push_back(std::move(natives[4]));
  if (chain.empty()) return std::optional<Chain>();
  return std::optional<Chain>(std::move(chain));
}

class ChainPipeline final : public Pipeline {
 public:
  ChainPipeline(Chain chain, Context ctx) : chain_(std::move(chain)), ctx_(ctx) {
    if (chain_.lambda) lambda_.emplace(*chain_.lambda, std::move(ctx));
  }

  std::optional<LambdaBuffering> lambda_buffering() const override {
    if (!chain_.lambda) return std::nullopt;
    return LambdaBuffering{chain_.lambda->buffer_size_bytes, chain_.lambda->buffer_interval_ms};
  }

  std::vector<RecordOutcome> Process(std::span<const SourceRecord> records,
                                     ProcessingStats* stats) override {
    const int64_t now =
        ctx_.clock != nullptr ? ctx_.clock->NowMillis() : SystemClock::Get().NowMillis();
    std::vector<RecordOutcome> outcomes(records.size());
    // 1. Native processors before the Lambda: each source record becomes zero or
    //    more intermediate records (stable storage in a deque), or fails.
    std::deque<std::string> storage;
    std::vector<SourceRecord> items;
    std::vector<size_t> item_source;
    items.reserve(records.size());
    item_source.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      if (chain_.before_lambda.empty()) {
        items.push_back(records[i]);
        item_source.push_back(i);
        continue;
      }
      std::vector<std::string> current;
      std::vector<std::string_view> views{records[i].data};
      bool ok = true;
      for (const auto& stage : chain_.before_lambda) {
        std::vector<std::string> next;
        for (std::string_view v : views) {
          if (!stage->Apply(v, &next, &outcomes[i])) {
            ok = false;
            break;
          }
        }
        if (!ok) break;
        current = std::move(next);
        views.assign(current.begin(), current.end());
      }
      if (!ok) {
        RecordOutcome& o = outcomes[i];
        o.kind = RecordOutcome::Kind::kFailed;
        o.attempts = 1;
        o.attempt_end_ms = now;
        continue;
      }
      if (current.empty()) {
        outcomes[i].kind = RecordOutcome::Kind::kDropped;
        continue;
      }
      for (std::string& s : current) {
        storage.push_back(std::move(s));
        items.push_back(SourceRecord{storage.back(), records[i].arrival_ms});
        item_source.push_back(i);
      }
    }

    // 2. The Lambda, over every intermediate record at once.
    std::vector<RecordOutcome> item_outcomes;
    if (lambda_ && !items.empty()) {
      item_outcomes = lambda_->Process(items, stats);
    } else {
      item_outcomes.resize(items.size());
      for (size_t k = 0; k < items.size(); ++k) {
        item_outcomes[k].outputs.emplace_back(items[k].data);
      }
    }

    // 3. Gather each source record's intermediate results: the first failure
    //    fails it whole (its rawData is the original record, so nothing is
    //    lost); otherwise the Ok outputs in order, or Dropped when there are none.
    for (size_t k = 0; k < items.size();) {
      size_t i = item_source[k];
      RecordOutcome& out = outcomes[i];
      const RecordOutcome* failure = nullptr;
      bool any_ok = false;
      for (; k < items.size() && item_source[k] == i; ++k) {
        RecordOutcome& item = item_outcomes[k];
        if (item.kind == RecordOutcome::Kind::kFailed) {
          if (failure == nullptr) failure = &item;
        } else if (item.kind == RecordOutcome::Kind::kOk && failure == nullptr) {
          any_ok = true;
          for (std::string& s : item.outputs) out.outputs.push_back(std::move(s));
        }
      }
      if (failure != nullptr) {
        out = *failure;
      } else {
        out.kind = any_ok ? RecordOutcome::Kind::kOk : RecordOutcome::Kind::kDropped;
      }
    }

    // 4. Native processors after the Lambda, on every delivered record.
    for (size_t i = 0; i < records.size(); ++i) {
      RecordOutcome& out = outcomes[i];
      if (out.kind != RecordOutcome::Kind::kOk) continue;
      for (const auto& stage : chain_.after_lambda) {
        std::vector<std::string> next;
        next.reserve(out.outputs.size());
        bool ok = true;
        for (const std::string& s : out.outputs) {
          if (!stage->Apply(s, &next, &out)) {
            ok = false;
            break;
          }
        }
        if (!ok) {
          out.kind = RecordOutcome::Kind::kFailed;
          out.outputs.clear();
          out.attempts = 1;
          out.attempt_end_ms = now;
          break;
        }
        out.outputs = std::move(next);
      }
    }

    if (stats != nullptr) {
      for (size_t i = 0; i < records.size(); ++i) {
        if (outcomes[i].kind != RecordOutcome::Kind::kOk) continue;
        ++stats->ok_records;
        stats->ok_bytes += records[i].data.size();
      }
    }
    return outcomes;
  }

 private:
  Chain chain_;
  Context ctx_;
  std::optional<LambdaProcessor> lambda_;
};

}  // namespace

Status ValidateProcessingConfiguration(const ProcessingSpec& spec) {
  auto chain = ParseChain(spec);
  return chain.ok() ? Status::Ok() : chain.status();
}

Result<std::unique_ptr<Pipeline>> Pipeline::Create(const ProcessingSpec& spec, Context ctx) {
  auto chain = ParseChain(spec);
  if (!chain.ok()) return chain.status();
  if (!chain->has_value()) return std::unique_ptr<Pipeline>();
  if ((*chain)->lambda && ctx.invoker == nullptr) {
    return Status::InvalidArgument("a Lambda processor needs a function invoker");
  }
  return std::unique_ptr<Pipeline>(
      std::make_unique<ChainPipeline>(std::move(**chain), std::move(ctx)));
}

}  // namespace hydrant::processing
