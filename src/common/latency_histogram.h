#pragma once
// LatencyHistogram: a lock-free latency distribution for hot paths. Record() is a
// handful of relaxed atomic adds (no lock, no allocation), safe from any thread.
// Readers (the Prometheus renderer, the metrics sampler) take a Snapshot: each field
// is read atomically but the fields are not one consistent cut, which is fine for
// monitoring (a record in flight may show in `count` and not yet in `sum_us`).
//
// Buckets are fixed (Prometheus-style upper bounds, in microseconds) so that the
// histogram can be exported as a Prometheus histogram in seconds. Besides the
// cumulative figures, it keeps the maximum since the last TakeWindowMax(), for
// CloudWatch's per-period Maximum statistic; one reader (the sampler) owns that.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace hydrant {

class LatencyHistogram {
 public:
  // Upper bounds of the finite buckets, inclusive, in microseconds: 0.1 ms .. 10 s.
  // The last bucket (+Inf) holds everything above.
  static constexpr std::array<uint64_t, 16> kBoundsMicros = {
      100,     250,       500,       1'000,     2'500,     5'000,   10'000,  25'000,
      50'000,  100'000,   250'000,   500'000,   1'000'000, 2'500'000, 5'000'000, 10'000'000};
  static constexpr size_t kBuckets = kBoundsMicros.size() + 1;

  struct Snapshot {
    uint64_t count = 0;   // sum of buckets
    uint64_t sum_us = 0;  // total of recorded latencies
    std::array<uint64_t, kBuckets> buckets{};  // per bucket, not cumulative
  };

  void Record(uint64_t micros) {
    size_t i = 0;
    while (i < kBoundsMicros.size() && micros > kBoundsMicros[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(micros, std::memory_order_relaxed);
    uint64_t cur = window_max_us_.load(std::memory_order_relaxed);
    while (micros > cur &&
           !window_max_us_.compare_exchange_weak(cur, micros, std::memory_order_relaxed)) {
    }
  }

  Snapshot Read() const {
    Snapshot s;
    for (size_t i = 0; i < kBuckets; ++i) {
      s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
      s.count += s.buckets[i];
    }
    s.sum_us = sum_us_.load(std::memory_order_relaxed);
    return s;
  }

  // The largest latency recorded since the previous call (0 if none), and resets it.
  uint64_t TakeWindowMax() { return window_max_us_.exchange(0, std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> sum_us_{0};
  std::atomic<uint64_t> window_max_us_{0};
};

}  // namespace hydrant
