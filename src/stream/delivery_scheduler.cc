// The worker pool behind DeliveryScheduler (stream/delivery_scheduler.h).

#include "stream/delivery_scheduler.h"

#include <algorithm>

namespace hydrant::stream {

struct DeliveryScheduler::Task {
  explicit Task(Pass p) : pass(std::move(p)) {}
  Pass pass;
  // All guarded by the scheduler's mu_.
  bool queued = false;
  TimePoint queued_at;
  bool running = false;
  bool rerun = false;    // marked due while running
  bool removed = false;  // Unregister
  std::thread::id runner;
};

namespace {
SchedulerOptions Normalized(SchedulerOptions o) {
  o.max_workers = std::max<size_t>(1, o.max_workers);
  o.min_workers = std::min(o.min_workers, o.max_workers);
  return o;
}
}  // namespace

DeliveryScheduler::DeliveryScheduler(SchedulerOptions opts) : opts_(Normalized(opts)) {
  std::lock_guard lk(mu_);
  while (threads_.size() < opts_.min_workers) {
    ++starting_;
    auto it = threads_.emplace(threads_.end());
    *it = std::thread([this, it] { WorkerLoop(it); });
  }
  peak_ = threads_.size();
}

DeliveryScheduler::~DeliveryScheduler() {
  std::list<std::thread> threads;
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    queue_.clear();
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

DeliveryScheduler::Handle DeliveryScheduler::Register(Pass pass) {
  auto task = std::make_shared<Task>(std::move(pass));
  std::lock_guard lk(mu_);
  ScheduleLocked(task, std::chrono::steady_clock::now());
  return task;
}

void DeliveryScheduler::MarkDue(const Handle& task) {
  std::lock_guard lk(mu_);
  if (task->removed) return;
  if (task->running) {
    task->rerun = true;
    return;
  }
  const TimePoint now = std::chrono::steady_clock::now();
  if (task->queued && task->queued_at <= now) return;
  ScheduleLocked(task, now);
}

void DeliveryScheduler::Unregister(const Handle& task) {
  std::unique_lock lk(mu_);
  task->removed = true;
  if (task->queued) {
    queue_.erase({task->queued_at, task});
    task->queued = false;
  }
  if (task->runner == std::this_thread::get_id()) return;  // from its own pass
  done_cv_.wait(lk, [&] { return !task->running; });
}

size_t DeliveryScheduler::workers() const {
  std::lock_guard lk(mu_);
  return threads_.size();
}

size_t DeliveryScheduler::peak_workers() const {
  std::lock_guard lk(mu_);
  return peak_;
}

void DeliveryScheduler::ScheduleLocked(const Handle& task, TimePoint at) {
  if (stop_) return;
  if (task->queued) queue_.erase({task->queued_at, task});
  task->queued = true;
  task->queued_at = at;
  const bool earliest = queue_.empty() || at < queue_.begin()->first;
  queue_.emplace(at, task);
  if (earliest) cv_.notify_one();
  MaybeGrowLocked();
}

void DeliveryScheduler::MaybeGrowLocked() {
  // Every worker is in a pass (a Lambda call or a paced object can take minutes):
  // add one, so that a queued task's deadline is still watched.
  if (stop_ || idle_ + starting_ > 0 || queue_.empty() || threads_.size() >= opts_.max_workers) {
    return;
  }
  ++starting_;
  auto it = threads_.emplace(threads_.end());
  *it = std::thread([this, it] { WorkerLoop(it); });
  peak_ = std::max(peak_, threads_.size());
}

void DeliveryScheduler::WorkerLoop(std::list<std::thread>::iterator self) {
  std::unique_lock lk(mu_);
  --starting_;
  auto last_work = std::chrono::steady_clock::now();
  while (!stop_) {
    const TimePoint now = std::chrono::steady_clock::now();
    if (!queue_.empty() && queue_.begin()->first <= now) {
      Handle task = queue_.begin()->second;
      queue_.erase(queue_.begin());
      task->queued = false;
      task->running = true;
      task->runner = std::this_thread::get_id();
      MaybeGrowLocked();
      lk.unlock();
      const int64_t delay = task->pass();
      lk.lock();
      task->running = false;
      task->runner = std::thread::id();
      last_work = std::chrono::steady_clock::now();
      if (!task->removed) {
        if (task->rerun) {
          task->rerun = false;
          ScheduleLocked(task, last_work);
        } else if (delay != kNoDeadline) {
          ScheduleLocked(task, last_work + std::chrono::milliseconds(std::max<int64_t>(0, delay)));
        }
      }
      done_cv_.notify_all();
      continue;
    }
    const TimePoint idle_until = last_work + std::chrono::milliseconds(opts_.idle_ms);
    const bool spare = threads_.size() > opts_.min_workers;
    if (spare && now >= idle_until) {
      // Idle long enough: leave. Nothing of *this is touched after the unlock.
      self->detach();
      threads_.erase(self);
      return;
    }
    TimePoint until = spare ? idle_until : TimePoint::max();
    if (!queue_.empty()) until = std::min(until, queue_.begin()->first);
    ++idle_;
    if (until == TimePoint::max()) {
      cv_.wait(lk);
    } else {
      cv_.wait_until(lk, until);
    }
    --idle_;
  }
}

}  // namespace hydrant::stream
