// GroupCommitter (declared in buffer/group_commit.h).
//
// Round structure: the thread waits for requests, takes the whole queue, calls
// Sync() once per distinct log in it, then runs each callback with its log's
// result. Requests that arrive while a round's syncs run wait for the next
// round, so under load one fdatasync covers every append that preceded it.

#include "buffer/group_commit.h"

#include <condition_variable>
#include <deque>
#include <thread>
#include <unordered_map>

#include "buffer/record_log.h"

namespace hydrant::buffer {

struct GroupCommitter::Impl {
  struct Request {
    std::shared_ptr<RecordLog> log;
    std::function<void(Status)> done;
  };

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Request> queue;
  bool stopping = false;
  std::thread thread;

  void Run() {
    std::deque<Request> round;
    std::unordered_map<RecordLog*, Status> results;
    for (;;) {
      {
        std::unique_lock l(mu);
        cv.wait(l, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, and everything is drained
        round.swap(queue);
      }
      results.clear();
      for (const Request& r : round) {
        auto [it, inserted] = results.try_emplace(r.log.get());
        if (inserted) it->second = r.log->Sync();
      }
      for (Request& r : round) r.done(results[r.log.get()]);
      // Drop the logs' references before waiting again.
      round.clear();
    }
  }
};

GroupCommitter::GroupCommitter() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this] { impl_->Run(); });
}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard l(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_one();
  impl_->thread.join();
}

void GroupCommitter::SyncThen(std::shared_ptr<RecordLog> log, std::function<void(Status)> done) {
  {
    std::lock_guard l(impl_->mu);
    impl_->queue.push_back(Impl::Request{std::move(log), std::move(done)});
  }
  impl_->cv.notify_one();
}

}  // namespace hydrant::buffer
