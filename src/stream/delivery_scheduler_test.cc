#include "stream/delivery_scheduler.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace hydrant::stream {
namespace {

using namespace std::chrono_literals;

// Polls until pred holds (true) or 10 s pass (false).
template <typename Pred>
bool Eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

// A gate the tasks wait on until the test opens it.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Wait() {
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return open; });
  }
  void Open() {
    {
      std::lock_guard lk(mu);
      open = true;
    }
    cv.notify_all();
  }
};

TEST(DeliverySchedulerTest, RunsAtRegistrationThenOnlyWhenMarkedDue) {
  DeliveryScheduler sched({.min_workers = 2, .max_workers = 2});
  std::atomic<int> runs{0};
  auto h = sched.Register([&] {
    ++runs;
    return DeliveryScheduler::kNoDeadline;
  });
  ASSERT_TRUE(Eventually([&] { return runs == 1; }));
  sched.MarkDue(h);
  ASSERT_TRUE(Eventually([&] { return runs == 2; }));
  sched.Unregister(h);
  const int after = runs;
  sched.MarkDue(h);  // no-op once unregistered
  sched.Unregister(h);
  EXPECT_EQ(runs, after);
}

TEST(DeliverySchedulerTest, RunsAgainAfterTheDelayItReturns) {
  DeliveryScheduler sched({.min_workers = 1, .max_workers = 1});
  std::atomic<int> runs{0};
  auto h = sched.Register([&] {
    ++runs;
    return int64_t{2};
  });
  EXPECT_TRUE(Eventually([&] { return runs >= 5; }));
  sched.Unregister(h);
}

TEST(DeliverySchedulerTest, NeverRunsOneTaskOnTwoWorkersAndRerunsWhenMarkedWhileRunning) {
  DeliveryScheduler sched({.min_workers = 4, .max_workers = 4});
  std::atomic<int> inside{0}, overlaps{0}, runs{0};
  auto h = sched.Register([&] {
    if (inside.fetch_add(1) != 0) ++overlaps;
    std::this_thread::yield();
    inside.fetch_sub(1);
    ++runs;
    return DeliveryScheduler::kNoDeadline;
  });
  std::vector<std::thread> markers;
  for (int t = 0; t < 4; ++t) {
    markers.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) sched.MarkDue(h);
    });
  }
  for (auto& t : markers) t.join();
  // The last MarkDue is never lost: a pass starts after it.
  const int before = runs;
  sched.MarkDue(h);
  EXPECT_TRUE(Eventually([&] { return runs > before; }));
  sched.Unregister(h);
  EXPECT_EQ(overlaps, 0);
}

TEST(DeliverySchedulerTest, UnregisterWaitsForThePassInProgress) {
  DeliveryScheduler sched({.min_workers = 1, .max_workers = 1});
  Gate gate;
  std::atomic<bool> started{false}, finished{false};
  auto h = sched.Register([&] {
    started = true;
    gate.Wait();
    finished = true;
    return DeliveryScheduler::kNoDeadline;
  });
  ASSERT_TRUE(Eventually([&] { return started.load(); }));
  std::atomic<bool> returned{false};
  bool finished_when_returned = false;
  std::thread t([&] {
    sched.Unregister(h);
    finished_when_returned = finished;
    returned = true;
  });
  gate.Open();
  t.join();
  EXPECT_TRUE(returned);
  EXPECT_TRUE(finished_when_returned);
}

TEST(DeliverySchedulerTest, UnregisterFromItsOwnPassDoesNotWait) {
  DeliveryScheduler sched({.min_workers = 1, .max_workers = 1});
  DeliveryScheduler::Handle h;
  std::mutex mu;
  std::atomic<bool> done{false};
  {
    std::lock_guard lk(mu);
    h = sched.Register([&] {
      std::lock_guard l(mu);
      sched.Unregister(h);
      done = true;
      return int64_t{0};
    });
  }
  EXPECT_TRUE(Eventually([&] { return done.load(); }));
}

TEST(DeliverySchedulerTest, GrowsWhileEveryWorkerIsBlockedUpToTheCapThenShrinks) {
  DeliveryScheduler sched({.min_workers = 1, .max_workers = 3, .idle_ms = 20});
  Gate gate;
  std::atomic<int> started{0};
  std::vector<DeliveryScheduler::Handle> blocked;
  for (int i = 0; i < 5; ++i) {
    blocked.push_back(sched.Register([&] {
      ++started;
      gate.Wait();
      return DeliveryScheduler::kNoDeadline;
    }));
  }
  // Three tasks blocked (a Lambda call each): the pool grew from 1 to its cap.
  ASSERT_TRUE(Eventually([&] { return started == 3; }));
  EXPECT_EQ(sched.peak_workers(), 3u);
  // A task that does not block still waits for a worker: the cap holds.
  EXPECT_EQ(sched.workers(), 3u);
  gate.Open();
  ASSERT_TRUE(Eventually([&] { return started == 5; }));
  EXPECT_EQ(sched.peak_workers(), 3u);
  // Idle again: back to min_workers.
  EXPECT_TRUE(Eventually([&] { return sched.workers() == 1; }));
  for (auto& h : blocked) sched.Unregister(h);
}

TEST(DeliverySchedulerTest, ManyIdleTasksNeedNoMoreThanTheMinimumOfWorkers) {
  DeliveryScheduler sched({.min_workers = 2, .max_workers = 32, .idle_ms = 20});
  std::atomic<int> runs{0};
  std::vector<DeliveryScheduler::Handle> tasks;
  for (int i = 0; i < 5000; ++i) {
    tasks.push_back(sched.Register([&] {
      ++runs;
      return DeliveryScheduler::kNoDeadline;
    }));
  }
  ASSERT_TRUE(Eventually([&] { return runs == 5000; }));
  EXPECT_TRUE(Eventually([&] { return sched.workers() == 2; }));
  for (auto& h : tasks) sched.Unregister(h);
}

}  // namespace
}  // namespace hydrant::stream
