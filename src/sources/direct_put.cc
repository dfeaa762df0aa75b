#include "sources/direct_put.h"

#include <future>

#include <spdlog/spdlog.h>

#include "buffer/disk_quota.h"
#include "stream/registry.h"

namespace hydrant::sources {

namespace {

uint64_t MicrosSince(DirectPut::Steady::time_point t) {
  auto d = std::chrono::duration_cast<std::chrono::microseconds>(DirectPut::Steady::now() - t)
               .count();
  return d > 0 ? static_cast<uint64_t>(d) : 0;
}

}  // namespace

void DirectPut::NoteDiskFull(const std::string& stream, size_t records, const Status& error) {
  uint64_t pending = disk_full_unlogged_.fetch_add(records, std::memory_order_relaxed) + records;
  const int64_t now = Steady::now().time_since_epoch().count();
  int64_t last = disk_full_logged_ns_.load(std::memory_order_relaxed);
  const int64_t interval =
      std::chrono::duration_cast<Steady::duration>(kDiskFullLogInterval).count();
  if (last != 0 && now - last < interval) return;
  if (!disk_full_logged_ns_.compare_exchange_strong(last, now)) return;  // another thread logs
  pending = disk_full_unlogged_.exchange(0, std::memory_order_relaxed);
  spdlog::error(
      "stream={} event=disk_full records_refused={} detail=\"the disk holding the data folder is "
      "full: puts are answered ServiceUnavailableException until there is space\" error=\"{}\"",
      stream, pending, error.message());
}

void DirectPut::Put(std::shared_ptr<stream::DeliveryStream> s, PutKind kind,
                    std::span<const std::string_view> records, uint64_t total_bytes,
                    Steady::time_point received, std::function<void(Result<uint64_t>)> done) {
  const int64_t arrival = registry_->clock().NowMillis();
  const size_t n = records.size();
  stream::DeliveryStream* target = s.get();
  target->Put(arrival, records,
              [this, s = std::move(s), kind, n, total_bytes, received, arrival,
               done = std::move(done)](Result<uint64_t> r) {
                const bool batch = kind == PutKind::kPutRecordBatch;
                auto& probe = s->probe();
                (batch ? probe.put_record_batch : probe.put_record).Record(MicrosSince(received));
                if (!r.ok()) {
                  probe.throttled_records.fetch_add(n, std::memory_order_relaxed);
                  if (r.status().error_code() == buffer::kDiskFullErrorCode) {
                    probe.disk_full_records.fetch_add(n, std::memory_order_relaxed);
                    NoteDiskFull(s->name(), n, r.status());
                  } else if (r.status().code() != StatusCode::kResourceExhausted) {
                    spdlog::error("stream={} event=put_failed error=\"{}\"", s->name(),
                                  r.status().ToString());
                  }
                  done(std::move(r));
                  return;
                }
                probe.incoming_put_requests.fetch_add(1, std::memory_order_relaxed);
                probe.last_put_ms.store(arrival, std::memory_order_relaxed);
                probe.incoming_records.fetch_add(n, std::memory_order_relaxed);
                probe.incoming_bytes.fetch_add(total_bytes, std::memory_order_relaxed);
                if (batch) {
                  probe.put_record_batch_records.fetch_add(n, std::memory_order_relaxed);
                  probe.put_record_batch_bytes.fetch_add(total_bytes, std::memory_order_relaxed);
                } else {
                  probe.put_record_bytes.fetch_add(total_bytes, std::memory_order_relaxed);
                }
                done(std::move(r));
              });
}

Status DirectPut::PutAndWait(std::string_view stream, const std::vector<std::string>& records) {
  const auto received = Steady::now();
  auto s = registry_->Get(std::string(stream));
  if (!s) return Status::NotFound("delivery stream " + std::string(stream) + " not found");
  std::vector<std::string_view> views(records.begin(), records.end());
  uint64_t total = 0;
  for (auto v : views) total += v.size();
  std::promise<Status> done;
  Put(std::move(s), PutKind::kPutRecordBatch, views, total, received,
      [&done](Result<uint64_t> r) { done.set_value(r.ok() ? Status::Ok() : r.status()); });
  return done.get_future().get();
}

}  // namespace hydrant::sources
