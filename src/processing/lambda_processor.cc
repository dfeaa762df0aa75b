#include "processing/lambda_processor.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <cmath>
#include <random>
#include <thread>

#include "common/base64.h"
#include "common/log_fields.h"

namespace hydrant::processing {
namespace {

// recordIds: kRecordIdPrefixDigits random digits drawn once per invocation, then
// the record's position in the invocation on kRecordIdIndexDigits digits. 56
// digits in all, the shape of Firehose's own ids; stable across retries because
// the event is built once and only invocationId changes between attempts.
constexpr size_t kRecordIdPrefixDigits = 40;
constexpr size_t kRecordIdIndexDigits = 16;
constexpr size_t kRecordIdSize = kRecordIdPrefixDigits + kRecordIdIndexDigits;
constexpr size_t kUuidSize = 36;

constexpr std::string_view kEventStart = "{\"invocationId\":\"";
constexpr std::string_view kEventStreamArn = "\",\"deliveryStreamArn\":";
constexpr std::string_view kEventSourceArn = ",\"sourceKinesisStreamArn\":";
constexpr std::string_view kEventRegion = ",\"region\":";
constexpr std::string_view kEventRecords = ",\"records\":[";
constexpr std::string_view kEventEnd = "]}";
constexpr std::string_view kRecordStart = "{\"recordId\":\"";
constexpr std::string_view kRecordArrival = "\",\"approximateArrivalTimestamp\":";
constexpr std::string_view kRecordData = ",\"data\":\"";
constexpr std::string_view kRecordEnd = "\"}";
constexpr std::string_view kRecordKinesis = "\",\"kinesisRecordMetadata\":";

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   (static_cast<uint64_t>(std::random_device{}()) << 32));
  return rng;
}

// A random (version 4, RFC 4122 variant) UUID, lower-case, written over 36 chars.
void WriteUuidV4(char* out) {
  uint64_t hi = Rng()();
  uint64_t lo = Rng()();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) bytes[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
    out[pos++] = kHex[bytes[i] >> 4];
    out[pos++] = kHex[bytes[i] & 15];
  }
}

std::string RandomDigits(size_t n) {
  std::uniform_int_distribution<int> digit(0, 9);
  std::string s(n, '0');
  s[0] = static_cast<char>('1' + std::uniform_int_distribution<int>(0, 8)(Rng()));
  for (size_t i = 1; i < n; ++i) s[i] = static_cast<char>('0' + digit(Rng()));
  return s;
}

size_t DecimalSize(int64_t v) { return std::to_string(v).size(); }

std::string JsonString(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

size_t Base64Size(size_t raw) { return (raw + 2) / 3 * 4; }

// kinesisRecordMetadata's object, as Firehose writes it (timestamps in ms).
std::string KinesisMetadataJson(const KinesisRecordMetadata& k) {
  std::string s = "{\"shardId\":" + JsonString(k.shard_id);
  s += ",\"partitionKey\":" + JsonString(k.partition_key);
  s += ",\"approximateArrivalTimestamp\":" + std::to_string(k.approximate_arrival_ms);
  s += ",\"sequenceNumber\":" + JsonString(k.sequence_number);
  s += ",\"subsequenceNumber\":" + std::to_string(k.subsequence_number) + "}";
  return s;
}

// Bytes of one record's entry in the event, without the separating comma.
size_t RecordJsonSize(const SourceRecord& r) {
  size_t n = kRecordStart.size() + kRecordIdSize + kRecordArrival.size() + DecimalSize(r.arrival_ms) +
             kRecordData.size() + Base64Size(r.data.size()) + kRecordEnd.size();
  if (r.kinesis != nullptr) n += kRecordKinesis.size() + KinesisMetadataJson(*r.kinesis).size() - 1;
  return n;
}

bool ParseInt(std::string_view s, int64_t lo, int64_t hi, int64_t* out) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// "arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME" -> NAME (the ARN itself
// when it has no such suffix; "-" when empty, e.g. in tests).
std::string_view StreamNameOf(std::string_view arn) {
  size_t slash = arn.rfind('/');
  if (arn.empty()) return "-";
  return slash == std::string_view::npos ? arn : arn.substr(slash + 1);
}

void FailWith(RecordOutcome* o, std::string_view code, std::string_view message, int attempts,
              int64_t end_ms, const std::string& lambda_arn) {
  o->kind = RecordOutcome::Kind::kFailed;
  o->outputs.clear();
  o->error_code = std::string(code);
  o->error_message = std::string(message);
  o->attempts = attempts;
  o->attempt_end_ms = end_ms;
  o->lambda_arn = lambda_arn;
  o->error_output_type = "processing-failed";
}

}  // namespace

Result<LambdaOptions> ParseLambdaOptions(
    const std::map<std::string, std::string, std::less<>>& params) {
  LambdaOptions o;
  auto get = [&](std::string_view name) -> const std::string* {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  };
  const std::string* arn = get("LambdaArn");
  if (arn == nullptr) return Status::InvalidArgument("Lambda processor: LambdaArn is required");
  if (!ParseFunctionRef(*arn, &o.function)) {
    return Status::InvalidArgument("Lambda processor: LambdaArn " + *arn +
                                   " is not a Lambda function ARN or name");
  }
  o.lambda_arn = *arn;
  if (const std::string* role = get("RoleArn")) o.function.role_arn = *role;
  if (const std::string* v = get("NumberOfRetries")) {
    int64_t n = 0;
    if (!ParseInt(*v, 0, 300, &n)) {
      return Status::InvalidArgument(
          "Lambda processor: NumberOfRetries must be an integer from 0 to 300, not " + *v);
    }
    o.number_of_retries = static_cast<int>(n);
  }
  if (const std::string* v = get("BufferSizeInMBs")) {
    double mb = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), mb);
    if (ec != std::errc() || end != v->data() + v->size() || !(mb >= 0.2 && mb <= 3)) {
      return Status::InvalidArgument(
          "Lambda processor: BufferSizeInMBs must be a number from 0.2 to 3, not " + *v);
    }
    o.buffer_size_bytes = static_cast<uint64_t>(std::llround(mb * 1024 * 1024));
  }
  if (const std::string* v = get("BufferIntervalInSeconds")) {
    int64_t s = 0;
    if (!ParseInt(*v, 0, 900, &s)) {
      return Status::InvalidArgument(
          "Lambda processor: BufferIntervalInSeconds must be an integer from 0 to 900, not " + *v);
    }
    o.buffer_interval_ms = s * 1000;
  }
  return o;
}

LambdaProcessor::LambdaProcessor(LambdaOptions options, Pipeline::Context ctx)
    : options_(std::move(options)), ctx_(std::move(ctx)) {}

size_t LambdaProcessor::SourceArnJsonSize() const {
  return ctx_.source_kinesis_stream_arn.empty()
             ? 0
             : kEventSourceArn.size() + JsonString(ctx_.source_kinesis_stream_arn).size();
}

int64_t LambdaProcessor::NowMs() const {
  return ctx_.clock != nullptr ? ctx_.clock->NowMillis() : SystemClock::Get().NowMillis();
}

std::vector<RecordOutcome> LambdaProcessor::Process(std::span<const SourceRecord> records,
                                                    ProcessingStats* stats) const {
  std::vector<RecordOutcome> outcomes(records.size());
  const size_t header = kEventStart.size() + kUuidSize + kEventStreamArn.size() +
                        JsonString(ctx_.delivery_stream_arn).size() + SourceArnJsonSize() +
                        kEventRegion.size() + JsonString(ctx_.region).size() +
                        kEventRecords.size() + kEventEnd.size();

  // Greedy split, in order: a record joins the current invocation unless that
  // would take its source data past BufferSizeInMBs or its event past 6 MiB.
  std::vector<std::vector<size_t>> groups;
  std::vector<size_t>* current = nullptr;
  uint64_t group_source = 0;
  size_t group_event = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    size_t entry = RecordJsonSize(records[i]);
    if (header + entry > kLambdaPayloadLimit) {
      // Lambda would refuse the request (413) however the batch is cut: fail it
      // as Firehose reports a rejected call, once, without calling.
      FailWith(&outcomes[i], kLambdaFunctionError,
               "The record is too large for the 6 MB Lambda invocation payload limit once "
               "base64-encoded.",
               1, NowMs(), options_.lambda_arn);
      continue;
    }
    if (current != nullptr && (group_source + records[i].data.size() > options_.buffer_size_bytes ||
                               group_event + 1 + entry > kLambdaPayloadLimit)) {
      current = nullptr;
    }
    if (current == nullptr) {
      current = &groups.emplace_back();
      group_source = 0;
      group_event = header;
    } else {
      group_event += 1;  // the comma
    }
    current->push_back(i);
    group_source += records[i].data.size();
    group_event += entry;
  }

  std::vector<ProcessingStats> group_stats(groups.size());
  size_t workers = std::min<size_t>(std::max(1, ctx_.max_parallel_invocations), groups.size());
  if (workers <= 1) {
    for (size_t g = 0; g < groups.size(); ++g) {
      RunInvocation(records, groups[g], &outcomes, &group_stats[g]);
    }
  } else {
    std::atomic<size_t> next{0};
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (size_t w = 0; w < workers; ++w) {
      threads.emplace_back([&] {
        for (size_t g = next++; g < groups.size(); g = next++) {
          RunInvocation(records, groups[g], &outcomes, &group_stats[g]);
        }
      });
    }
    for (std::thread& t : threads) t.join();
  }

  if (stats != nullptr) {
    for (const ProcessingStats& s : group_stats) {
      stats->invocations += s.invocations;
      stats->failed_invocations += s.failed_invocations;
      stats->total_duration_ms += s.total_duration_ms;
    }
  }
  return outcomes;
}

void LambdaProcessor::RunInvocation(std::span<const SourceRecord> records,
                                    const std::vector<size_t>& indices,
                                    std::vector<RecordOutcome>* outcomes,
                                    ProcessingStats* stats) const {
  // Build the event once; each attempt only rewrites the invocationId in place.
  const std::string id_prefix = RandomDigits(kRecordIdPrefixDigits);
  std::string stream_arn = JsonString(ctx_.delivery_stream_arn);
  std::string region = JsonString(ctx_.region);
  size_t size = kEventStart.size() + kUuidSize + kEventStreamArn.size() + stream_arn.size() +
                SourceArnJsonSize() + kEventRegion.size() + region.size() + kEventRecords.size() +
                kEventEnd.size();
  for (size_t i : indices) size += RecordJsonSize(records[i]) + 1;
  std::string event;
  event.reserve(size);
  event += kEventStart;
  const size_t uuid_offset = event.size();
  event.append(kUuidSize, '0');
  event += kEventStreamArn;
  event += stream_arn;
  if (!ctx_.source_kinesis_stream_arn.empty()) {
    event += kEventSourceArn;
    event += JsonString(ctx_.source_kinesis_stream_arn);
  }
  event += kEventRegion;
  event += region;
  event += kEventRecords;
  char index_digits[kRecordIdIndexDigits];
  for (size_t j = 0; j < indices.size(); ++j) {
    const SourceRecord& r = records[indices[j]];
    if (j > 0) event += ',';
    event += kRecordStart;
    event += id_prefix;
    size_t v = j;
    for (size_t d = kRecordIdIndexDigits; d-- > 0; v /= 10) index_digits[d] = char('0' + v % 10);
    event.append(index_digits, kRecordIdIndexDigits);
    event += kRecordArrival;
    event += std::to_string(r.arrival_ms);
    event += kRecordData;
    base64::EncodeAppend(r.data, &event);
    if (r.kinesis != nullptr) {
      event += kRecordKinesis;
      event += KinesisMetadataJson(*r.kinesis);
      event += '}';
    } else {
      event += kRecordEnd;
    }
  }
  event += kEventEnd;

  auto fail_all = [&](std::string_view code, std::string_view message, int attempts) {
    int64_t end_ms = NowMs();
    spdlog::warn("stream={} errorCode={} event=processing_failed lambda={} records={} attempts={} error={}",
                 StreamNameOf(ctx_.delivery_stream_arn), code, options_.lambda_arn, indices.size(),
                 attempts, LogQuote(message));
    for (size_t i : indices) {
      FailWith(&(*outcomes)[i], code, message, attempts, end_ms, options_.lambda_arn);
    }
  };

  std::chrono::milliseconds backoff = options_.initial_backoff;
  InvokeResult result;
  int attempts = 0;
  while (true) {
    WriteUuidV4(event.data() + uuid_offset);
    auto start = std::chrono::steady_clock::now();
    result = ctx_.invoker->Invoke(options_.function, event, kLambdaInvokeTimeout);
    ++attempts;
    int64_t elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    ++stats->invocations;
    stats->total_duration_ms +=
        static_cast<uint64_t>(result.duration_ms > 0 ? result.duration_ms : elapsed);
    if (result.kind == InvokeResult::Kind::kOk && result.payload.size() > kLambdaPayloadLimit) {
      // Lambda itself fails such a call ("response payload size exceeded").
      result.kind = InvokeResult::Kind::kFunctionError;
      result.error_code = std::string(kLambdaFunctionError);
      result.error_message =
          "The Lambda function returned a response larger than the 6 MB payload limit.";
    }
    if (result.kind == InvokeResult::Kind::kOk) break;
    ++stats->failed_invocations;
    bool retryable = result.kind == InvokeResult::Kind::kRetryable ||
                     result.kind == InvokeResult::Kind::kFunctionError;
    if (!retryable || attempts > options_.number_of_retries) {
      std::string_view code =
          result.error_code.empty() ? kLambdaFunctionError : std::string_view(result.error_code);
      std::string_view message = result.error_message;
      if (message.empty()) {
        message = result.kind == InvokeResult::Kind::kFunctionError
                      ? kLambdaFunctionErrorMessage
                      : std::string_view("Firehose could not invoke the Lambda function.");
      }
      fail_all(code, message, attempts);
      return;
    }
    if (ctx_.sleep_for) {
      ctx_.sleep_for(backoff);
    } else {
      std::this_thread::sleep_for(backoff);
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }

  // The status model. Anything that does not deserialize into
  // {"records":[{"recordId":str,"result":Ok|Dropped|ProcessingFailed,"data":str?}]}
  // fails the whole invocation; per-record problems fail only their record.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto model_error = [&](std::string why) {
    ++stats->failed_invocations;
    fail_all(kLambdaJsonProcessingException,
             "The Lambda function returned a response that does not follow the Firehose data "
             "transformation model: " +
                 why + ".",
             attempts);
  };
  if (auto err = parser.parse(result.payload).get(doc); err) {
    return model_error(std::string("it is not valid JSON (") + simdjson::error_message(err) + ")");
  }
  simdjson::dom::array returned;
  if (doc["records"].get_array().get(returned)) {
    return model_error("it has no \"records\" array");
  }
  enum class Verdict { kOk, kDropped, kFailed };
  struct Returned {
    int count = 0;
    Verdict result = Verdict::kOk;
    bool has_data = false;
    std::string_view data;
  };
  std::vector<Returned> seen(indices.size());
  for (simdjson::dom::element e : returned) {
    simdjson::dom::object o;
    if (e.get_object().get(o)) return model_error("a records element is not an object");
    std::string_view id;
    if (o["recordId"].get_string().get(id)) {
      return model_error("a records element has no string recordId");
    }
    std::string_view result_name;
    if (o["result"].get_string().get(result_name)) {
      return model_error("a records element has no string result");
    }
    Verdict res;
    if (result_name == "Ok") {
      res = Verdict::kOk;
    } else if (result_name == "Dropped") {
      res = Verdict::kDropped;
    } else if (result_name == "ProcessingFailed") {
      res = Verdict::kFailed;
    } else {
      return model_error("result \"" + std::string(result_name) +
                         "\" is not Ok, Dropped or ProcessingFailed");
    }
    simdjson::dom::element data_v;
    bool has_data = false;
    std::string_view data;
    if (!o["data"].get(data_v)) {
      if (data_v.is_string()) {
        has_data = true;
        data = data_v.get_string().value_unsafe();
      } else if (!data_v.is_null()) {
        return model_error("a records element has a data member that is not a string");
      }
    }
    // Our ids are prefix + 16-digit position; anything else is unknown and
    // ignored (the record it should have named is then reported missing).
    if (id.size() != kRecordIdSize || id.substr(0, kRecordIdPrefixDigits) != id_prefix) continue;
    uint64_t pos = 0;
    std::string_view digits = id.substr(kRecordIdPrefixDigits);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pos);
    if (ec != std::errc() || end != digits.data() + digits.size() || pos >= indices.size()) {
      continue;
    }
    Returned& r = seen[pos];
    if (++r.count == 1) {
      r.result = res;
      r.has_data = has_data;
      r.data = data;
    }
  }

  const int64_t end_ms = NowMs();
  // Per-record failures: one server-log line per error code of this invocation.
  std::map<std::string_view, size_t> failed_by_code;
  for (size_t j = 0; j < indices.size(); ++j) {
    RecordOutcome& out = (*outcomes)[indices[j]];
    const Returned& r = seen[j];
    if (r.count == 0) {
      FailWith(&out, kLambdaMissingRecordId, kLambdaMissingRecordIdMessage, attempts, end_ms,
               options_.lambda_arn);
    } else if (r.count > 1) {
      FailWith(&out, kLambdaDuplicatedRecordId, kLambdaDuplicatedRecordIdMessage, attempts, end_ms,
               options_.lambda_arn);
    } else if (r.result == Verdict::kDropped) {
      out.kind = RecordOutcome::Kind::kDropped;
    } else if (r.result == Verdict::kFailed) {
      FailWith(&out, kLambdaProcessingFailedStatus, kLambdaProcessingFailedStatusMessage, attempts,
               end_ms, options_.lambda_arn);
    } else if (!r.has_data) {
      FailWith(&out, kLambdaFunctionError,
               "The Lambda function returned result Ok without data for the record.", attempts,
               end_ms, options_.lambda_arn);
    } else {
      std::string decoded;
      if (!base64::DecodeInto(r.data, &decoded)) {
        FailWith(&out, kLambdaFunctionError,
                 "The Lambda function returned data that is not valid base64 for the record.",
                 attempts, end_ms, options_.lambda_arn);
      } else {
        out.kind = RecordOutcome::Kind::kOk;
        out.outputs.clear();
        out.outputs.push_back(std::move(decoded));
      }
    }
    if (out.kind == RecordOutcome::Kind::kFailed) ++failed_by_code[out.error_code];
  }
  for (const auto& [code, n] : failed_by_code) {
    spdlog::warn("stream={} errorCode={} event=processing_failed lambda={} records={} attempts={}",
                 StreamNameOf(ctx_.delivery_stream_arn), code, options_.lambda_arn, n, attempts);
  }
}

}  // namespace hydrant::processing
