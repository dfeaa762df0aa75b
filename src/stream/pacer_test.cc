// DeliveryPacer: the rate limit follows the ingest rate above a floor, the waits
// keep a delivery within it, and no clock can make a wait run away. Driven by a
// FakeClock: nothing here sleeps.

#include "stream/pacer.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace hydrant::stream {
namespace {

constexpr double kMiB = 1 << 20;

PacerOptions Opts() {
  PacerOptions o;
  o.floor_bytes_per_s = 64 * kMiB;
  o.ingest_multiple = 2.0;
  o.rate_time_constant_ms = 1000;
  o.burst_ms = 20;
  o.min_wait_ms = 2;
  o.max_ahead_ms = 1000;
  return o;
}

TEST(DeliveryPacer, LimitIsTheFloorUntilIngestIsFaster) {
  FakeClock clock(1'000'000);
  DeliveryPacer p(Opts());
  EXPECT_DOUBLE_EQ(p.limit_bytes_per_s(), 64 * kMiB);
  // 10 MiB/s of ingest: 2x is below the floor.
  uint64_t total = 0;
  for (int i = 0; i < 100; ++i) {
    p.ObserveIngest(clock.NowMillis(), total);
    clock.Advance(100);
    total += static_cast<uint64_t>(1 * kMiB);
  }
  EXPECT_NEAR(p.ingest_bytes_per_s(), 10 * kMiB, 0.1 * kMiB);
  EXPECT_DOUBLE_EQ(p.limit_bytes_per_s(), 64 * kMiB);
  // 100 MiB/s for a while: the limit follows at 2x.
  for (int i = 0; i < 100; ++i) {
    p.ObserveIngest(clock.NowMillis(), total);
    clock.Advance(100);
    total += static_cast<uint64_t>(10 * kMiB);
  }
  EXPECT_NEAR(p.limit_bytes_per_s(), 200 * kMiB, 2 * kMiB);
  // Ingest stops: the average decays back to the floor.
  for (int i = 0; i < 100; ++i) {
    clock.Advance(100);
    p.ObserveIngest(clock.NowMillis(), total);
  }
  EXPECT_DOUBLE_EQ(p.limit_bytes_per_s(), 64 * kMiB);
}

TEST(DeliveryPacer, SamplesCloserThan100MsAreIgnored) {
  DeliveryPacer p(Opts());
  p.ObserveIngest(0, 0);
  p.ObserveIngest(50, 1 << 30);  // ignored: too close to the first sample
  EXPECT_EQ(p.ingest_bytes_per_s(), 0);
  p.ObserveIngest(1000, 100 << 20);
  EXPECT_GT(p.ingest_bytes_per_s(), 0);
}

TEST(DeliveryPacer, WaitsKeepTheDeliveryWithinTheLimit) {
  FakeClock clock(5'000);
  DeliveryPacer p(Opts());
  // An idle pacer lets the burst (20 ms at 64 MiB/s = 1.28 MiB) through at once.
  EXPECT_EQ(p.Delay(clock.NowMillis(), 1 << 20), 0);
  // 64 MiB in 256 KiB steps, the clock moving by each wait: ~1 s in all.
  int64_t waited = 0;
  for (int i = 0; i < 256; ++i) {
    int64_t w = p.Delay(clock.NowMillis(), 256 << 10);
    EXPECT_GE(w, 0);
    EXPECT_LE(w, 10);  // short, frequent waits: never a long stall
    waited += w;
    clock.Advance(w);
  }
  EXPECT_NEAR(static_cast<double>(waited), 1000.0 - 20 + 1000.0 / 64, 10);
}

TEST(DeliveryPacer, TimeSpentElsewhereCounts) {
  FakeClock clock(0);
  DeliveryPacer p(Opts());
  // Reading and writing took as long as the limit allows: no wait.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(p.Delay(clock.NowMillis(), 1 << 20), 0);
    clock.Advance(16);  // 1 MiB per 16 ms < 64 MiB/s
  }
  // After an idle second, only the burst is credited, not the whole second.
  clock.Advance(1000);
  EXPECT_EQ(p.Delay(clock.NowMillis(), 1 << 20), 0);
  EXPECT_GT(p.Delay(clock.NowMillis(), 1 << 20), 0);
}

TEST(DeliveryPacer, AClockThatDoesNotMoveCannotMakeWaitsGrow) {
  FakeClock clock(0);
  DeliveryPacer p(Opts());
  for (int i = 0; i < 1000; ++i) {
    // The caller waits as told but the clock stays: each wait is one step's worth.
    EXPECT_LE(p.Delay(clock.NowMillis(), 1 << 20), 17);
  }
}

TEST(DeliveryPacer, AClockSteppedBackIsNotPaidFor) {
  FakeClock clock(10'000);
  DeliveryPacer p(Opts());
  p.Delay(clock.NowMillis(), 1 << 20);
  clock.Set(0);  // ten seconds back
  EXPECT_LE(p.Delay(clock.NowMillis(), 1 << 20), 17);
  // A huge step is capped at max_ahead_ms.
  EXPECT_EQ(p.Delay(clock.NowMillis(), 1ull << 30), 1000);
}

TEST(DeliveryPacer, BehindBeyondTwoBuffers) {
  DeliveryPacer p(Opts());
  EXPECT_FALSE(p.Behind(128 << 20, 128 << 20));
  EXPECT_FALSE(p.Behind(256 << 20, 128 << 20));
  EXPECT_TRUE(p.Behind((256 << 20) + 1, 128 << 20));
}

}  // namespace
}  // namespace hydrant::stream
