#pragma once
// Router: the one HTTP handler behind hydrant's port. Firehose calls (X-Amz-Target
// Firehose_20150804.*) go to FirehoseApi; everything else is the S3 REST API of the
// embedded object store, run on a small worker pool because it touches the disk
// (uploads whose body is streamed, on a pool of their own: they wait for their
// senders).
// /2015-03-31/functions/... is the Lambda API of the functions hydrant runs itself.
// CloudWatch Logs calls (X-Amz-Target Logs_20140328.*) go to LogsApi, on the worker pool.
// Unsigned GET /health, GET /metrics (Prometheus text) and GET /metrics/series
// (recent time series, JSON) are hydrant's own, and so is GET /doctor?stream=NAME
// (the doctor's report, JSON; docs/doctor.md), run on the worker pool.
// IAM and STS (AWS's Query protocol: form fields Action and Version) go to
// IamApi and StsApi, on the worker pool (they write the identity store's files).

#include <memory>
#include <string>

#include "common/account.h"
#include "iam/identity_store.h"
#include "server/http_types.h"
#include "server/sts_api.h"

namespace hydrant::store {
class ObjectStore;
}
namespace hydrant::stream {
class StreamRegistry;
}
namespace hydrant::processing {
class InvokerRegistry;
}
namespace hydrant::observability {
class MetricsSeries;
class Doctor;
}
namespace hydrant::logs {
class LogStore;
}
namespace hydrant::kms {
class KeyStore;
}
namespace hydrant::kinesis {
class KinesisRegistry;
}

namespace hydrant::server {

class RequestAuth;

class Router {
 public:
  // `invokers` may be null (no Lambda API); `logs` may be null (the Logs API then
  // answers ServiceUnavailableException).
  Router(stream::StreamRegistry* registry, store::ObjectStore* store,
         processing::InvokerRegistry* invokers, logs::LogStore* logs,
         const AccountContext& account, int s3_workers = 2);
  ~Router();
  void Handle(http::Request&& req, http::Respond respond);
  // The HttpServer's classifier: each API's body limit and too-large answer, and
  // S3 object uploads streamed (docs/reliability.md lists the limits).
  static http::BodyPolicy Classify(const http::Request& head);
  // Serves GET /metrics/series from `series` (not owned; null = 503). Call before serving.
  void SetMetricsSeries(const observability::MetricsSeries* series);
  // Serves GET /doctor?stream=NAME from `doctor` (not owned; null = 503). Call before serving.
  void SetDoctor(const observability::Doctor* doctor);
  // Serves the IAM and STS Query APIs (POST / with Action and Version, or a SigV4
  // scope of iam/sts) from `store` (not owned; null = not served, the request goes
  // to S3). `may_assume` decides sts:AssumeRole. Call before serving.
  void SetIdentityStore(iam::IdentityStore* store, AssumeDecider may_assume);
  // Authenticates every request with `auth` (not owned; docs/security.md). Without
  // it the router runs in open mode. Call before serving.
  void SetRequestAuth(const RequestAuth* auth);
  // The KMS API (TrentService) over `keys` (not owned; outlives the Router).
  // Without it, KMS calls answer KMSInternalException.
  void SetKeyStore(kms::KeyStore* keys);
  // The Kinesis Data Streams API (Kinesis_20131202.*) over `streams` (not owned;
  // outlives the Router). Without it, Kinesis calls are refused.
  void SetKinesis(kinesis::KinesisRegistry* streams);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hydrant::server
