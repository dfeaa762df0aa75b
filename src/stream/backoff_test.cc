#include "stream/backoff.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace hydrant::stream {
namespace {

TEST(Backoff, DoublesFromMinToMaxAndDrawsBetweenHalfAndAll) {
  const Backoff b{.min_ms = 500, .max_ms = 15000};
  const int64_t ceilings[] = {500, 1000, 2000, 4000, 8000, 15000, 15000};
  for (int failures = 1; failures <= 7; ++failures) {
    const int64_t c = ceilings[failures - 1];
    SCOPED_TRACE(failures);
    EXPECT_EQ(b.Delay(failures, 0), c / 2);
    EXPECT_EQ(b.Delay(failures, static_cast<uint64_t>(c / 2)), c);
    for (uint64_t r : {uint64_t{1}, uint64_t{12345}, std::numeric_limits<uint64_t>::max()}) {
      const int64_t d = b.Delay(failures, r);
      EXPECT_GE(d, c / 2);
      EXPECT_LE(d, c);
    }
  }
  // Many failures in a row neither overflow nor pass the cap.
  EXPECT_EQ(b.Delay(1000, 0), 7500);
  EXPECT_LE(b.Delay(1000, std::numeric_limits<uint64_t>::max()), 15000);
}

}  // namespace
}  // namespace hydrant::stream
