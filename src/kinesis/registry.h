#pragma once
// KinesisRegistry: the account's Kinesis data streams, by name, each in its
// folder under <data-dir>/kinesis/streams/<name>/, reopened (with their records)
// at start. Owns the group committer their shard logs sync through, the key of
// the shard iterators (<data-dir>/kinesis/iterator.key), and the account's
// bounds: how many streams, and how many open shards across them (AWS's shard
// quota; LimitExceededException beyond). A background thread drops expired
// records every `trim_every`. A stream folder that cannot be opened at start
// (damaged stream.json, log) is logged and left untouched, its name kept; the
// other streams open. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/account.h"
#include "common/status.h"
#include "kinesis/kinesis_stream.h"
#include "kinesis/shard_iterator.h"

namespace hydrant::kinesis {

struct RegistryOptions {
  std::string dir;  // <data-dir>/kinesis
  AccountContext account;
  size_t max_streams = 1000;
  size_t max_open_shards = 500;  // across every stream (AWS's default shard quota)
  buffer::DiskQuota* quota = nullptr;  // optional, not owned
  const Clock* clock = nullptr;        // null: the system clock
  Env* env = nullptr;
  uint64_t segment_bytes = 16ull << 20;
  std::chrono::milliseconds trim_every{std::chrono::seconds(60)};  // zero: no thread
};

class KinesisRegistry {
 public:
  static Result<std::unique_ptr<KinesisRegistry>> Open(const RegistryOptions& opts);
  ~KinesisRegistry();  // stops the trim thread, drains pending syncs

  // A new stream of `shard_count` even shards. AlreadyExists (ResourceInUse),
  // ResourceExhausted (LimitExceeded) with the API's message.
  Result<std::shared_ptr<KinesisStream>> Create(const std::string& name, uint32_t shard_count,
                                                const std::string& mode,
                                                const std::map<std::string, std::string>& tags);
  std::shared_ptr<KinesisStream> Get(const std::string& name) const;
  Status Delete(const std::string& name);
  std::vector<std::string> List() const;  // sorted
  size_t open_shards() const;             // across every stream

  // Reshards through the registry, which checks the account's open-shard quota.
  Status Split(KinesisStream& s, uint32_t shard, HashKey new_start);
  Status Merge(KinesisStream& s, uint32_t shard, uint32_t adjacent);
  Status UpdateShardCount(KinesisStream& s, uint32_t target);

  std::string Arn(const std::string& name) const;
  const IteratorCodec& iterators() const { return *iterators_; }
  const RegistryOptions& options() const { return opts_; }
  const Clock& clock() const { return *opts_.clock; }
  // Runs one retention pass over every stream now.
  uint64_t TrimAll();

 private:
  explicit KinesisRegistry(const RegistryOptions& opts);
  StreamDeps Deps();
  Status CheckShardQuota(size_t more) const;  // under control_mu_

  RegistryOptions opts_;
  std::unique_ptr<buffer::GroupCommitter> committer_;
  std::unique_ptr<IteratorCodec> iterators_;
  mutable std::mutex mu_;       // streams_
  std::mutex control_mu_;       // one control-plane change at a time (quota checks)
  std::map<std::string, std::shared_ptr<KinesisStream>> streams_;
  // Streams whose folder could not be opened at start: name -> why.
  std::map<std::string, std::string> damaged_;
  std::mutex trim_mu_;
  std::condition_variable trim_cv_;
  bool stop_ = false;
  std::thread trim_thread_;
};

}  // namespace hydrant::kinesis
