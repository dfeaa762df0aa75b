// hydrant: a self-hosted Amazon Data Firehose. `hydrant serve` starts the
// Firehose API and the embedded S3 store on one port.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <malloc.h>
#include <future>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "app/cert_command.h"
#include "app/config.h"
#include "app/config_keys.h"
#include "app/delivery_sink.h"
#include "app/doctor_command.h"
#include "app/logs_command.h"
#include "api/errors.h"
#include "auth/static_credential_source.h"
#include "aws/http_client.h"
#include "common/log_fields.h"
#include "common/request_id.h"
#include "destinations/object_store.h"
#include "iam/assume_role.h"
#include "iam/identity_store.h"
#include "kinesis/registry.h"
#include "kms/key_store.h"
#include "server/stream_keys.h"
#include "iam/policy.h"
#include "logs/delivery_errors.h"
#include "logs/log_store.h"
#include "observability/doctor.h"
#include "observability/doctor_iam.h"
#include "observability/series.h"
#include "processing/invoker_registry.h"
#include "server/aws_json.h"
#include "server/delivery_role.h"
#include "server/sse_sink.h"
#include "server/http_server.h"
#include "server/request_auth.h"
#include "server/router.h"
#include "sources/direct_put.h"
#include "sources/kinesis_source.h"
#include "sources/local_kinesis_reader.h"
#include "sources/remote_kinesis_reader.h"
#include "stream/registry.h"

namespace {

// Every stream's log opens files while it works, and each connection is an fd: the
// soft limit (often 1,024) is raised to the hard limit, as servers do. Returns
// the limit in force (0 = unknown).
uint64_t RaiseFileLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("event=fd_limit_unknown error=\"{}\"", std::strerror(errno));
    return 0;
  }
  const rlim_t soft = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      spdlog::warn("event=fd_limit_not_raised soft={} hard={} error=\"{}\"", soft, rl.rlim_max,
                   std::strerror(errno));
      return soft;
    }
  }
  spdlog::info("event=fd_limit soft={} hard={} now={}", soft, rl.rlim_max, rl.rlim_cur);
  return rl.rlim_cur;
}

// The answer to a request that cannot wait for the start to finish: 503, in the
// protocol of the request, to be retried.
hydrant::http::Response StartingReply(const hydrant::http::Request& req) {
  using namespace hydrant;
  const std::string message = "hydrant is starting: its delivery streams are being opened; retry shortly.";
  http::Response r;
  if (req.HasHeader("X-Amz-Target")) {
    r = server::AwsJsonError(api::ApiError{"ServiceUnavailableException", message}, NewUuid());
  } else {
    r.status = 503;
    r.SetHeader("Content-Type", "application/xml");
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ServiceUnavailable</Code><Message>" +
             message + "</Message></Error>";
  }
  r.SetHeader("Retry-After", "1");
  return r;
}

// The listener is opened first, so that a start with thousands of streams, or with
// few fds, can always listen. Requests that arrive while the streams are being
// opened wait (their answer is sent once the router is ready), up to a bound of
// count and body bytes; beyond it, or if the start fails, they get StartingReply.
class StartupGate {
 public:
  void Handle(hydrant::http::Request&& req, hydrant::http::Respond respond) {
    {
      std::lock_guard lk(mu_);
      if (!router_ && !failed_ && parked_.size() < kMaxParked &&
          parked_bytes_ + req.body.size() <= kMaxParkedBytes) {
        parked_bytes_ += req.body.size();
        parked_.push_back({std::move(req), std::move(respond)});
        return;
      }
    }
    hydrant::server::Router* r = router_.load(std::memory_order_acquire);
    if (r) {
      r->Handle(std::move(req), std::move(respond));
    } else {
      respond(StartingReply(req));
    }
  }
  // Ready (or, with null, stopping / failed): parked requests are served or refused.
  void Open(hydrant::server::Router* router) {
    std::vector<Parked> parked;
    {
      std::lock_guard lk(mu_);
      router_.store(router, std::memory_order_release);
      failed_ = router == nullptr;
      parked.swap(parked_);
      parked_bytes_ = 0;
    }
    for (auto& p : parked) {
      if (router) {
        router->Handle(std::move(p.req), std::move(p.respond));
      } else {
        p.respond(StartingReply(p.req));
      }
    }
  }

 private:
  static constexpr size_t kMaxParked = 4096;
  static constexpr size_t kMaxParkedBytes = 64 << 20;
  struct Parked {
    hydrant::http::Request req;
    hydrant::http::Respond respond;
  };
  std::mutex mu_;
  std::atomic<hydrant::server::Router*> router_{nullptr};
  bool failed_ = false;
  std::vector<Parked> parked_;
  size_t parked_bytes_ = 0;
};

int Serve(const hydrant::app::Config& cfg) {
  using namespace hydrant;
  // glibc gives each thread that allocates its own malloc arena, and freed memory
  // stays in the arena: with five invocations of a few MB in flight, peak RSS grew
  // by ~40 MiB (BENCHMARKS.md, transformation). Two arenas suit a 2-core machine.
  mallopt(M_ARENA_MAX, 2);
  auto logger = spdlog::stderr_color_mt("hydrant");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z level=%l %v");
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));

  // Block the stop signals (and SIGHUP: reload the TLS certificate) in every
  // thread; the main thread waits for them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  const uint64_t fd_limit = RaiseFileLimit();
  const auto start_time = std::chrono::steady_clock::now();

  // The listener first: requests wait at the gate until the router is set below.
  StartupGate gate;
  server::HttpServerOptions so;
  so.host = cfg.host();
  so.port = cfg.port();
  if (!cfg.tls_cert.empty()) so.tls = server::TlsFiles{cfg.tls_cert, cfg.tls_key};
  if (!cfg.listen_plain.empty()) {
    so.plain_host = app::HostOf(cfg.listen_plain);
    so.plain_port = app::PortOf(cfg.listen_plain);
  }
  so.threads = cfg.http_threads;
  so.classify = server::Router::Classify;
  so.partial_body_budget = cfg.http_body_memory_mb << 20;
  so.header_timeout_seconds = cfg.http_header_timeout_seconds;
  so.body_timeout_seconds = cfg.http_body_timeout_seconds;
  so.hash_signed_bodies = cfg.auth_mode == "sigv4";
  auto srv = server::HttpServer::Start(
      so, [&gate](http::Request&& req, http::Respond respond) {
        gate.Handle(std::move(req), std::move(respond));
      });
  if (!srv.ok()) {
    spdlog::critical("event=startup_failed component=http error=\"{}\"", srv.status().ToString());
    return 1;
  }
  spdlog::info("event=listening port={} tls={} plain_port={} state=starting", (*srv)->port(),
               so.tls.has_value(), (*srv)->plain_port());
  // A failed start answers the requests that waited (before the server goes).
  auto refuse_parked = [&gate] {
    gate.Open(nullptr);
    return 1;
  };

  auto store = store::ObjectStore::Open(cfg.data_dir + "/s3");
  if (!store.ok()) {
    spdlog::critical("event=startup_failed component=object_store error=\"{}\"", store.status().ToString());
    return refuse_parked();
  }
  // IAM/STS: users, keys, policies, roles, sessions (docs/security.md, "IAM and STS").
  iam::IdentityStoreOptions iso;
  iso.dir = cfg.data_dir + "/iam";
  iso.account_id = cfg.account.account_id;
  // Documents are validated as IAM does (MalformedPolicyDocument's message).
  iso.validate_policy = [](std::string_view doc, bool trust) -> Status {
    return iam::ParsePolicy(doc, trust ? iam::PolicyKind::kTrust : iam::PolicyKind::kIdentity).status();
  };
  auto identities = iam::IdentityStore::Open(std::move(iso));
  if (!identities.ok()) {
    spdlog::critical("event=startup_failed component=iam error=\"{}\"", identities.status().ToString());
    return refuse_parked();
  }
  {
    std::vector<iam::ConfigUser> users;
    for (const auto& u : cfg.auth_users) {
      if (!u.session_token.empty()) continue;  // temporary: served from the config below
      users.push_back({u.name, u.access_key_id, u.secret_access_key, u.policy, u.root});
    }
    if (Status st = (*identities)->ApplyConfigUsers(users); !st.ok()) {
      spdlog::critical("event=startup_failed component=iam error=\"{}\"", st.ToString());
      return refuse_parked();
    }
  }
  // KMS keys, sealed under the master key file (docs/security.md, "KMS"). A
  // master key that does not open them stops the start here, naming the file.
  kms::KeyStoreOptions kso;
  kso.dir = cfg.data_dir + "/kms";
  kso.master_key_file = cfg.kms_master_key_file;
  kso.account = cfg.account;
  auto keys = kms::KeyStore::Open(std::move(kso));
  if (!keys.ok()) {
    spdlog::critical("event=startup_failed component=kms error=\"{}\"", keys.status().ToString());
    return refuse_parked();
  }
  auto logs = logs::LogStore::Open(cfg.data_dir + "/logs");
  if (!logs.ok()) {
    spdlog::critical("event=startup_failed component=logs error=\"{}\"", logs.status().ToString());
    return refuse_parked();
  }
  processing::InvokerOptions io;
  io.account = cfg.account;
  io.default_endpoint = cfg.lambda_endpoint;
  io.functions = cfg.functions;
  io.logs = logs->get();
  io.runtime_dir = cfg.data_dir + "/runtime";
  // The CloudWatch Logs blueprint puts oversized records back into their stream, as
  // the AWS blueprint does with PutRecordBatch; acknowledged once durable.
  std::atomic<sources::DirectPut*> reingest{nullptr};
  io.reingest = [&reingest](std::string_view name, std::vector<std::string> records) -> Status {
    sources::DirectPut* put = reingest.load();
    if (!put) return Status::NotFound("delivery stream " + std::string(name) + " not found");
    return put->PutAndWait(name, records);
  };
  // ... and into the Kinesis stream a delivery stream reads (PutRecords with the
  // original records' partition keys): hydrant's own streams only.
  std::atomic<kinesis::KinesisRegistry*> kinesis_for_reingest{nullptr};
  io.kinesis_reingest = [&kinesis_for_reingest, &cfg](
                            std::string_view arn,
                            std::vector<std::pair<std::string, std::string>> records) -> Status {
    kinesis::KinesisRegistry* reg = kinesis_for_reingest.load();
    const std::string name = sources::LocalStreamName(arn, cfg.account.region, cfg.account.account_id);
    auto s = reg && !name.empty() ? reg->Get(name) : nullptr;
    if (!s) {
      return Status::NotFound("Kinesis stream " + std::string(arn) +
                              " is not one of hydrant's own: records cannot be put back into it");
    }
    std::vector<kinesis::PutEntry> entries;
    entries.reserve(records.size());
    for (const auto& [key, data] : records) entries.push_back({key, std::nullopt, data});
    std::promise<Result<std::vector<kinesis::PutOutcome>>> done;
    s->Put(reg->clock().NowMillis(), entries,
           [&done](Result<std::vector<kinesis::PutOutcome>> r) { done.set_value(std::move(r)); });
    auto out = done.get_future().get();
    if (!out.ok()) return out.status();
    for (const auto& o : *out) {
      if (!o.error.ok()) return o.error;  // the blueprint puts the whole batch again
    }
    return Status::Ok();
  };
  auto invokers = processing::InvokerRegistry::Create(io);
  if (!invokers.ok()) {
    spdlog::critical("event=startup_failed component=lambda error=\"{}\"", invokers.status().ToString());
    return refuse_parked();
  }
  // Kinesis data streams (docs/kinesis.md), in <data-dir>/kinesis.
  kinesis::RegistryOptions kro;
  kro.dir = cfg.data_dir + "/kinesis";
  kro.account = cfg.account;
  auto kinesis_streams = kinesis::KinesisRegistry::Open(kro);
  if (!kinesis_streams.ok()) {
    spdlog::critical("event=startup_failed component=kinesis error={}",
                     LogQuote(kinesis_streams.status().ToString()));
    return refuse_parked();
  }
  kinesis_for_reingest = kinesis_streams->get();
  // How a KinesisStreamAsSource delivery stream reads its stream: an external
  // endpoint configured in [[kinesis.sources]], or hydrant's own.
  auto kinesis_reader = [&](const std::string& arn) -> Result<std::unique_ptr<sources::KinesisReader>> {
    if (const sources::RemoteKinesisConfig* remote = app::FindKinesisSource(cfg, arn)) {
      return sources::MakeRemoteKinesisReader(*remote, arn, nullptr);
    }
    const std::string name = sources::LocalStreamName(arn, cfg.account.region, cfg.account.account_id);
    if (!name.empty() && (*kinesis_streams)->Get(name)) {
      return std::unique_ptr<sources::KinesisReader>(
          std::make_unique<sources::LocalKinesisReader>(kinesis_streams->get(), name));
    }
    return Status::NotFound("Stream " + (name.empty() ? arn : name) + " under account " +
                            cfg.account.account_id + " not found.")
        .WithErrorCode(sources::kKinesisResourceNotFound);
  };
  // Delivery and processing errors as CloudWatch Logs events (CloudWatchLoggingOptions).
  logs::DeliveryErrorLog error_log(logs->get());
  stream::RegistryOptions ro;
  ro.invoker = invokers->get();
  ro.error_log = &error_log;
  ro.data_dir = cfg.data_dir;
  ro.account = cfg.account;
  ro.disk_quota_bytes = cfg.disk_quota_mb << 20;
  ro.delivery.retention_ms = cfg.retention_seconds * 1000;
  // Busy streams keep their logs' files open (up to 4 fds each): half the fd limit
  // at most; past it the least recently used close theirs (stream/file_budget.h).
  if (fd_limit > 0 && fd_limit != RLIM_INFINITY) {
    ro.max_streams_with_open_files = stream::FileBudget::ForFileLimit(fd_limit, 4);
  }
  // Streams' encryption at rest (StartDeliveryStreamEncryption) takes its data
  // keys from the KMS (server/stream_keys.h).
  server::StreamLogKeys stream_log_keys(keys->get());
  ro.log_keys = &stream_log_keys;
  ro.kinesis_source_check = [&kinesis_reader](std::string_view arn) -> Status {
    auto reader = kinesis_reader(std::string(arn));
    if (!reader.ok()) return reader.status();
    return (*reader)->ListShards().status();  // the stream is there and answers
  };
  // Delivery roles (docs/security.md): a stream's roles must exist and trust Firehose.
  if (cfg.EnforceRoles()) {
    ro.role_check = [ids = identities->get()](std::string_view role_arn) {
      return ids->ServiceSession(iam::kFirehoseService, role_arn).status();
    };
  }
  // Delivery writes through the [s3] routes; the embedded store still serves S3 here.
  // With roles enforced, what delivery writes into the embedded store is
  // authorized against the stream's role first (server/delivery_role.h).
  // A stream's SSE-KMS key (KMSEncryptionConfig), else the bucket's default
  // encryption, encrypts what it writes into the embedded store; with roles
  // enforced, its role must be allowed kms:GenerateDataKey (server/sse_sink.h).
  server::SseSink sse_sink(store->get(), keys->get(),
                           cfg.EnforceRoles() ? identities->get() : nullptr, cfg.account.region,
                           store->get());
  // The S3 request is authorized before S3 asks KMS, as on AWS: the role check
  // is in front of the encryption.
  server::StoreBucketPolicies delivery_bucket_policies(store->get());
  server::Authorizer delivery_authz(&delivery_bucket_policies);
  server::RoleCheckedSink role_checked(&sse_sink, identities->get(), &delivery_authz, store->get());
  store::ObjectSink* embedded_sink = &sse_sink;
  if (cfg.EnforceRoles()) embedded_sink = &role_checked;
  // ... and a Lambda processor's function runs only if its role may invoke it.
  server::RoleCheckedInvoker role_checked_invoker(invokers->get(), identities->get(),
                                                  &delivery_authz, cfg.account);
  if (cfg.EnforceRoles()) ro.invoker = &role_checked_invoker;
  // ... and its error events are written only if its role may logs:PutLogEvents.
  if (cfg.EnforceRoles()) {
    error_log.SetWriteCheck([&role_checked, ids = identities->get(), account = cfg.account](
                                std::string_view role_arn, const std::string& group,
                                const std::string& stream) -> std::optional<std::string> {
      // A role Firehose cannot assume at all is itself the error to report:
      // Firehose's S3.AccessDenied text for it ("Ensure that the trust policy ...")
      // is one of its documented error-log messages, so the event is written.
      if (!ids->ServiceSession(iam::kFirehoseService, role_arn).ok()) return std::nullopt;
      Status st = role_checked.Authorize(role_arn,
                                         server::LogsAccess("PutLogEvents", group, stream, account));
      if (st.ok()) return std::nullopt;
      return st.message();
    });
  }
  auto sink = app::MakeDeliverySink(cfg, embedded_sink);
  if (!sink.ok()) {
    spdlog::critical("event=startup_failed component=s3 error=\"{}\"", sink.status().ToString());
    return refuse_parked();
  }
  auto registry = stream::StreamRegistry::Open(ro, sink->get(), nullptr);
  if (!registry.ok()) {
    spdlog::critical("event=startup_failed component=streams error=\"{}\"", registry.status().ToString());
    return refuse_parked();
  }
  sources::DirectPut direct_put(registry->get());
  reingest = &direct_put;
  sources::KinesisSources kinesis_sources(registry->get(), kinesis_reader, {});
  kinesis_sources.Start();
  auto router = std::make_unique<server::Router>(registry->get(), store->get(), invokers->get(),
                                                 logs->get(), cfg.account);
  observability::MetricsSeries series({.period_ms = cfg.metrics_period_seconds * 1000,
                                       .retention_ms = cfg.metrics_retention_seconds * 1000});
  series.Start(registry->get());
  router->SetMetricsSeries(&series);
  router->SetKeyStore(keys->get());
  router->SetKinesis(kinesis_streams->get());
  // AssumeRole: the role's trust policy and the caller's policies decide.
  router->SetIdentityStore(identities->get(), [](const iam::Principal& caller,
                                                 const std::string& role_arn,
                                                 const std::string& trust,
                                                 const http::Request& req) {
    std::vector<std::pair<std::string, std::string>> keys;
    if (!req.remote_address.empty()) keys.emplace_back("aws:SourceIp", req.remote_address);
    keys.emplace_back("aws:SecureTransport", req.secure ? "true" : "false");
    return iam::MayAssumeRole(caller, role_arn, trust, SystemClock::Get().NowMillis(),
                              std::move(keys));
  });
  // hydrant doctor / GET /doctor: the seed's checklist against a live stream.
  observability::DoctorDeps dd;
  dd.sink = sink->get();
  dd.invoker = ro.invoker;
  dd.series = &series;
  dd.logs = logs->get();
  dd.retention_ms = ro.delivery.retention_ms;
  dd.function_timeout_seconds = [inv = invokers->get()](std::string_view name) -> std::optional<int> {
    for (const auto& f : inv->LocalFunctions()) {
      if (f.name == name) return f.timeout_seconds;
    }
    return std::nullopt;
  };
  dd.bucket_is_remote = [s = sink->get(), embedded = embedded_sink](std::string_view bucket) {
    return s->Route(bucket) != embedded;
  };
  // The static IAM checks (docs/doctor.md, "IAM checks"): the roles, bucket
  // policies and key policies delivery is authorized against.
  dd.iam.enforce_roles = cfg.EnforceRoles();
  dd.iam.role = [ids = identities->get()](std::string_view role_arn) {
    return observability::RoleDocumentsOf(*ids, role_arn);
  };
  dd.iam.bucket_policy = [&delivery_bucket_policies](std::string_view bucket) {
    return delivery_bucket_policies.BucketPolicy(bucket);
  };
  dd.iam.keys = keys->get();
  dd.iam.key_policy = [ks = keys->get()](std::string_view key) { return ks->GetKeyPolicy(key); };
  dd.iam.account = cfg.account;
  observability::Doctor doctor(std::move(dd));
  router->SetDoctor(&doctor);
  // [auth] mode "sigv4": every request's signature verified against the keys of
  // the IAM store (config users included), then of [[auth.users]] entries with a
  // session_token (temporary credentials given in the config, for tests).
  std::vector<auth::StaticUser> static_users;
  for (const auto& u : cfg.auth_users) {
    if (u.session_token.empty()) continue;
    static_users.push_back({u.name, u.access_key_id, u.secret_access_key, u.policy, u.root,
                            u.session_token});
  }
  auth::StaticCredentialSource static_credentials(cfg.account.account_id, static_users);
  auth::ChainedCredentialSource credentials({identities->get(), &static_credentials});
  server::RequestAuth request_auth({cfg.auth_mode, cfg.auth_public_health, cfg.account.region,
                                    &credentials, nullptr});
  router->SetRequestAuth(&request_auth);
  spdlog::info("event=auth mode={} users={}", cfg.auth_mode, cfg.auth_users.size());
  gate.Open(router.get());
  const auto startup_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start_time)
                              .count();
  auto bracket = [](const std::string& h) {
    return h.find(':') != std::string::npos ? "[" + h + "]" : h;
  };
  const std::string host = bracket(so.host);
  const char* scheme = so.tls ? "https" : "http";
  spdlog::info("event=started listen={}://{}:{} data_dir={} region={} account_id={} streams={} startup_ms={}",
               scheme, host, (*srv)->port(), cfg.data_dir, cfg.account.region, cfg.account.account_id,
               (*registry)->List().size(), startup_ms);
  // Tests and scripts read the port from these lines: keep their format.
  std::printf("hydrant listening on %s://%s:%u\n", scheme, host.c_str(), (*srv)->port());
  if (!so.plain_host.empty()) {
    std::printf("hydrant also listening on http://%s:%u (plain HTTP)\n",
                bracket(so.plain_host).c_str(), (*srv)->plain_port());
  }
  std::fflush(stdout);

  int sig = 0;
  for (;;) {
    sigwait(&sigs, &sig);
    if (sig != SIGHUP) break;
    if (!so.tls) {
      spdlog::info("event=sighup action=none reason=\"no TLS certificate to reload\"");
      continue;
    }
    // New connections get the new certificate; open ones keep theirs.
    if (auto st = (*srv)->ReloadTls(); st.ok()) {
      spdlog::info("event=tls_reloaded cert={} key={}", LogQuote(so.tls->cert_file),
                   LogQuote(so.tls->key_file));
    } else {
      spdlog::error("event=tls_reload_failed error={} action=\"kept the current certificate\"",
                    LogQuote(st.message()));
    }
  }
  spdlog::info("event=stopping signal={}", sig);
  // Stop serving, then drain what may still answer requests (S3 workers, pending
  // group commits, delivery passes) while the server object still exists; the
  // server goes last.
  (*srv)->Stop();
  gate.Open(nullptr);
  router.reset();
  series.Stop();
  reingest = nullptr;
  kinesis_sources.Stop();
  kinesis_for_reingest = nullptr;
  registry->reset();  // delivery stops: no blueprint re-ingests into Kinesis after
  kinesis_streams->reset();
  srv->reset();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  hydrant::app::Config cfg;
  CLI::App app{"hydrant: a self-hosted Amazon Data Firehose (Firehose API + embedded S3 store)"};
  app.require_subcommand(1);
  auto* serve = app.add_subcommand("serve", "Start the Firehose API and the embedded S3 store on one port");
  std::string config_path;
  serve->add_option("--config", config_path,
                    "TOML file with any of the options below and the [lambda] and [s3] tables "
                    "(README.md, docs/remote-s3.md); command-line options override it");
  // Every flag of the key table (app/config_keys.h), parsed by CLI11 with the key's
  // type and applied over the file's values when given.
  struct Flag {
    const hydrant::app::ConfigKey* key;
    CLI::Option* option;
    std::string text;
    int64_t number = 0;
    bool on = false;
  };
  std::vector<Flag> flags;
  flags.reserve(hydrant::app::ConfigKeys().size());
  for (const auto& k : hydrant::app::ConfigKeys()) {
    if (k.flag.empty()) continue;
    Flag& f = flags.emplace_back(Flag{&k, nullptr, {}, 0});
    const std::string help =
        std::string(k.help) + " (default " + std::string(k.default_text) + ")";
    using Type = hydrant::app::ConfigKey::Type;
    f.option = k.type == Type::kInteger ? serve->add_option(std::string(k.flag), f.number, help)
               : k.type == Type::kBool  ? serve->add_flag(std::string(k.flag), f.on, help)
                                        : serve->add_option(std::string(k.flag), f.text, help);
  }
  app.footer(hydrant::app::ConfigKeysHelp());
  // hydrant logs: reads a running hydrant's log events through its CloudWatch Logs API.
  auto* logs_cmd = app.add_subcommand(
      "logs", "Print a delivery stream's error log events (or any log group's) from a running hydrant");
  hydrant::app::LogsCommandOptions logs_opts;
  std::string logs_since;
  double logs_interval_s = 2;
  logs_cmd->add_option("stream", logs_opts.delivery_stream,
                       "Delivery stream: its CloudWatchLoggingOptions group, default /aws/kinesisfirehose/STREAM");
  logs_cmd->add_option("--group", logs_opts.group, "Log group to read instead (e.g. /aws/lambda/NAME)");
  logs_cmd->add_option("--endpoint", logs_opts.endpoint, "hydrant's URL (default http://127.0.0.1:4573)");
  logs_cmd->add_option("--log-stream", logs_opts.log_streams, "Only this log stream (repeatable)");
  logs_cmd->add_option("--filter-pattern", logs_opts.filter_pattern,
                       "CloudWatch filter pattern: terms, \"phrases\", { $.errorCode = \"S3.NoSuchBucket\" }");
  logs_cmd->add_option("--since", logs_since, "Only events from this long ago (90s, 10m, 2h, 1d) or epoch ms");
  logs_cmd->add_flag("-f,--follow", logs_opts.follow, "Keep polling for new events until interrupted");
  logs_cmd->add_option("--interval", logs_interval_s, "Seconds between polls with --follow (default 2)");
  logs_cmd->footer("Output: one line per event, TIME LOG_STREAM MESSAGE. See docs/logs.md.");
  // hydrant doctor: the running hydrant's checklist for a stream whose data is not arriving.
  auto* doctor_cmd = app.add_subcommand(
      "doctor", "Check why a delivery stream's data is not arriving (runs on a running hydrant)");
  hydrant::app::DoctorCommandOptions doctor_opts;
  doctor_cmd->add_option("stream", doctor_opts.delivery_stream, "Delivery stream to check")->required();
  doctor_cmd->add_option("--endpoint", doctor_opts.endpoint, "hydrant's URL (default http://127.0.0.1:4573)");
  doctor_cmd->add_flag("--json", doctor_opts.json, "Print the machine-readable report");
  doctor_cmd->footer(
      "One line per check (PASS, FAIL, WARN, N/A) with the evidence and the fix. Exit code 1 "
      "when a check failed, 2 when the stream or hydrant cannot be reached. See docs/doctor.md.");
  // hydrant cert: a local CA and a server certificate for HTTPS.
  auto* cert_cmd = app.add_subcommand(
      "cert", "Make a local CA and a server certificate signed by it, for HTTPS (tls.cert, tls.key)");
  hydrant::app::CertCommandOptions cert_opts;
  cert_cmd->add_option("--out", cert_opts.out_dir,
                       "Folder to write ca.pem, cert.pem, key.pem and ca-key.pem into (made if missing)")
      ->required();
  cert_cmd->add_option("--host", cert_opts.hosts,
                       "A DNS name or IP address the certificate is for (repeatable); localhost, "
                       "127.0.0.1 and ::1 are always included");
  cert_cmd->add_flag("--force", cert_opts.force, "Overwrite files that exist");
  cert_cmd->footer("See docs/security.md, \"TLS and secure defaults\".");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // Usage errors are 2 for every subcommand (CLI11 uses its own codes).
    return rc == 0 ? 0 : 2;
  }
  if (*cert_cmd) return hydrant::app::RunCertCommand(cert_opts, std::cout, std::cerr);
  if (*doctor_cmd) {
    hydrant::aws::CurlHttpClient http;
    return hydrant::app::RunDoctorCommand(doctor_opts, &http, std::cout, std::cerr);
  }
  if (*logs_cmd) {
    if (!logs_since.empty()) {
      auto since = hydrant::app::ParseSince(logs_since, hydrant::SystemClock::Get().NowMillis());
      if (!since.ok()) {
        std::cerr << "hydrant logs: " << since.status().message() << "\n";
        return 2;
      }
      logs_opts.start_ms = *since;
    }
    logs_opts.poll_interval_ms = static_cast<int>(std::max(0.05, logs_interval_s) * 1000);
    hydrant::aws::CurlHttpClient http;
    return hydrant::app::RunLogsCommand(logs_opts, &http, std::cout, std::cerr);
  }

  if (!config_path.empty()) {
    if (auto st = hydrant::app::LoadConfigFile(config_path, &cfg); !st.ok()) {
      std::cerr << "hydrant: " << st.message() << "\n";
      return 2;
    }
  }
  for (const Flag& f : flags) {
    if (f.option->count() == 0) continue;
    using Type = hydrant::app::ConfigKey::Type;
    hydrant::Status st = f.key->type == Type::kInteger ? f.key->set_integer(&cfg, f.number)
                         : f.key->type == Type::kBool  ? f.key->set_bool(&cfg, f.on)
                                                       : f.key->set_string(&cfg, f.text);
    if (!st.ok()) {
      std::cerr << "hydrant: " << st.message() << "\n";
      return 2;
    }
  }
  if (auto st = hydrant::app::Validate(cfg); !st.ok()) {
    std::cerr << "hydrant: " << st.message() << "\n";
    return 2;
  }
  // Secure defaults: no anonymous service beyond this machine unless asked for.
  if (auto st = hydrant::app::CheckExposure(cfg); !st.ok()) {
    std::cerr << "hydrant: " << st.message() << "\n";
    return 2;
  }
  return Serve(cfg);
}
