#pragma once
// Backoff: how long a failing delivery stage waits before its next attempt. A pure
// policy (no clock, no threads), like stream/pacer.h, so it is tested without
// sleeping: min_ms doubled for every failure after the first, capped at max_ms,
// then drawn between 50% and 100% of that (jitter, so that streams failing on the
// same bucket do not retry in step).

#include <algorithm>
#include <cstdint>

namespace hydrant::stream {

struct Backoff {
  int64_t min_ms = 500;
  int64_t max_ms = 15000;

  // The wait after the `failures`-th failure in a row (failures >= 1); `random` is
  // any uniformly drawn number.
  int64_t Delay(int failures, uint64_t random) const {
    int64_t ceiling = min_ms << std::clamp(failures - 1, 0, 10);
    ceiling = std::min(ceiling, max_ms);
    return ceiling / 2 + static_cast<int64_t>(random % static_cast<uint64_t>(ceiling / 2 + 1));
  }
};

}  // namespace hydrant::stream
