#include "app/logs_command.h"

#include <chrono>
#include <ctime>
#include <ostream>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "aws/http_client.h"
#include "common/clock.h"

namespace hydrant::app {

namespace json = boost::json;

namespace {

constexpr auto kCallTimeout = std::chrono::seconds(30);

// One JSON 1.1 call. The reply object, or a Status carrying AWS's "__type: message"
// (kNotFound for ResourceNotFoundException).
Result<json::object> Call(aws::HttpClient* http, const std::string& endpoint,
                          const std::string& target, const json::object& body) {
  aws::HttpRequest req;
  req.method = "POST";
  req.url = endpoint;
  if (req.url.find('/', req.url.find("://") + 3) == std::string::npos) req.url += "/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", target}};
  req.body = json::serialize(body);
  auto resp = http->Send(req, kCallTimeout);
  if (!resp.ok()) {
    return Status::Unavailable("cannot reach hydrant at " + endpoint + ": " +
                               resp.status().message());
  }
  json::error_code ec;
  json::value v = json::parse(resp->body, ec);
  if (ec || !v.is_object()) {
    return Status::Internal("unexpected answer from " + endpoint + " (HTTP " +
                            std::to_string(resp->status) + ")");
  }
  json::object& o = v.as_object();
  if (resp->status != 200) {
    std::string type, message;
    if (auto* t = o.if_contains("__type"); t && t->is_string()) type = t->as_string();
    if (auto* m = o.if_contains("message"); m && m->is_string()) message = m->as_string();
    if (size_t hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
    std::string text = type + ": " + message;
    if (type == "ResourceNotFoundException") return Status::NotFound(text);
    return Status::InvalidArgument(text);
  }
  return std::move(o);
}

std::string FormatTime(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

std::string StrOf(const json::object& o, std::string_view k) {
  if (auto* v = o.if_contains(k); v && v->is_string()) return std::string(v->as_string());
  return "";
}

// The group of a delivery stream's error logs, from DescribeDeliveryStream; warns on
// `err` when its CloudWatch logging is disabled.
Result<std::string> DeliveryStreamGroup(aws::HttpClient* http, const LogsCommandOptions& opts,
                                        std::ostream& err) {
  auto d = Call(http, opts.endpoint, "Firehose_20150804.DescribeDeliveryStream",
                json::object{{"DeliveryStreamName", opts.delivery_stream}});
  if (!d.ok()) return d.status();
  std::string group = "/aws/kinesisfirehose/" + opts.delivery_stream;
  bool enabled = false;
  const json::value* dests = d->at("DeliveryStreamDescription").as_object().if_contains("Destinations");
  if (dests && dests->is_array() && !dests->as_array().empty()) {
    const json::object& dest = dests->as_array()[0].as_object();
    for (std::string_view kind : {"ExtendedS3DestinationDescription", "S3DestinationDescription"}) {
      const json::value* desc = dest.if_contains(kind);
      if (!desc || !desc->is_object()) continue;
      const json::value* cw = desc->as_object().if_contains("CloudWatchLoggingOptions");
      if (!cw || !cw->is_object()) continue;
      const json::object& opts_obj = cw->as_object();
      if (auto* e = opts_obj.if_contains("Enabled"); e && e->is_bool()) enabled = e->as_bool();
      if (std::string g = StrOf(opts_obj, "LogGroupName"); !g.empty()) group = g;
      break;
    }
  }
  if (!enabled) {
    err << "hydrant logs: CloudWatch logging is not enabled for delivery stream "
        << opts.delivery_stream
        << " (CloudWatchLoggingOptions.Enabled is false): its errors are only on the server log\n";
  }
  return group;
}

}  // namespace

Result<int64_t> ParseSince(std::string_view text, int64_t now_ms) {
  if (text.empty()) return Status::InvalidArgument("empty --since");
  int64_t n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (n > (INT64_MAX - 9) / 10) return Status::InvalidArgument("--since is too large");
    n = n * 10 + (text[i] - '0');
  }
  if (i == 0) return Status::InvalidArgument("--since must be a number with s, m, h or d, or epoch ms");
  std::string_view unit = text.substr(i);
  int64_t mult = 0;
  if (unit.empty()) return n;  // epoch milliseconds
  if (unit == "s") mult = 1000;
  if (unit == "m") mult = 60'000;
  if (unit == "h") mult = 3'600'000;
  if (unit == "d") mult = 86'400'000;
  if (mult == 0) return Status::InvalidArgument("--since unit must be s, m, h or d");
  return now_ms - n * mult;
}

int RunLogsCommand(const LogsCommandOptions& opts, aws::HttpClient* http, std::ostream& out,
                   std::ostream& err, const std::atomic<bool>* stop,
                   std::function<void(int)> sleep_ms) {
  if (opts.delivery_stream.empty() == opts.group.empty()) {
    err << "hydrant logs: give a delivery stream name or --group (one of them)\n";
    return 2;
  }
  std::string group = opts.group;
  if (group.empty()) {
    auto g = DeliveryStreamGroup(http, opts, err);
    if (!g.ok()) {
      err << "hydrant logs: " << g.status().message() << "\n";
      return 1;
    }
    group = *g;
  }
  if (!sleep_ms) sleep_ms = [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };

  // Follow: each poll asks from the newest timestamp seen (inclusive) and skips the
  // event ids already printed at that timestamp.
  std::optional<int64_t> start = opts.start_ms;
  std::set<std::string> printed_at_start;
  bool said_missing = false;
  while (true) {
    std::string token;
    do {
      json::object body{{"logGroupName", group}};
      if (!opts.log_streams.empty()) {
        json::array names;
        for (const auto& s : opts.log_streams) names.emplace_back(s);
        body["logStreamNames"] = std::move(names);
      }
      if (!opts.filter_pattern.empty()) body["filterPattern"] = opts.filter_pattern;
      if (start) body["startTime"] = *start;
      if (!token.empty()) body["nextToken"] = token;
      auto r = Call(http, opts.endpoint, "Logs_20140328.FilterLogEvents", body);
      if (!r.ok()) {
        if (r.status().code() == StatusCode::kNotFound) {
          // No event written yet: the group appears with the first one.
          if (!said_missing) {
            err << "hydrant logs: log group " << group << " does not exist (yet)\n";
            said_missing = true;
          }
          break;
        }
        err << "hydrant logs: " << r.status().message() << "\n";
        return 1;
      }
      for (const auto& ev : r->at("events").as_array()) {
        const json::object& e = ev.as_object();
        int64_t ts = e.at("timestamp").to_number<int64_t>();
        std::string id = StrOf(e, "eventId");
        if (start && ts == *start && printed_at_start.count(id)) continue;
        if (!start || ts > *start) {
          start = ts;
          printed_at_start.clear();
        }
        printed_at_start.insert(id);
        std::string message = StrOf(e, "message");
        while (!message.empty() && message.back() == '\n') message.pop_back();
        out << FormatTime(ts) << " " << StrOf(e, "logStreamName") << " " << message << "\n";
      }
      out.flush();
      token = StrOf(*r, "nextToken");
    } while (!token.empty());
    if (!opts.follow || (stop && stop->load())) return 0;
    sleep_ms(opts.poll_interval_ms);
    if (stop && stop->load()) return 0;
  }
}

}  // namespace hydrant::app
