#include "sources/remote_kinesis_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <optional>
#include <utility>

#include "aws/sigv4.h"
#include "common/base64.h"

namespace hydrant::sources {
namespace {

constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
constexpr size_t kMaxQuotedMessage = 512;  // of the endpoint's error message
constexpr size_t kMaxGetRecordsLimit = 10000;

// What a `__type` means: its constant and the StatusCode it maps to.
struct ErrorKind {
  std::string_view code;
  StatusCode status;
};
constexpr std::array kErrorKinds = {
    ErrorKind{kKinesisResourceNotFound, StatusCode::kNotFound},
    ErrorKind{kKinesisResourceInUse, StatusCode::kInvalidArgument},
    ErrorKind{kKinesisExpiredIterator, StatusCode::kInvalidArgument},
    ErrorKind{kKinesisExpiredNextToken, StatusCode::kInvalidArgument},
    ErrorKind{kKinesisInvalidArgument, StatusCode::kInvalidArgument},
    ErrorKind{kKinesisValidation, StatusCode::kInvalidArgument},
    ErrorKind{kKinesisSerialization, StatusCode::kInvalidArgument},
    ErrorKind{kKinesisProvisionedThroughputExceeded, StatusCode::kResourceExhausted},
    ErrorKind{kKinesisLimitExceeded, StatusCode::kResourceExhausted},
    ErrorKind{kKinesisKMSThrottling, StatusCode::kResourceExhausted},
    ErrorKind{kKinesisThrottling, StatusCode::kResourceExhausted},
    ErrorKind{kKinesisServiceUnavailable, StatusCode::kResourceExhausted},
    ErrorKind{kKinesisAccessDenied, StatusCode::kUnavailable},
    ErrorKind{kKinesisUnrecognizedClient, StatusCode::kUnavailable},
    ErrorKind{kKinesisInvalidSignature, StatusCode::kUnavailable},
    ErrorKind{kKinesisIncompleteSignature, StatusCode::kUnavailable},
    ErrorKind{kKinesisMissingAuthenticationToken, StatusCode::kUnavailable},
    ErrorKind{kKinesisExpiredToken, StatusCode::kUnavailable},
    ErrorKind{kKinesisKMSAccessDenied, StatusCode::kUnavailable},
    ErrorKind{kKinesisKMSDisabled, StatusCode::kUnavailable},
    ErrorKind{kKinesisKMSInvalidState, StatusCode::kUnavailable},
    ErrorKind{kKinesisKMSNotFound, StatusCode::kUnavailable},
    ErrorKind{kKinesisKMSOptInRequired, StatusCode::kUnavailable},
    ErrorKind{kKinesisInternalFailure, StatusCode::kUnavailable},
};

// The StatusCode of an answer whose type is not one of the above.
StatusCode StatusForHttp(int http_status) {
  if (http_status == 429 || http_status == 503) return StatusCode::kResourceExhausted;
  if (http_status >= 500 || http_status == 401 || http_status == 403) {
    return StatusCode::kUnavailable;
  }
  return StatusCode::kInvalidArgument;
}

// Printable, bounded text of the endpoint's for a message.
std::string Quote(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxQuotedMessage)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  if (s.size() > kMaxQuotedMessage) out += "...";
  return out;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsRegion(std::string_view s) {
  return !s.empty() && s.size() <= 32 && std::isalpha(static_cast<unsigned char>(s.front())) &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

bool IsStreamName(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string_view IteratorType(StartAt at) {
  switch (at) {
    case StartAt::kTrimHorizon:
      return "TRIM_HORIZON";
    case StartAt::kLatest:
      return "LATEST";
    case StartAt::kAtTimestamp:
      return "AT_TIMESTAMP";
    case StartAt::kAfterSequenceNumber:
      return "AFTER_SEQUENCE_NUMBER";
  }
  return "TRIM_HORIZON";
}

// A JSON object; simdjson copies the body into its padded buffer.
bool ParseObject(simdjson::dom::parser& parser, std::string_view body, simdjson::dom::object* out) {
  simdjson::dom::element doc;
  return parser.parse(body.data(), body.size(), /*realloc_if_needed=*/true).get(doc) ==
             simdjson::SUCCESS &&
         doc.get(*out) == simdjson::SUCCESS;
}

// Optional string member; false when present with another type.
bool OptString(simdjson::dom::object o, std::string_view key, std::optional<std::string>* out) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return true;
  std::string_view v;
  if (e.get(v) != simdjson::SUCCESS) return false;
  *out = std::string(v);
  return true;
}

}  // namespace

Status KinesisErrorStatus(std::string_view type, int http_status, std::string_view message,
                          std::string_view context) {
  if (size_t hash = type.rfind('#'); hash != std::string_view::npos) type = type.substr(hash + 1);
  // Some endpoints append ":http://internal.amazon.com/coral/..." to the type.
  if (size_t colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  std::string_view code = kKinesisOther;
  StatusCode status = StatusForHttp(http_status);
  for (const ErrorKind& k : kErrorKinds) {
    if (k.code == type) {
      code = k.code;
      status = k.status;
      break;
    }
  }
  std::string m(context);
  m += ": HTTP " + std::to_string(http_status);
  m += type.empty() ? std::string(" (no error type)") : " " + Quote(type);
  if (!message.empty()) m += ": " + Quote(message);
  return Status(status, std::move(m)).WithErrorCode(code);
}

Result<KinesisStreamArn> ParseKinesisStreamArn(std::string_view arn) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("'" + Quote(arn) +
                                   "' is not a Kinesis stream ARN "
                                   "(arn:aws:kinesis:REGION:ACCOUNT:stream/NAME): " +
                                   std::string(why));
  };
  std::array<std::string_view, 6> parts;
  std::string_view rest = arn;
  for (size_t i = 0; i < 5; ++i) {
    size_t c = rest.find(':');
    if (c == std::string_view::npos) return bad("it has fewer than six ':'-separated parts");
    parts[i] = rest.substr(0, c);
    rest = rest.substr(c + 1);
  }
  parts[5] = rest;
  if (parts[0] != "arn") return bad("it does not start with 'arn:'");
  if (!parts[1].starts_with("aws")) return bad("unknown partition");
  if (parts[2] != "kinesis") return bad("the service is not 'kinesis'");
  if (!IsRegion(parts[3])) return bad("the region is missing or malformed");
  if (parts[4].size() != 12 || !IsDigits(parts[4])) return bad("the account is not 12 digits");
  if (!parts[5].starts_with("stream/")) return bad("the resource is not 'stream/NAME'");
  std::string_view name = parts[5].substr(7);
  if (!IsStreamName(name)) return bad("the stream name is not 1 to 128 of [a-zA-Z0-9_.-]");
  return KinesisStreamArn{std::string(parts[1]), std::string(parts[3]), std::string(parts[4]),
                          std::string(name)};
}

std::string KinesisEndpointFor(const RemoteKinesisConfig& cfg, std::string_view region) {
  std::string e = cfg.endpoint;
  while (!e.empty() && e.back() == '/') e.pop_back();
  if (!e.empty()) return e;
  std::string r(region);
  return "https://kinesis." + r + (r.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com");
}

Status ValidateRemoteKinesisConfig(const RemoteKinesisConfig& cfg, std::string_view where) {
  const std::string w(where);
  if (cfg.stream_arn.empty() == cfg.region.empty()) {
    return Status::InvalidArgument(
        w + ": give stream_arn (one stream) or region (every stream of a region), exactly one");
  }
  if (!cfg.stream_arn.empty()) {
    auto arn = ParseKinesisStreamArn(cfg.stream_arn);
    if (!arn.ok()) return Status::InvalidArgument(w + ".stream_arn: " + arn.status().message());
  }
  if (!cfg.region.empty() && !IsRegion(cfg.region)) {
    return Status::InvalidArgument(w + ".region must look like us-east-1, got '" +
                                   Quote(cfg.region) + "'");
  }
  if (!cfg.endpoint.empty()) {
    aws::UrlParts u;
    std::string e = KinesisEndpointFor(cfg, "");
    if (!aws::ParseUrl(e, &u) || u.path != "/" || !u.query.empty()) {
      return Status::InvalidArgument(w + ".endpoint must be http(s)://host[:port], got '" +
                                     Quote(cfg.endpoint) + "'");
    }
  }
  if (cfg.access_key_id.empty() != cfg.secret_access_key.empty()) {
    return Status::InvalidArgument(w + ": access_key_id and secret_access_key go together");
  }
  if (!cfg.session_token.empty() && cfg.access_key_id.empty()) {
    return Status::InvalidArgument(w + ": session_token needs access_key_id and secret_access_key");
  }
  if (!cfg.access_key_id.empty() && !cfg.profile.empty()) {
    return Status::InvalidArgument(w + ": give either static keys or a profile, not both");
  }
  if (cfg.request_timeout.count() < 1) {
    return Status::InvalidArgument(w + ": the request timeout must be positive");
  }
  return Status::Ok();
}

// --- the reader --------------------------------------------------------------------

Result<std::unique_ptr<RemoteKinesisReader>> RemoteKinesisReader::Create(
    const RemoteKinesisConfig& cfg, std::string stream_arn, aws::HttpClient* http,
    std::shared_ptr<aws::CredentialsProvider> credentials, const Clock* clock) {
  auto arn = ParseKinesisStreamArn(stream_arn);
  if (!arn.ok()) return arn.status();
  RemoteKinesisConfig c = cfg;
  // The entry may be a region entry, or name another stream: the reader is for
  // this one.
  if (c.stream_arn.empty() && c.region.empty()) c.region = arn->region;
  HYDRANT_RETURN_IF_ERROR(ValidateRemoteKinesisConfig(c, "kinesis source"));
  std::string endpoint = KinesisEndpointFor(c, arn->region);
  std::unique_ptr<aws::HttpClient> owned;
  if (http == nullptr) {
    aws::CurlHttpClientOptions co;
    co.verify_tls = c.tls_verify;
    co.ca_file = c.ca_file;
    owned = std::make_unique<aws::CurlHttpClient>(co);
    http = owned.get();
  }
  if (!credentials) {
    if (!c.access_key_id.empty()) {
      credentials = std::make_shared<aws::StaticCredentialsProvider>(
          aws::Credentials{c.access_key_id, c.secret_access_key, c.session_token});
    } else {
      credentials = aws::MakeDefaultCredentialsChain(c.profile);
    }
  }
  KinesisStreamArn parsed = std::move(arn).value();
  return std::unique_ptr<RemoteKinesisReader>(new RemoteKinesisReader(
      std::move(c), std::move(parsed), std::move(stream_arn), std::move(endpoint), http,
      std::move(owned), std::move(credentials), clock));
}

RemoteKinesisReader::RemoteKinesisReader(RemoteKinesisConfig cfg, KinesisStreamArn arn,
                                         std::string stream_arn, std::string endpoint,
                                         aws::HttpClient* http,
                                         std::unique_ptr<aws::HttpClient> owned_http,
                                         std::shared_ptr<aws::CredentialsProvider> credentials,
                                         const Clock* clock)
    : cfg_(std::move(cfg)),
      arn_(std::move(arn)),
      stream_arn_(std::move(stream_arn)),
      endpoint_(std::move(endpoint)),
      owned_http_(std::move(owned_http)),
      http_(http),
      credentials_(std::move(credentials)),
      clock_(clock) {
  aws::UrlParts u;
  aws::ParseUrl(endpoint_, &u);  // checked by Create
  url_ = endpoint_ + "/";
  host_ = u.HostHeader();
}

RemoteKinesisReader::~RemoteKinesisReader() = default;

std::string RemoteKinesisReader::Context(std::string_view operation) const {
  return "Kinesis " + std::string(operation) + " on " + stream_arn_ + " at " + endpoint_;
}

Status RemoteKinesisReader::BadAnswer(std::string_view operation, std::string_view why) const {
  return Status::Internal(Context(operation) + ": unexpected answer: " + std::string(why))
      .WithErrorCode(kKinesisBadResponse);
}

Result<std::string> RemoteKinesisReader::Call(std::string_view operation, std::string body,
                                              size_t max_response_bytes) {
  auto creds = credentials_->GetCredentials();
  if (!creds.ok()) {
    return Status::Unavailable(Context(operation) + ": no credentials (" + credentials_->Name() +
                               "): " + creds.status().message())
        .WithErrorCode(kKinesisAccessDenied);
  }
  aws::SignableRequest s;
  s.method = "POST";
  s.path = "/";
  s.headers = {{"Host", host_},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", std::string(kTargetPrefix) + std::string(operation)}};
  s.payload_hash = aws::Sha256Hex(body);
  aws::SigningOptions so{arn_.region, "kinesis"};
  auto signed_req = aws::Sign(&s, *creds, so, clock_->NowMillis());
  if (!signed_req.ok()) {
    return Status::Unavailable(Context(operation) +
                               ": cannot sign: " + signed_req.status().message())
        .WithErrorCode(kKinesisAccessDenied);
  }
  aws::HttpRequest req;
  req.method = "POST";
  req.url = url_;
  req.headers = std::move(s.headers);
  req.body = std::move(body);
  req.max_response_bytes = max_response_bytes;
  auto resp = http_->Send(req, cfg_.request_timeout);
  if (!resp.ok()) {
    const Status& st = resp.status();
    if (st.code() == StatusCode::kResourceExhausted) {
      return Status::Internal(Context(operation) + ": the answer is larger than " +
                              std::to_string(max_response_bytes) + " bytes; refused (" +
                              st.message() + ")")
          .WithErrorCode(kKinesisResponseTooLarge);
    }
    const bool timeout = aws::IsTimeout(st);
    return Status::Unavailable(Context(operation) + ": " + st.message())
        .WithErrorCode(timeout ? kKinesisTimeout : kKinesisUnreachable);
  }
  if (resp->body.size() > max_response_bytes) {  // a client that ignores the cap
    return Status::Internal(Context(operation) + ": the answer is larger than " +
                            std::to_string(max_response_bytes) + " bytes; refused")
        .WithErrorCode(kKinesisResponseTooLarge);
  }
  if (resp->status / 100 == 2) return std::move(resp->body);
  // {"__type": "...", "message": "..."} (AWS also writes "Message").
  std::string type, message;
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  if (ParseObject(parser, resp->body, &doc)) {
    std::string_view v;
    if (doc["__type"].get(v) == simdjson::SUCCESS) type = v;
    if (doc["message"].get(v) == simdjson::SUCCESS || doc["Message"].get(v) == simdjson::SUCCESS) {
      message = v;
    }
  } else if (const std::string* t = resp->Header("x-amzn-ErrorType")) {
    type = *t;
  }
  if (type.empty() && message.empty() && !resp->body.empty()) message = resp->body;
  return KinesisErrorStatus(type, resp->status, message, Context(operation));
}

Result<std::vector<KinesisShard>> RemoteKinesisReader::ListShards() {
  std::vector<KinesisShard> shards;
  std::string token;
  simdjson::dom::parser parser;
  for (int page = 0; page < kMaxListShardsPages; ++page) {
    boost::json::object req;
    if (token.empty()) {
      req["StreamName"] = arn_.name;
      req["StreamARN"] = stream_arn_;
    } else {
      req["NextToken"] = token;
    }
    auto body = Call("ListShards", boost::json::serialize(req), kMaxControlResponseBytes);
    if (!body.ok()) return body.status();
    auto bad = [&](std::string_view why) { return BadAnswer("ListShards", why); };
    simdjson::dom::object top;
    simdjson::dom::array list;
    if (!ParseObject(parser, *body, &top)) return bad("not a JSON object");
    if (top["Shards"].get(list) != simdjson::SUCCESS) return bad("no Shards list");
    for (simdjson::dom::element e : list) {
      simdjson::dom::object o;
      std::string_view id;
      if (e.get(o) != simdjson::SUCCESS || o["ShardId"].get(id) != simdjson::SUCCESS ||
          id.empty()) {
        return bad("a shard without a ShardId");
      }
      KinesisShard s;
      s.id = id;
      if (!OptString(o, "ParentShardId", &s.parent) ||
          !OptString(o, "AdjacentParentShardId", &s.adjacent_parent)) {
        return bad("a parent shard id that is not a string");
      }
      simdjson::dom::object range;
      std::optional<std::string> ending;
      if (o["SequenceNumberRange"].get(range) == simdjson::SUCCESS &&
          !OptString(range, "EndingSequenceNumber", &ending)) {
        return bad("an EndingSequenceNumber that is not a string");
      }
      s.closed = ending.has_value();
      shards.push_back(std::move(s));
    }
    std::optional<std::string> next;
    if (!OptString(top, "NextToken", &next)) {
      return bad("a NextToken that is not a string");
    }
    if (!next || next->empty()) return shards;
    if (*next == token) return bad("the same NextToken twice");
    token = std::move(*next);
  }
  return BadAnswer("ListShards", "more than " + std::to_string(kMaxListShardsPages) + " pages");
}

Result<std::string> RemoteKinesisReader::ShardIterator(const std::string& shard_id, StartAt at,
                                                       const std::string& sequence_number,
                                                       int64_t timestamp_ms) {
  boost::json::object req;
  req["StreamName"] = arn_.name;
  req["StreamARN"] = stream_arn_;
  req["ShardId"] = shard_id;
  req["ShardIteratorType"] = IteratorType(at);
  if (at == StartAt::kAfterSequenceNumber) req["StartingSequenceNumber"] = sequence_number;
  // Epoch seconds; a double holds milliseconds of this era exactly enough.
  if (at == StartAt::kAtTimestamp) req["Timestamp"] = static_cast<double>(timestamp_ms) / 1000.0;
  auto body = Call("GetShardIterator", boost::json::serialize(req), kMaxControlResponseBytes);
  if (!body.ok()) return body.status();
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  std::string_view it;
  if (!ParseObject(parser, *body, &top) || top["ShardIterator"].get(it) != simdjson::SUCCESS ||
      it.empty()) {
    return BadAnswer("GetShardIterator", "no ShardIterator");
  }
  return std::string(it);
}

Result<KinesisBatch> RemoteKinesisReader::GetRecords(const std::string& iterator, size_t limit) {
  boost::json::object req;
  req["ShardIterator"] = iterator;
  req["Limit"] = std::clamp<size_t>(limit, 1, kMaxGetRecordsLimit);
  req["StreamARN"] = stream_arn_;
  auto body = Call("GetRecords", boost::json::serialize(req), kMaxGetRecordsResponseBytes);
  if (!body.ok()) return body.status();
  auto bad = [&](std::string_view why) { return BadAnswer("GetRecords", why); };
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  if (!ParseObject(parser, *body, &top)) return bad("not a JSON object");
  KinesisBatch batch;
  simdjson::dom::array records;
  if (top["Records"].get(records) != simdjson::SUCCESS) return bad("no Records list");
  batch.records.reserve(records.size());
  for (simdjson::dom::element e : records) {
    simdjson::dom::object o;
    std::string_view seq, key, data;
    if (e.get(o) != simdjson::SUCCESS || o["SequenceNumber"].get(seq) != simdjson::SUCCESS ||
        o["Data"].get(data) != simdjson::SUCCESS) {
      return bad("a record without SequenceNumber or Data");
    }
    KinesisRecord r;
    r.sequence_number = seq;
    if (o["PartitionKey"].get(key) == simdjson::SUCCESS) r.partition_key = key;
    if (!base64::DecodeInto(data, &r.data)) {
      return bad("the Data of record " + r.sequence_number + " is not base64");
    }
    // Epoch seconds with a fraction (JSON 1.1's timestamps).
    double ts = 0;
    if (o["ApproximateArrivalTimestamp"].get(ts) == simdjson::SUCCESS) {
      r.arrival_ms = static_cast<int64_t>(std::llround(ts * 1000.0));
    }
    batch.records.push_back(std::move(r));
  }
  std::optional<std::string> next;
  if (!OptString(top, "NextShardIterator", &next)) return bad("a NextShardIterator not a string");
  batch.next_iterator = next.value_or("");
  int64_t behind = 0;
  if (top["MillisBehindLatest"].get(behind) == simdjson::SUCCESS) batch.millis_behind = behind;
  return batch;
}

// --- the factory -------------------------------------------------------------------

namespace {

// The reader for a configuration that cannot work: every call says why.
class FailingKinesisReader final : public KinesisReader {
 public:
  explicit FailingKinesisReader(Status st) : st_(std::move(st)) {}
  Result<std::vector<KinesisShard>> ListShards() override { return st_; }
  Result<std::string> ShardIterator(const std::string&, StartAt, const std::string&,
                                    int64_t) override {
    return st_;
  }
  Result<KinesisBatch> GetRecords(const std::string&, size_t) override { return st_; }

 private:
  Status st_;
};

}  // namespace

std::unique_ptr<KinesisReader> MakeRemoteKinesisReader(const RemoteKinesisConfig& cfg,
                                                       std::string stream_arn,
                                                       aws::HttpClient* http) {
  auto r = RemoteKinesisReader::Create(cfg, std::move(stream_arn), http);
  if (!r.ok()) return std::make_unique<FailingKinesisReader>(r.status());
  return std::move(r).value();
}

}  // namespace hydrant::sources
