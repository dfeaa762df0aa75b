#pragma once
// KinesisSources: the reading side of every Firehose delivery stream of type
// KinesisStreamAsSource (docs/kinesis.md, "Kinesis streams as a source").
//
// For each such stream, a few shared poller threads read every shard of its
// Kinesis stream through a KinesisReader (hydrant's own stream, or an external
// endpoint): about once a second per shard (at once while a shard has more
// than one GetRecords' worth), parents read to their end before their children,
// from the stream's DeliveryStartTimestamp (AT_TIMESTAMP) where nothing was read
// yet. KPL aggregates are de-aggregated (kinesis/kpl.h) into user records with
// subsequence numbers. Each batch goes into the delivery stream's source log with
// its Kinesis metadata (kinesis/source_record.h) and, once durable, the shard's
// position is saved in the stream's folder (kinesis_source.json).
//
// Exactly once into the log across crashes: positions are saved after the batch
// is durable, and at start the records appended after the last saved position
// are read back from the log to move each shard's position past them.
//
// Reading pauses while the delivery stream holds more than max_backlog_bytes
// undelivered (its destination is down): the records wait in the Kinesis stream,
// within its retention, as with Firehose. Failed calls are counted and written to
// the error log ("Kinesis.<exception>"), and retried after error_backoff;
// throttled calls are counted (ThrottledGetRecords, ...) and retried at the next
// poll.
//
// Thread-safe. Streams created, deleted or opened later are found within a
// second.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "sources/kinesis_reader.h"

namespace hydrant {
class Clock;
}
namespace hydrant::stream {
class DeliveryStream;
class StreamRegistry;
}  // namespace hydrant::stream

namespace hydrant::sources {

struct KinesisSourceOptions {
  size_t threads = 2;  // pollers shared by every Kinesis-sourced stream
  std::chrono::milliseconds poll_interval{1000};
  size_t get_records_limit = 10000;
  uint64_t max_backlog_bytes = 256ull << 20;
  std::chrono::milliseconds list_shards_every{10000};
  std::chrono::milliseconds error_backoff{5000};
};

// Makes the reader of a Kinesis stream, by its ARN.
using KinesisReaderFactory =
    std::function<Result<std::unique_ptr<KinesisReader>>(const std::string& stream_arn)>;

class KinesisSources {
 public:
  // `registry` must outlive this object; `clock` null: the system clock.
  KinesisSources(stream::StreamRegistry* registry, KinesisReaderFactory factory,
                 KinesisSourceOptions opts, const Clock* clock = nullptr);
  ~KinesisSources();  // Stop()

  void Start();
  // Stops the pollers, waiting for the polls in progress.
  void Stop();
  // Polls every Kinesis-sourced stream once, on the caller's thread, whatever
  // their deadlines (tests). Returns the records appended.
  uint64_t PollAll();

 private:
  struct Source;
  // Finds streams created or opened since the last look; forgets deleted ones.
  void Refresh();
  // One poll of `src`: returns when to poll it next (ms).
  int64_t Poll(Source& src, uint64_t* appended);
  Status Load(Source& src, stream::DeliveryStream& s);
  Status Save(Source& src, stream::DeliveryStream& s, uint64_t log_next);
  void Run();

  stream::StreamRegistry* registry_;
  KinesisReaderFactory factory_;
  const KinesisSourceOptions opts_;
  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t refreshed_ms_ = 0;
  std::map<std::string, std::shared_ptr<Source>> sources_;  // by stream name
  std::vector<std::thread> threads_;
};

}  // namespace hydrant::sources
