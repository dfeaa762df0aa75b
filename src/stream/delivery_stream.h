#pragma once
// DeliveryStream: one stream's data path. Puts go into its durable log
// (buffer::StreamLog) and are answered once a group commit has made them durable;
// a delivery thread of its own turns durable records into Firehose-named objects
// by BufferingHints (size or interval, whichever first) and removes them from the
// log only after the object is written. A failing destination is retried with
// backoff, never blocking other streams, until the retention period ends.
//
// Exactly-once objects across crashes: before the first attempt at a batch, its
// record range and object key are persisted (delivery.json); after a restart the
// same range is written under the same key, overwriting rather than duplicating.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "api/destination_config.h"
#include "buffer/stream_log.h"
#include "common/clock.h"
#include "common/status.h"
#include "destinations/naming.h"
#include "destinations/object_store.h"
#include "processing/processor.h"
#include "stream/probe.h"
#include "stream/stream_meta.h"

namespace hydrant::stream {

struct DeliveryOptions {
  int64_t retention_ms = 24ll * 3600 * 1000;  // undeliverable data is dropped after this
  int64_t min_backoff_ms = 500;
  int64_t max_backoff_ms = 15000;
  uint64_t segment_bytes = 64ull << 20;
};

struct DeliveryDeps {
  store::ObjectSink* sink = nullptr;            // where objects go
  buffer::GroupCommitter* committer = nullptr;  // shared
  buffer::DiskQuota* quota = nullptr;           // shared, optional
  const Clock* clock = nullptr;
  naming::RandomSource random;
  processing::FunctionInvoker* invoker = nullptr;  // runs Lambda processors; not owned
  std::string region;                               // for Lambda events
  DeliveryOptions options;
};

class DeliveryStream : public std::enable_shared_from_this<DeliveryStream> {
 public:
  // Opens (recovering) the stream's log under `dir` and starts its delivery thread.
  static Result<std::shared_ptr<DeliveryStream>> Open(const std::string& dir, StreamMeta meta,
                                                      DeliveryDeps deps);
  ~DeliveryStream();

  // Appends the records and calls done(first sequence number) once they are durable,
  // or done(error): ResourceExhausted when the disk quota is reached (nothing written).
  void Put(int64_t arrival_ms, std::span<const std::string_view> payloads,
           std::function<void(Result<uint64_t>)> done);

  StreamMeta Meta() const;
  // Replaces the metadata (destination update, tags), persisting it first.
  Status SetMeta(StreamMeta meta);
  // Read-modify-write of the metadata: hold this across Meta() ... SetMeta() so that
  // concurrent control-plane calls (a tag and an update, two updates with the same
  // VersionId) serialize instead of overwriting each other.
  std::unique_lock<std::mutex> LockForUpdate() { return std::unique_lock<std::mutex>(update_mu_); }

  // Hot-path views of the metadata, without copying it.
  const std::string& incarnation() const { return incarnation_; }
  bool encrypted() const { return encrypted_.load(std::memory_order_relaxed); }

  const StreamProbe& probe() const { return probe_; }
  StreamProbe& probe() { return probe_; }
  const std::string& dir() const { return dir_; }
  uint64_t backlog_records() const;
  uint64_t backlog_disk_bytes() const;

  // Stops the delivery thread (data stays on disk).
  void Stop();
  // Stops and deletes every file of the stream.
  Status Destroy();

 private:
  DeliveryStream(std::string dir, StreamMeta meta, DeliveryDeps deps);
  void Run();
  // Builds and writes one object from [start, durable end); returns whether the
  // stream made progress.
  bool DeliverOnce(uint64_t start, uint64_t durable_end);
  Status PersistInflight();

  struct Inflight {
    uint64_t start = 0, end = 0;
    int64_t oldest_ms = 0;
    std::string key;         // destination object
    // Error objects by error output type ("processing-failed", "decompression-failed"),
    // fixed when the first failed record of that type is met.
    std::map<std::string, std::string> error_keys;
    std::string backup_key;  // source record backup object (S3BackupMode Enabled)
    uint64_t bytes = 0;
    bool from_previous_run = false;
  };

  const std::string dir_;
  DeliveryDeps deps_;
  std::shared_ptr<buffer::StreamLog> log_;
  StreamProbe probe_;
  const std::string incarnation_;
  std::atomic<bool> encrypted_{false};

  std::mutex update_mu_;  // see LockForUpdate()
  mutable std::mutex mu_;
  std::condition_variable cv_;
  StreamMeta meta_;
  api::S3DeliveryConfig config_;
  std::optional<api::S3DeliveryConfig> backup_config_;  // S3BackupMode Enabled
  std::shared_ptr<processing::Pipeline> pipeline_;       // null: no processing
  std::string pipeline_error_;  // the ProcessingConfiguration could not be built
  // Rebuilds config_, backup_config_ and pipeline_ from meta_ (mu_ held).
  void ApplyMetaLocked();
  uint64_t durable_end_ = 0;       // records below this are acknowledged
  int64_t pending_bytes_ = 0;      // payload bytes durable but not delivered (a trigger)
  std::optional<Inflight> inflight_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};  // stop_ for readers outside mu_ (between chunks)
  std::thread thread_;
};

}  // namespace hydrant::stream
