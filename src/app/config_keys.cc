#include "app/config_keys.h"

#include <algorithm>

#include "app/config.h"

namespace hydrant::app {

namespace {

using Type = ConfigKey::Type;

constexpr int64_t kMaxDiskQuotaMb = int64_t{1} << 40;

// clang-format off
const ConfigKey kConfigKeys[] = {
    {"listen", "--listen", "HOST:PORT", Type::kString, "127.0.0.1:4573",
     "Address of the Firehose API and the S3 store (port 0 = any free port; the chosen one is printed)",
     [](Config* c, std::string v) { c->listen = std::move(v); return Status::Ok(); }},
    {"data_dir", "--data-dir", "DIR", Type::kString, "./hydrant-data",
     "Buffered records, stream settings and the embedded store",
     [](Config* c, std::string v) { c->data_dir = std::move(v); return Status::Ok(); }},
    {"region", "--region", "R", Type::kString, "us-east-1", "Region in ARNs",
     [](Config* c, std::string v) { c->account.region = std::move(v); return Status::Ok(); }},
    {"account_id", "--account-id", "N", Type::kString, "000000000000", "12-digit account id in ARNs",
     [](Config* c, std::string v) { c->account.account_id = std::move(v); return Status::Ok(); }},
    {"retention_seconds", "--retention-seconds", "S", Type::kInteger, "86400",
     "How long undeliverable data is kept before it is dropped (logged and counted)", nullptr,
     [](Config* c, int64_t v) { c->retention_seconds = v; return Status::Ok(); }},
    {"disk_quota_mb", "--disk-quota-mb", "N", Type::kInteger, "0 (unlimited)",
     "Disk budget for buffered records; past it puts get `ServiceUnavailableException` \"Slow down.\" "
     "Each stream's log also keeps up to 4 delivered segment files (64 MiB each at most) to write "
     "over, inside this budget; a stream's puts delete its own kept files first when the budget is "
     "tight ([docs/wal-format.md](docs/wal-format.md)).", nullptr,
     [](Config* c, int64_t v) {
       if (v < 0 || v > kMaxDiskQuotaMb) {
         return Status::InvalidArgument("config key 'disk_quota_mb' must be between 0 and 2^40");
       }
       c->disk_quota_mb = static_cast<uint64_t>(v);
       return Status::Ok();
     }},
    {"log_level", "--log-level", "L", Type::kString, "info", "trace, debug, info, warn, error, off",
     [](Config* c, std::string v) { c->log_level = std::move(v); return Status::Ok(); }},
    {"http_threads", "", "", Type::kInteger, "2", "Threads serving HTTP", nullptr,
     [](Config* c, int64_t v) {
       if (v < 1 || v > 64) return Status::InvalidArgument("http_threads must be between 1 and 64");
       c->http_threads = static_cast<int>(v);
       return Status::Ok();
     }},
    {"http_body_memory_mb", "", "", Type::kInteger, "256",
     "Memory that request bodies still arriving may hold together, all connections counted; past "
     "it the oldest are cut (S3 uploads are streamed to disk and not counted)", nullptr,
     [](Config* c, int64_t v) {
       if (v < 1 || v > (int64_t{1} << 20)) {
         return Status::InvalidArgument("http_body_memory_mb must be between 1 and 1048576");
       }
       c->http_body_memory_mb = static_cast<uint64_t>(v);
       return Status::Ok();
     }},
    {"http_header_timeout_seconds", "", "", Type::kInteger, "30",
     "Time a request's headers may take from its first byte (an idle keep-alive connection waits 300 s)",
     nullptr,
     [](Config* c, int64_t v) {
       if (v < 1 || v > 3600) {
         return Status::InvalidArgument("http_header_timeout_seconds must be between 1 and 3600");
       }
       c->http_header_timeout_seconds = static_cast<int>(v);
       return Status::Ok();
     }},
    {"http_body_timeout_seconds", "", "", Type::kInteger, "30",
     "Longest pause between the bytes of a request body", nullptr,
     [](Config* c, int64_t v) {
       if (v < 1 || v > 3600) {
         return Status::InvalidArgument("http_body_timeout_seconds must be between 1 and 3600");
       }
       c->http_body_timeout_seconds = static_cast<int>(v);
       return Status::Ok();
     }},
    {"metrics_period_seconds", "", "", Type::kInteger, "10",
     "Period of the metric time series (`GET /metrics/series`), 1–3600", nullptr,
     [](Config* c, int64_t v) { c->metrics_period_seconds = v; return Status::Ok(); }},
    {"metrics_retention_seconds", "", "", Type::kInteger, "3600",
     "How long their datapoints are kept (at most a week)", nullptr,
     [](Config* c, int64_t v) { c->metrics_retention_seconds = v; return Status::Ok(); }},
    {"tls.cert", "--tls-cert", "FILE", Type::kString, "none (plain HTTP)",
     "PEM certificate (chain) to serve HTTPS on `listen` with `tls.key` (TLS 1.2 and 1.3); "
     "reloaded on SIGHUP. `hydrant cert` makes one ([docs/security.md](docs/security.md))",
     [](Config* c, std::string v) { c->tls_cert = std::move(v); return Status::Ok(); }},
    {"tls.key", "--tls-key", "FILE", Type::kString, "none", "PEM private key of `tls.cert`",
     [](Config* c, std::string v) { c->tls_key = std::move(v); return Status::Ok(); }},
    {"tls.listen_plain", "--listen-plain", "HOST:PORT", Type::kString, "none",
     "A second listener, plain HTTP, beside `listen` (e.g. `127.0.0.1:4574` while `listen` "
     "serves HTTPS on `0.0.0.0:4573`)",
     [](Config* c, std::string v) { c->listen_plain = std::move(v); return Status::Ok(); }},
    {"kms.master_key_file", "--kms-master-key-file", "FILE", Type::kString,
     "<data_dir>/kms/master.key",
     "The KMS master key, which encrypts the KMS keys' material; created (0600) at first start "
     "([docs/security.md](docs/security.md), KMS)",
     [](Config* c, std::string v) { c->kms_master_key_file = std::move(v); return Status::Ok(); }},
    {"allow_anonymous", "--allow-anonymous", "", Type::kBool, "false",
     "Serve in open mode (no signature checked) on a non-loopback address; without it hydrant "
     "refuses to start so", nullptr, nullptr,
     [](Config* c, bool v) { c->allow_anonymous = v; return Status::Ok(); }},
    {"lambda", "", "", Type::kTable, "AWS Lambda",
     "How Lambda processors run: `endpoint`, `[[lambda.functions]]` (below)"},
    {"s3", "", "", Type::kTable, "embedded store",
     "Destination buckets on remote S3 services: `[s3]`, `[[s3.buckets]]` (below)"},
    {"kinesis", "", "", Type::kTable, "hydrant's own streams",
     "Kinesis data streams on other endpoints (AWS, kinesalite, LocalStack) for delivery streams of "
     "type `KinesisStreamAsSource`: `[[kinesis.sources]]` ([docs/kinesis.md](docs/kinesis.md))"},
    {"auth", "", "", Type::kTable, "open",
     "Authentication: `mode` (`open`: any key or none; `sigv4`: every request's signature "
     "verified), `public_health`, `enforce_roles` (delivery roles checked in open mode too), "
     "`[[auth.users]]` ([docs/security.md](docs/security.md))"},
};
// clang-format on

}  // namespace

std::span<const ConfigKey> ConfigKeys() { return kConfigKeys; }

const ConfigKey* FindConfigKey(std::string_view toml_name) {
  auto it = std::find_if(std::begin(kConfigKeys), std::end(kConfigKeys),
                         [&](const ConfigKey& k) { return k.toml == toml_name; });
  return it == std::end(kConfigKeys) ? nullptr : it;
}

std::string ConfigKeysHelp() {
  std::string out = "hydrant serve options (also settable in the --config TOML file):\n";
  for (const ConfigKey& k : kConfigKeys) {
    std::string left = "  ";
    if (!k.flag.empty()) {
      left += std::string(k.flag);
      if (!k.value_name.empty()) left += " " + std::string(k.value_name);
    } else if (k.type == Type::kTable) {
      left += "[" + std::string(k.toml) + "] table";
    }
    if (left.size() < 28) left.resize(28, ' ');
    out += left;
    if (k.type != Type::kTable) {
      out += std::string(k.toml) + " (default " + std::string(k.default_text) + ")";
      if (k.flag.empty()) out += ", TOML only";
    } else {
      out += std::string(k.help);
    }
    out += "\n";
  }
  out += "See README.md.";
  return out;
}

std::string ConfigKeysMarkdown() {
  std::string out = "| Option | TOML key | Default | Meaning |\n|---|---|---|---|\n";
  for (const ConfigKey& k : kConfigKeys) {
    std::string option = "—";
    if (!k.flag.empty()) {
      option = "`" + std::string(k.flag) +
               (k.value_name.empty() ? "" : " " + std::string(k.value_name)) + "`";
    }
    std::string key = k.type == Type::kTable ? "`[" + std::string(k.toml) + "]`"
                                             : "`" + std::string(k.toml) + "`";
    std::string dflt(k.default_text);
    if (size_t sp = dflt.find(' '); sp != std::string::npos && dflt[sp + 1] == '(') {
      dflt = "`" + dflt.substr(0, sp) + "`" + dflt.substr(sp);  // "`0` (unlimited)"
    } else if (k.type != Type::kTable) {
      dflt = "`" + dflt + "`";
    }
    out += "| " + option + " | " + key + " | " + dflt + " | " + std::string(k.help) + " |\n";
  }
  return out;
}

}  // namespace hydrant::app
