#pragma once
// GroupCommitter (also reachable through buffer/stream_log.h, which includes this
// header). Thread-safety: SyncThen may be called concurrently from any thread.

#include <functional>
#include <memory>

#include "common/status.h"

namespace hydrant::buffer {

class RecordLog;

// GroupCommitter: one thread that turns many "make my append durable" requests into
// one fdatasync per log per round. A caller appends, then calls SyncThen(); `done`
// runs on the committer thread after a sync that covers the append.
class GroupCommitter {
 public:
  GroupCommitter();
  ~GroupCommitter();  // finishes pending requests, then joins
  void SyncThen(std::shared_ptr<RecordLog> log, std::function<void(Status)> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydrant::buffer
