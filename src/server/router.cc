#include "server/router.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "observability/metrics.h"
#include "server/firehose_api.h"
#include "server/lambda_api.h"
#include "server/logs_api.h"
#include "server/s3_api.h"

namespace hydrant::server {

struct Router::Impl {
  Impl(stream::StreamRegistry* registry, store::ObjectStore* store,
       processing::InvokerRegistry* invokers, logs::LogStore* log_store, std::string region,
       std::string account_id, int workers)
      : registry(registry), firehose(registry), lambda(invokers, region, account_id),
        logs(log_store, region, std::move(account_id)), s3(store, region) {
    for (int i = 0; i < std::max(1, workers); ++i) {
      threads.emplace_back([this] { Work(); });
    }
  }
  ~Impl() {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
  }
  void Post(std::function<void()> fn) {
    {
      std::lock_guard lk(mu);
      queue.push_back(std::move(fn));
    }
    cv.notify_one();
  }
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;
        fn = std::move(queue.front());
        queue.pop_front();
      }
      fn();
    }
  }

  stream::StreamRegistry* registry;
  FirehoseApi firehose;
  LambdaApi lambda;
  LogsApi logs;
  S3Api s3;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool stop = false;
  std::vector<std::thread> threads;
};

Router::Router(stream::StreamRegistry* registry, store::ObjectStore* store,
               processing::InvokerRegistry* invokers, logs::LogStore* logs, std::string region,
               std::string account_id, int s3_workers)
    : impl_(std::make_unique<Impl>(registry, store, invokers, logs, std::move(region),
                                   std::move(account_id), s3_workers)) {}

Router::~Router() = default;

void Router::Handle(http::Request&& req, http::Respond respond) {
  if (FirehoseApi::IsFirehoseRequest(req)) {
    std::string_view target = req.Header("X-Amz-Target");
    if (target.ends_with(".PutRecord") || target.ends_with(".PutRecordBatch")) {
      // The data plane stays on the I/O thread: parse, append, answer after the sync.
      impl_->firehose.Handle(std::move(req), std::move(respond));
      return;
    }
    // Control-plane calls may wait (a delete joins the stream's delivery thread):
    // keep them off the I/O threads.
    impl_->Post([this, req = std::move(req), respond = std::move(respond)]() mutable {
      impl_->firehose.Handle(std::move(req), std::move(respond));
    });
    return;
  }
  if (LogsApi::IsLogsRequest(req)) {
    // Reads stream files: off the I/O threads.
    impl_->Post([this, req = std::move(req), respond = std::move(respond)]() mutable {
      respond(impl_->logs.Handle(req));
    });
    return;
  }
  if (LambdaApi::IsLambdaRequest(req)) {
    impl_->lambda.Handle(std::move(req), std::move(respond));
    return;
  }
  // /health and /metrics are hydrant's own; a signed request for them is S3's
  // (buckets may be named "health" or "metrics").
  const bool unsigned_get = req.method == "GET" && !req.HasHeader("Authorization") &&
                            req.Query().empty();
  if (unsigned_get && req.Path() == "/health") {
    http::Response r;
    r.SetHeader("Content-Type", "text/plain");
    r.body = "ok\n";
    respond(std::move(r));
    return;
  }
  if (unsigned_get && req.Path() == "/metrics") {
    http::Response r;
    r.SetHeader("Content-Type", "text/plain; version=0.0.4");
    r.body = observability::RenderPrometheus(*impl_->registry);
    respond(std::move(r));
    return;
  }
  impl_->Post([this, req = std::move(req), respond = std::move(respond)]() mutable {
    http::Response r;
    impl_->s3.Handle(req, &r);
    respond(std::move(r));
  });
}

}  // namespace hydrant::server
