#include "stream/pacer.h"

#include <algorithm>
#include <cmath>

namespace hydrant::stream {

namespace {
constexpr int64_t kMinSampleMs = 100;
}  // namespace

void DeliveryPacer::ObserveIngest(int64_t now_ms, uint64_t total_bytes) {
  if (!sampled_ || now_ms < last_ms_ || total_bytes < last_total_) {
    sampled_ = true;
    last_ms_ = now_ms;
    last_total_ = total_bytes;
    return;
  }
  const int64_t dt = now_ms - last_ms_;
  if (dt < kMinSampleMs) return;
  const double inst = static_cast<double>(total_bytes - last_total_) * 1000.0 / static_cast<double>(dt);
  const double alpha =
      1.0 - std::exp(-static_cast<double>(dt) / static_cast<double>(std::max<int64_t>(1, o_.rate_time_constant_ms)));
  rate_ += alpha * (inst - rate_);
  last_ms_ = now_ms;
  last_total_ = total_bytes;
}

double DeliveryPacer::limit_bytes_per_s() const {
  return std::max(o_.floor_bytes_per_s, o_.ingest_multiple * rate_);
}

int64_t DeliveryPacer::Delay(int64_t now_ms, uint64_t bytes) {
  // The caller waited as told: at least that time has passed, whatever the clock
  // says (a fake clock, one stepped back: time stands still until it catches up).
  const double now = std::max(static_cast<double>(now_ms), resume_ms_);
  const double earliest = now - static_cast<double>(o_.burst_ms);
  const double start = paying_ ? std::max(paid_until_ms_, earliest) : earliest;
  paying_ = true;
  paid_until_ms_ = start + static_cast<double>(bytes) * 1000.0 / limit_bytes_per_s();
  double ahead = paid_until_ms_ - now;
  if (ahead > static_cast<double>(o_.max_ahead_ms)) {
    paid_until_ms_ = now + static_cast<double>(o_.max_ahead_ms);
    ahead = static_cast<double>(o_.max_ahead_ms);
  }
  const int64_t wait =
      ahead < static_cast<double>(o_.min_wait_ms) ? 0 : static_cast<int64_t>(std::ceil(ahead));
  resume_ms_ = now + static_cast<double>(wait);
  return wait;
}

}  // namespace hydrant::stream
