#include "common/latency_histogram.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace hydrant {

TEST(LatencyHistogram, BucketsAreInclusiveUpperBounds) {
  LatencyHistogram h;
  h.Record(0);          // bucket 0 (<= 0.1 ms)
  h.Record(100);        // bucket 0: the bound is inclusive
  h.Record(101);        // bucket 1 (<= 0.25 ms)
  h.Record(10'000'000); // last finite bucket (<= 10 s)
  h.Record(10'000'001); // +Inf
  auto s = h.Read();
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.sum_us, 0u + 100 + 101 + 10'000'000 + 10'000'001);
  EXPECT_EQ(s.buckets[0], 2u);
  EXPECT_EQ(s.buckets[1], 1u);
  EXPECT_EQ(s.buckets[LatencyHistogram::kBuckets - 2], 1u);
  EXPECT_EQ(s.buckets[LatencyHistogram::kBuckets - 1], 1u);
}

TEST(LatencyHistogram, WindowMaxResetsOnTake) {
  LatencyHistogram h;
  EXPECT_EQ(h.TakeWindowMax(), 0u);
  h.Record(300);
  h.Record(7'000);
  h.Record(2'000);
  EXPECT_EQ(h.TakeWindowMax(), 7'000u);
  EXPECT_EQ(h.TakeWindowMax(), 0u);  // nothing since
  h.Record(5);
  EXPECT_EQ(h.TakeWindowMax(), 5u);
  EXPECT_EQ(h.Read().count, 4u);  // the cumulative figures are not reset
}

TEST(LatencyHistogram, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10'000; ++i) h.Record(static_cast<uint64_t>(t * 1'000 + i % 7));
    });
  }
  for (auto& th : threads) th.join();
  auto s = h.Read();
  EXPECT_EQ(s.count, 40'000u);
  uint64_t want_sum = 0;
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 10'000; ++i) want_sum += static_cast<uint64_t>(t * 1'000 + i % 7);
  }
  EXPECT_EQ(s.sum_us, want_sum);
  EXPECT_EQ(h.TakeWindowMax(), 3'006u);
}

}  // namespace hydrant
