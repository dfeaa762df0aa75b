#pragma once
// DeliveryScheduler: runs the delivery passes of many streams on a bounded,
// elastic pool of worker threads, each task when its next deadline comes or when
// it is marked due, instead of a thread per stream (docs/architecture.md, Threads).
//
// A task is a function that runs one pass and returns when it wants to run next:
// a delay in milliseconds (0 = at once), or kNoDeadline (only when marked due).
// Contract:
//   - a task is never run by two workers at once; MarkDue while it runs makes it
//     run once more right after;
//   - Unregister waits for a pass in progress (unless called from that pass) and no
//     pass starts after it returns;
//   - the pool keeps min_workers threads; when a task is due and no worker is free
//     (all are in a pass, e.g. waiting for a Lambda function or pacing an object),
//     a worker is added, up to max_workers; a worker idle for idle_ms beyond
//     min_workers exits. With max_workers tasks blocked at once, the others wait.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace hydrant::stream {

struct SchedulerOptions {
  size_t min_workers = 2;
  size_t max_workers = 32;
  int64_t idle_ms = 10000;  // a worker above min_workers idle this long exits
};

class DeliveryScheduler {
 public:
  static constexpr int64_t kNoDeadline = -1;
  using Pass = std::function<int64_t()>;
  struct Task;  // opaque; held by the registering side
  using Handle = std::shared_ptr<Task>;

  explicit DeliveryScheduler(SchedulerOptions opts = {});
  // Joins every worker; tasks still registered are never run again.
  ~DeliveryScheduler();
  DeliveryScheduler(const DeliveryScheduler&) = delete;
  DeliveryScheduler& operator=(const DeliveryScheduler&) = delete;

  // The task is due at once.
  Handle Register(Pass pass);
  // Runs the task as soon as a worker is free (again after its pass in progress).
  void MarkDue(const Handle& task);
  // The task runs no more; waits for its pass in progress (unless called from it).
  void Unregister(const Handle& task);

  // Workers alive now, and the most there have been (tests, metrics).
  size_t workers() const;
  size_t peak_workers() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  void WorkerLoop(std::list<std::thread>::iterator self);
  // Adds a worker when a task is due, none is free and the cap allows (mu_ held).
  void MaybeGrowLocked();
  void ScheduleLocked(const Handle& task, TimePoint at);

  const SchedulerOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // workers wait here for the earliest deadline
  std::condition_variable done_cv_;  // a pass ended (Unregister waits)
  bool stop_ = false;
  // Tasks by deadline; a task is in it at most once (Task::queued_at).
  std::set<std::pair<TimePoint, Handle>> queue_;
  // Live workers; one that leaves (idle) detaches and erases itself.
  std::list<std::thread> threads_;
  size_t idle_ = 0;      // workers waiting for a task
  size_t starting_ = 0;  // workers made but not yet in their loop
  size_t peak_ = 0;
};

}  // namespace hydrant::stream
