#include "logs/delivery_errors.h"

#include <vector>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "logs/log_store.h"

namespace hydrant::logs {

namespace json = boost::json;

namespace {

// Windows older than this are forgotten when the map grows (a key comes back with
// a fresh window, which is what it would get anyway).
constexpr size_t kMaxWindows = 1024;

}  // namespace

std::string FormatDeliveryErrorEvent(const DeliveryErrorEvent& ev) {
  json::object o;
  o["deliveryStreamARN"] = ev.delivery_stream_arn;
  o["destination"] = ev.destination;
  o["deliveryStreamVersionId"] = ev.version_id;
  o["message"] = ev.message;
  o["errorCode"] = ev.error_code;
  if (!ev.processor.empty()) o["processor"] = ev.processor;
  return json::serialize(o);
}

DeliveryErrorLog::DeliveryErrorLog(LogStore* store, const Clock* clock)
    : store_(store), clock_(clock) {}

std::string DeliveryErrorLog::GroupName(const LoggingOptions& options, std::string_view stream_name) {
  const std::string& g = options.log_group_name;
  return g.empty() ? "/aws/kinesisfirehose/" + std::string(stream_name) : g;
}

std::string DeliveryErrorLog::StreamName(const LoggingOptions& options, bool backup) {
  if (!options.log_stream_name.empty()) return options.log_stream_name;
  return backup ? "BackupDelivery" : "DestinationDelivery";
}

bool DeliveryErrorLog::Admit(const std::string& group, const std::string& stream,
                             const std::string& code, std::string_view stream_name,
                             int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (windows_.size() > kMaxWindows) {
    std::erase_if(windows_, [&](const auto& kv) {
      return now_ms - kv.second.start_ms >= kSampleWindowMs;
    });
  }
  auto [it, fresh] = windows_.try_emplace({group, stream, code});
  Window& w = it->second;
  if (fresh || now_ms - w.start_ms >= kSampleWindowMs || now_ms < w.start_ms) {
    if (!fresh && w.count > kSampleBurst) {
      spdlog::info(
          "stream={} errorCode={} event=error_log_sampled log_group={} log_stream={} "
          "written={} suppressed={} window_s={}",
          stream_name, code, group, stream, kSampleBurst, w.count - kSampleBurst,
          kSampleWindowMs / 1000);
    }
    w = Window{now_ms, 0, false};
  }
  if (++w.count > kSampleBurst) {
    ++sampled_out_;
    return false;
  }
  ++written_;
  return true;
}

void DeliveryErrorLog::Write(const LoggingOptions& options, std::string_view stream_name,
                             bool backup, const DeliveryErrorEvent& ev,
                             std::string_view role_arn) {
  if (store_ == nullptr || !options.enabled) return;
  const std::string group = GroupName(options, stream_name);
  const std::string stream = StreamName(options, backup);
  const int64_t now = clock_->NowMillis();
  if (!Admit(group, stream, ev.error_code, stream_name, now)) return;
  Status st;
  std::optional<std::string> denied;
  if (check_ && !role_arn.empty()) denied = check_(role_arn, group, stream);
  if (denied) {
    st = Status::InvalidArgument("the role may not write it: " + *denied);
  } else {
    std::vector<InputEvent> events{{now, FormatDeliveryErrorEvent(ev)}};
    st = store_->Append(group, stream, events, /*create_missing=*/true);
  }
  if (st.ok()) return;
  bool log_it = false;
  {
    std::lock_guard lock(mu_);
    auto it = windows_.find({group, stream, ev.error_code});
    if (it != windows_.end() && !it->second.failure_logged) {
      it->second.failure_logged = true;
      log_it = true;
    }
    --written_;
  }
  if (log_it) {
    spdlog::warn("stream={} errorCode={} event=error_log_write_failed log_group={} log_stream={} error=\"{}\"",
                 stream_name, ev.error_code, group, stream, st.ToString());
  }
}

uint64_t DeliveryErrorLog::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

uint64_t DeliveryErrorLog::sampled_out() const {
  std::lock_guard lock(mu_);
  return sampled_out_;
}

}  // namespace hydrant::logs
