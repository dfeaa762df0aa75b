#include "buffer/disk_quota.h"

namespace hydrant::buffer {

bool DiskQuota::TryReserve(uint64_t n) {
  uint64_t cur = used_.load();
  do {
    if (n > limit_ || cur > limit_ - n) return false;
  } while (!used_.compare_exchange_weak(cur, cur + n));
  return true;
}

void DiskQuota::Release(uint64_t n) { used_.fetch_sub(n); }

}  // namespace hydrant::buffer
