#include "app/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <toml++/toml.h>

namespace hydrant::app {

std::string Config::host() const {
  size_t c = listen.rfind(':');
  std::string h = c == std::string::npos ? listen : listen.substr(0, c);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

uint16_t Config::port() const {
  size_t c = listen.rfind(':');
  if (c == std::string::npos) return 0;
  unsigned v = 0;
  std::from_chars(listen.data() + c + 1, listen.data() + listen.size(), v);
  return static_cast<uint16_t>(v);
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
    auto want_string = [&](std::string* out) -> Status {
      if (!v.is_string()) return Status::InvalidArgument("config key '" + key + "' must be a string");
      *out = *v.value<std::string>();
      return Status::Ok();
    };
    auto want_int = [&](int64_t* out) -> Status {
      if (!v.is_integer()) return Status::InvalidArgument("config key '" + key + "' must be an integer");
      *out = *v.value<int64_t>();
      return Status::Ok();
    };
    int64_t n = 0;
    if (key == "listen") {
      HYDRANT_RETURN_IF_ERROR(want_string(&cfg->listen));
    } else if (key == "data_dir") {
      HYDRANT_RETURN_IF_ERROR(want_string(&cfg->data_dir));
    } else if (key == "region") {
      HYDRANT_RETURN_IF_ERROR(want_string(&cfg->region));
    } else if (key == "account_id") {
      HYDRANT_RETURN_IF_ERROR(want_string(&cfg->account_id));
    } else if (key == "log_level") {
      HYDRANT_RETURN_IF_ERROR(want_string(&cfg->log_level));
    } else if (key == "retention_seconds") {
      HYDRANT_RETURN_IF_ERROR(want_int(&cfg->retention_seconds));
    } else if (key == "disk_quota_mb") {
      HYDRANT_RETURN_IF_ERROR(want_int(&n));
      if (n < 0 || n > (int64_t{1} << 40)) {
        return Status::InvalidArgument("config key 'disk_quota_mb' must be between 0 and 2^40");
      }
      cfg->disk_quota_mb = static_cast<uint64_t>(n);
    } else if (key == "http_threads") {
      HYDRANT_RETURN_IF_ERROR(want_int(&n));
      if (n < 1 || n > 64) return Status::InvalidArgument("http_threads must be between 1 and 64");
      cfg->http_threads = static_cast<int>(n);
    } else if (key == "metrics_period_seconds") {
      HYDRANT_RETURN_IF_ERROR(want_int(&cfg->metrics_period_seconds));
    } else if (key == "metrics_retention_seconds") {
      HYDRANT_RETURN_IF_ERROR(want_int(&cfg->metrics_retention_seconds));
    } else if (key == "lambda") {
      if (!v.is_table()) return Status::InvalidArgument("config key 'lambda' must be a table");
      HYDRANT_RETURN_IF_ERROR(LoadLambdaTable(*v.as_table(), cfg));
    } else {
      return Status::InvalidArgument("config file " + path + ": unknown key '" + key + "'");
    }
  }
  return Status::Ok();
}

Status Validate(const Config& cfg) {
  size_t c = cfg.listen.rfind(':');
  if (c == std::string::npos || c == 0 || c + 1 >= cfg.listen.size() ||
      cfg.listen.size() - c - 1 > 5 ||
      !std::all_of(cfg.listen.begin() + c + 1, cfg.listen.end(), ::isdigit) ||
      std::stoul(cfg.listen.substr(c + 1)) > 65535) {
    return Status::InvalidArgument("listen must be HOST:PORT (PORT 0-65535, 0 = any free port), got '" +
                                   cfg.listen + "'");
  }
  if (cfg.account_id.size() != 12 ||
      !std::all_of(cfg.account_id.begin(), cfg.account_id.end(), ::isdigit)) {
    return Status::InvalidArgument("account_id must be 12 digits, got '" + cfg.account_id + "'");
  }
  if (cfg.region.empty() ||
      !std::all_of(cfg.region.begin(), cfg.region.end(),
                   [](char ch) { return std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '-'; })) {
    return Status::InvalidArgument("region must look like us-east-1, got '" + cfg.region + "'");
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
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), cfg.log_level) == std::end(kLevels)) {
    return Status::InvalidArgument("log_level must be one of trace, debug, info, warn, error, off");
  }
  return Status::Ok();
}

}  // namespace hydrant::app
