#pragma once
// DeliveryPacer: how fast a stream's delivery may write objects to the local disk.
//
// A stream that keeps up with its ingest writes an object every time its buffer
// fills. Written at disk speed, that object (128 MiB for the largest hints) fills
// the device queue for a second and every log fdatasync issued meanwhile waits
// behind it, and PutRecordBatch's tail latency grows several times (the figures:
// docs/architecture.md and BENCHMARKS.md). The
// pacer spreads the object over the time until the next one is due: the delivery
// may read (and so write) at most max(floor, multiple x the stream's recent ingest
// rate) bytes per second. The limit is lifted by the caller when pacing would let
// delivery fall behind: a backlog of more than `backlog_buffers` buffers (see
// Behind), a stream being stopped, or a remote sink (its PUTs do not touch our
// disk). docs/architecture.md, "Object writes and the log's fdatasync".
//
// Time is whatever clock the caller reads (milliseconds; only differences are
// used). Not thread-safe: one pacer per stream, used by its delivery passes (never two at once).

#include <cstdint>

namespace hydrant::stream {

struct PacerOptions {
  double floor_bytes_per_s = 64.0 * (1 << 20);
  double ingest_multiple = 2.0;
  int64_t rate_time_constant_ms = 2000;  // of the ingest rate's moving average
  // An idle pacer lets this much time's worth of bytes through at once.
  int64_t burst_ms = 20;
  // Shorter waits are accumulated rather than slept (fewer, longer sleeps).
  int64_t min_wait_ms = 2;
  // Never more than this ahead of the clock (a clock stepped back, a rate that
  // dropped): the debt beyond is forgiven.
  int64_t max_ahead_ms = 1000;
  double backlog_buffers = 2.0;
};

class DeliveryPacer {
 public:
  explicit DeliveryPacer(PacerOptions o = {}) : o_(o) {}

  // The stream's ingest so far (a running total of durable payload bytes) at now_ms.
  // Samples closer than 100 ms to the previous one are ignored.
  void ObserveIngest(int64_t now_ms, uint64_t total_bytes);
  // Recent ingest rate (exponential moving average), bytes per second.
  double ingest_bytes_per_s() const { return rate_; }
  // max(floor, multiple x ingest rate).
  double limit_bytes_per_s() const;

  // `bytes` more were delivered at now_ms: how long to wait (ms) before going on
  // to stay within the limit; 0 = go on now. The next call assumes the caller
  // waited that long (so a clock that does not move cannot make waits grow).
  int64_t Delay(int64_t now_ms, uint64_t bytes);

  // Whether a stage with `backlog_bytes` undelivered (of a stream buffering
  // `buffer_bytes` per object) is behind, so that it must not be paced.
  bool Behind(int64_t backlog_bytes, uint64_t buffer_bytes) const {
    return static_cast<double>(backlog_bytes) > o_.backlog_buffers * static_cast<double>(buffer_bytes);
  }

 private:
  PacerOptions o_;
  bool sampled_ = false;
  int64_t last_ms_ = 0;
  uint64_t last_total_ = 0;
  double rate_ = 0;
  bool paying_ = false;
  double paid_until_ms_ = 0;  // the bytes delivered so far are "paid" up to this time
  double resume_ms_ = 0;      // the latest time seen, plus the wait asked since
};

}  // namespace hydrant::stream
