#pragma once
// Md5Stream: the MD5 of a byte stream (an object's ETag), hashed on a helper thread
// once the stream is larger than kInlineBytes. MD5 was two thirds of the delivery
// thread's CPU for uncompressed objects (the figures: BENCHMARKS.md); on its own
// thread it runs beside the writing of the same bytes, on another core.
// Small streams (most S3 PUTs, error objects) are hashed inline: no thread.
//
// Bytes are hashed in the order they were added. They go to the helper in pieces
// of at most kPieceBytes (a 100 MiB S3 PUT body is not copied whole), and at most
// kMaxQueuedBytes wait for it (Add blocks beyond that), so memory stays bounded and
// an abandoned stream waits for one piece at most. Not thread-safe: one writer
// adds, then calls Finish once.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

struct evp_md_ctx_st;

namespace hydrant::store {

class Md5Stream {
 public:
  static constexpr uint64_t kInlineBytes = 1 << 20;
  static constexpr size_t kMaxQueuedBytes = 4 << 20;
  static constexpr size_t kPieceBytes = 1 << 20;

  Md5Stream();
  ~Md5Stream();  // stops the helper without waiting for what is queued
  Md5Stream(const Md5Stream&) = delete;
  Md5Stream& operator=(const Md5Stream&) = delete;

  // Hashes `bytes` (copied when they go to the helper thread).
  void Add(std::string_view bytes);
  // The raw 16-byte digest of everything added. Call once.
  std::string Finish();

  // For tests: whether the helper runs, and the most bytes ever queued for it.
  bool threaded() const { return helper_.joinable(); }
  size_t peak_queued_bytes() const { return peak_queued_bytes_; }

 private:
  void Run();

  evp_md_ctx_st* ctx_;
  uint64_t added_ = 0;
  std::thread helper_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  size_t peak_queued_bytes_ = 0;
  bool closing_ = false;  // no more blocks: the helper drains the queue and ends
  bool abandon_ = false;  // the helper ends at once
};

}  // namespace hydrant::store
