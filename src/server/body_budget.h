#pragma once
// BodyBudget: the bound on the memory that partial request bodies (bodies still
// arriving) hold across all connections. Each body being read is registered
// (Open) and asks for room before it grows (Grow); when the total would pass the
// cap, the oldest bodies are cut first (their `cut` callbacks run, their bytes
// are released at once), since the oldest partial body is the slowest sender.
// The asking body itself is cut when it is the oldest. A body that is read
// whole gives its room back (Close).
// Policy only: no sockets or threads, so it is tested without a server.
// Thread-safe; callbacks run on the calling thread, outside the lock.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace hydrant::server {

class BodyBudget {
 public:
  using Id = uint64_t;
  explicit BodyBudget(uint64_t cap_bytes) : cap_(cap_bytes) {}

  // Registers a body holding nothing yet. `cut` is called (once, from some
  // other Grow) when this body is to be dropped to make room.
  Id Open(std::function<void()> cut);
  // Asks for `delta` more bytes for body `id`. True when granted. False when
  // `id` was cut (now or earlier): the body must be dropped.
  bool Grow(Id id, uint64_t delta);
  // Gives back everything body `id` holds; a no-op after it was cut.
  void Close(Id id);

  uint64_t total() const;
  uint64_t cap() const { return cap_; }
  uint64_t cuts() const;

 private:
  struct Entry {
    uint64_t bytes = 0;
    std::function<void()> cut;
  };
  const uint64_t cap_;
  mutable std::mutex mu_;
  Id next_id_ = 1;
  uint64_t total_ = 0;
  uint64_t cuts_ = 0;
  std::map<Id, Entry> open_;  // ids grow with time: begin() is the oldest
};

}  // namespace hydrant::server
