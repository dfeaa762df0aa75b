#include "server/body_budget.h"

#include <utility>
#include <vector>

namespace hydrant::server {

BodyBudget::Id BodyBudget::Open(std::function<void()> cut) {
  std::lock_guard lk(mu_);
  Id id = next_id_++;
  open_[id].cut = std::move(cut);
  return id;
}

bool BodyBudget::Grow(Id id, uint64_t delta) {
  std::vector<std::function<void()>> victims;
  bool granted = false;
  {
    std::lock_guard lk(mu_);
    auto self = open_.find(id);
    if (self == open_.end()) return false;  // cut earlier
    while (total_ + delta > cap_ && !open_.empty()) {
      auto oldest = open_.begin();
      total_ -= oldest->second.bytes;
      ++cuts_;
      const bool is_self = oldest->first == id;
      if (!is_self) victims.push_back(std::move(oldest->second.cut));
      open_.erase(oldest);
      if (is_self) break;
    }
    self = open_.find(id);
    if (self != open_.end()) {
      self->second.bytes += delta;
      total_ += delta;
      granted = true;
    }
  }
  for (auto& cut : victims) {
    if (cut) cut();
  }
  return granted;
}

void BodyBudget::Close(Id id) {
  std::lock_guard lk(mu_);
  auto it = open_.find(id);
  if (it == open_.end()) return;
  total_ -= it->second.bytes;
  open_.erase(it);
}

uint64_t BodyBudget::total() const {
  std::lock_guard lk(mu_);
  return total_;
}

uint64_t BodyBudget::cuts() const {
  std::lock_guard lk(mu_);
  return cuts_;
}

}  // namespace hydrant::server
