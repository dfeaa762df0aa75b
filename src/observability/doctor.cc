#include "observability/doctor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

#include <boost/json.hpp>

#include "api/json_fields.h"
#include "destinations/object_store.h"
#include "destinations/sink_errors.h"
#include "logs/delivery_errors.h"
#include "logs/log_store.h"
#include "observability/series.h"
#include "processing/invoker.h"
#include "sources/kinesis_source.h"
#include "stream/probe.h"
#include "stream/registry.h"

namespace hydrant::observability {

namespace json = boost::json;

namespace {

constexpr int64_t kFirehoseLambdaLimitMs = 5 * 60'000;
constexpr size_t kMaxEvidenceBytes = 400;
constexpr int kMaxEventPages = 20;

std::string StringAt(const json::object& o, std::string_view key) {
  return std::string(api::GetString(o, key).value_or(""));
}

std::string Cut(std::string s) {
  if (s.size() > kMaxEvidenceBytes) {
    size_t n = kMaxEvidenceBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // UTF-8 boundary
    s.resize(n);
    s += "...";
  }
  return s;
}

std::string Num(double v) {
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  }
  return buf;
}

// "850 ms", "12 s", "4 min", "3.5 h".
std::string Duration(int64_t ms) {
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(ms));
  } else if (ms < 120'000) {
    std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(ms / 1000));
  } else if (ms < 2 * 3600'000) {
    std::snprintf(buf, sizeof buf, "%lld min", static_cast<long long>(ms / 60'000));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f h", static_cast<double>(ms) / 3600'000.0);
  }
  return buf;
}

std::string IsoTime(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool IsTimeout(const processing::InvokeResult& r) {
  std::string m = r.error_message;
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
  return m.find("timeout") != std::string::npos || m.find("timed out") != std::string::npos;
}

// The most recent datapoint of a metric in the window, if any.
std::optional<Datapoint> Latest(const MetricsSeries* series, const std::string& stream,
                                std::string_view metric, int64_t window_ms) {
  if (!series) return std::nullopt;
  auto points = series->Recent(stream, metric, window_ms);
  if (points.empty()) return std::nullopt;
  return points.back();
}

static_assert(sources::KinesisSourceOptions{}.max_backlog_bytes == (256ull << 20),
              "DoctorDeps::kinesis_max_backlog_bytes defaults to the Kinesis source's bound");

// Error-log events of a group in a window, by errorCode.
struct Tally {
  uint64_t count = 0;
  int64_t latest_ms = 0;
  std::string latest_message, log_stream;
};
struct Tallies {
  std::map<std::string, Tally> by_code;
  uint64_t total = 0;
};

Result<Tallies> TallyEvents(const logs::LogStore& store, const std::string& group, int64_t since_ms) {
  Tallies out;
  logs::FilterEventsRequest req;
  req.group = group;
  req.start_time_ms = since_ms;
  for (int page = 0; page < kMaxEventPages; ++page) {
    auto res = store.FilterEvents(req);
    if (!res.ok()) return res.status();
    for (const auto& e : res->events) {
      json::error_code ec;
      json::value v = json::parse(e.message, ec);
      std::string code = "(unknown)", message = e.message;
      if (!ec && v.is_object()) {
        if (auto c = StringAt(v.as_object(), "errorCode"); !c.empty()) code = c;
        if (auto m = StringAt(v.as_object(), "message"); !m.empty()) message = m;
      }
      Tally& tl = out.by_code[code];
      ++tl.count;
      ++out.total;
      if (e.timestamp_ms >= tl.latest_ms) {
        tl.latest_ms = e.timestamp_ms;
        tl.latest_message = message;
        tl.log_stream = e.stream;
      }
    }
    if (res->next_token.empty()) break;
    req.next_token = res->next_token;
  }
  return out;
}

std::string Where(const api::S3DestinationSpec& cfg) {
  if (cfg.error_output_prefix && !cfg.error_output_prefix->empty()) {
    return "s3://" + cfg.bucket + "/" + *cfg.error_output_prefix +
           " (ErrorOutputPrefix, error-output-type processing-failed)";
  }
  return "s3://" + cfg.bucket + "/" + cfg.prefix + "processing-failed/YYYY/MM/dd/HH/";
}

}  // namespace

std::string_view CheckStatusName(CheckStatus s) {
  switch (s) {
    case CheckStatus::kPassed: return "passed";
    case CheckStatus::kFailed: return "failed";
    case CheckStatus::kWarning: return "warning";
    case CheckStatus::kNotApplicable: return "not_applicable";
  }
  return "passed";
}

std::optional<CheckStatus> ParseCheckStatus(std::string_view name) {
  for (auto s : {CheckStatus::kPassed, CheckStatus::kFailed, CheckStatus::kWarning,
                 CheckStatus::kNotApplicable}) {
    if (CheckStatusName(s) == name) return s;
  }
  return std::nullopt;
}

std::string BucketFix(std::string_view code, std::string_view bucket, std::string_view role_arn,
                      std::string_view kms_key) {
  std::string b(bucket);
  std::string who = role_arn.empty() ? "the stream's credentials"
                                     : "the role " + std::string(role_arn) +
                                           " (or the [s3] credentials configured for this bucket)";
  if (code == store::kS3NoSuchBucket) {
    return "create the bucket (aws s3 mb s3://" + b +
           ") or fix the destination's BucketARN (update-destination)";
  }
  if (code == store::kS3AccessDenied || code == store::kS3AllAccessDisabled) {
    return "grant " + who +
           " s3:ListBucket, s3:GetBucketLocation, s3:PutObject, s3:GetObject, "
           "s3:AbortMultipartUpload and s3:ListBucketMultipartUploads on arn:aws:s3:::" +
           b + " and arn:aws:s3:::" + b +
           "/*; check the access key, and the bucket policy for an explicit Deny "
           "(aws:SourceIp, aws:SourceVpce)" +
           (kms_key.empty() ? std::string()
                            : "; with SSE-KMS the key policy of " + std::string(kms_key) +
                                  " must allow kms:GenerateDataKey and kms:Decrypt");
  }
  if (code == store::kS3KmsNotFound || code.starts_with("S3.KMS.")) {
    return "check the KMS key " + std::string(kms_key.empty() ? "(KMSEncryptionConfig)" : kms_key) +
           ": it must exist and be enabled in the bucket's region, and its key policy must allow " +
           who + " kms:GenerateDataKey and kms:Decrypt (or set NoEncryptionConfig)";
  }
  if (code == store::kS3AccountProblem || code == store::kS3NotSignedUp ||
      code == store::kS3InvalidPayer) {
    return "the S3 account behind the bucket cannot be used (" + std::string(code) +
           "): fix the account or the bucket's [s3] credentials";
  }
  if (code == store::kS3MethodNotAllowed) {
    return "the S3 service refused the request method: check the bucket's [s3] endpoint and "
           "addressing (path_style)";
  }
  return "the store did not answer as S3 should: check that the bucket's S3 service is up and "
         "its [s3] endpoint, region and TLS settings (docs/remote-s3.md); delivery retries by "
         "itself";
}

std::string LambdaFix(std::string_view code, std::string_view function_arn) {
  std::string fn(function_arn);
  if (code == "Lambda.ResourceNotFound" || code == "Lambda.FunctionNotFound") {
    return "the function does not exist: deploy it (a [[lambda.functions]] entry for a local "
           "handler, or the function at the Lambda endpoint) or fix the processor's LambdaArn "
           "(" + fn + ")";
  }
  if (code == "Lambda.InvokeAccessDenied" || code == "Lambda.AssumeRoleAccessDenied" ||
      code == "Lambda.AccessDenied") {
    return "grant the role lambda:InvokeFunction and lambda:GetFunctionConfiguration on " + fn;
  }
  if (code == "Lambda.ServiceUnavailable") {
    return "the Lambda endpoint does not answer: start it, or fix the function's endpoint "
           "([[lambda.functions]] endpoint or [lambda] endpoint)";
  }
  if (code == "Lambda.InvokeLimitExceeded") {
    return "the function is throttled: raise its concurrency (pool size) or lower the "
           "processor's buffering";
  }
  if (code == "Lambda.JsonProcessingException" || code == "Lambda.MissingRecordId" ||
      code == "Lambda.DuplicatedRecordId") {
    return "the function must answer {\"records\": [{\"recordId\", \"result\", \"data\"}, ...]} "
           "with every recordId it received, once (docs/processing.md)";
  }
  return "read the function's output: hydrant logs --group /aws/lambda/NAME; fix the function "
         "and redeploy it";
}

// --- the report -----------------------------------------------------------------

CheckResult MakeCheck(std::string id, std::string name, CheckStatus status, std::string evidence,
                      std::string fix, std::string code) {
  CheckResult r;
  r.id = std::move(id);
  r.name = std::move(name);
  r.status = status;
  r.evidence = std::move(evidence);
  r.fix = std::move(fix);
  r.error_code = std::move(code);
  return r;
}

const CheckResult* DoctorReport::Find(std::string_view id) const {
  for (const CheckResult& c : checks) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

bool DoctorReport::HasFailure() const { return Count(CheckStatus::kFailed) > 0; }

size_t DoctorReport::Count(CheckStatus s) const {
  return static_cast<size_t>(
      std::count_if(checks.begin(), checks.end(), [s](const CheckResult& c) { return c.status == s; }));
}

std::string DoctorReport::ToJson() const {
  json::array arr;
  for (const auto& c : checks) {
    json::object o{{"id", c.id},
                   {"name", c.name},
                   {"status", CheckStatusName(c.status)},
                   {"evidence", c.evidence},
                   {"fix", c.fix}};
    if (!c.error_code.empty()) o["errorCode"] = c.error_code;
    arr.push_back(std::move(o));
  }
  json::object summary;
  for (auto s : {CheckStatus::kPassed, CheckStatus::kFailed, CheckStatus::kWarning,
                 CheckStatus::kNotApplicable}) {
    summary[CheckStatusName(s)] = Count(s);
  }
  json::object root{{"stream", stream},
                    {"time", time_ms},
                    {"healthy", !HasFailure()},
                    {"summary", std::move(summary)},
                    {"checks", std::move(arr)}};
  return json::serialize(root);
}

Result<DoctorReport> DoctorReport::FromJson(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::InvalidArgument("the doctor's report is not a JSON object");
  const json::object& o = v.as_object();
  DoctorReport r;
  r.stream = StringAt(o, "stream");
  if (const json::value* t = o.if_contains("time"); t && t->is_number()) {
    r.time_ms = t->to_number<int64_t>(ec);
  }
  const json::value* checks = o.if_contains("checks");
  if (!checks || !checks->is_array()) return Status::InvalidArgument("the doctor's report has no checks");
  for (const auto& c : checks->as_array()) {
    if (!c.is_object()) return Status::InvalidArgument("a check of the report is not an object");
    const json::object& co = c.as_object();
    auto st = ParseCheckStatus(StringAt(co, "status"));
    if (!st) return Status::InvalidArgument("unknown check status " + StringAt(co, "status"));
    r.checks.push_back(MakeCheck(StringAt(co, "id"), StringAt(co, "name"), *st,
                            StringAt(co, "evidence"), StringAt(co, "fix"),
                            StringAt(co, "errorCode")));
  }
  return r;
}

std::string DoctorReport::ToText() const {
  std::string out = "hydrant doctor: delivery stream " + stream + "\n";
  size_t width = 0;
  for (const auto& c : checks) width = std::max(width, c.name.size());
  for (const auto& c : checks) {
    std::string_view label = c.status == CheckStatus::kPassed    ? "PASS"
                             : c.status == CheckStatus::kFailed  ? "FAIL"
                             : c.status == CheckStatus::kWarning ? "WARN"
                                                                 : "N/A ";
    out += label;
    out += "  ";
    out += c.name;
    out.append(width - c.name.size() + 2, ' ');
    out += c.evidence;
    if (!c.fix.empty() && (c.status == CheckStatus::kFailed || c.status == CheckStatus::kWarning)) {
      out += "  \u2192 fix: ";
      out += c.fix;
    }
    out += "\n";
  }
  size_t failed = Count(CheckStatus::kFailed), warned = Count(CheckStatus::kWarning);
  out += failed ? "\nFAILED: " : "\nOK: ";
  out += std::to_string(failed) + " failed, " + std::to_string(warned) + " warning" +
         (warned == 1 ? "" : "s") + ", " + std::to_string(Count(CheckStatus::kPassed)) +
         " passed, " + std::to_string(Count(CheckStatus::kNotApplicable)) + " not applicable\n";
  return out;
}

// --- the checks -----------------------------------------------------------------

Doctor::Doctor(DoctorDeps deps, DoctorOptions options)
    : deps_(std::move(deps)), options_(options) {}

int64_t Doctor::Now() const {
  return (deps_.clock ? *deps_.clock : SystemClock::Get()).NowMillis();
}

Result<DoctorReport> Doctor::Run(const stream::StreamRegistry& registry,
                                 const std::string& name) const {
  auto s = registry.Get(name);
  if (!s) {
    for (const auto& q : registry.Quarantined()) {
      if (q.name != name) continue;
      DoctorReport r;
      r.stream = name;
      r.time_ms = Now();
      r.checks.push_back(MakeCheck(
          "stream", "stream", CheckStatus::kFailed,
          name + " could not be opened (quarantined since " + IsoTime(q.since_ms) + ", " +
              std::to_string(q.attempts) + " attempts): " + Cut(q.reason),
          "its folder " + q.dir + " is kept as it is and the name stays taken; repair what the "
          "error names (a stream.json.bak beside stream.json is a copy of the definition), and "
          "hydrant opens it at its next retry or start (docs/reliability.md)"));
      return r;
    }
    return Status::NotFound("Delivery stream " + name + " not found.");
  }
  DoctorTarget t;
  t.meta = s->Meta();
  t.probe = &s->probe();
  t.backlog_records = s->backlog_records();
  t.backlog_disk_bytes = s->backlog_disk_bytes();
  if (t.meta.kinesis_source() && registry.options().kinesis_source_check) {
    t.kinesis_source = registry.options().kinesis_source_check(t.meta.kinesis_stream_arn());
  }
  t.damage = s->recovery_problems();
  for (auto& line : registry.StartNotes(name)) t.damage.push_back(std::move(line));
  return Run(t);
}

DoctorReport Doctor::Run(const DoctorTarget& t) const {
  DoctorReport r;
  r.stream = t.meta.name;
  r.time_ms = Now();
  r.checks.push_back(CheckStream(t));
  r.checks.push_back(CheckDamage(t));
  r.checks.push_back(CheckIncoming(t));
  r.checks.push_back(CheckKinesisSource(t));
  r.checks.push_back(CheckRoleTrust(t));
  r.checks.push_back(CheckRolePermissions(t));
  CheckResult bucket = CheckBucket(t, false);
  r.checks.push_back(bucket);
  r.checks.push_back(CheckBucket(t, true));
  r.checks.push_back(CheckKms(t, bucket));
  r.checks.push_back(CheckStreamEncryption(t));
  for (auto& c : CheckLambda(t)) r.checks.push_back(std::move(c));
  r.checks.push_back(CheckProcessing(t));
  r.checks.push_back(CheckDelivery(t));
  r.checks.push_back(CheckRetention(t));
  r.checks.push_back(CheckLogging(t));
  r.checks.push_back(CheckErrorEvents(t));
  return r;
}

CheckResult Doctor::CheckStream(const DoctorTarget& t) const {
  std::string ev = t.meta.name + " is " + t.meta.status + " (version " +
                   std::to_string(t.meta.version_id) + ", " + t.meta.type + ")";
  if (t.meta.status == "ACTIVE") return MakeCheck("stream", "stream", CheckStatus::kPassed, ev);
  return MakeCheck("stream", "stream", CheckStatus::kFailed, ev,
              t.meta.status.starts_with("CREATING")
                  ? "wait until the stream is ACTIVE (describe-delivery-stream), or re-create it"
                  : "the stream is not usable: re-create it (create-delivery-stream)");
}

CheckResult Doctor::CheckDamage(const DoctorTarget& t) const {
  const uint64_t lost = t.probe->lost_records.load(std::memory_order_relaxed);
  if (t.damage.empty() && lost == 0) {
    return MakeCheck("disk-damage", "disk damage", CheckStatus::kPassed,
                "no damage found in the stream's files at start");
  }
  std::string ev = std::to_string(lost) + " undelivered records lost to damage found at start";
  constexpr size_t kShown = 5;
  for (size_t i = 0; i < t.damage.size() && i < kShown; ++i) ev += "; " + Cut(t.damage[i]);
  if (t.damage.size() > kShown) {
    ev += "; and " + std::to_string(t.damage.size() - kShown) + " more (hydrant's log)";
  }
  return MakeCheck("disk-damage", "disk damage", CheckStatus::kWarning, ev,
              "the damaged bytes are kept beside the log as *.damaged files (nothing was "
              "deleted); look for the cause (disk errors in the kernel log, something else "
              "writing in the data folder); the records after the damage are delivered");
}

CheckResult Doctor::CheckIncoming(const DoctorTarget& t) const {
  if (t.meta.kinesis_source()) {
    return MakeCheck("incoming-data", "incoming data", CheckStatus::kNotApplicable,
                     "records come from the Kinesis stream " + t.meta.kinesis_stream_arn() +
                         ", not from PutRecord/PutRecordBatch: see the kinesis source check");
  }
  const std::string& name = t.meta.name;
  const stream::StreamProbe& p = *t.probe;
  const uint64_t total_records = p.incoming_records.load(std::memory_order_relaxed);
  const uint64_t total_bytes = p.incoming_bytes.load(std::memory_order_relaxed);
  const std::string window = Duration(options_.window_ms);
  const std::string fix =
      "the problem is upstream: check your producer's PutRecord/PutRecordBatch calls (the "
      "stream name, the endpoint and region, the answers' FailedPutCount and errors)";
  std::string since = Num(static_cast<double>(total_records)) + " records, " +
                      Num(static_cast<double>(total_bytes)) + " bytes since hydrant started";
  if (!deps_.series) {
    if (total_records > 0) {
      return MakeCheck("incoming-data", "incoming data", CheckStatus::kPassed, since);
    }
    return MakeCheck("incoming-data", "incoming data", CheckStatus::kFailed,
                "IncomingRecords and IncomingBytes are 0 since hydrant started", fix);
  }
  double records = deps_.series->SumOver(name, "IncomingRecords", options_.window_ms);
  double bytes = deps_.series->SumOver(name, "IncomingBytes", options_.window_ms);
  double throttled = deps_.series->SumOver(name, "ThrottledRecords", options_.window_ms);
  if (records > 0) {
    std::string ev = "IncomingRecords " + Num(records) + ", IncomingBytes " + Num(bytes) +
                     " in the last " + window + " (" + since + ")";
    if (throttled > 0) {
      return MakeCheck("incoming-data", "incoming data", CheckStatus::kWarning,
                  ev + "; ThrottledRecords " + Num(throttled),
                  "puts were throttled: retry the failed records of each PutRecordBatch answer, "
                  "slow down, or raise disk_quota_mb");
    }
    return MakeCheck("incoming-data", "incoming data", CheckStatus::kPassed, ev);
  }
  const int64_t last_put = p.last_put_ms.load(std::memory_order_relaxed);
  if (last_put > 0 && Now() - last_put <= options_.window_ms) {
    // Records too recent for the series (sampled every period): the live counters.
    return MakeCheck("incoming-data", "incoming data", CheckStatus::kPassed,
                "the latest put was " + Duration(Now() - last_put) + " ago (" + since + ")");
  }
  if (total_records > 0) {
    return MakeCheck("incoming-data", "incoming data", CheckStatus::kWarning,
                "no record in the last " + window + " (" + since + ")",
                "if data should be flowing, " + fix);
  }
  return MakeCheck("incoming-data", "incoming data", CheckStatus::kFailed,
              "IncomingRecords and IncomingBytes are 0 in the last " + window +
                  " and since hydrant started: no record reached the stream",
              fix);
}

CheckResult Doctor::CheckKinesisSource(const DoctorTarget& t) const {
  const std::string id = "kinesis-source", name = "kinesis source";
  if (!t.meta.kinesis_source()) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable,
                     t.meta.type + " stream: no Kinesis stream as its source");
  }
  const std::string arn = t.meta.kinesis_stream_arn();
  const stream::StreamProbe& p = *t.probe;
  auto load = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  const std::string window = Duration(options_.window_ms);
  // What was read: in the window when the series has it, else since start.
  const uint64_t records_total = load(p.kinesis_read_records);
  double records = static_cast<double>(records_total);
  double bytes = static_cast<double>(load(p.kinesis_read_bytes));
  double throttled = static_cast<double>(load(p.kinesis_throttled_get_records) +
                                         load(p.kinesis_throttled_get_shard_iterator) +
                                         load(p.kinesis_throttled_describe_stream));
  std::string when = "since hydrant started";
  if (deps_.series) {
    records = deps_.series->SumOver(t.meta.name, "DataReadFromKinesisStream.Records", options_.window_ms);
    bytes = deps_.series->SumOver(t.meta.name, "DataReadFromKinesisStream.Bytes", options_.window_ms);
    throttled = 0;
    for (std::string_view m : {"ThrottledGetRecords", "ThrottledGetShardIterator", "ThrottledDescribeStream"}) {
      throttled += deps_.series->SumOver(t.meta.name, m, options_.window_ms);
    }
    when = "in the last " + window;
  }
  const int64_t behind = load(p.kinesis_millis_behind);
  std::string ev = "reading " + arn + ": " + Num(records) + " records (" + Num(bytes) +
                   " bytes) read " + when + ", KinesisMillisBehindLatest " + Duration(behind);

  // Read errors: the probe's counts by code since start, and the latest such
  // event of the error log (its time and message) when there is one.
  const uint64_t errors = load(p.kinesis_read_errors);
  std::vector<std::pair<std::string, uint64_t>> codes;
  for (auto& [code, n] : p.errors_by_code.Read()) {
    if (code.starts_with("Kinesis.")) codes.emplace_back(code, n);
  }
  std::sort(codes.begin(), codes.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string last_code = codes.empty() ? "" : codes.front().first;
  std::optional<Tally> last_event;
  bool log_read = false;  // the error log (enabled) was read: it has every failed read
  const logs::LoggingOptions& logging = t.meta.spec().s3.logging;
  if (deps_.logs && errors > 0 && logging.enabled) {
    const std::string group = logs::DeliveryErrorLog::GroupName(logging, t.meta.name);
    if (deps_.logs->GroupExists(group)) {
      if (auto tallies = TallyEvents(*deps_.logs, group, Now() - options_.errors_window_ms); tallies.ok()) {
        log_read = true;
        for (const auto& [code, tl] : tallies->by_code) {
          if (!code.starts_with("Kinesis.")) continue;
          if (!last_event || tl.latest_ms > last_event->latest_ms) {
            last_event = tl;
            last_code = code;
          }
        }
      }
    }
  }
  std::string errors_ev;
  if (errors > 0) {
    errors_ev = "; " + std::to_string(errors) + " failed reads since start";
    for (size_t i = 0; i < codes.size(); ++i) {
      errors_ev += (i ? ", " : " (") + codes[i].first + " x" + std::to_string(codes[i].second);
    }
    if (!codes.empty()) errors_ev += ")";
    if (last_event) {
      errors_ev += ", the last " + last_code + " at " + IsoTime(last_event->latest_ms) + ": " +
                   Cut(last_event->latest_message);
    } else if (!last_code.empty()) {
      errors_ev += ", mostly " + last_code;
    }
  }
  const std::string see_events = "; hydrant logs " + t.meta.name + " shows each failed read";

  // 1. The source stream cannot be read at all (a throttled check says nothing).
  const Status* source = t.kinesis_source ? &*t.kinesis_source : nullptr;
  if (source && !source->ok() && source->code() != StatusCode::kResourceExhausted) {
    std::string code(source->error_code());
    if (!code.starts_with("Kinesis.")) {
      if (code.ends_with("Exception")) code.resize(code.size() - 9);
      code = "Kinesis." + (code.empty() ? std::string(source->code() == StatusCode::kNotFound
                                                          ? "ResourceNotFound"
                                                          : "InternalError")
                                        : code);
    }
    const std::string fix =
        source->code() == StatusCode::kNotFound
            ? "create the Kinesis stream (aws kinesis create-stream --stream-name NAME "
              "--shard-count 1) or, when it lives on another Kinesis endpoint, configure that "
              "endpoint for its ARN ([[kinesis.sources]], docs/kinesis.md); a delivery stream's "
              "source cannot be changed: re-create the delivery stream to read another stream"
            : "the source stream's endpoint refuses or does not answer: check its "
              "[[kinesis.sources]] entry (endpoint, region, credentials, TLS) and that the "
              "credentials may kinesis:ListShards, kinesis:GetShardIterator and "
              "kinesis:GetRecords on it (docs/kinesis.md)";
    return MakeCheck(id, name, CheckStatus::kFailed,
                     arn + " cannot be read: " + Cut(source->message()) + errors_ev, fix, code);
  }
  if (source && source->code() == StatusCode::kResourceExhausted) {
    ev += "; the check of the source stream was throttled";
  }
  // 2. Reads fail, and none succeeds: nothing comes in.
  // Recent: the last failed read is in the window; without the error log to
  // tell, any failed read since start counts.
  const bool recent_error =
      errors > 0 && (last_event ? Now() - last_event->latest_ms <= options_.window_ms : !log_read);
  if (recent_error && records == 0) {
    return MakeCheck(id, name, CheckStatus::kFailed, ev + errors_ev + ": reads are failing",
                     "fix what the error code names (the stream's existence, the credentials "
                     "and kinesis:GetRecords, kinesis:GetShardIterator, kinesis:ListShards and "
                     "kinesis:DescribeStream permissions, the endpoint); reads are retried every "
                     "few seconds" + see_events,
                     last_code);
  }
  // 3. Reading paused: the delivery stream's backlog is above the source's bound.
  if (t.backlog_disk_bytes > deps_.kinesis_max_backlog_bytes) {
    return MakeCheck(id, name, CheckStatus::kFailed,
                     ev + "; reading is paused: the delivery stream holds " +
                         Num(static_cast<double>(t.backlog_disk_bytes)) +
                         " bytes undelivered, more than the source's bound of " +
                         Num(static_cast<double>(deps_.kinesis_max_backlog_bytes)) + " bytes" +
                         errors_ev,
                     "delivery is behind or failing: see the delivery check; reading resumes by "
                     "itself once the backlog is below the bound, and the records wait in the "
                     "Kinesis stream within its retention period");
  }
  if (behind >= options_.kinesis_behind_fail_ms) {
    return MakeCheck(id, name, CheckStatus::kFailed,
                     ev + errors_ev + ": records are close to the source stream's retention",
                     "reading is far behind the source stream: records older than its retention "
                     "period (24 h by default) are lost unread; raise the stream's retention "
                     "(increase-stream-retention-period) and see the delivery check");
  }
  // 4. Warnings: some reads failed, reads throttled, behind.
  if (recent_error) {
    return MakeCheck(id, name, CheckStatus::kWarning, ev + errors_ev + ": some reads failed (retried)",
                     "see the error code; failed reads are retried" + see_events, last_code);
  }
  if (throttled > 0) {
    return MakeCheck(id, name, CheckStatus::kWarning,
                     ev + "; " + Num(throttled) + " throttled calls " + when +
                         " (ThrottledGetRecords, ThrottledGetShardIterator, ThrottledDescribeStream)" +
                         errors_ev,
                     "the source stream refuses reads beyond its shards' limits (5 GetRecords "
                     "calls and 2 MB per second per shard, shared by every consumer): fewer "
                     "consumers, or more shards; hydrant's own Kinesis streams never throttle");
  }
  if (behind > options_.kinesis_behind_warn_ms) {
    return MakeCheck(id, name, CheckStatus::kWarning, ev + errors_ev + ": reading is behind",
                     "the source stream gets records faster than they are read and delivered: "
                     "see the delivery check (a slow destination slows the reading)");
  }
  return MakeCheck(id, name, CheckStatus::kPassed, ev + errors_ev);
}

CheckResult Doctor::CheckBucket(const DoctorTarget& t, bool backup) const {
  const std::string id = backup ? "backup-bucket-access" : "bucket-access";
  const std::string name = backup ? "backup bucket access" : "bucket access";
  const api::S3DestinationSpec* spec = &t.meta.spec().s3;
  if (backup) {
    if (!t.meta.spec().backup) {
      return MakeCheck(id, name, CheckStatus::kNotApplicable, "S3BackupMode is Disabled");
    }
    spec = &*t.meta.spec().backup;
  }
  const api::S3DestinationSpec& cfg = *spec;
  if (!deps_.sink) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable, "s3://" + cfg.bucket + ": not probed here");
  }
  store::ObjectMeta meta;
  meta.role_arn = cfg.role_arn;
  meta.sse_kms_key_id = cfg.kms_key_arn;
  Status st = deps_.sink->CheckAccess(cfg.bucket, meta);
  std::string with = cfg.role_arn.empty() ? "" : " as " + cfg.role_arn;
  if (st.ok()) {
    return MakeCheck(id, name, CheckStatus::kPassed,
                "s3://" + cfg.bucket + " reachable (list, write, delete)" + with +
                    (cfg.kms_key_arn.empty() ? "" : " with SSE-KMS key " + cfg.kms_key_arn));
  }
  std::string code(store::FirehoseErrorCode(st));
  return MakeCheck(id, name, CheckStatus::kFailed,
              "s3://" + cfg.bucket + with + ": " + code + ": " +
                  Cut(st.message()),
              BucketFix(code, cfg.bucket, cfg.role_arn, cfg.kms_key_arn), code);
}

CheckResult Doctor::CheckKms(const DoctorTarget& t, const CheckResult& bucket) const {
  const api::S3DestinationSpec& cfg = t.meta.spec().s3;
  const std::string id = "kms-key", name = "SSE-KMS key";
  if (cfg.kms_key_arn.empty()) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable, "no KMSEncryptionConfig (NoEncryption)");
  }
  if (auto checked = CheckKmsStatically(t)) return std::move(*checked);
  if (deps_.bucket_is_remote && !deps_.bucket_is_remote(cfg.bucket)) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable,
                "s3://" + cfg.bucket + " is in the embedded store, which does not apply SSE-KMS: "
                "the key " + cfg.kms_key_arn + " is used by remote S3 buckets only");
  }
  if (bucket.status == CheckStatus::kPassed) {
    return MakeCheck(id, name, CheckStatus::kPassed,
                "the bucket probe wrote its object with SSE-KMS key " + cfg.kms_key_arn);
  }
  if (bucket.status != CheckStatus::kFailed) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable, "key " + cfg.kms_key_arn + " not probed");
  }
  std::string fix = BucketFix(store::kS3KmsNotFound, cfg.bucket, cfg.role_arn, cfg.kms_key_arn);
  if (bucket.error_code.starts_with("S3.KMS.")) {
    return MakeCheck(id, name, CheckStatus::kFailed,
                "writing with key " + cfg.kms_key_arn + " failed: " + bucket.error_code, fix,
                bucket.error_code);
  }
  if (bucket.error_code == store::kS3AccessDenied) {
    return MakeCheck(id, name, CheckStatus::kWarning,
                "S3.AccessDenied on a bucket written with SSE-KMS key " + cfg.kms_key_arn +
                    ": the key policy may be what denies",
                fix);
  }
  return MakeCheck(id, name, CheckStatus::kNotApplicable,
              "key " + cfg.kms_key_arn + " not verified: the bucket probe failed with " +
                  bucket.error_code);
}

std::vector<CheckResult> Doctor::CheckLambda(const DoctorTarget& t) const {
  const std::string arn = t.meta.spec().LambdaArn();
  if (arn.empty()) {
    return {MakeCheck("lambda-function", "lambda function", CheckStatus::kNotApplicable,
                 "no Lambda processor configured"),
            MakeCheck("lambda-duration", "lambda duration", CheckStatus::kNotApplicable,
                 "no Lambda processor configured")};
  }
  std::vector<CheckResult> out;
  processing::FunctionRef ref;
  const bool parsed = processing::ParseFunctionRef(arn, &ref);
  std::optional<int> configured;
  if (parsed && deps_.function_timeout_seconds) configured = deps_.function_timeout_seconds(ref.name);
  const int64_t limit_ms =
      configured ? std::min<int64_t>(*configured * 1000ll, kFirehoseLambdaLimitMs)
                 : kFirehoseLambdaLimitMs;
  const std::string timeout_text =
      configured ? "timeout " + std::to_string(*configured) + " s" : "timeout unknown (remote function)";

  // 1. Does it exist and answer?
  if (!parsed) {
    out.push_back(MakeCheck("lambda-function", "lambda function", CheckStatus::kFailed,
                       "LambdaArn " + arn + " is not a Lambda function ARN",
                       "fix the processor's LambdaArn (arn:aws:lambda:REGION:ACCOUNT:function:NAME)",
                       "Lambda.InvalidRequest"));
  } else if (!deps_.invoker) {
    out.push_back(MakeCheck("lambda-function", "lambda function", CheckStatus::kNotApplicable,
                       arn + ": not probed here"));
  } else {
    std::string region = ref.region;
    json::object event{{"invocationId", "hydrant-doctor-" + std::to_string(Now())},
                       {"deliveryStreamArn", t.meta.arn},
                       {"region", region},
                       {"records", json::array()}};
    processing::InvokeResult res = deps_.invoker->Invoke(ref, json::serialize(event),
                                                         options_.invoke_timeout);
    using Kind = processing::InvokeResult::Kind;
    std::string took = " (" + std::to_string(res.duration_ms) + " ms)";
    if (res.kind == Kind::kOk) {
      json::error_code ec;
      json::value answer = json::parse(res.payload, ec);
      const json::value* recs =
          !ec && answer.is_object() ? answer.as_object().if_contains("records") : nullptr;
      if (recs && recs->is_array()) {
        out.push_back(MakeCheck("lambda-function", "lambda function", CheckStatus::kPassed,
                           arn + " answered an empty batch" + took));
      } else {
        out.push_back(MakeCheck("lambda-function", "lambda function", CheckStatus::kWarning,
                           arn + " answered an empty batch with " + Cut(res.payload) +
                               ", not {\"records\": [...]}" + took,
                           LambdaFix("Lambda.JsonProcessingException", arn),
                           "Lambda.JsonProcessingException"));
      }
    } else if (IsTimeout(res)) {
      const bool own = configured && *configured * 1000ll < options_.invoke_timeout.count();
      if (own) {
        out.push_back(MakeCheck("lambda-function", "lambda function", CheckStatus::kFailed,
                           arn + " timed out: it ran past its " + timeout_text + took,
                           "raise the function's timeout (timeout_seconds; Firehose allows at most "
                           "5 minutes) or make it faster",
                           res.error_code));
      } else {
        out.push_back(MakeCheck("lambda-function", "lambda function", CheckStatus::kWarning,
                           arn + " did not answer an empty batch within " +
                               Duration(options_.invoke_timeout.count()) + " (" + timeout_text + ")",
                           "check that the function answers quickly; Firehose gives up after "
                           "5 minutes",
                           res.error_code));
      }
    } else {
      std::string detail = res.error_message;
      if (res.kind == Kind::kFunctionError && !res.payload.empty()) detail += " " + res.payload;
      out.push_back(MakeCheck("lambda-function", "lambda function", CheckStatus::kFailed,
                         arn + ": " + res.error_code + ": " + Cut(detail),
                         LambdaFix(res.error_code, arn), res.error_code));
    }
  }

  // 2. Its duration against its timeout and Firehose's 5 minutes.
  const std::string id = "lambda-duration", name = "lambda duration";
  if (configured && *configured * 1000ll > kFirehoseLambdaLimitMs) {
    out.push_back(MakeCheck(id, name, CheckStatus::kFailed,
                       timeout_text + " exceeds Firehose's 5-minute limit",
                       "lower the function's timeout to at most 5 minutes (300 s)"));
    return out;
  }
  std::optional<WindowSummary> dur;
  if (deps_.series) dur = deps_.series->Summarize(t.meta.name, "ExecuteProcessing.Duration", options_.window_ms);
  if (!dur || dur->datapoints == 0) {
    out.push_back(MakeCheck(id, name, configured ? CheckStatus::kPassed : CheckStatus::kNotApplicable,
                       "no invocation in the last " + Duration(options_.window_ms) + "; " +
                           timeout_text + (configured ? " (at most 5 min)" : "")));
    return out;
  }
  const double peak = dur->maximum;
  std::string ev = "ExecuteProcessing.Duration average " + Num(std::round(dur->average)) +
                   " ms, peak " + Num(std::round(peak)) + " ms in the last " +
                   Duration(options_.window_ms) + "; " + timeout_text;
  std::string fix = "raise the function's timeout (at most 5 minutes) or make it faster (smaller "
                    "batches: the processor's BufferSizeInMBs)";
  if (peak >= 0.95 * static_cast<double>(limit_ms)) {
    out.push_back(MakeCheck(id, name, CheckStatus::kFailed, ev + ": invocations run into the timeout", fix));
  } else if (peak >= 0.8 * static_cast<double>(limit_ms)) {
    out.push_back(MakeCheck(id, name, CheckStatus::kWarning, ev + ": close to the timeout", fix));
  } else {
    out.push_back(MakeCheck(id, name, CheckStatus::kPassed, ev));
  }
  return out;
}

CheckResult Doctor::CheckProcessing(const DoctorTarget& t) const {
  const std::string id = "processing", name = "processing";
  if (!t.meta.spec().processing_enabled()) {
    return MakeCheck(id, name, CheckStatus::kNotApplicable, "ProcessingConfiguration is disabled");
  }
  const stream::StreamProbe& p = *t.probe;
  const uint64_t failed_records = p.processing_failed_records.load(std::memory_order_relaxed);
  const uint64_t invocations = p.processing_invocations.load(std::memory_order_relaxed);
  const uint64_t failed_invocations = p.processing_failed_invocations.load(std::memory_order_relaxed);
  const api::S3DestinationSpec& cfg = t.meta.spec().s3;
  std::string where = Where(cfg);
  std::string since = std::to_string(invocations) + " invocations (" +
                      std::to_string(failed_invocations) + " failed), " +
                      std::to_string(failed_records) + " processing-failed records since start";
  auto latest = Latest(deps_.series, t.meta.name, "ExecuteProcessing.Success", options_.window_ms);
  std::optional<WindowSummary> sum;
  if (deps_.series) sum = deps_.series->Summarize(t.meta.name, "ExecuteProcessing.Success", options_.window_ms);
  std::string arn = t.meta.spec().LambdaArn();
  std::string ev = sum ? "ExecuteProcessing.Success " + Num(sum->average) + " over the last " +
                             Duration(options_.window_ms) + " (latest " + Num(latest->value) +
                             "); " + since
                       : since;
  if (failed_records > 0) ev += "; failed records are in " + where;
  if (latest && latest->value == 0) {
    return MakeCheck(id, name, CheckStatus::kFailed, ev,
                "every recent invocation failed: see the lambda function check and the "
                "function's log (hydrant logs --group /aws/lambda/NAME); failed records are "
                "delivered to " + where);
  }
  if (failed_records > 0 || (sum && sum->average < 1)) {
    return MakeCheck(id, name, CheckStatus::kWarning, ev,
                "read errorCode and errorMessage in the processing-failed objects (" + where +
                    "), fix " + (arn.empty() ? std::string("the processor") : arn) +
                    ", then put the records' rawData again");
  }
  return MakeCheck(id, name, CheckStatus::kPassed, ev);
}

CheckResult Doctor::CheckDelivery(const DoctorTarget& t) const {
  const std::string id = "delivery", name = "delivery to S3";
  const stream::StreamProbe& p = *t.probe;
  const int64_t now = Now();
  const int64_t oldest = p.oldest_undelivered_ms.load(std::memory_order_relaxed);
  const int64_t age_ms = oldest > 0 ? std::max<int64_t>(0, now - oldest) : 0;
  const uint64_t attempts = p.s3_put_attempts.load(std::memory_order_relaxed);
  const uint64_t successes = p.s3_put_successes.load(std::memory_order_relaxed);
  const api::S3DestinationSpec& cfg = t.meta.spec().s3;
  // A batch may wait one buffering interval (and processing's) before its put: past
  // that plus a minute, data is late.
  const int64_t late_ms = (cfg.buffer_interval_seconds + 60) * 1000ll *
                          (t.meta.spec().processing_enabled() ? 2 : 1);
  auto latest = Latest(deps_.series, t.meta.name, "DeliveryToS3.Success", options_.window_ms);
  std::optional<WindowSummary> sum;
  if (deps_.series) sum = deps_.series->Summarize(t.meta.name, "DeliveryToS3.Success", options_.window_ms);
  std::string ev;
  if (sum) {
    ev = "DeliveryToS3.Success " + Num(sum->average) + " over " + std::to_string(sum->samples) +
         " puts in the last " + Duration(options_.window_ms) + " (latest " + Num(latest->value) + ")";
  } else {
    ev = "no object put in the last " + Duration(options_.window_ms);
  }
  ev += "; " + std::to_string(successes) + "/" + std::to_string(attempts) +
        " puts succeeded since start; DataFreshness " + Duration(age_ms) + "; backlog " +
        std::to_string(t.backlog_records) + " records";
  const std::string fix_failing =
      "see the bucket access check and the error events; the data is kept and delivered once "
      "the cause is fixed, until the retention period ends";
  if (latest && latest->value == 0) {
    return MakeCheck(id, name, CheckStatus::kFailed, ev + ": recent puts all failed", fix_failing);
  }
  if (age_ms > late_ms && (!latest || latest->value < 1)) {
    return MakeCheck(id, name, CheckStatus::kFailed,
                ev + ": nothing delivered while data waits longer than the buffering interval",
                t.meta.spec().processing_enabled()
                    ? "see the lambda function and processing checks; " + fix_failing
                    : fix_failing);
  }
  if (age_ms > late_ms) {
    return MakeCheck(id, name, CheckStatus::kWarning, ev + ": delivery is behind",
                "delivery is slower than the incoming data: check the destination's latency, "
                "raise BufferingHints.SizeInMBs");
  }
  if (sum && sum->average < 1) {
    return MakeCheck(id, name, CheckStatus::kWarning, ev + ": some puts failed (retried)",
                "see the error events for the cause of the failed puts");
  }
  return MakeCheck(id, name, CheckStatus::kPassed, ev);
}

CheckResult Doctor::CheckRetention(const DoctorTarget& t) const {
  const std::string id = "retention", name = "retention";
  const stream::StreamProbe& p = *t.probe;
  const int64_t oldest = p.oldest_undelivered_ms.load(std::memory_order_relaxed);
  const int64_t age_ms = oldest > 0 ? std::max<int64_t>(0, Now() - oldest) : 0;
  const uint64_t expired = p.expired_records.load(std::memory_order_relaxed);
  const int64_t retention = deps_.retention_ms;
  std::string ev = "oldest undelivered record " + Duration(age_ms) + " old, retention " +
                   Duration(retention) + "; " + std::to_string(expired) +
                   " records expired since start";
  const std::string fix = "fix delivery (the failed checks above) before the retention period "
                          "ends; raise retention_seconds to keep data longer";
  if (retention > 0 && age_ms * 2 >= retention) {
    return MakeCheck(id, name, CheckStatus::kFailed,
                ev + ": records are dropped in " + Duration(std::max<int64_t>(0, retention - age_ms)),
                fix);
  }
  if (expired > 0) {
    return MakeCheck(id, name, CheckStatus::kWarning, ev + ": data was lost", fix);
  }
  return MakeCheck(id, name, CheckStatus::kPassed, ev);
}

CheckResult Doctor::CheckLogging(const DoctorTarget& t) const {
  const std::string id = "error-logging", name = "error logging";
  const logs::LoggingOptions& opts = t.meta.spec().s3.logging;
  std::string group = logs::DeliveryErrorLog::GroupName(opts, t.meta.name);
  if (!opts.enabled) {
    return MakeCheck(id, name, CheckStatus::kWarning,
                "CloudWatchLoggingOptions.Enabled is false: delivery and processing errors are "
                "not written to " + group,
                "enable CloudWatchLoggingOptions to see error events (update-destination with "
                "\"CloudWatchLoggingOptions\": {\"Enabled\": true, \"LogGroupName\": \"" + group +
                    "\", \"LogStreamName\": \"DestinationDelivery\"}), then hydrant logs " +
                    t.meta.name);
  }
  std::string ev = "enabled: " + group + " / " + logs::DeliveryErrorLog::StreamName(opts, false);
  if (t.meta.spec().backup) {
    const logs::LoggingOptions& bopts = t.meta.spec().backup_logging;
    ev += bopts.enabled ? "; backup: " + logs::DeliveryErrorLog::GroupName(bopts, t.meta.name) +
                                         " / " + logs::DeliveryErrorLog::StreamName(bopts, true)
                                   : "; backup errors are not logged";
  }
  return MakeCheck(id, name, CheckStatus::kPassed, ev);
}

CheckResult Doctor::CheckErrorEvents(const DoctorTarget& t) const {
  const std::string id = "error-events", name = "error events";
  const logs::LoggingOptions& opts = t.meta.spec().s3.logging;
  const bool enabled = opts.enabled;
  std::string group = logs::DeliveryErrorLog::GroupName(opts, t.meta.name);
  if (!deps_.logs) return MakeCheck(id, name, CheckStatus::kNotApplicable, "no log store");
  if (!deps_.logs->GroupExists(group)) {
    if (!enabled) {
      return MakeCheck(id, name, CheckStatus::kNotApplicable, "error logging is disabled; no " + group);
    }
    return MakeCheck(id, name, CheckStatus::kPassed, "no error event (" + group + " has none yet)");
  }
  auto tallies = TallyEvents(*deps_.logs, group, Now() - options_.errors_window_ms);
  if (!tallies.ok()) {
    return MakeCheck(id, name, CheckStatus::kWarning, "cannot read " + group + ": " + tallies.status().message());
  }
  const auto& by_code = tallies->by_code;
  const uint64_t total = tallies->total;
  const std::string window = Duration(options_.errors_window_ms);
  if (total == 0) {
    return MakeCheck(id, name, CheckStatus::kPassed, "no error event in the last " + window + " in " + group);
  }
  std::vector<std::pair<std::string, Tally>> sorted(by_code.begin(), by_code.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  std::string ev = std::to_string(total) + " in the last " + window + " in " + group + ": ";
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [code, tl] = sorted[i];
    if (i) ev += "; ";
    ev += code + " x" + std::to_string(tl.count) + " (latest " + IsoTime(tl.latest_ms) + " in " +
          tl.log_stream + ": " + Cut(tl.latest_message) + ")";
  }
  const std::string& top = sorted.front().first;
  const api::S3DestinationSpec& cfg = t.meta.spec().s3;
  std::string fix = top.starts_with("Lambda.")    ? LambdaFix(top, t.meta.spec().LambdaArn())
                    : top.starts_with("Kinesis.") ? "reading the source stream fails: see the kinesis source check"
                                                  : BucketFix(top, cfg.bucket, cfg.role_arn, cfg.kms_key_arn);
  fix += "; read the events: hydrant logs " + t.meta.name + " --since " +
         std::to_string(options_.errors_window_ms / 60'000) + "m";
  return MakeCheck(id, name, CheckStatus::kWarning, ev, fix, top);
}

}  // namespace hydrant::observability
