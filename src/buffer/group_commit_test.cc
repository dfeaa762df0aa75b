// GroupCommitter: every request is answered once, after a sync that covers it,
// and concurrent requests share fdatasync calls.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <thread>

#include "buffer/log_test_util.h"
#include "buffer/stream_log.h"

namespace hydrant::buffer {
namespace {

using testing::ReadAll;
using testing::TempDir;

std::shared_ptr<StreamLog> OpenShared(const std::string& dir) {
  auto r = StreamLog::Open(dir, {}, nullptr);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::shared_ptr<StreamLog>(std::move(r).value());
}

TEST(GroupCommitterTest, ManyThreadsShareSyncs) {
  TempDir tmp;
  auto log = OpenShared(tmp.Sub("log"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  constexpr int kRequests = kThreads * kPerThread;
  std::vector<std::atomic<int>> calls(kRequests);
  std::atomic<int> not_ok{0};
  std::atomic<int> unsynced_when_done{0};
  {
    GroupCommitter committer;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          int id = t * kPerThread + i;
          std::string p = "req-" + std::to_string(id);
          std::string_view v[] = {p};
          // Any fdatasync that covers this append completes after this read.
          uint64_t syncs_before = log->sync_count();
          auto seq = log->Append(id, v);
          ASSERT_TRUE(seq.ok());
          std::promise<void> answered;
          committer.SyncThen(log, [&, id, syncs_before](Status st) {
            if (!st.ok()) not_ok.fetch_add(1);
            // Some fdatasync completed after the append (its own round's or an
            // overlapping one's).
            if (log->sync_count() <= syncs_before) unsynced_when_done.fetch_add(1);
            calls[id].fetch_add(1);
            answered.set_value();
          });
          answered.get_future().wait();  // the producer waits for its ack
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(calls[i].load(), 1) << "request " << i;
  EXPECT_EQ(not_ok.load(), 0);
  EXPECT_EQ(unsynced_when_done.load(), 0);
  EXPECT_GT(log->sync_count(), 0u);
  EXPECT_LT(log->sync_count(), uint64_t(kRequests));
  EXPECT_EQ(ReadAll(*log).size(), size_t(kRequests));
}

TEST(GroupCommitterTest, RequestsArrivingDuringARoundShareTheNextSync) {
  // Hold the first round inside its callback until 50 more requests are queued:
  // they must all be served by exactly one more fdatasync.
  TempDir tmp;
  auto log = OpenShared(tmp.Sub("log"));
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> done{0};
  std::atomic<bool> in_first_round{false};
  {
    GroupCommitter committer;
    std::string_view v[] = {"first"};
    ASSERT_TRUE(log->Append(1, v).ok());
    committer.SyncThen(log, [&](Status st) {
      EXPECT_TRUE(st.ok());
      in_first_round = true;
      std::unique_lock l(mu);
      cv.wait(l, [&] { return release; });
      done.fetch_add(1);
    });
    // Queue the others only once the first round is under way (its sync done).
    while (!in_first_round) std::this_thread::yield();
    for (int i = 0; i < 50; ++i) {
      std::string p = std::to_string(i);
      std::string_view w[] = {p};
      ASSERT_TRUE(log->Append(2, w).ok());
      committer.SyncThen(log, [&](Status st) {
        EXPECT_TRUE(st.ok());
        done.fetch_add(1);
      });
    }
    {
      std::lock_guard l(mu);
      release = true;
    }
    cv.notify_all();
  }  // the destructor drains the queue
  EXPECT_EQ(done.load(), 51);
  EXPECT_EQ(log->sync_count(), 2u);
}

TEST(GroupCommitterTest, OneSyncPerDistinctLogPerRound) {
  TempDir tmp;
  auto a = OpenShared(tmp.Sub("a"));
  auto b = OpenShared(tmp.Sub("b"));
  std::promise<void> gate;
  std::shared_future<void> gate_future = gate.get_future().share();
  std::atomic<int> done{0};
  {
    GroupCommitter committer;
    // A blocker with nothing to sync holds the thread while the real requests queue up.
    auto idle = OpenShared(tmp.Sub("idle"));
    committer.SyncThen(idle, [&](Status) { gate_future.wait(); });
    for (int i = 0; i < 10; ++i) {
      for (auto* log : {&a, &b}) {
        std::string_view v[] = {"x"};
        ASSERT_TRUE((*log)->Append(1, v).ok());
        committer.SyncThen(*log, [&](Status st) {
          EXPECT_TRUE(st.ok());
          done.fetch_add(1);
        });
      }
    }
    gate.set_value();
  }
  EXPECT_EQ(done.load(), 20);
  EXPECT_EQ(a->sync_count(), 1u);
  EXPECT_EQ(b->sync_count(), 1u);
}

TEST(GroupCommitterTest, SyncFailureIsPassedToTheCallback) {
  TempDir tmp;
  auto log = OpenShared(tmp.Sub("log"));
  ASSERT_TRUE(log->Destroy().ok());
  std::promise<Status> result;
  {
    GroupCommitter committer;
    committer.SyncThen(log, [&](Status st) { result.set_value(st); });
  }
  EXPECT_FALSE(result.get_future().get().ok());
}

}  // namespace
}  // namespace hydrant::buffer
