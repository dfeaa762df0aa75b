#include "app/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>

#include <arpa/inet.h>

#include <toml++/toml.h>

#include "app/config_keys.h"

namespace hydrant::app {

std::string HostOf(std::string_view host_port) {
  size_t c = host_port.rfind(':');
  std::string h(c == std::string::npos ? host_port : host_port.substr(0, c));
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

uint16_t PortOf(std::string_view host_port) {
  size_t c = host_port.rfind(':');
  if (c == std::string::npos) return 0;
  unsigned v = 0;
  std::from_chars(host_port.data() + c + 1, host_port.data() + host_port.size(), v);
  return static_cast<uint16_t>(v);
}

std::string Config::host() const { return HostOf(listen); }
uint16_t Config::port() const { return PortOf(listen); }

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  const std::string h(host);
  in_addr a4;
  if (::inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6;
  if (::inet_pton(AF_INET6, h.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;  // ::ffff:127.0.0.1
  }
  return false;
}

Status CheckExposure(const Config& cfg) {
  if (cfg.auth_mode != "open" || cfg.allow_anonymous) return Status::Ok();
  for (const std::string* addr : {&cfg.listen, &cfg.listen_plain}) {
    if (addr->empty() || IsLoopbackHost(HostOf(*addr))) continue;
    return Status::InvalidArgument(
        "refusing to start: " + *addr +
        " is not a loopback address and authentication is off (auth mode \"open\": every "
        "request is accepted, signed or not, so anyone who can reach the port can read, write "
        "and delete all data). Turn on signature verification ([auth] in the config, "
        "docs/security.md), listen on 127.0.0.1, or pass --allow-anonymous "
        "(allow_anonymous = true) to serve anonymously anyway.");
  }
  return Status::Ok();
}

namespace {

Status LoadFunction(const toml::table& t, size_t index, processing::FunctionConfig* f) {
  std::string where = "lambda.functions[" + std::to_string(index) + "]";
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    auto str = [&](std::string* out) -> Status {
      if (!v.is_string()) return Status::InvalidArgument(where + "." + key + " must be a string");
      *out = *v.value<std::string>();
      return Status::Ok();
    };
    auto num = [&](int* out) -> Status {
      if (!v.is_integer()) return Status::InvalidArgument(where + "." + key + " must be an integer");
      *out = static_cast<int>(*v.value<int64_t>());
      return Status::Ok();
    };
    if (key == "name") {
      HYDRANT_RETURN_IF_ERROR(str(&f->name));
    } else if (key == "runtime") {
      HYDRANT_RETURN_IF_ERROR(str(&f->runtime));
    } else if (key == "handler") {
      HYDRANT_RETURN_IF_ERROR(str(&f->handler));
    } else if (key == "endpoint") {
      HYDRANT_RETURN_IF_ERROR(str(&f->endpoint));
    } else if (key == "timeout_seconds") {
      HYDRANT_RETURN_IF_ERROR(num(&f->timeout_seconds));
    } else if (key == "memory_mb") {
      HYDRANT_RETURN_IF_ERROR(num(&f->memory_mb));
    } else if (key == "environment") {
      if (!v.is_table()) return Status::InvalidArgument(where + ".environment must be a table");
      for (auto&& [ek, ev] : *v.as_table()) {
        if (!ev.is_string()) {
          return Status::InvalidArgument(where + ".environment." + std::string(ek.str()) +
                                         " must be a string");
        }
        f->environment[std::string(ek.str())] = *ev.value<std::string>();
      }
    } else {
      return Status::InvalidArgument(where + ": unknown key '" + key + "'");
    }
  }
  if (f->name.empty()) return Status::InvalidArgument(where + ".name is required");
  if (f->runtime != "python3" && f->runtime != "nodejs" && f->runtime != "http") {
    return Status::InvalidArgument(where + ".runtime must be python3, nodejs or http, got '" +
                                   f->runtime + "'");
  }
  if (f->runtime != "http" && f->handler.empty()) {
    return Status::InvalidArgument(where + ".handler (the handler file) is required for runtime " +
                                   f->runtime);
  }
  if (f->runtime == "http" && f->endpoint.empty()) {
    return Status::InvalidArgument(where + ".endpoint is required for runtime http");
  }
  if (f->timeout_seconds < 1 || f->timeout_seconds > 900) {
    return Status::InvalidArgument(where + ".timeout_seconds must be between 1 and 900");
  }
  return Status::Ok();
}

}  // namespace

// One remote's keys (of [s3] or an [[s3.buckets]] entry). *handled is false for a
// key that is not a remote key (the caller decides).
static Status LoadRemoteKey(const std::string& where, const std::string& key,
                            const toml::node& v, remote::RemoteS3Options* o, bool* handled) {
  *handled = true;
  auto str = [&](std::string* out) -> Status {
    if (!v.is_string()) return Status::InvalidArgument(where + "." + key + " must be a string");
    *out = *v.value<std::string>();
    return Status::Ok();
  };
  auto boolean = [&](bool* out) -> Status {
    if (!v.is_boolean()) return Status::InvalidArgument(where + "." + key + " must be true or false");
    *out = *v.value<bool>();
    return Status::Ok();
  };
  if (key == "endpoint") return str(&o->endpoint);
  if (key == "region") return str(&o->region);
  if (key == "ca_file") return str(&o->ca_file);
  if (key == "access_key_id") return str(&o->access_key_id);
  if (key == "secret_access_key") return str(&o->secret_access_key);
  if (key == "session_token") return str(&o->session_token);
  if (key == "profile") return str(&o->profile);
  if (key == "sts_endpoint") return str(&o->sts_endpoint);
  if (key == "tls_verify") return boolean(&o->tls_verify);
  if (key == "assume_role") return boolean(&o->assume_role);
  if (key == "addressing") {
    std::string a;
    HYDRANT_RETURN_IF_ERROR(str(&a));
    if (a == "path") {
      o->addressing = remote::RemoteS3Options::Addressing::kPath;
    } else if (a == "virtual") {
      o->addressing = remote::RemoteS3Options::Addressing::kVirtual;
    } else {
      return Status::InvalidArgument(where + ".addressing must be \"path\" or \"virtual\", got '" +
                                     a + "'");
    }
    return Status::Ok();
  }
  if (key == "part_size_mb") {
    if (!v.is_integer() || *v.value<int64_t>() < 5 || *v.value<int64_t>() > 5120) {
      return Status::InvalidArgument(where + ".part_size_mb must be an integer from 5 to 5120");
    }
    o->part_size = static_cast<uint64_t>(*v.value<int64_t>()) << 20;
    o->multipart_threshold = o->part_size;
    return Status::Ok();
  }
  *handled = false;
  return Status::Ok();
}

static Status CheckRemote(const std::string& where, const remote::RemoteS3Options& o) {
  if (o.access_key_id.empty() != o.secret_access_key.empty()) {
    return Status::InvalidArgument(where + ": access_key_id and secret_access_key go together");
  }
  if (!o.access_key_id.empty() && !o.profile.empty()) {
    return Status::InvalidArgument(where + ": give either static keys or a profile, not both");
  }
  if (!o.endpoint.empty() && !o.endpoint.starts_with("http://") &&
      !o.endpoint.starts_with("https://")) {
    return Status::InvalidArgument(where + ".endpoint must start with http:// or https://, got '" +
                                   o.endpoint + "'");
  }
  return Status::Ok();
}

static Status LoadS3Table(const toml::table& t, Config* cfg) {
  const toml::node* buckets = nullptr;
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    if (key == "buckets") {
      buckets = &v;
      continue;
    }
    bool handled = false;
    HYDRANT_RETURN_IF_ERROR(LoadRemoteKey("s3", key, v, &cfg->s3_default, &handled));
    if (!handled) return Status::InvalidArgument("s3: unknown key '" + key + "'");
    cfg->s3_default_remote = true;
  }
  HYDRANT_RETURN_IF_ERROR(CheckRemote("s3", cfg->s3_default));
  if (buckets == nullptr) return Status::Ok();
  if (!buckets->is_array_of_tables()) {
    return Status::InvalidArgument("s3.buckets must be an array of tables ([[s3.buckets]])");
  }
  size_t i = 0;
  for (auto&& bt : *buckets->as_array()) {
    std::string where = "s3.buckets[" + std::to_string(i++) + "]";
    Config::S3Bucket b;
    b.remote = cfg->s3_default;
    for (auto&& [k, v] : *bt.as_table()) {
      std::string key(k.str());
      bool handled = false;
      HYDRANT_RETURN_IF_ERROR(LoadRemoteKey(where, key, v, &b.remote, &handled));
      if (handled) continue;
      if (key == "name" && v.is_string()) {
        b.name = *v.value<std::string>();
      } else if (key == "embedded" && v.is_boolean()) {
        b.embedded = *v.value<bool>();
      } else if (key == "name" || key == "embedded") {
        return Status::InvalidArgument(where + "." + key + " has the wrong type");
      } else {
        return Status::InvalidArgument(where + ": unknown key '" + key + "'");
      }
    }
    if (b.name.empty()) return Status::InvalidArgument(where + ".name (the bucket) is required");
    for (const auto& other : cfg->s3_buckets) {
      if (other.name == b.name) {
        return Status::InvalidArgument(where + ": bucket '" + b.name + "' is listed twice");
      }
    }
    HYDRANT_RETURN_IF_ERROR(CheckRemote(where, b.remote));
    cfg->s3_buckets.push_back(std::move(b));
  }
  return Status::Ok();
}

// [kinesis]: `sources`, the [[kinesis.sources]] entries (docs/kinesis.md).
static Status LoadKinesisSource(const toml::table& t, const std::string& where,
                                sources::RemoteKinesisConfig* k) {
  for (auto&& [name, v] : t) {
    const std::string key(name.str());
    std::string* field = key == "stream_arn"          ? &k->stream_arn
                         : key == "region"            ? &k->region
                         : key == "endpoint"          ? &k->endpoint
                         : key == "access_key_id"     ? &k->access_key_id
                         : key == "secret_access_key" ? &k->secret_access_key
                         : key == "session_token"     ? &k->session_token
                         : key == "profile"           ? &k->profile
                         : key == "ca_file"           ? &k->ca_file
                                                      : nullptr;
    if (field != nullptr) {
      if (!v.is_string()) return Status::InvalidArgument(where + "." + key + " must be a string");
      *field = *v.value<std::string>();
    } else if (key == "tls_verify") {
      if (!v.is_boolean()) return Status::InvalidArgument(where + ".tls_verify must be true or false");
      k->tls_verify = *v.value<bool>();
    } else if (key == "request_timeout_seconds") {
      if (!v.is_integer() || *v.value<int64_t>() < 1 || *v.value<int64_t>() > 600) {
        return Status::InvalidArgument(where +
                                       ".request_timeout_seconds must be an integer from 1 to 600");
      }
      k->request_timeout = std::chrono::seconds(*v.value<int64_t>());
    } else {
      return Status::InvalidArgument(where + ": unknown key '" + key + "'");
    }
  }
  return sources::ValidateRemoteKinesisConfig(*k, where);
}

static Status LoadKinesisTable(const toml::table& t, Config* cfg) {
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (key != "sources") return Status::InvalidArgument("kinesis: unknown key '" + key + "'");
    if (!v.is_array_of_tables()) {
      return Status::InvalidArgument(
          "kinesis.sources must be an array of tables ([[kinesis.sources]])");
    }
    size_t i = 0;
    for (auto&& entry : *v.as_array()) {
      const std::string where = "kinesis.sources[" + std::to_string(i++) + "]";
      sources::RemoteKinesisConfig src;
      HYDRANT_RETURN_IF_ERROR(LoadKinesisSource(*entry.as_table(), where, &src));
      for (size_t j = 0; j < cfg->kinesis_sources.size(); ++j) {
        const auto& other = cfg->kinesis_sources[j];
        const bool same_stream = !src.stream_arn.empty() && other.stream_arn == src.stream_arn;
        const bool same_region = !src.region.empty() && other.region == src.region;
        if (same_stream || same_region) {
          return Status::InvalidArgument(
              where + ": " + (same_stream ? "stream " + src.stream_arn : "region " + src.region) +
              " is listed twice (also kinesis.sources[" + std::to_string(j) + "])");
        }
      }
      cfg->kinesis_sources.push_back(std::move(src));
    }
  }
  return Status::Ok();
}

const sources::RemoteKinesisConfig* FindKinesisSource(const Config& cfg,
                                                      std::string_view stream_arn) {
  auto arn = sources::ParseKinesisStreamArn(stream_arn);
  if (!arn.ok()) return nullptr;
  for (const auto& k : cfg.kinesis_sources) {
    if (k.stream_arn == stream_arn) return &k;
  }
  if (arn->region == cfg.account.region && arn->account_id == cfg.account.account_id) {
    return nullptr;  // hydrant's own stream
  }
  for (const auto& k : cfg.kinesis_sources) {
    if (!k.region.empty() && k.region == arn->region) return &k;
  }
  return nullptr;
}

static Status LoadLambdaTable(const toml::table& t, Config* cfg) {
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    if (key == "endpoint") {
      if (!v.is_string()) return Status::InvalidArgument("lambda.endpoint must be a string");
      cfg->lambda_endpoint = *v.value<std::string>();
    } else if (key == "functions") {
      if (!v.is_array_of_tables()) {
        return Status::InvalidArgument("lambda.functions must be an array of tables ([[lambda.functions]])");
      }
      size_t i = 0;
      for (auto&& ft : *v.as_array()) {
        processing::FunctionConfig f;
        HYDRANT_RETURN_IF_ERROR(LoadFunction(*ft.as_table(), i++, &f));
        cfg->functions.push_back(std::move(f));
      }
    } else {
      return Status::InvalidArgument("lambda: unknown key '" + key + "'");
    }
  }
  return Status::Ok();
}

// [auth]: mode, public_health and [[auth.users]] (docs/security.md).
static Status LoadAuthUser(const toml::table& t, size_t index, Config::AuthUser* u) {
  const std::string where = "auth.users[" + std::to_string(index) + "]";
  std::string policy_file;
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    std::string* field = key == "name"                ? &u->name
                         : key == "access_key_id"     ? &u->access_key_id
                         : key == "secret_access_key" ? &u->secret_access_key
                         : key == "policy"            ? &u->policy
                         : key == "policy_file"       ? &policy_file
                         : key == "session_token"     ? &u->session_token
                                                      : nullptr;
    if (field != nullptr) {
      if (!v.is_string()) return Status::InvalidArgument(where + "." + key + " must be a string");
      *field = *v.value<std::string>();
    } else if (key == "root") {
      if (!v.is_boolean()) return Status::InvalidArgument(where + ".root must be true or false");
      u->root = *v.value<bool>();
    } else {
      return Status::InvalidArgument(where + ": unknown key '" + key + "'");
    }
  }
  if (!policy_file.empty()) {
    if (!u->policy.empty()) {
      return Status::InvalidArgument(where + ": give policy or policy_file, not both");
    }
    std::ifstream in(policy_file);
    if (!in) return Status::InvalidArgument(where + ".policy_file: cannot read " + policy_file);
    std::stringstream text;
    text << in.rdbuf();
    u->policy = text.str();
  }
  if (u->name.empty()) return Status::InvalidArgument(where + ".name is required");
  if (u->access_key_id.size() < 16 || u->access_key_id.size() > 128 ||
      !std::all_of(u->access_key_id.begin(), u->access_key_id.end(), [](char c) {
        return std::isupper(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c));
      })) {
    return Status::InvalidArgument(
        where + ".access_key_id must be 16 to 128 upper-case letters and digits");
  }
  if (u->secret_access_key.size() < 16) {
    return Status::InvalidArgument(where + ".secret_access_key must be at least 16 characters");
  }
  if (u->root && !u->policy.empty()) {
    return Status::InvalidArgument(where +
                                   ": a root user is allowed everything and takes no policy");
  }
  return Status::Ok();
}

static Status LoadAuthTable(const toml::table& t, Config* cfg) {
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    if (key == "mode") {
      if (!v.is_string()) return Status::InvalidArgument("auth.mode must be a string");
      cfg->auth_mode = *v.value<std::string>();
      if (cfg->auth_mode != "open" && cfg->auth_mode != "sigv4") {
        return Status::InvalidArgument("auth.mode must be \"open\" or \"sigv4\", got '" +
                                       cfg->auth_mode + "'");
      }
    } else if (key == "public_health") {
      if (!v.is_boolean())
        return Status::InvalidArgument("auth.public_health must be true or false");
      cfg->auth_public_health = *v.value<bool>();
    } else if (key == "enforce_roles") {
      if (!v.is_boolean())
        return Status::InvalidArgument("auth.enforce_roles must be true or false");
      cfg->auth_enforce_roles = *v.value<bool>();
    } else if (key == "users") {
      if (!v.is_array_of_tables()) {
        return Status::InvalidArgument("auth.users must be an array of tables ([[auth.users]])");
      }
      size_t i = 0;
      for (auto&& ut : *v.as_array()) {
        Config::AuthUser u;
        HYDRANT_RETURN_IF_ERROR(LoadAuthUser(*ut.as_table(), i, &u));
        for (const auto& other : cfg->auth_users) {
          if (other.access_key_id == u.access_key_id || other.name == u.name) {
            return Status::InvalidArgument("auth.users[" + std::to_string(i) + "]: user '" +
                                           u.name + "' or its access key is listed twice");
          }
        }
        cfg->auth_users.push_back(std::move(u));
        ++i;
      }
    } else {
      return Status::InvalidArgument("auth: unknown key '" + key + "'");
    }
  }
  return Status::Ok();
}

// Stores a TOML value into *cfg through its row of the key table.
static Status SetFromToml(const ConfigKey& ck, const std::string& key, const toml::node& v,
                          Config* cfg) {
  switch (ck.type) {
    case ConfigKey::Type::kString:
      if (!v.is_string()) return Status::InvalidArgument("config key '" + key + "' must be a string");
      return ck.set_string(cfg, *v.value<std::string>());
    case ConfigKey::Type::kInteger:
      if (!v.is_integer()) {
        return Status::InvalidArgument("config key '" + key + "' must be an integer");
      }
      return ck.set_integer(cfg, *v.value<int64_t>());
    case ConfigKey::Type::kBool:
      if (!v.is_boolean()) {
        return Status::InvalidArgument("config key '" + key + "' must be true or false");
      }
      return ck.set_bool(cfg, *v.value<bool>());
    case ConfigKey::Type::kTable:
      break;
  }
  return Status::InvalidArgument("config key '" + key + "' must be a table");
}

// A table whose keys are rows "name.key" of the key table ([tls]).
static bool IsDottedTable(std::string_view name) {
  const std::string prefix = std::string(name) + ".";
  for (const ConfigKey& k : ConfigKeys()) {
    if (k.toml.starts_with(prefix)) return true;
  }
  return false;
}

static Status LoadDottedTable(const std::string& name, const toml::table& t, Config* cfg) {
  for (auto&& [k, v] : t) {
    const std::string key = name + "." + std::string(k.str());
    const ConfigKey* ck = FindConfigKey(key);
    if (ck == nullptr) {
      return Status::InvalidArgument(name + ": unknown key '" + std::string(k.str()) + "'");
    }
    HYDRANT_RETURN_IF_ERROR(SetFromToml(*ck, key, v, cfg));
  }
  return Status::Ok();
}

Status LoadConfigFile(const std::string& path, Config* cfg) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config file " + path + ": " + std::string(e.description()) +
                                   " (line " + std::to_string(e.source().begin.line) + ")");
  }
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    const ConfigKey* ck = FindConfigKey(key);
    if (ck == nullptr && IsDottedTable(key)) {
      if (!v.is_table()) return Status::InvalidArgument("config key '" + key + "' must be a table");
      HYDRANT_RETURN_IF_ERROR(LoadDottedTable(key, *v.as_table(), cfg));
      continue;
    }
    if (ck == nullptr) {
      return Status::InvalidArgument("config file " + path + ": unknown key '" + key + "'");
    }
    if (ck->type != ConfigKey::Type::kTable) {
      HYDRANT_RETURN_IF_ERROR(SetFromToml(*ck, key, v, cfg));
      continue;
    }
    if (!v.is_table()) return Status::InvalidArgument("config key '" + key + "' must be a table");
    HYDRANT_RETURN_IF_ERROR(key == "lambda"    ? LoadLambdaTable(*v.as_table(), cfg)
                            : key == "auth"    ? LoadAuthTable(*v.as_table(), cfg)
                            : key == "kinesis" ? LoadKinesisTable(*v.as_table(), cfg)
                                               : LoadS3Table(*v.as_table(), cfg));
  }
  return Status::Ok();
}

static Status CheckHostPort(std::string_view name, const std::string& v) {
  size_t c = v.rfind(':');
  if (c == std::string::npos || c == 0 || c + 1 >= v.size() || v.size() - c - 1 > 5 ||
      !std::all_of(v.begin() + c + 1, v.end(), ::isdigit) || std::stoul(v.substr(c + 1)) > 65535) {
    return Status::InvalidArgument(std::string(name) +
                                   " must be HOST:PORT (PORT 0-65535, 0 = any free port), got '" +
                                   v + "'");
  }
  return Status::Ok();
}

Status Validate(const Config& cfg) {
  HYDRANT_RETURN_IF_ERROR(CheckHostPort("listen", cfg.listen));
  if (!cfg.listen_plain.empty()) HYDRANT_RETURN_IF_ERROR(CheckHostPort("tls.listen_plain", cfg.listen_plain));
  if (cfg.tls_cert.empty() != cfg.tls_key.empty()) {
    return Status::InvalidArgument(
        "tls.cert (--tls-cert) and tls.key (--tls-key) go together: give both, or neither for "
        "plain HTTP");
  }
  if (cfg.account.account_id.size() != 12 ||
      !std::all_of(cfg.account.account_id.begin(), cfg.account.account_id.end(), ::isdigit)) {
    return Status::InvalidArgument("account_id must be 12 digits, got '" + cfg.account.account_id + "'");
  }
  if (cfg.account.region.empty() ||
      !std::all_of(cfg.account.region.begin(), cfg.account.region.end(),
                   [](char ch) { return std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '-'; })) {
    return Status::InvalidArgument("region must look like us-east-1, got '" + cfg.account.region + "'");
  }
  if (cfg.retention_seconds < 1 || cfg.retention_seconds > 365ll * 24 * 3600) {
    return Status::InvalidArgument("retention_seconds must be between 1 and 31536000 (a year)");
  }
  if (cfg.disk_quota_mb > (uint64_t{1} << 40)) {
    return Status::InvalidArgument("disk_quota_mb must be at most 2^40");
  }
  if (cfg.http_threads < 1 || cfg.http_threads > 64) {
    return Status::InvalidArgument("http_threads must be between 1 and 64");
  }
  if (cfg.metrics_period_seconds < 1 || cfg.metrics_period_seconds > 3600) {
    return Status::InvalidArgument("metrics_period_seconds must be between 1 and 3600");
  }
  if (cfg.metrics_retention_seconds < cfg.metrics_period_seconds ||
      cfg.metrics_retention_seconds > 7 * 24 * 3600) {
    return Status::InvalidArgument(
        "metrics_retention_seconds must be between metrics_period_seconds and 604800 (a week)");
  }
  if (cfg.auth_mode != "open" && cfg.auth_mode != "sigv4") {
    return Status::InvalidArgument("auth.mode must be \"open\" or \"sigv4\"");
  }
  if (cfg.auth_mode == "sigv4" && cfg.auth_users.empty()) {
    return Status::InvalidArgument(
        "auth.mode = \"sigv4\" needs at least one [[auth.users]] entry (a root user to start)");
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), cfg.log_level) == std::end(kLevels)) {
    return Status::InvalidArgument("log_level must be one of trace, debug, info, warn, error, off");
  }
  return Status::Ok();
}

}  // namespace hydrant::app
