#include "observability/series.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

#include <boost/json.hpp>

#include "stream/probe.h"
#include "stream/registry.h"

namespace hydrant::observability {

namespace {

using stream::StreamProbe;

// How a metric's datapoint comes from two successive readings of the probe.
enum class Calc {
  kDelta,          // Sum: num grew by
  kRatio,          // Average: Δnum / Δden; none when Δden = 0
  kOneMinusRatio,  // Average: 1 - Δnum / Δden (num counts failures)
  kMean,           // Average: Δnum / Δden (ExecuteProcessing.Duration: ms / invocations)
  kLatency,        // Average: Δsum_us / Δcount in ms, and the window's maximum
  kAge,            // Maximum: now - num (a timestamp in ms) in seconds, 0 when num = 0
  kLevel,          // Maximum: num as it is at the end of the period (a gauge)
};

struct Def {
  MetricInfo info;
  Calc calc;
  uint64_t (*num)(const StreamProbe&);
  uint64_t (*den)(const StreamProbe&) = nullptr;
  LatencyHistogram& (*histogram)(StreamProbe&) = nullptr;  // kLatency
};

uint64_t L(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

#define FIELD(f) [](const StreamProbe& p) -> uint64_t { return L(p.f); }
#define AGE(f) \
  [](const StreamProbe& p) -> uint64_t { return static_cast<uint64_t>(std::max<int64_t>(0, p.f.load(std::memory_order_relaxed))); }
#define LATENCY(op)                                                                   \
  Calc::kLatency, [](const StreamProbe& p) { return p.op.latency.Read().sum_us; },  \
      [](const StreamProbe& p) { return p.op.latency.Read().count; },               \
      [](StreamProbe& p) -> LatencyHistogram& { return p.op.latency; }

constexpr Statistic kSum = Statistic::kSum, kAvg = Statistic::kAverage, kMax = Statistic::kMaximum;

const Def kDefs[] = {
    {{"IncomingBytes", kSum, "Bytes"}, Calc::kDelta, FIELD(incoming_bytes)},
    {{"IncomingRecords", kSum, "Count"}, Calc::kDelta, FIELD(incoming_records)},
    {{"IncomingPutRequests", kSum, "Count"}, Calc::kDelta, FIELD(incoming_put_requests)},
    {{"ThrottledRecords", kSum, "Count"}, Calc::kDelta, FIELD(throttled_records)},
    {{"PutRecord.Bytes", kSum, "Bytes"}, Calc::kDelta, FIELD(put_record_bytes)},
    {{"PutRecord.Latency", kAvg, "Milliseconds"}, LATENCY(put_record)},
    {{"PutRecord.Requests", kSum, "Count"}, Calc::kDelta, FIELD(put_record.requests)},
    {{"PutRecordBatch.Bytes", kSum, "Bytes"}, Calc::kDelta, FIELD(put_record_batch_bytes)},
    {{"PutRecordBatch.Latency", kAvg, "Milliseconds"}, LATENCY(put_record_batch)},
    {{"PutRecordBatch.Records", kSum, "Count"}, Calc::kDelta, FIELD(put_record_batch_records)},
    {{"PutRecordBatch.Requests", kSum, "Count"}, Calc::kDelta, FIELD(put_record_batch.requests)},
    {{"DescribeDeliveryStream.Latency", kAvg, "Milliseconds"}, LATENCY(describe)},
    {{"DescribeDeliveryStream.Requests", kSum, "Count"}, Calc::kDelta, FIELD(describe.requests)},
    {{"UpdateDeliveryStream.Latency", kAvg, "Milliseconds"}, LATENCY(update)},
    {{"UpdateDeliveryStream.Requests", kSum, "Count"}, Calc::kDelta, FIELD(update.requests)},
    {{"DeliveryToS3.Bytes", kSum, "Bytes"}, Calc::kDelta, FIELD(delivered_bytes)},
    {{"DeliveryToS3.Records", kSum, "Count"}, Calc::kDelta, FIELD(delivered_records)},
    {{"DeliveryToS3.ObjectCount", kSum, "Count"}, Calc::kDelta, FIELD(delivered_objects)},
    {{"DeliveryToS3.Success", kAvg, "None"}, Calc::kRatio, FIELD(s3_put_successes), FIELD(s3_put_attempts)},
    {{"DeliveryToS3.DataFreshness", kMax, "Seconds"}, Calc::kAge, AGE(oldest_undelivered_ms)},
    {{"BackupToS3.Bytes", kSum, "Bytes"}, Calc::kDelta, FIELD(backup_bytes)},
    {{"BackupToS3.Records", kSum, "Count"}, Calc::kDelta, FIELD(backup_records)},
    {{"BackupToS3.Success", kAvg, "None"}, Calc::kRatio, FIELD(backup_put_successes),
     FIELD(backup_put_attempts)},
    {{"BackupToS3.DataFreshness", kMax, "Seconds"}, Calc::kAge, AGE(backup_oldest_unsent_ms)},
    {{"ExecuteProcessing.Duration", kAvg, "Milliseconds"}, Calc::kMean, FIELD(processing_duration_ms),
     FIELD(processing_invocations)},
    {{"ExecuteProcessing.Success", kAvg, "None"}, Calc::kOneMinusRatio,
     FIELD(processing_failed_invocations), FIELD(processing_invocations)},
    {{"SucceedProcessing.Records", kSum, "Count"}, Calc::kDelta, FIELD(processing_ok_records)},
    {{"SucceedProcessing.Bytes", kSum, "Bytes"}, Calc::kDelta, FIELD(processing_ok_bytes)},
    // Kinesis source (KinesisStreamAsSource): 0 for other streams.
    {{"DataReadFromKinesisStream.Bytes", kSum, "Bytes"}, Calc::kDelta, FIELD(kinesis_read_bytes)},
    {{"DataReadFromKinesisStream.Records", kSum, "Count"}, Calc::kDelta,
     FIELD(kinesis_read_records)},
    // AGE reads a signed field as it is (negatives as 0).
    {{"KinesisMillisBehindLatest", kMax, "Milliseconds"}, Calc::kLevel, AGE(kinesis_millis_behind)},
    {{"ThrottledGetRecords", kSum, "Count"}, Calc::kDelta, FIELD(kinesis_throttled_get_records)},
    {{"ThrottledGetShardIterator", kSum, "Count"}, Calc::kDelta,
     FIELD(kinesis_throttled_get_shard_iterator)},
    {{"ThrottledDescribeStream", kSum, "Count"}, Calc::kDelta,
     FIELD(kinesis_throttled_describe_stream)},
};

#undef FIELD
#undef AGE
#undef LATENCY

constexpr size_t kCount = std::size(kDefs);

// Whole numbers as JSON integers (5120, not 5.12E3), others as doubles.
boost::json::value Number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return static_cast<int64_t>(v);
  return v;
}

std::optional<size_t> IndexOf(std::string_view name) {
  for (size_t i = 0; i < kCount; ++i) {
    if (kDefs[i].info.name == name) return i;
  }
  return std::nullopt;
}

}  // namespace

std::string_view StatisticName(Statistic s) {
  switch (s) {
    case Statistic::kSum: return "Sum";
    case Statistic::kAverage: return "Average";
    case Statistic::kMaximum: return "Maximum";
  }
  return "";
}

// One period of one stream: a value per metric (NaN: no datapoint).
struct MetricsSeries::Row {
  int64_t timestamp_ms = 0;
  std::array<double, kCount> value;
  std::array<uint32_t, kCount> samples{};
  std::array<double, kCount> maximum;  // NaN: none
};

struct MetricsSeries::Track {
  std::string incarnation;
  int64_t last_ms = 0;  // time of the previous sample
  std::array<uint64_t, kCount> num{}, den{};
  std::deque<Row> rows;
};

MetricsSeries::MetricsSeries(SeriesOptions options, const Clock* clock)
    : options_(options), clock_(clock ? clock : &SystemClock::Get()) {}

MetricsSeries::~MetricsSeries() { Stop(); }

const std::vector<MetricInfo>& MetricsSeries::Metrics() {
  static const std::vector<MetricInfo> kInfos = [] {
    std::vector<MetricInfo> v;
    for (const auto& d : kDefs) v.push_back(d.info);
    return v;
  }();
  return kInfos;
}

std::optional<MetricInfo> MetricsSeries::Find(std::string_view metric) {
  auto i = IndexOf(metric);
  if (!i) return std::nullopt;
  return kDefs[*i].info;
}

void MetricsSeries::Observe(const std::string& name, std::string_view incarnation,
                            StreamProbe& probe) {
  const int64_t now = clock_->NowMillis();
  std::lock_guard lk(mu_);
  auto& slot = tracks_[name];
  if (!slot || slot->incarnation != incarnation) {
    // First sample of this stream (or of a re-created one): its counters started at 0.
    slot = std::make_unique<Track>();
    slot->incarnation = std::string(incarnation);
    slot->last_ms = now - options_.period_ms;
  }
  Track& t = *slot;
  if (now <= t.last_ms) return;  // no time has passed: nothing to attribute
  constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  Row row;
  // The period this sample closes, aligned on multiples of the period (a sampler that
  // wakes late still stamps the period it meant to close).
  row.timestamp_ms = now - now % options_.period_ms - options_.period_ms;
  row.value.fill(kNone);
  row.maximum.fill(kNone);
  for (size_t i = 0; i < kCount; ++i) {
    const Def& d = kDefs[i];
    uint64_t num = d.num(probe);
    uint64_t den = d.den ? d.den(probe) : 0;
    // A counter never goes down; if it did, the stream's probe was replaced.
    uint64_t dnum = num >= t.num[i] ? num - t.num[i] : num;
    uint64_t dden = den >= t.den[i] ? den - t.den[i] : den;
    t.num[i] = num;
    t.den[i] = den;
    switch (d.calc) {
      case Calc::kDelta:
        row.value[i] = static_cast<double>(dnum);
        break;
      case Calc::kRatio:
      case Calc::kOneMinusRatio:
      case Calc::kMean:
        if (dden == 0) break;
        row.value[i] = static_cast<double>(dnum) / static_cast<double>(dden);
        if (d.calc == Calc::kRatio) row.value[i] = std::min(1.0, row.value[i]);
        if (d.calc == Calc::kOneMinusRatio) row.value[i] = std::max(0.0, 1.0 - row.value[i]);
        row.samples[i] = static_cast<uint32_t>(std::min<uint64_t>(dden, UINT32_MAX));
        break;
      case Calc::kLatency: {
        uint64_t max_us = d.histogram(probe).TakeWindowMax();
        if (dden == 0) break;
        row.value[i] = static_cast<double>(dnum) / static_cast<double>(dden) / 1000.0;
        row.maximum[i] = static_cast<double>(max_us) / 1000.0;
        row.samples[i] = static_cast<uint32_t>(std::min<uint64_t>(dden, UINT32_MAX));
        break;
      }
      case Calc::kAge:
        // The age at the end of the period: it grows until a delivery resets it, so
        // this is the period's maximum unless a delivery happened in between.
        row.value[i] = num > 0 && static_cast<int64_t>(num) < now
                           ? static_cast<double>(now - static_cast<int64_t>(num)) / 1000.0
                           : 0.0;
        break;
      case Calc::kLevel:
        row.value[i] = static_cast<double>(num);
        break;
    }
  }
  t.last_ms = now;
  t.rows.push_back(row);
  while (!t.rows.empty() && t.rows.front().timestamp_ms < now - options_.retention_ms) {
    t.rows.pop_front();
  }
}

void MetricsSeries::Retain(const std::vector<std::string>& live) {
  std::lock_guard lk(mu_);
  std::erase_if(tracks_, [&](const auto& kv) {
    return !std::binary_search(live.begin(), live.end(), kv.first);
  });
}

void MetricsSeries::SampleRegistry(stream::StreamRegistry& registry) {
  std::vector<std::string> names;
  for (auto& s : registry.All()) {
    names.push_back(s->Meta().name);
    Observe(names.back(), s->incarnation(), s->probe());
  }
  std::sort(names.begin(), names.end());
  Retain(names);
}

std::optional<Datapoint> MetricsSeries::At(const Row& r, size_t m) {
  if (std::isnan(r.value[m])) return std::nullopt;
  Datapoint p;
  p.timestamp_ms = r.timestamp_ms;
  p.value = r.value[m];
  p.samples = r.samples[m];
  if (!std::isnan(r.maximum[m])) p.maximum = r.maximum[m];
  return p;
}

std::vector<Datapoint> MetricsSeries::RecentLocked(const std::string& stream, size_t metric,
                                                   int64_t from_ms) const {
  std::vector<Datapoint> out;
  auto it = tracks_.find(stream);
  if (it == tracks_.end()) return out;
  for (const Row& r : it->second->rows) {
    if (r.timestamp_ms < from_ms) continue;
    if (auto p = At(r, metric)) out.push_back(*p);
  }
  return out;
}

std::vector<Datapoint> MetricsSeries::Recent(const std::string& stream, std::string_view metric,
                                             int64_t window_ms) const {
  auto m = IndexOf(metric);
  if (!m) return {};
  const int64_t from = clock_->NowMillis() - window_ms;
  std::lock_guard lk(mu_);
  return RecentLocked(stream, *m, from);
}

std::optional<WindowSummary> MetricsSeries::Summarize(const std::string& stream,
                                                      std::string_view metric,
                                                      int64_t window_ms) const {
  auto info = Find(metric);
  auto points = Recent(stream, metric, window_ms);
  if (!info || points.empty()) return std::nullopt;
  WindowSummary s;
  s.datapoints = points.size();
  s.minimum = points.front().value;
  s.maximum = points.front().maximum.value_or(points.front().value);
  double weighted = 0;
  for (const auto& p : points) {
    s.sum += p.value;
    s.samples += p.samples;
    weighted += p.value * static_cast<double>(p.samples);
    s.minimum = std::min(s.minimum, p.value);
    s.maximum = std::max(s.maximum, p.maximum.value_or(p.value));
  }
  s.average = info->statistic == Statistic::kAverage && s.samples > 0
                  ? weighted / static_cast<double>(s.samples)
                  : s.sum / static_cast<double>(s.datapoints);
  return s;
}

double MetricsSeries::SumOver(const std::string& stream, std::string_view metric,
                              int64_t window_ms) const {
  auto s = Summarize(stream, metric, window_ms);
  return s ? s->sum : 0.0;
}

bool MetricsSeries::HasStream(const std::string& stream) const {
  std::lock_guard lk(mu_);
  return tracks_.contains(stream);
}

std::string MetricsSeries::ToJson(const std::vector<std::string>& streams,
                                  const std::vector<std::string_view>& metrics,
                                  int64_t since_ms) const {
  namespace json = boost::json;
  std::vector<size_t> which;
  for (auto m : metrics) {
    if (auto i = IndexOf(m)) which.push_back(*i);
  }
  if (metrics.empty()) {
    for (size_t i = 0; i < kCount; ++i) which.push_back(i);
  }
  json::array out_streams;
  std::lock_guard lk(mu_);
  for (const auto& name : streams) {
    json::array out_metrics;
    for (size_t m : which) {
      json::array points;
      for (const auto& p : RecentLocked(name, m, since_ms)) {
        json::object o;
        o["Timestamp"] = p.timestamp_ms;
        o["Value"] = Number(p.value);
        if (kDefs[m].info.statistic == Statistic::kAverage) o["SampleCount"] = p.samples;
        if (p.maximum) o["Maximum"] = Number(*p.maximum);
        points.push_back(std::move(o));
      }
      const MetricInfo& info = kDefs[m].info;
      out_metrics.push_back(json::object{{"MetricName", info.name},
                                         {"Statistic", StatisticName(info.statistic)},
                                         {"Unit", info.unit},
                                         {"Datapoints", std::move(points)}});
    }
    out_streams.push_back(
        json::object{{"DeliveryStreamName", name}, {"Metrics", std::move(out_metrics)}});
  }
  json::object root{{"PeriodSeconds", Number(static_cast<double>(options_.period_ms) / 1000.0)},
                    {"Streams", std::move(out_streams)}};
  return json::serialize(root);
}

void MetricsSeries::Start(stream::StreamRegistry* registry) {
  Stop();
  {
    std::lock_guard lk(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, registry] { Run(registry); });
}

void MetricsSeries::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricsSeries::Run(stream::StreamRegistry* registry) {
  // No sample at start: a stream's first sample counts from zero, over the period
  // that ends at the first tick.
  std::unique_lock lk(mu_);
  while (!stop_) {
    // Sleep to the next multiple of the period, so timestamps fall on period starts.
    const int64_t now = clock_->NowMillis();
    const int64_t wait = options_.period_ms - ((now % options_.period_ms) + options_.period_ms) %
                                                  options_.period_ms;
    cv_.wait_for(lk, std::chrono::milliseconds(wait));
    if (stop_) break;
    if (clock_->NowMillis() < now + wait) continue;  // woken early
    lk.unlock();
    SampleRegistry(*registry);
    lk.lock();
  }
}

}  // namespace hydrant::observability
