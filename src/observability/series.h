#pragma once
// MetricsSeries: recent CloudWatch-style time series of every stream's Firehose
// metrics, for `hydrant doctor` (in process) and GET /metrics/series (JSON).
//
// A sampler thread reads each stream's StreamProbe once per period (default 10 s,
// aligned to multiples of the period on the clock) and turns the difference since
// the previous sample into one datapoint per metric, in the statistic CloudWatch
// suggests for it: Sum for Bytes/Records/Requests/ObjectCount, Average for the
// .Success ratios, latencies and ExecuteProcessing.Duration, Maximum for
// DataFreshness. Datapoints are timestamped with the start of their period and kept
// in a per-stream ring for `retention_ms` (default one hour); a stream that is
// deleted is forgotten, one re-created under the same name starts over.
//
// Thread-safe: sampling and reading take one mutex (not on any hot path).
// docs/metrics.md describes every metric and the JSON format.

#include <cstdint>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace hydrant::stream {
struct StreamProbe;
class StreamRegistry;
}  // namespace hydrant::stream

namespace hydrant::observability {

enum class Statistic { kSum, kAverage, kMaximum };
std::string_view StatisticName(Statistic s);  // "Sum", "Average", "Maximum"

struct MetricInfo {
  std::string_view name;  // Firehose's CloudWatch name, e.g. "DeliveryToS3.Success"
  Statistic statistic;    // what Datapoint::value is
  std::string_view unit;  // CloudWatch unit: "Bytes", "Count", "Milliseconds", "Seconds", "None"
};

struct Datapoint {
  int64_t timestamp_ms = 0;  // start of the period, ms since the epoch
  double value = 0;          // the metric's statistic over the period, in its unit
  // Averages only: how many observations the average is over (requests, object
  // puts, invocations); 0 for Sum and Maximum metrics.
  uint64_t samples = 0;
  // Latencies only: the largest single latency in the period (ms); absent otherwise.
  std::optional<double> maximum;
};

// A window of datapoints folded into one figure per statistic.
struct WindowSummary {
  size_t datapoints = 0;
  double sum = 0;      // of the values (meaningful for Sum metrics)
  double average = 0;  // weighted by samples for Average metrics, per period otherwise
  double maximum = 0;  // of the values, or of the per-period maxima for latencies
  double minimum = 0;
  uint64_t samples = 0;
};

struct SeriesOptions {
  int64_t period_ms = 10'000;
  int64_t retention_ms = 3'600'000;
};

class MetricsSeries {
 public:
  // `clock` timestamps samples and anchors windows (not owned; null = system clock).
  explicit MetricsSeries(SeriesOptions options, const Clock* clock = nullptr);
  ~MetricsSeries();  // stops the sampler
  MetricsSeries(const MetricsSeries&) = delete;
  MetricsSeries& operator=(const MetricsSeries&) = delete;

  // Every metric kept, in a fixed order.
  static const std::vector<MetricInfo>& Metrics();
  // Case-sensitive Firehose name -> metric; nullopt when unknown.
  static std::optional<MetricInfo> Find(std::string_view metric);

  // Starts the sampler thread over `registry` (which must outlive Stop()).
  void Start(stream::StreamRegistry* registry);
  void Stop();

  // One sampling tick over every stream of the registry (what the thread does each period).
  void SampleRegistry(stream::StreamRegistry& registry);
  // One sample of one stream at the clock's now: appends the datapoints for the time
  // since its previous sample (the first sample counts from zero, over one period).
  // `incarnation` identifies the stream instance. Resets the probe's latency window maxima.
  void Observe(const std::string& stream, std::string_view incarnation, stream::StreamProbe& probe);
  // Forgets every stream not in `live` (sorted).
  void Retain(const std::vector<std::string>& live);

  // Datapoints of `metric` with timestamp >= now - window_ms, oldest first. Empty for
  // an unknown stream or metric. Periods without a datapoint (a ratio with no attempt)
  // are skipped.
  std::vector<Datapoint> Recent(const std::string& stream, std::string_view metric,
                                int64_t window_ms) const;
  // The same window summarized; nullopt when it holds no datapoint.
  std::optional<WindowSummary> Summarize(const std::string& stream, std::string_view metric,
                                         int64_t window_ms) const;
  // Sum of the values over the window (e.g. IncomingRecords in the last 15 minutes); 0 when none.
  double SumOver(const std::string& stream, std::string_view metric, int64_t window_ms) const;

  bool HasStream(const std::string& stream) const;
  // JSON for GET /metrics/series: each of `streams`, each of `metrics` (empty = all),
  // datapoints with timestamp >= since_ms. Streams without samples have empty lists.
  std::string ToJson(const std::vector<std::string>& streams,
                     const std::vector<std::string_view>& metrics, int64_t since_ms) const;

  const SeriesOptions& options() const { return options_; }
  const Clock& clock() const { return *clock_; }

 private:
  struct Row;
  struct Track;
  // Datapoint i of metric m in row r; nullopt when the row has none for it.
  static std::optional<Datapoint> At(const Row& r, size_t m);
  std::vector<Datapoint> RecentLocked(const std::string& stream, size_t metric, int64_t from_ms) const;
  void Run(stream::StreamRegistry* registry);

  const SeriesOptions options_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Track>, std::less<>> tracks_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace hydrant::observability
