// A bound on how many delivery streams keep their logs' files open between
// calls. A stream's log keeps its active segment (and folder) open while puts
// come, so that a put does not open a file; with thousands of busy streams and a
// low RLIMIT_NOFILE that is more fds than the process has. Past the bound, the
// streams used least recently close their files (the next put or read opens
// what it needs again), so fds stay bounded whatever the number of busy streams
// (docs/reliability.md, "Thousands of streams").

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace hydrant::stream {

class FileBudget {
 public:
  // What keeps files open: a delivery stream (its two logs).
  class Holder {
   public:
    virtual ~Holder() = default;
    // Closes the files kept open between calls; safe from any thread, at any time.
    virtual void ReleaseFiles() = 0;

   protected:
    // The shared_ptr that owns this holder (set once, before the first Use).
    void BindBudgetSelf(std::weak_ptr<Holder> self) { self_ = std::move(self); }

   private:
    friend class FileBudget;
    std::weak_ptr<Holder> self_;
    std::atomic<bool> listed_{false};
    std::atomic<uint64_t> used_{0};
  };

  // max_holders: how many holders may keep files open at once (at least 1).
  explicit FileBudget(size_t max_holders);

  // The holder used its files now (a put, a delivery pass). Listed holders cost
  // two atomics; a new one past the bound makes the least recently used ones
  // (about an eighth of the bound at once) release their files, on this thread.
  void Use(Holder& h);
  // The holder is about to close its files itself (idle), or is going away.
  void Released(Holder& h);

  // The usual bound for a process that may open `fd_limit` files: half of them
  // for logs (the rest for connections, objects and the store), `fds_per_holder`
  // each.
  static size_t ForFileLimit(uint64_t fd_limit, size_t fds_per_holder);

  size_t max_holders() const { return max_; }
  size_t listed() const;
  // Holders made to release their files so far.
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  const size_t max_;
  std::atomic<uint64_t> clock_{0};
  std::atomic<uint64_t> evictions_{0};
  mutable std::mutex mu_;
  std::unordered_map<Holder*, std::weak_ptr<Holder>> holders_;
};

}  // namespace hydrant::stream
