#include "server/router.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/request_id.h"
#include "destinations/object_store.h"
#include "observability/doctor.h"
#include "observability/health.h"
#include "observability/metrics.h"
#include "observability/series.h"
#include "server/authorization.h"
#include "server/aws_query.h"
#include "server/firehose_api.h"
#include "server/iam_api.h"
#include "kms/key_store.h"
#include "server/kinesis_api.h"
#include "server/kms_api.h"
#include "server/lambda_api.h"
#include "server/logs_api.h"
#include "server/request_auth.h"
#include "server/s3_api.h"
#include "server/sts_api.h"
#include "stream/registry.h"

namespace hydrant::server {

namespace {

http::Response JsonError(int status, std::string_view type, std::string_view message) {
  std::string body = "{\"__type\":\"";
  body += type;
  body += "\",\"message\":\"";
  for (char c : message) {  // our messages: printable ASCII, maybe quotes
    if (c == '"' || c == '\\') body += '\\';
    body += c;
  }
  body += "\"}";
  return http::JsonReply(status, std::move(body));
}

// Firehose: PutRecordBatch carries at most 4 MiB of records, base64 in JSON
// (4/3 of it) plus the JSON around them; AWS answers a larger batch
// InvalidArgumentException "Records size exceeds 4 MB limit".
constexpr uint64_t kFirehoseBodyLimit = 8ull << 20;
// CloudWatch Logs: PutLogEvents takes at most 1,048,576 bytes of events; their
// JSON escaping may grow them several times.
constexpr uint64_t kLogsBodyLimit = 4ull << 20;
// Lambda Invoke: a request payload of at most 6 MB (6,291,456 bytes).
constexpr uint64_t kLambdaBodyLimit = 6291456;

http::Response FirehoseTooLarge(const http::Request& head, uint64_t limit) {
  std::string_view target = head.Header("X-Amz-Target");
  if (target.ends_with(".PutRecord") || target.ends_with(".PutRecordBatch")) {
    return JsonError(400, "InvalidArgumentException",
                     "Records size exceeds 4 MB limit (the request body exceeds " +
                         std::to_string(limit) + " bytes).");
  }
  return JsonError(400, "InvalidArgumentException",
                   "The request body exceeds the limit of " + std::to_string(limit) + " bytes.");
}

// Kinesis: PutRecords carries at most 5 MiB of data and partition keys, base64
// in JSON (4/3 of the data) plus the JSON around them.
constexpr uint64_t kKinesisBodyLimit = 10ull << 20;

http::Response KinesisTooLarge(const http::Request&, uint64_t limit) {
  return JsonError(400, "InvalidArgumentException",
                   "Records size exceeds 5 MB limit (the request body exceeds " +
                       std::to_string(limit) + " bytes).");
}

http::Response LogsTooLarge(const http::Request&, uint64_t limit) {
  return JsonError(400, "InvalidParameterException",
                   "Upload too large: the request body exceeds the limit of " +
                       std::to_string(limit) + " bytes.");
}

http::Response LambdaTooLarge(const http::Request&, uint64_t limit) {
  http::Response r = JsonError(413, "RequestEntityTooLargeException",
                               "Request must be smaller than " + std::to_string(limit) +
                                   " bytes for the InvokeFunction operation");
  r.SetHeader("x-amzn-ErrorType", "RequestEntityTooLargeException");
  return r;
}

// IAM and STS: a policy document is at most 131,072 characters, three times that
// percent-encoded.
constexpr uint64_t kQueryBodyLimit = 1ull << 20;

// KMS: a key policy is at most 131,072 characters, Encrypt's plaintext 4 KiB
// (as base64); JSON escaping may grow a policy several times.
constexpr uint64_t kKmsBodyLimit = 1ull << 20;

http::Response KmsTooLarge(const http::Request&, uint64_t limit) {
  return JsonError(400, "ValidationException",
                   "The request body exceeds the limit of " + std::to_string(limit) + " bytes.");
}

http::Response QueryTooLarge(const http::Request&, uint64_t limit) {
  return query::ErrorReply(query::kIamNamespace,
                           {413, "RequestEntityTooLarge",
                            "The request body exceeds the limit of " + std::to_string(limit) +
                                " bytes.",
                            true},
                           NewUuid());
}

// GET /metrics/series?stream=NAME&metric=M[,M...]&since=EPOCH_MS&window=SECONDS:
// every parameter optional and `metric` repeatable (docs/metrics.md).
http::Response SeriesResponse(const http::Request& req, const stream::StreamRegistry& registry,
                              const observability::MetricsSeries* series) {
  if (!series) return JsonError(503, "ServiceUnavailableException", "Metrics sampling is off.");
  std::vector<std::string> streams;
  std::vector<std::string> metric_names;
  int64_t since = 0;
  for (auto& [k, v] : http::ParseQuery(req.Query())) {
    if (k == "stream") {
      if (!registry.Get(v) && !series->HasStream(v)) {
        return JsonError(404, "ResourceNotFoundException", "Delivery stream " + v + " not found.");
      }
      streams.push_back(v);
    } else if (k == "metric") {
      for (size_t b = 0; b <= v.size();) {
        size_t e = std::min(v.find(',', b), v.size());
        if (e > b) metric_names.push_back(v.substr(b, e - b));
        b = e + 1;
      }
    } else if (k == "since" || k == "window") {
      char* end = nullptr;
      double n = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(n >= 0)) {
        return JsonError(400, "InvalidArgumentException", k + " must be a non-negative number.");
      }
      int64_t from = k == "since" ? static_cast<int64_t>(n)
                                  : series->clock().NowMillis() - static_cast<int64_t>(n * 1000);
      since = std::max(since, from);
    } else {
      return JsonError(400, "InvalidArgumentException",
                       "Unknown parameter " + k + "; use stream, metric, since or window.");
    }
  }
  std::vector<std::string_view> metrics;
  for (const auto& m : metric_names) {
    auto info = observability::MetricsSeries::Find(m);
    if (!info) {
      return JsonError(400, "InvalidArgumentException",
                       "Unknown metric " + m + "; docs/metrics.md lists the metric names.");
    }
    metrics.push_back(info->name);
  }
  if (streams.empty()) {
    for (const auto& m : registry.List()) streams.push_back(m.name);
  }
  return http::JsonReply(200, series->ToJson(streams, metrics, since));
}

// GET /doctor?stream=NAME: the doctor's report on one stream (docs/doctor.md).
http::Response DoctorResponse(const http::Request& req, const stream::StreamRegistry& registry,
                              const observability::Doctor* doctor) {
  if (!doctor) return JsonError(503, "ServiceUnavailableException", "The doctor is off.");
  std::string name;
  for (auto& [k, v] : http::ParseQuery(req.Query())) {
    if (k != "stream") {
      return JsonError(400, "InvalidArgumentException", "Unknown parameter " + k + "; use stream.");
    }
    name = v;
  }
  if (name.empty()) return JsonError(400, "InvalidArgumentException", "stream is required.");
  auto report = doctor->Run(registry, name);
  if (!report.ok()) {
    return JsonError(404, "ResourceNotFoundException", report.status().message());
  }
  return http::JsonReply(200, report->ToJson());
}

}  // namespace

// A fixed set of threads running posted work in order.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Work(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Post(std::function<void()> fn) {
    {
      std::lock_guard lk(mu_);
      queue_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// Streamed uploads wait for their senders' bytes: they run on threads of their
// own, so that slow senders never hold up the other S3 calls.
constexpr int kUploadThreads = 16;

struct Router::Impl {
  Impl(stream::StreamRegistry* registry, store::ObjectStore* store,
       processing::InvokerRegistry* invokers, logs::LogStore* log_store,
       const AccountContext& account, int workers)
      : registry(registry), account(account), bucket_policies(store), authz(&bucket_policies),
        firehose(registry, &authz), lambda(invokers, account, &authz),
        logs(log_store, account, &SystemClock::Get(), &authz),
        s3(store, account.region,
           registry ? &registry->account_probe().s3_disk_full_requests : nullptr, &authz),
        pool(workers), uploads(kUploadThreads) {}
  void Post(std::function<void()> fn) { pool.Post(std::move(fn)); }
  // AccessDenied (403, Query XML) when the signed caller may not run the IAM action.
  std::optional<http::Response> IamDenied(const http::Request& req) const {
    if (!Authorizer::Applies(req)) return std::nullopt;
    // The parameters exactly as the IAM API reads them (last value wins).
    const query::Params params(req);
    const std::string action = params.Get("Action").value_or("");
    if (action.empty()) return std::nullopt;  // the API answers the missing action
    Access access = IamAccess(action, params, req.principal.get(), account);
    // An existing user or role is authorized by its stored ARN (its path, its
    // name's case): the store finds names case-insensitively, and a Deny on
    // user/Admin or user/admins/* must hold whatever the caller typed.
    if (identities != nullptr && action != "CreateUser" && action != "CreateRole") {
      // Which entity the action is on is IamAccess's answer (a user ARN from
      // UserName, a role ARN from RoleName), never another parameter's.
      const std::string prefix = "arn:aws:iam::" + account.account_id + ":";
      const std::string user = params.Get("UserName").value_or("");
      const std::string role = params.Get("RoleName").value_or("");
      if (access.resource.starts_with(prefix + "role/") && !role.empty()) {
        if (auto r = identities->GetRole(role); r.ok()) access.resource = r->arn;
      } else if (access.resource.starts_with(prefix + "user/") && !user.empty()) {
        if (auto u = identities->GetUser(user); u.ok()) access.resource = u->arn;
      }
    }
    auto denied = authz.Check(req, access);
    if (!denied) return std::nullopt;
    return query::ErrorReply(query::kIamNamespace, {403, "AccessDenied", *denied}, NewUuid());
  }

  stream::StreamRegistry* registry;
  const AccountContext account;
  const observability::MetricsSeries* series = nullptr;
  const observability::Doctor* doctor = nullptr;
  RequestAuth open_auth{RequestAuthOptions{}};  // "open": the anonymous principal
  const RequestAuth* auth = &open_auth;
  // Authorizes signed requests in every API (open mode: nothing to check).
  StoreBucketPolicies bucket_policies;
  Authorizer authz;
  FirehoseApi firehose;
  LambdaApi lambda;
  LogsApi logs;
  S3Api s3;
  iam::IdentityStore* identities = nullptr;  // SetIdentityStore; not owned
  std::unique_ptr<IamApi> iam;  // null: IAM and STS not served
  std::unique_ptr<StsApi> sts;
  KmsApi kms{nullptr, &authz};  // SetKeyStore
  std::unique_ptr<KinesisApi> kinesis;  // SetKinesis; null: not served
  const kinesis::KinesisRegistry* kinesis_streams = nullptr;  // SetKinesis; for /metrics
  WorkerPool pool;     // S3 calls, the Logs API, control plane, /doctor
  WorkerPool uploads;  // S3 calls with a streamed body
};

Router::Router(stream::StreamRegistry* registry, store::ObjectStore* store,
               processing::InvokerRegistry* invokers, logs::LogStore* logs,
               const AccountContext& account, int s3_workers)
    : impl_(std::make_unique<Impl>(registry, store, invokers, logs, account, s3_workers)) {}

Router::~Router() = default;

void Router::SetMetricsSeries(const observability::MetricsSeries* series) { impl_->series = series; }

void Router::SetDoctor(const observability::Doctor* doctor) { impl_->doctor = doctor; }

void Router::SetIdentityStore(iam::IdentityStore* store, AssumeDecider may_assume) {
  impl_->identities = store;
  impl_->iam = store ? std::make_unique<IamApi>(store) : nullptr;
  impl_->sts = store ? std::make_unique<StsApi>(store, std::move(may_assume)) : nullptr;
}

void Router::SetKinesis(kinesis::KinesisRegistry* streams) {
  impl_->kinesis = streams ? std::make_unique<KinesisApi>(streams, &impl_->authz) : nullptr;
  impl_->kinesis_streams = streams;
}

void Router::SetKeyStore(kms::KeyStore* keys) {
  impl_->kms = KmsApi(keys, &impl_->authz);
  impl_->s3.SetKeyService(keys);  // SSE in the embedded store
}

void Router::SetRequestAuth(const RequestAuth* auth) {
  impl_->auth = auth != nullptr ? auth : &impl_->open_auth;
}

http::BodyPolicy Router::Classify(const http::Request& head) {
  if (FirehoseApi::IsFirehoseRequest(head)) return {kFirehoseBodyLimit, false, FirehoseTooLarge};
  if (LogsApi::IsLogsRequest(head)) return {kLogsBodyLimit, false, LogsTooLarge};
  if (LambdaApi::IsLambdaRequest(head)) return {kLambdaBodyLimit, false, LambdaTooLarge};
  if (KmsApi::IsKmsRequest(head)) return {kKmsBodyLimit, false, KmsTooLarge};
  if (KinesisApi::IsKinesisRequest(head)) return {kKinesisBodyLimit, false, KinesisTooLarge};
  if (query::MayBeQuery(head)) return {kQueryBodyLimit, false, QueryTooLarge};
  return S3Api::BodyPolicyFor(head);
}

void Router::Handle(http::Request&& req, http::Respond respond) {
  // Who sent it (sigv4: a verified signature), before anything else.
  if (auto refused = impl_->auth->Check(&req)) {
    respond(std::move(*refused));
    return;
  }
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
  if (KinesisApi::IsKinesisRequest(req)) {
    if (!impl_->kinesis) {
      respond(JsonError(400, "UnknownOperationException", "Kinesis is not served here."));
      return;
    }
    if (KinesisApi::RunsInline(req)) {  // the put path, as Firehose's
      impl_->kinesis->Handle(std::move(req), std::move(respond));
      return;
    }
    // Reads and control-plane calls touch the disk: on the worker pool.
    impl_->Post([this, req = std::move(req), respond = std::move(respond)]() mutable {
      impl_->kinesis->Handle(std::move(req), std::move(respond));
    });
    return;
  }
  if (KmsApi::IsKmsRequest(req)) {
    // Management calls write key files: off the I/O threads.
    impl_->Post([this, req = std::move(req), respond = std::move(respond)]() mutable {
      respond(impl_->kms.Handle(req));
    });
    return;
  }
  // IAM and STS: they write the identity store's files, off the I/O threads.
  if (impl_->iam && query::MayBeQuery(req)) {
    if (query::Service svc = query::Detect(req); svc != query::Service::kNone) {
      impl_->Post([this, svc, req = std::move(req), respond = std::move(respond)]() mutable {
        if (svc == query::Service::kIam) {
          if (auto denied = impl_->IamDenied(req)) return respond(std::move(*denied));
          return respond(impl_->iam->Handle(req));
        }
        // STS needs no permission but AssumeRole's, which the role's trust
        // policy and the caller's policies decide (may_assume).
        respond(impl_->sts->Handle(req));
      });
      return;
    }
  }
  // /health and /metrics are hydrant's own; a signed request for them is S3's
  // (buckets may be named "health" or "metrics").
  const bool unsigned_any = req.method == "GET" && !req.HasHeader("Authorization");
  const bool unsigned_get = unsigned_any && req.Query().empty();
  if (unsigned_get && req.Path() == "/health") {
    http::Response r;
    r.SetHeader("Content-Type", "text/plain");
    r.body = observability::HealthReport(*impl_->registry);
    respond(std::move(r));
    return;
  }
  if (unsigned_get && req.Path() == "/metrics") {
    http::Response r;
    r.SetHeader("Content-Type", "text/plain; version=0.0.4");
    r.body = observability::RenderPrometheus(*impl_->registry, impl_->kinesis_streams);
    respond(std::move(r));
    return;
  }
  // Takes parameters; a presigned S3 URL (X-Amz-Signature) is S3's.
  if (unsigned_any && req.Path() == "/metrics/series" &&
      req.Query().find("X-Amz-") == std::string_view::npos) {
    respond(SeriesResponse(req, *impl_->registry, impl_->series));
    return;
  }
  // Probes buckets and invokes the Lambda function: off the I/O threads.
  if (unsigned_any && req.Path() == "/doctor" &&
      req.Query().find("X-Amz-") == std::string_view::npos) {
    impl_->Post([this, req = std::move(req), respond = std::move(respond)]() mutable {
      respond(DoctorResponse(req, *impl_->registry, impl_->doctor));
    });
    return;
  }
  const bool streamed = req.body_reader != nullptr;
  auto run = [this, req = std::move(req), respond = std::move(respond)]() mutable {
    http::Response r;
    impl_->s3.Handle(req, &r);
    respond(std::move(r));
  };
  if (streamed) {
    impl_->uploads.Post(std::move(run));
  } else {
    impl_->Post(std::move(run));
  }
}

}  // namespace hydrant::server
