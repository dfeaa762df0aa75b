#pragma once
// StreamRegistry: the account's delivery streams, by name. Owns each stream's
// DeliveryStream and its folder under <data-dir>/streams; reopens them (and their
// undelivered data) at start. Owns the DeliveryScheduler that runs their
// delivery, and flocks <data-dir>/streams.lock while open (one fd for every
// stream's logs: a second process on the same data directory fails to open).
// Thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "buffer/stream_log.h"
#include "common/account.h"
#include "common/clock.h"
#include "common/status.h"
#include "destinations/object_store.h"
#include "stream/definition_store.h"
#include "stream/delivery_scheduler.h"
#include "stream/delivery_stream.h"
#include "stream/probe.h"
#include "stream/stream_meta.h"

namespace hydrant::stream {

struct RegistryOptions {
  std::string data_dir;
  AccountContext account;
  uint64_t disk_quota_bytes = 0;  // 0 = unlimited
  size_t max_streams = 5000;
  DeliveryOptions delivery;
  processing::FunctionInvoker* invoker = nullptr;  // runs Lambda processors; not owned
  logs::DeliveryErrorLog* error_log = nullptr;      // error events; optional, not owned
  // Where stream definitions are kept; null = stream.json files in the streams'
  // folders (FileDefinitionStore). Not owned.
  DefinitionStore* definitions = nullptr;
  // The worker pool that runs every stream's delivery (stream/delivery_scheduler.h).
  SchedulerOptions scheduler;
};

class StreamRegistry {
 public:
  static Result<std::unique_ptr<StreamRegistry>> Open(const RegistryOptions& opts,
                                                      store::ObjectSink* sink, const Clock* clock);
  ~StreamRegistry();

  const RegistryOptions& options() const { return opts_; }
  const Clock& clock() const { return *clock_; }

  // nullptr when absent.
  std::shared_ptr<DeliveryStream> Get(const std::string& name) const;
  // AlreadyExists when the name is taken; ResourceExhausted past max_streams. The
  // stream's files are made without holding the lock puts take (Get).
  Status Create(StreamMeta meta);
  // NotFound when absent. The stream is gone from Get/List at once; its delivery
  // thread is stopped and its buffered data deleted in the background, and the name
  // cannot be re-created (AlreadyExists) until that is done.
  Status Delete(const std::string& name);
  std::vector<StreamMeta> List() const;  // sorted by name
  std::vector<std::shared_ptr<DeliveryStream>> All() const;
  buffer::DiskQuota* quota() { return quota_.get(); }
  // Counters of account-level operations (ListDeliveryStreams).
  AccountProbe& account_probe() { return account_probe_; }
  const AccountProbe& account_probe() const { return account_probe_; }

 private:
  explicit StreamRegistry(const RegistryOptions& opts);
  DeliveryDeps Deps();

  RegistryOptions opts_;
  FileDefinitionStore files_;       // the streams' folders (and, by default, definitions)
  DefinitionStore* definitions_;    // opts_.definitions or &files_
  store::ObjectSink* sink_ = nullptr;
  const Clock* clock_ = nullptr;
  std::unique_ptr<buffer::DiskQuota> quota_;
  AccountProbe account_probe_;
  std::unique_ptr<buffer::GroupCommitter> committer_;
  std::unique_ptr<DeliveryScheduler> scheduler_;
  int lock_fd_ = -1;  // streams.lock, flock'ed
  naming::RandomSource random_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<DeliveryStream>> streams_;
  // Names whose files are being made or removed: not creatable until that is done.
  std::set<std::string> creating_, deleting_;
  std::vector<std::thread> reapers_;  // background deletions, joined by the destructor
};

}  // namespace hydrant::stream
