#pragma once
// StreamRegistry: the account's delivery streams, by name. Owns each stream's
// DeliveryStream and its folder under <data-dir>/streams; reopens them (and their
// undelivered data) at start. Owns the DeliveryScheduler that runs their
// delivery, and flocks <data-dir>/streams.lock while open (one fd for every
// stream's logs: a second process on the same data directory fails to open).
// Thread-safe.
//
// One stream that cannot be opened never takes the others down: it is
// *quarantined* (logged, listed by Quarantined() for /health and the doctor), its
// folder is kept as it is, its name stays taken (a Create cannot write over its
// data), and opening it is retried every `quarantine_retry` until it succeeds.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
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
  // How many streams may keep their logs' files open at once (FileBudget); 0 = no
  // bound. The server derives it from RLIMIT_NOFILE (FileBudget::ForFileLimit).
  size_t max_streams_with_open_files = 0;
  // Set when delivery roles are enforced: OK when Firehose may assume the role
  // (it exists and trusts firehose.amazonaws.com; iam::ServiceRoles). Create
  // and UpdateDestination check every RoleARN of the request with it.
  std::function<Status(std::string_view role_arn)> role_check;
  // Set when Kinesis streams can be sources: OK when the stream of this ARN can
  // be read (hydrant's own, or an external one configured). Create checks the
  // KinesisStreamARN of a KinesisStreamAsSource stream with it.
  std::function<Status(std::string_view stream_arn)> kinesis_source_check;
  // The KMS of stream encryption at rest (StartDeliveryStreamEncryption); null =
  // streams cannot be encrypted (Start fails). Not owned.
  buffer::LogKeyService* log_keys = nullptr;
  // How often opening a quarantined stream is tried again; zero = never.
  std::chrono::milliseconds quarantine_retry{std::chrono::seconds(30)};
};

// A stream that could not be opened (see StreamRegistry).
struct QuarantinedStream {
  std::string name;
  std::string dir;
  std::string reason;     // the last failure
  int64_t since_ms = 0;   // when it was first quarantined
  uint64_t attempts = 0;  // opening attempts so far
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
  // What was repaired in a stream's folder at start (a definition rebuilt from its
  // copy), one line each; empty for most streams.
  std::vector<std::string> StartNotes(const std::string& name) const;
  // Streams that could not be opened, sorted by name.
  std::vector<QuarantinedStream> Quarantined() const;
  // Tries once to open every quarantined stream (what the retry timer does);
  // returns how many opened.
  size_t RetryQuarantined();
  buffer::DiskQuota* quota() { return quota_.get(); }
  // Threads of deletions held (running, or finished and not joined yet): a
  // later Delete joins the finished ones.
  size_t BackgroundDeletions() const;

  // Counters of account-level operations (ListDeliveryStreams).
  AccountProbe& account_probe() { return account_probe_; }
  const AccountProbe& account_probe() const { return account_probe_; }

 private:
  explicit StreamRegistry(const RegistryOptions& opts);
  DeliveryDeps Deps();
  // Records `name` as quarantined (or its new failure), and logs it.
  void Quarantine(const std::string& name, std::optional<StreamMeta> meta, const Status& why);
  void RetryLoop();

  struct QuarantineEntry {
    QuarantinedStream info;
    std::optional<StreamMeta> meta;  // null when the definition itself is unreadable
  };

  RegistryOptions opts_;
  FileDefinitionStore files_;       // the streams' folders (and, by default, definitions)
  DefinitionStore* definitions_;    // opts_.definitions or &files_
  store::ObjectSink* sink_ = nullptr;
  const Clock* clock_ = nullptr;
  std::unique_ptr<buffer::DiskQuota> quota_;
  AccountProbe account_probe_;
  std::unique_ptr<buffer::GroupCommitter> committer_;
  std::unique_ptr<DeliveryScheduler> scheduler_;
  std::unique_ptr<FileBudget> files_budget_;  // null: no bound
  int lock_fd_ = -1;  // streams.lock, flock'ed
  naming::RandomSource random_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<DeliveryStream>> streams_;
  // Names whose files are being made or removed: not creatable until that is done.
  std::set<std::string> creating_, deleting_;
  // Background deletions: joined by the destructor, or by a later Delete once
  // they have put their id in finished_reapers_ (so churn never piles up threads).
  std::vector<std::thread> reapers_;
  std::vector<std::thread::id> finished_reapers_;
  std::map<std::string, QuarantineEntry> quarantined_;
  std::map<std::string, std::vector<std::string>> start_notes_;
  std::mutex retry_mu_;  // serializes retries; taken before mu_
  std::condition_variable retry_cv_;
  bool stopping_ = false;  // under mu_
  std::thread retry_thread_;
};

}  // namespace hydrant::stream
