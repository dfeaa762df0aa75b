#include "stream/file_budget.h"

#include <algorithm>
#include <vector>

namespace hydrant::stream {

FileBudget::FileBudget(size_t max_holders) : max_(std::max<size_t>(1, max_holders)) {}

size_t FileBudget::ForFileLimit(uint64_t fd_limit, size_t fds_per_holder) {
  const uint64_t n = fd_limit / 2 / std::max<size_t>(1, fds_per_holder);
  return static_cast<size_t>(std::clamp<uint64_t>(n, 16, SIZE_MAX / 2));
}

void FileBudget::Use(Holder& h) {
  h.used_.store(clock_.fetch_add(1, std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (h.listed_.load(std::memory_order_acquire) || h.self_.expired()) return;
  // Declared before the lock: the last reference to a holder may be dropped here,
  // and a holder's destructor calls Released.
  std::vector<std::pair<uint64_t, std::shared_ptr<Holder>>> all;
  std::vector<std::shared_ptr<Holder>> victims;
  {
    std::lock_guard l(mu_);
    if (!h.listed_.exchange(true)) holders_[&h] = h.self_;
    if (holders_.size() <= max_) return;
    // Over the bound: the least recently used eighth of the bound goes (not
    // one at a time, so that a stream of new holders does not sort per use).
    all.reserve(holders_.size());
    for (auto it = holders_.begin(); it != holders_.end();) {
      std::shared_ptr<Holder> p = it->second.lock();
      if (!p) {
        it = holders_.erase(it);  // gone without Released
        continue;
      }
      if (p.get() != &h) all.emplace_back(p->used_.load(std::memory_order_relaxed), std::move(p));
      ++it;
    }
    if (holders_.size() <= max_) return;
    const size_t over = holders_.size() - max_;
    const size_t n = std::min(all.size(), over + max_ / 8);
    std::nth_element(all.begin(), all.begin() + static_cast<ptrdiff_t>(n), all.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < n; ++i) {
      holders_.erase(all[i].second.get());
      all[i].second->listed_.store(false, std::memory_order_release);
      victims.push_back(std::move(all[i].second));
    }
  }
  // Outside the budget's lock: releasing takes each log's own lock.
  for (auto& v : victims) v->ReleaseFiles();
  evictions_.fetch_add(victims.size(), std::memory_order_relaxed);
}

void FileBudget::Released(Holder& h) {
  if (!h.listed_.load(std::memory_order_acquire)) return;
  std::lock_guard l(mu_);
  if (h.listed_.exchange(false)) holders_.erase(&h);
}

size_t FileBudget::listed() const {
  std::lock_guard l(mu_);
  return holders_.size();
}

}  // namespace hydrant::stream
