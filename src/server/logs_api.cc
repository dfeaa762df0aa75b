#include "server/logs_api.h"

#include <atomic>
#include <cstdio>
#include <optional>
#include <random>
#include <span>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "api/errors.h"
#include "common/request_id.h"
#include "logs/log_store.h"
#include "server/authorization.h"
#include "server/aws_json.h"

namespace hydrant::server {

namespace json = boost::json;
using api::ApiError;

namespace {

constexpr std::string_view kTargetPrefix = "Logs_20140328.";

// PutLogEvents limits (CloudWatch's).
constexpr size_t kMaxPutEvents = 10000;
constexpr size_t kMaxPutBytes = 1'048'576;  // sum of message bytes + 26 per event
constexpr int64_t kMaxPastMs = 14LL * 24 * 3600 * 1000;
constexpr int64_t kMaxFutureMs = 2LL * 3600 * 1000;
constexpr int64_t kMaxSpanMs = 24LL * 3600 * 1000;

ApiError InvalidParameter(std::string m) { return {"InvalidParameterException", std::move(m)}; }
ApiError NotFound(std::string m) { return {"ResourceNotFoundException", std::move(m)}; }

ApiError FromStatus(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNotFound:
      return NotFound(st.message());
    case StatusCode::kAlreadyExists:
      return {"ResourceAlreadyExistsException", st.message()};
    case StatusCode::kInvalidArgument:
      return InvalidParameter(st.message());
    default:
      return {"ServiceUnavailableException", st.ToString()};
  }
}

std::string ValidationPrefix(std::string_view field) {
  return "1 validation error detected: Value at '" + std::string(field) + "' ";
}

ApiError Missing(std::string_view field) {
  return InvalidParameter("1 validation error detected: Value null at '" + std::string(field) +
                          "' failed to satisfy constraint: Member must not be null");
}

// Typed access to the request's members; a member of the wrong JSON type is a
// SerializationException, as AWS's JSON protocol answers.
class Input {
 public:
  explicit Input(const json::object& o) : o_(o) {}

  std::optional<ApiError> Str(std::string_view key, std::string* out) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_string()) return TypeError(key, "a string");
    *out = std::string(v->as_string());
    return std::nullopt;
  }
  std::optional<ApiError> Int(std::string_view key, std::optional<int64_t>* out) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (v->is_int64()) {
      *out = v->as_int64();
    } else if (v->is_uint64() && v->as_uint64() <= INT64_MAX) {
      *out = static_cast<int64_t>(v->as_uint64());
    } else {
      return TypeError(key, "an integer");
    }
    return std::nullopt;
  }
  std::optional<ApiError> Bool(std::string_view key, bool* out) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_bool()) return TypeError(key, "a boolean");
    *out = v->as_bool();
    return std::nullopt;
  }
  std::optional<ApiError> StrList(std::string_view key, std::vector<std::string>* out) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_array()) return TypeError(key, "a list of strings");
    for (const auto& e : v->as_array()) {
      if (!e.is_string()) return TypeError(key, "a list of strings");
      out->emplace_back(e.as_string());
    }
    return std::nullopt;
  }
  const json::value* Raw(std::string_view key) const { return o_.if_contains(key); }

 private:
  static ApiError TypeError(std::string_view key, std::string_view what) {
    return {"SerializationException", "'" + std::string(key) + "' must be " + std::string(what)};
  }
  const json::object& o_;
};

#define LOGS_TRY(expr)                          \
  do {                                          \
    if (auto _e = (expr)) return std::move(*_e); \
  } while (0)

std::optional<ApiError> CheckLimit(std::optional<int64_t> limit, int64_t max) {
  if (!limit) return std::nullopt;
  if (*limit < 1)
    return InvalidParameter("1 validation error detected: Value '" + std::to_string(*limit) +
                            "' at 'limit' failed to satisfy constraint: Member must have value "
                            "greater than or equal to 1");
  if (*limit > max)
    return InvalidParameter("1 validation error detected: Value '" + std::to_string(*limit) +
                            "' at 'limit' failed to satisfy constraint: Member must have value "
                            "less than or equal to " + std::to_string(max));
  return std::nullopt;
}

std::optional<ApiError> CheckName(const Status& st) {
  if (st.ok()) return std::nullopt;
  return InvalidParameter(st.message());
}

// logGroupName, or logGroupIdentifier (a name or a log group ARN, with or without
// the trailing ":*"). `required_name` ops (writes) accept logGroupName only.
std::optional<ApiError> GroupOf(const Input& in, bool identifier_allowed, std::string* group) {
  std::string name, ident;
  LOGS_TRY(in.Str("logGroupName", &name));
  if (identifier_allowed) LOGS_TRY(in.Str("logGroupIdentifier", &ident));
  if (!name.empty() && !ident.empty())
    return InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  if (name.empty() && ident.empty()) {
    if (!identifier_allowed) return Missing("logGroupName");
    return InvalidParameter("Should provide either logGroupName or logGroupIdentifier.");
  }
  if (!ident.empty()) {
    if (ident.starts_with("arn:")) {
      size_t p = ident.find(":log-group:");
      if (p == std::string::npos) return InvalidParameter("Invalid logGroupIdentifier: " + ident);
      ident = ident.substr(p + 11);
      if (ident.ends_with(":*")) ident.resize(ident.size() - 2);
    }
    name = std::move(ident);
  }
  LOGS_TRY(CheckName(logs::ValidateGroupName(name)));
  *group = std::move(name);
  return std::nullopt;
}

std::optional<ApiError> StreamOf(const Input& in, std::string* stream) {
  LOGS_TRY(in.Str("logStreamName", stream));
  if (stream->empty()) return Missing("logStreamName");
  return CheckName(logs::ValidateStreamName(*stream));
}


using Reply = std::variant<json::object, ApiError>;

struct Ctx {
  logs::LogStore* store;
  const std::string& region;
  const std::string& account_id;
  const Clock* clock;
  std::string GroupArn(std::string_view group) const {
    return "arn:aws:logs:" + region + ":" + account_id + ":log-group:" + std::string(group);
  }
};


Reply DescribeLogGroups(const Ctx& c, const Input& in) {
  logs::ListGroupsRequest lr;
  std::optional<int64_t> limit;
  LOGS_TRY(in.Str("logGroupNamePrefix", &lr.prefix));
  LOGS_TRY(in.Str("nextToken", &lr.next_token));
  LOGS_TRY(in.Int("limit", &limit));
  LOGS_TRY(CheckLimit(limit, 50));
  if (limit) lr.limit = static_cast<int>(*limit);
  std::string pattern;
  LOGS_TRY(in.Str("logGroupNamePattern", &pattern));
  if (!pattern.empty() && !lr.prefix.empty())
    return InvalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
  auto res = c.store->ListGroups(lr);
  if (!res.ok()) return FromStatus(res.status());
  json::array groups;
  for (const auto& g : res->groups) {
    // logGroupNamePattern: a case-sensitive substring, as CloudWatch.
    if (!pattern.empty() && g.name.find(pattern) == std::string::npos) continue;
    std::string arn = c.GroupArn(g.name);
    groups.push_back(json::object{{"logGroupName", g.name},
                                  {"creationTime", g.creation_time_ms},
                                  {"metricFilterCount", 0},
                                  {"arn", arn + ":*"},
                                  {"storedBytes", g.stored_bytes},
                                  {"logGroupClass", "STANDARD"},
                                  {"logGroupArn", arn}});
  }
  json::object out{{"logGroups", std::move(groups)}};
  if (!res->next_token.empty()) out["nextToken"] = res->next_token;
  return out;
}

Reply DescribeLogStreams(const Ctx& c, const Input& in) {
  logs::ListStreamsRequest lr;
  LOGS_TRY(GroupOf(in, true, &lr.group));
  std::string order;
  std::optional<int64_t> limit;
  LOGS_TRY(in.Str("logStreamNamePrefix", &lr.prefix));
  LOGS_TRY(in.Str("orderBy", &order));
  LOGS_TRY(in.Bool("descending", &lr.descending));
  LOGS_TRY(in.Str("nextToken", &lr.next_token));
  LOGS_TRY(in.Int("limit", &limit));
  LOGS_TRY(CheckLimit(limit, 50));
  if (limit) lr.limit = static_cast<int>(*limit);
  if (order == "LastEventTime") {
    lr.order = logs::StreamOrder::kLastEventTime;
  } else if (!order.empty() && order != "LogStreamName") {
    return InvalidParameter(ValidationPrefix("orderBy") +
                            "failed to satisfy constraint: Member must satisfy enum value set: "
                            "[LogStreamName, LastEventTime]");
  }
  auto res = c.store->ListStreams(lr);
  if (!res.ok()) return FromStatus(res.status());
  json::array streams;
  const std::string group_arn = c.GroupArn(lr.group);
  for (const auto& s : res->streams) {
    json::object o{{"logStreamName", s.name}, {"creationTime", s.creation_time_ms}};
    if (s.first_event_timestamp_ms) o["firstEventTimestamp"] = *s.first_event_timestamp_ms;
    if (s.last_event_timestamp_ms) o["lastEventTimestamp"] = *s.last_event_timestamp_ms;
    if (s.last_ingestion_time_ms) o["lastIngestionTime"] = *s.last_ingestion_time_ms;
    o["arn"] = group_arn + ":log-stream:" + s.name;
    o["storedBytes"] = s.stored_bytes;
    streams.push_back(std::move(o));
  }
  json::object out{{"logStreams", std::move(streams)}};
  if (!res->next_token.empty()) out["nextToken"] = res->next_token;
  return out;
}

Reply GetLogEvents(const Ctx& c, const Input& in) {
  logs::GetEventsRequest gr;
  LOGS_TRY(GroupOf(in, true, &gr.group));
  LOGS_TRY(StreamOf(in, &gr.stream));
  std::optional<int64_t> limit;
  LOGS_TRY(in.Int("startTime", &gr.start_time_ms));
  LOGS_TRY(in.Int("endTime", &gr.end_time_ms));
  LOGS_TRY(in.Bool("startFromHead", &gr.start_from_head));
  LOGS_TRY(in.Str("nextToken", &gr.next_token));
  LOGS_TRY(in.Int("limit", &limit));
  LOGS_TRY(CheckLimit(limit, 10000));
  if (limit) gr.limit = static_cast<int>(*limit);
  auto res = c.store->GetEvents(gr);
  if (!res.ok()) return FromStatus(res.status());
  json::array events;
  for (const auto& e : res->events) {
    events.push_back(json::object{
        {"timestamp", e.timestamp_ms}, {"message", e.message}, {"ingestionTime", e.ingestion_time_ms}});
  }
  return json::object{{"events", std::move(events)},
                      {"nextForwardToken", res->next_forward_token},
                      {"nextBackwardToken", res->next_backward_token}};
}

Reply FilterLogEvents(const Ctx& c, const Input& in) {
  logs::FilterEventsRequest fr;
  LOGS_TRY(GroupOf(in, true, &fr.group));
  std::optional<int64_t> limit;
  LOGS_TRY(in.StrList("logStreamNames", &fr.stream_names));
  LOGS_TRY(in.Str("logStreamNamePrefix", &fr.stream_name_prefix));
  LOGS_TRY(in.Int("startTime", &fr.start_time_ms));
  LOGS_TRY(in.Int("endTime", &fr.end_time_ms));
  LOGS_TRY(in.Str("filterPattern", &fr.pattern));
  LOGS_TRY(in.Str("nextToken", &fr.next_token));
  LOGS_TRY(in.Int("limit", &limit));
  LOGS_TRY(CheckLimit(limit, 10000));
  if (limit) fr.limit = static_cast<int>(*limit);
  if (!fr.stream_names.empty() && !fr.stream_name_prefix.empty())
    return InvalidParameter("Cannot specify both logStreamNames and logStreamNamePrefix.");
  auto res = c.store->FilterEvents(fr);
  if (!res.ok()) return FromStatus(res.status());
  json::array events;
  for (const auto& e : res->events) {
    events.push_back(json::object{{"logStreamName", e.stream},
                                  {"timestamp", e.timestamp_ms},
                                  {"message", e.message},
                                  {"ingestionTime", e.ingestion_time_ms},
                                  {"eventId", e.event_id}});
  }
  json::object out{{"events", std::move(events)}, {"searchedLogStreams", json::array{}}};
  if (!res->next_token.empty()) out["nextToken"] = res->next_token;
  return out;
}

Reply PutLogEvents(const Ctx& c, const Input& in) {
  std::string group, stream;
  LOGS_TRY(GroupOf(in, false, &group));
  LOGS_TRY(StreamOf(in, &stream));
  const json::value* raw = in.Raw("logEvents");
  if (raw == nullptr || raw->is_null()) return Missing("logEvents");
  if (!raw->is_array()) return ApiError{"SerializationException", "'logEvents' must be a list"};
  const json::array& list = raw->as_array();
  if (list.empty() || list.size() > kMaxPutEvents)
    return InvalidParameter(ValidationPrefix("logEvents") +
                            "failed to satisfy constraint: Member must have length between 1 and 10000");
  std::vector<logs::InputEvent> events;
  size_t bytes = 0;
  for (const auto& e : list) {
    const json::object* o = e.if_object();
    if (o == nullptr) return ApiError{"SerializationException", "'logEvents' must be a list of objects"};
    Input ev(*o);
    std::optional<int64_t> ts;
    std::string message;
    LOGS_TRY(ev.Int("timestamp", &ts));
    LOGS_TRY(ev.Str("message", &message));
    if (!ts) return Missing("logEvents.member.timestamp");
    if (message.empty())
      return InvalidParameter(ValidationPrefix("logEvents.member.message") +
                              "failed to satisfy constraint: Member must have length greater than or equal to 1");
    if (!events.empty() && *ts < events.back().timestamp_ms)
      return InvalidParameter("Log events in a single PutLogEvents request must be in chronological order.");
    bytes += message.size() + 26;
    events.push_back({*ts, std::move(message)});
  }
  if (bytes > kMaxPutBytes)
    return InvalidParameter("Upload too large: " + std::to_string(bytes) +
                            " bytes exceeds limit of " + std::to_string(kMaxPutBytes));
  if (events.back().timestamp_ms - events.front().timestamp_ms > kMaxSpanMs)
    return InvalidParameter(
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");

  // Events too old or too far in the future are rejected, the others kept (in order,
  // so the rejected ones are a prefix and a suffix).
  const int64_t now = c.clock->NowMillis();
  size_t first = 0, last = events.size();
  while (first < last && events[first].timestamp_ms < now - kMaxPastMs) ++first;
  while (last > first && events[last - 1].timestamp_ms > now + kMaxFutureMs) --last;
  if (last > first) {
    std::span<const logs::InputEvent> kept(events.data() + first, last - first);
    Status st = c.store->Append(group, stream, kept, /*create_missing=*/false);
    if (!st.ok()) return FromStatus(st);
  }
  json::object out{{"nextSequenceToken", std::to_string(now)}};
  if (first > 0 || last < events.size()) {
    json::object rejected;
    if (first > 0) rejected["tooOldLogEventEndIndex"] = static_cast<int64_t>(first);
    if (last < events.size()) rejected["tooNewLogEventStartIndex"] = static_cast<int64_t>(last);
    out["rejectedLogEventsInfo"] = std::move(rejected);
  }
  return out;
}

bool IsKnownOperation(std::string_view op) {
  for (std::string_view known :
       {"DescribeLogGroups", "DescribeLogStreams", "GetLogEvents", "FilterLogEvents", "PutLogEvents",
        "CreateLogGroup", "DeleteLogGroup", "CreateLogStream", "DeleteLogStream"}) {
    if (op == known) return true;
  }
  return false;
}

}  // namespace

LogsApi::LogsApi(logs::LogStore* store, AccountContext account, const Clock* clock,
                 const Authorizer* authz)
    : store_(store), account_(std::move(account)), clock_(clock), authz_(authz) {}

bool LogsApi::IsLogsRequest(const http::Request& req) {
  return req.Header("X-Amz-Target").starts_with(kTargetPrefix);
}

http::Response LogsApi::Handle(const http::Request& req) {
  const std::string rid = NewUuid();
  std::string_view op = req.Header("X-Amz-Target").substr(kTargetPrefix.size());
  Reply reply = [&]() -> Reply {
    if (req.method != "POST") return ApiError{"SerializationException", "Logs API calls are POST /"};
    json::object body;
    if (!req.body.empty()) {
      json::error_code ec;
      json::value v = json::parse(req.body, ec);
      if (ec || !v.is_object())
        return ApiError{"SerializationException", "Start of structure or map found where not expected."};
      body = std::move(v.as_object());
    }
    if (authz_ && Authorizer::Applies(req) && IsKnownOperation(op)) {
      // The group as the operation will read it (logGroupName, or
      // logGroupIdentifier: a name or an ARN), so what is authorized is what runs.
      Input in(body);
      std::string group;
      if (op != "DescribeLogGroups") LOGS_TRY(GroupOf(in, true, &group));
      const json::value* stream = body.if_contains("logStreamName");
      if (auto denied = authz_->Check(
              req, LogsAccess(op, group,
                              stream && stream->is_string() ? std::string_view(stream->as_string())
                                                            : std::string_view(),
                              account_))) {
        return ApiError{"AccessDeniedException", std::move(*denied)};
      }
    }
    if (store_ == nullptr) return ApiError{"ServiceUnavailableException", "No log store is configured."};
    Input in(body);
    const Ctx c{store_, account_.region, account_.account_id, clock_};
    if (op == "DescribeLogGroups") return DescribeLogGroups(c, in);
    if (op == "DescribeLogStreams") return DescribeLogStreams(c, in);
    if (op == "GetLogEvents") return GetLogEvents(c, in);
    if (op == "FilterLogEvents") return FilterLogEvents(c, in);
    if (op == "PutLogEvents") return PutLogEvents(c, in);
    if (op == "CreateLogGroup" || op == "DeleteLogGroup") {
      std::string group;
      LOGS_TRY(GroupOf(in, false, &group));
      Status st = op == "CreateLogGroup" ? store_->CreateGroup(group) : store_->DeleteGroup(group);
      if (!st.ok()) return FromStatus(st);
      return json::object{};
    }
    if (op == "CreateLogStream" || op == "DeleteLogStream") {
      std::string group, stream;
      LOGS_TRY(GroupOf(in, false, &group));
      LOGS_TRY(StreamOf(in, &stream));
      Status st = op == "CreateLogStream" ? store_->CreateStream(group, stream)
                                          : store_->DeleteStream(group, stream);
      if (!st.ok()) return FromStatus(st);
      return json::object{};
    }
    return ApiError{"UnknownOperationException",
                    "hydrant does not implement the CloudWatch Logs operation '" + std::string(op) +
                        "' (see docs/logs.md)"};
  }();

  if (auto* e = std::get_if<ApiError>(&reply)) return AwsJsonError(*e, rid);
  return AwsJsonResponse(json::serialize(std::get<json::object>(reply)), rid);
}

}  // namespace hydrant::server
