#pragma once
// DeliveryStream: one stream's data path. Puts go into its durable log
// (buffer::StreamLog, the "source log") and are answered once a group commit has
// made them durable. Delivery runs in passes on a shared DeliveryScheduler
// (stream/delivery_scheduler.h), never two at once for a stream: each pass runs up
// to three stages, each with its own cursor, buffering and retry backoff, and
// returns the stages' next deadline (docs/architecture.md):
//
//   processing   (ProcessingConfiguration enabled) source log -> processor -> the
//                "transformed log" (a second StreamLog); failed records go to
//                processing-failed objects. Batches by the Lambda processor's
//                BufferSizeInMBs / BufferIntervalInSeconds (whichever first).
//   destination  transformed log (or the source log without processing) ->
//                Firehose-named objects, by the destination's BufferingHints
//                measured on the bytes it delivers.
//   backup       (S3BackupMode Enabled) source log -> untransformed copies in the
//                backup bucket, by the backup's own BufferingHints and compression.
//
// Source records leave the log once both processing/destination and backup are
// past them. A failing stage is retried with backoff until the retention period
// ends, never blocking other streams.
//
// Exactly once across crashes: before a batch's first object can become visible,
// its record range and object keys are persisted (delivery.json, backup.json,
// processing.json); after a restart the same range is written under the same keys,
// overwriting rather than duplicating. A processed batch enters the transformed log
// as one record carrying the source position it completes, so a crash between that
// append and the cursor update is repaired at start.

#include <atomic>
#include <chrono>
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
#include <utility>
#include <vector>

#include "api/destination_spec.h"
#include "buffer/encrypted_log.h"
#include "buffer/stream_log.h"
#include "common/clock.h"
#include "common/status.h"
#include "destinations/naming.h"
#include "destinations/object_store.h"
#include "logs/delivery_errors.h"
#include "processing/processor.h"
#include "stream/backoff.h"
#include "stream/delivery_scheduler.h"
#include "stream/file_budget.h"
#include "stream/pacer.h"
#include "stream/probe.h"
#include "stream/stream_meta.h"

namespace hydrant {
class Env;
}

namespace hydrant::stream {

class DefinitionStore;

// FailureDescription.Type for a KMS error (Status::error_code()).
std::string_view KmsFailureType(std::string_view kms_error_code);
// "KMS.<KMS exception>" when `st` is a KMS error (its error_code() a KMS
// exception name: the key of the stream's encryption at rest cannot be used),
// else "".
std::string_view KmsErrorCode(const Status& st);
// The delivery error code of a failed log read: "KMS.<KMS exception>" when the
// key of the stream's encryption at rest cannot be used, else "InternalError".
std::string_view LogReadErrorCode(const Status& st);
// The key of an encryption description or input: its KeyARN for
// CUSTOMER_MANAGED_CMK, "" (hydrant's own key) for AWS_OWNED_CMK.
std::string KeyAtRest(const boost::json::object& description);

struct DeliveryOptions {
  int64_t retention_ms = 24ll * 3600 * 1000;  // undeliverable data is dropped after this
  Backoff backoff;  // how long a failing stage waits before its next attempt
  uint64_t segment_bytes = 64ull << 20;
  // The logs' file system (common/env.h); null = the OS. Tests pass a FaultEnv.
  Env* env = nullptr;
  // Object writes to the local disk (the embedded store) are paced to the stream's
  // ingest rate (stream/pacer.h); false = always at full speed.
  bool pace_local_writes = true;
  PacerOptions pacing;
  // Each log flocks its folder (buffer::LogOptions::lock_dir): an fd per log. The
  // registry locks its data directory once instead and turns this off.
  bool lock_logs = true;
};

struct DeliveryDeps {
  store::ObjectSink* sink = nullptr;            // where objects go
  buffer::GroupCommitter* committer = nullptr;  // shared
  buffer::DiskQuota* quota = nullptr;           // shared, optional
  const Clock* clock = nullptr;
  naming::RandomSource random;
  processing::FunctionInvoker* invoker = nullptr;  // runs Lambda processors; not owned
  logs::DeliveryErrorLog* error_log = nullptr;      // CloudWatchLoggingOptions events; optional
  std::string region;                               // for Lambda events
  // Where the stream's definition is saved (Open, SetMeta); null = not saved
  // (tests of the data path). Not owned.
  DefinitionStore* definitions = nullptr;
  // Runs the stream's delivery passes; shared by the registry's streams. Null =
  // the stream makes a scheduler with one worker of its own (tests). Not owned;
  // must outlive the stream.
  DeliveryScheduler* scheduler = nullptr;
  // Bounds how many streams keep their logs' files open; null = no bound (each
  // stream still closes them after kFilesIdleTime without use). Not owned.
  FileBudget* files = nullptr;
  // The KMS of encryption at rest; null = the logs are not wrapped (tests of the
  // data path), and SetLogEncryption fails. Not owned.
  buffer::LogKeyService* log_keys = nullptr;
  // Open: the definition was just loaded from `definitions` (start-up), so it is
  // not written again (a write + fsync per stream made a start with 5,000
  // streams take a minute).
  bool definition_loaded = false;
  DeliveryOptions options;
};

class DeliveryStream : public std::enable_shared_from_this<DeliveryStream>,
                       public FileBudget::Holder {
 public:
  // Saves the definition (deps.definitions), opens (recovering) the stream's log
  // under `dir` and registers its delivery with the scheduler.
  static Result<std::shared_ptr<DeliveryStream>> Open(const std::string& dir, StreamMeta meta,
                                                      DeliveryDeps deps);
  ~DeliveryStream();

  // Appends the records and calls done(first sequence number) once they are durable,
  // or done(error): ResourceExhausted when the disk quota is reached (nothing written).
  void Put(int64_t arrival_ms, std::span<const std::string_view> payloads,
           std::function<void(Result<uint64_t>)> done);

  StreamMeta Meta() const;
  // Replaces the metadata (destination update, tags), saving it first. NotFound
  // once the stream's definition was removed (MarkDeleted).
  Status SetMeta(StreamMeta meta);
  // The stream's definition is being removed (DeleteDeliveryStream): later
  // SetMeta calls fail instead of writing it back. Call with LockForUpdate held.
  void MarkDeleted();
  // Read-modify-write of the metadata: hold this across Meta() ... SetMeta() so that
  // concurrent control-plane calls (a tag and an update, two updates with the same
  // VersionId) serialize instead of overwriting each other.
  std::unique_lock<std::mutex> LockForUpdate() { return std::unique_lock<std::mutex>(update_mu_); }

  // Hot-path views of the metadata, without copying it.
  const std::string& name() const { return name_; }
  const std::string& incarnation() const { return incarnation_; }
  // KinesisStreamAsSource: its records come from a Kinesis stream (never from
  // PutRecord), each with its Kinesis metadata (kinesis/source_record.h).
  bool kinesis_source() const { return kinesis_source_; }
  // The source log's next sequence number, and its records from `from` (the
  // Kinesis source reads back what it appended before a crash).
  uint64_t source_next_seq() const;
  Status ReadSource(uint64_t from, const std::function<bool(const buffer::LogRecord&)>& fn) const;
  // A failure reading the stream's Kinesis source: counted, logged, and written
  // to the error log as the destination's event (errorCode e.g.
  // "Kinesis.ResourceNotFound", destination the Kinesis stream's ARN).
  void ReportSourceError(std::string_view code, const std::string& message);
  // Whether the next put would be encrypted at rest (Firehose's `Encrypted`).
  bool encrypted() const { return enc_log_ && enc_log_->encrypting(); }
  // StartDeliveryStreamEncryption (`enabled` = the description to enable: its
  // KeyType and KeyARN) or StopDeliveryStreamEncryption (null): persists
  // ENABLING (DISABLING), switches the logs, then persists ENABLED, or
  // ENABLING_FAILED with a FailureDescription when the key cannot be used
  // (encryption then stays as it was), or DISABLED. Fails only when the
  // definition cannot be saved. Call with LockForUpdate held.
  Status ChangeEncryption(const boost::json::object* enabled);

  const StreamProbe& probe() const { return probe_; }
  StreamProbe& probe() { return probe_; }
  const std::string& dir() const { return dir_; }
  // The damage its logs' recovery found at Open, one line each (fixed after Open).
  const std::vector<std::string>& recovery_problems() const { return recovery_problems_; }
  uint64_t backlog_records() const;
  uint64_t backlog_disk_bytes() const;
  // Flushes of the source log, which every acknowledgement waits for.
  const LatencyHistogram& log_sync_latency() const { return log_->sync_latency(); }

  // Makes the next delivery pass look at its triggers now (tests that move a FakeClock).
  void Wake();
  // Waits until a delivery pass has made a whole pass that saw every event so
  // far (durable puts, Wake, SetMeta) and found no stage to run: nothing will
  // happen until the clock moves or something new arrives. For tests that check
  // that something has not happened yet. false on timeout.
  bool WaitUntilIdle(std::chrono::milliseconds timeout);
  // Stops delivery, waiting for a pass in progress (data stays on disk).
  void Stop();
  // Stops and deletes every file of the stream.
  Status Destroy();
  // Closes the logs' files kept open between calls (FileBudget).
  void ReleaseFiles() override;

 private:
  DeliveryStream(std::string dir, StreamMeta meta, DeliveryDeps deps);

  // A batch whose keys are promised: persisted before its first object can become
  // visible, so that a retry (or a restart) rewrites the same objects.
  struct Inflight {
    uint64_t start = 0, end = 0;
    int64_t oldest_ms = 0;
    std::string key;  // the data object (destination, backup); "" for processing
    // Error objects by error output type ("processing-failed", ...), fixed when the
    // first failed record of that type is met (processing).
    std::map<std::string, std::string> error_keys;
    bool from_transformed = false;  // destination: batch of the transformed log
    bool from_previous_run = false;
  };
  // Retry state and buffering trigger of one stage (delivery passes only, except
  // pending_bytes which Put() feeds under mu_).
  struct Stage {
    Stage(const char* n, const char* f) : name(n), inflight_file(f) {}
    const char* name;           // for logs
    const char* inflight_file;  // in dir_
    std::optional<Inflight> inflight;
    int failures = 0;
    int64_t next_attempt_ms = 0;
    // Oldest arrival at the stage's cursor, cached by sequence number.
    uint64_t cached_seq = UINT64_MAX;
    bool cached_transformed = false;
    int64_t cached_oldest = 0;
    int64_t oldest_now = 0;  // oldest arrival waiting for this stage (0 = none)
    // New source bytes this stage can ignore until its next planned wake-up: the
    // room left below its size threshold; 0 = any new record matters (nothing is
    // buffered, so its interval has not started); kNeverWake = puts do not matter
    // (not fed by the source log, or waiting out a retry back-off).
    int64_t quiet_bytes = 0;
  };
  static constexpr int64_t kNeverWake = INT64_MAX;
  // What one delivery pass sees (taken under mu_).
  struct Snapshot;

  // One delivery pass: runs the stages that are due; returns the delay until the
  // next pass in ms (0 = at once), or DeliveryScheduler::kNoDeadline when only an
  // event (a put, Wake, SetMeta) can make a stage due.
  int64_t RunPass();
  static constexpr int64_t kNoWake = INT64_MAX;  // no stage waits for a time
  // Asks the scheduler for a pass now (no-op once stopped).
  void MarkDue();
  // Runs the stage if due; returns whether it ran (made progress or failed).
  bool MaybeRunProcessing(const Snapshot& snap, int64_t now, int64_t* wake_ms);
  bool MaybeRunDestination(const Snapshot& snap, int64_t now, int64_t* wake_ms);
  bool MaybeRunBackup(const Snapshot& snap, int64_t now, int64_t* wake_ms);
  // One batch of each stage; true = progress.
  bool Process(const Snapshot& snap, uint64_t start, uint64_t end, uint64_t max_bytes);
  bool DeliverObject(const Snapshot& snap, Stage& stage, bool transformed, uint64_t start,
                     uint64_t end);
  // Whether the stage is due by its buffering: oldest arrival at `start` plus the
  // interval has passed, or pending bytes reached the size, or a batch is inflight.
  bool Due(Stage& stage, bool transformed, uint64_t start, int64_t pending, uint64_t size_bytes,
           int64_t interval_ms, int64_t now, int64_t* wake_ms, int64_t* oldest_out);
  // Records the outcome of one run of a stage (backoff on failure).
  void AfterRun(Stage& stage, bool progressed);
  // Past the retention period: drops the stage's records older than it (the
  // promised batch as a whole); returns whether anything was dropped.
  bool ExpireOld(Stage& stage, bool transformed, uint64_t start, uint64_t end,
                 const std::string& stream_name, std::string_view error_code);
  Status PersistInflight(const Stage& stage);
  Status PersistCursors();
  // Source records below min(main, backup) are done: checkpoint the source log.
  Status CheckpointSource();
  void LoadInflight(Stage& stage);
  // At start: a processed batch appended to the transformed log whose cursor update
  // was lost is recognized by the source position it carries.
  Status RepairAfterCrash();
  // Paces the delivery of a stage after `bytes` more were read for its object:
  // waits unless the stage is behind (backlog), the stream is stopping, or the
  // pace is kept.
  void Pace(const Stage& stage, bool transformed, uint64_t bytes, uint64_t buffer_bytes);
  // Logs a failed stage run (one line with stream and error code).
  // Also writes the error event when the destination's (or backup's)
  // CloudWatchLoggingOptions enable it.
  void ReportFailure(const Snapshot& snap, const Stage& stage, std::string_view code,
                     const std::string& bucket, const std::string& key, const Status& st);
  // The error event of one record that failed processing.
  void ReportProcessingFailure(const Snapshot& snap, const processing::RecordOutcome& failed);

  const std::string dir_;
  DeliveryDeps deps_;
  // The stages read and acknowledge through buffer::RecordLog only (a replicated
  // log can take the local one's place).
  std::shared_ptr<buffer::RecordLog> log_;          // source records
  std::shared_ptr<buffer::RecordLog> transformed_;  // processed batches (one record each)
  StreamProbe probe_;
  std::vector<std::string> recovery_problems_;
  const std::string name_;
  const std::string incarnation_;
  const bool kinesis_source_;
  // The same logs as log_ and transformed_, when deps_.log_keys is set.
  std::shared_ptr<buffer::EncryptedLog> enc_log_, enc_transformed_;

  std::mutex update_mu_;  // see LockForUpdate()
  bool deleted_ = false;  // MarkDeleted (update_mu_ held)
  mutable std::mutex mu_;
  std::condition_variable cv_;  // a paced delivery waits here (Stop cuts it short)
  uint64_t generation_ = 0;  // bumped by every event a delivery pass looks at
  // 1 + the generation that the last delivery pass finding nothing to run saw
  // (0 = not yet); idle_cv_ is notified each time (WaitUntilIdle).
  uint64_t idle_generation_ = 0;
  std::condition_variable idle_cv_;
  StreamMeta meta_;
  std::shared_ptr<processing::Pipeline> pipeline_;       // null: no processing
  bool processing_configured_ = false;  // ProcessingConfiguration enabled (even if invalid)
  std::string pipeline_error_;  // the ProcessingConfiguration could not be built
  // Encrypts what both logs append from now on under a data key of `kms_key`
  // ("" = hydrant's own key, AWS_OWNED_CMK), or stops (nullopt). The KMS's error
  // when the key cannot be used; the logs then refuse plaintext appends until it
  // can (buffer::EncryptedLog::Enable).
  Status SetLogEncryption(const std::optional<std::string>& kms_key);
  // Completes an ENABLING or DISABLING change (ChangeEncryption, or one a crash
  // interrupted, at Open).
  Status FinishEncryptionChange();
  // Rebuilds pipeline_ from meta_'s destination (mu_ held).
  void ApplyMetaLocked();
  uint64_t durable_end_ = 0;         // source records below this are acknowledged
  // Payload bytes durable but not yet taken by a stage (buffering triggers).
  int64_t pending_main_ = 0;         // for processing, or the destination without it
  int64_t pending_backup_ = 0;
  // Put marks the stream due only once the bytes made durable since the last
  // idle pass reach quiet_bytes_ (the least quiet_bytes of its stages):
  // under load a wake-up per commit round would cost CPU the puts need.
  int64_t quiet_bytes_ = 0;
  int64_t fresh_bytes_ = 0;
  int64_t pending_transformed_ = 0;  // delivery passes only
  std::atomic<uint64_t> ingested_bytes_{0};  // payload bytes made durable since Open
  bool stop_ = false;
  std::atomic<bool> stopping_{false};  // stop_ for readers outside mu_ (between chunks)

  // Delivery passes only.
  uint64_t main_cursor_ = 0;    // first source record not yet processed/delivered
  std::optional<uint64_t> backup_cursor_;  // first source record not yet backed up
  // Transformed-log records to skip: a multi-record batch cut by a crash.
  std::vector<std::pair<uint64_t, uint64_t>> skip_;
  Stage processing_{"processing", "processing.json"};
  Stage destination_{"destination", "delivery.json"};
  Stage backup_{"backup", "backup.json"};
  DeliveryPacer pacer_;
  // The logs' files are released once the stream has had no put and run no stage
  // for this long (or at once when no stage waits for a time).
  static constexpr std::chrono::seconds kFilesIdleTime{5};
  uint64_t files_ingested_ = 0;
  std::chrono::steady_clock::time_point files_used_at_{};
  bool files_open_ = true;

  std::unique_ptr<DeliveryScheduler> own_scheduler_;  // deps_.scheduler was null
  DeliveryScheduler* scheduler_ = nullptr;
  DeliveryScheduler::Handle task_;  // set by Open, cleared by Stop (mu_)
};

}  // namespace hydrant::stream
