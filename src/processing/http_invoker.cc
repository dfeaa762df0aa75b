#include "processing/http_invoker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "aws/credentials.h"
#include "aws/http_client.h"
#include "aws/sigv4.h"
#include "common/log_fields.h"
#include "processing/lambda_processor.h"

namespace hydrant::processing {
namespace {

static_assert(kLambdaPayloadLimit == 6291456, "HttpInvokerOptions::max_response_bytes default");

constexpr std::string_view kResourceNotFound = "Lambda.ResourceNotFound";
constexpr std::string_view kInvokeAccessDenied = "Lambda.InvokeAccessDenied";
constexpr std::string_view kInvokeLimitExceeded = "Lambda.InvokeLimitExceeded";
constexpr std::string_view kAssumeRoleAccessDenied = "Lambda.AssumeRoleAccessDenied";
constexpr std::string_view kServiceUnavailable = "Lambda.ServiceUnavailable";
constexpr std::string_view kInvalidRequest = "Lambda.InvalidRequest";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsAwsHost(std::string_view host) {
  return EndsWith(host, ".amazonaws.com") || EndsWith(host, ".amazonaws.com.cn");
}

// The error type AWS puts in x-amzn-ErrorType ("Type:http://...") or in the body
// ("__type": "prefix#Type", or "code"), and the message ("message"/"Message").
struct ErrorInfo {
  std::string type;
  std::string message;
};

ErrorInfo ParseError(const aws::HttpResponse& resp) {
  ErrorInfo info;
  if (const std::string* t = resp.Header("x-amzn-ErrorType")) {
    info.type = t->substr(0, t->find(':'));
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(resp.body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    auto str = [&](std::string_view key) -> std::string {
      auto it = o.find(key);
      if (it == o.end() || !it->value().is_string()) return "";
      return std::string(it->value().get_string());
    };
    if (info.type.empty()) {
      info.type = str("__type");
      if (size_t hash = info.type.rfind('#'); hash != std::string::npos) {
        info.type = info.type.substr(hash + 1);
      }
      if (info.type.empty()) info.type = str("code");
    }
    info.message = str("message");
    if (info.message.empty()) info.message = str("Message");
    if (info.message.empty()) info.message = str("errorMessage");
  }
  if (info.message.empty() && !resp.body.empty() && resp.body.size() <= 512) {
    info.message = resp.body;
  }
  return info;
}

std::string Describe(const aws::HttpResponse& resp, const ErrorInfo& e) {
  std::string m = "Lambda Invoke returned HTTP " + std::to_string(resp.status);
  if (!e.type.empty()) m += " " + e.type;
  if (!e.message.empty()) m += ": " + e.message;
  return m;
}

InvokeResult Make(InvokeResult::Kind kind, std::string_view code, std::string message,
                  std::string payload = "") {
  InvokeResult r;
  r.kind = kind;
  r.error_code = std::string(code);
  r.error_message = std::move(message);
  r.payload = std::move(payload);
  return r;
}

}  // namespace

InvokeResult MapInvokeResponse(const aws::HttpResponse& resp) {
  using Kind = InvokeResult::Kind;
  const int s = resp.status;
  if (s >= 200 && s < 300) {
    if (const std::string* fe = resp.Header("X-Amz-Function-Error"); fe != nullptr) {
      // Handled / Unhandled: the function ran and failed; its error document
      // ({"errorMessage":..., "errorType":...}) is kept as the payload.
      return Make(Kind::kFunctionError, kLambdaFunctionError,
                  std::string(kLambdaFunctionErrorMessage), resp.body);
    }
    InvokeResult r;
    r.kind = Kind::kOk;
    r.payload = resp.body;
    return r;
  }
  const ErrorInfo e = ParseError(resp);
  const std::string detail = Describe(resp, e);
  if (s == 404) return Make(Kind::kFatal, kResourceNotFound, detail);
  if (s == 401 || s == 403) return Make(Kind::kFatal, kInvokeAccessDenied, detail);
  if (s == 429) return Make(Kind::kRetryable, kInvokeLimitExceeded, detail);
  if (s == 413 || e.type == "RequestTooLargeException") {
    // The same code the Lambda processor gives a record too large for one invocation
    // (docs/processing.md): only the function's contract could be at fault, not Lambda.
    return Make(Kind::kFatal, kLambdaFunctionError,
                "The request exceeded the 6 MB Lambda payload limit. " + detail);
  }
  if (e.type == "InvalidRequestContentException") {
    return Make(Kind::kFatal, kLambdaJsonProcessingException, detail);
  }
  if (s >= 500) {
    return Make(Kind::kRetryable,
                e.type.empty() ? std::string(kServiceUnavailable) : "Lambda." + e.type, detail);
  }
  // Other 4xx (and unexpected 1xx/3xx): a request Lambda refuses; retrying will not help.
  return Make(Kind::kFatal, e.type.empty() ? std::string(kInvalidRequest) : "Lambda." + e.type,
              detail);
}

HttpLambdaInvoker::HttpLambdaInvoker(HttpInvokerOptions opts) : opts_(std::move(opts)) {
  while (!opts_.endpoint.empty() && opts_.endpoint.back() == '/') opts_.endpoint.pop_back();
  if (opts_.http == nullptr) opts_.http = std::make_shared<aws::CurlHttpClient>();
  if (opts_.region.empty()) opts_.region = "us-east-1";
}

HttpLambdaInvoker::~HttpLambdaInvoker() = default;

std::string HttpLambdaInvoker::InvokeUrl(const FunctionRef& fn) const {
  const std::string region = fn.region.empty() ? opts_.region : fn.region;
  std::string base = opts_.endpoint;
  bool aws_endpoint;
  if (base.empty()) {
    base = "https://lambda." + region + ".amazonaws.com";
    if (region.starts_with("cn-")) base += ".cn";
    aws_endpoint = true;
  } else {
    aws::UrlParts parts;
    aws_endpoint = aws::ParseUrl(base, &parts) && IsAwsHost(parts.host);
  }
  bool use_arn = opts_.function_id == HttpInvokerOptions::FunctionId::kArn ||
                 (opts_.function_id == HttpInvokerOptions::FunctionId::kAuto && aws_endpoint);
  std::string id = fn.name;
  if (use_arn && fn.arn.starts_with("arn:")) {
    // The unqualified ARN: the qualifier travels as ?Qualifier=.
    id = fn.arn;
    size_t colons = std::count(id.begin(), id.end(), ':');
    if (colons == 7) id = id.substr(0, id.rfind(':'));
  }
  std::string url = base + "/2015-03-31/functions/" + aws::UriEncode(id, false) + "/invocations";
  if (!fn.qualifier.empty()) url += "?Qualifier=" + aws::UriEncode(fn.qualifier, false);
  return url;
}

InvokeResult HttpLambdaInvoker::Invoke(const FunctionRef& fn, const std::string& event_json,
                                       std::chrono::milliseconds timeout) {
  using Kind = InvokeResult::Kind;
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](InvokeResult r) {
    r.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    return r;
  };

  aws::HttpRequest req;
  req.method = "POST";
  req.url = InvokeUrl(fn);
  req.body = event_json;
  req.max_response_bytes = opts_.max_response_bytes;
  aws::UrlParts parts;
  if (!aws::ParseUrl(req.url, &parts)) {
    return finish(Make(Kind::kFatal, kInvalidRequest, "bad Lambda endpoint URL: " + req.url));
  }

  aws::SignableRequest s;
  s.method = req.method;
  s.path = parts.path;
  s.query = parts.query;
  s.headers = {{"Host", parts.HostHeader()},
               {"Content-Type", "application/json"},
               {"X-Amz-Invocation-Type", "RequestResponse"}};
  if (opts_.credentials != nullptr) {
    auto creds = opts_.credentials->GetCredentials();
    if (creds.ok()) {
      s.payload_hash = aws::Sha256Hex(event_json);
      const int64_t now = (opts_.clock ? opts_.clock : &SystemClock::Get())->NowMillis();
      const std::string region = fn.region.empty() ? opts_.region : fn.region;
      auto signed_req = aws::Sign(&s, *creds, aws::SigningOptions{region, "lambda"}, now);
      if (!signed_req.ok()) {
        return finish(
            Make(Kind::kFatal, kAssumeRoleAccessDenied,
                 "hydrant could not sign the Lambda request: " + signed_req.status().message()));
      }
    } else if (creds.status().code() != StatusCode::kNotFound) {
      return finish(Make(
          Kind::kFatal, kAssumeRoleAccessDenied,
          "hydrant could not load AWS credentials to call Lambda: " + creds.status().message()));
    } else {
      static std::atomic<bool> warned{false};
      if (!warned.exchange(true)) {
        spdlog::warn("event=lambda_unsigned url={} reason={}", req.url,
                     LogQuote(creds.status().message()));
      }
    }
  }
  req.headers = std::move(s.headers);

  auto resp = opts_.http->Send(req, timeout);
  if (!resp.ok()) {
    const Status& st = resp.status();
    if (aws::IsTimeout(st)) {
      // Firehose reports a timed-out invocation with its documented text; the code is
      // the one observed in processing-failed records (Lambda.FunctionError).
      return finish(
          Make(Kind::kRetryable, kLambdaFunctionError, std::string(kLambdaTimeoutMessage)));
    }
    if (st.code() == StatusCode::kResourceExhausted) {
      return finish(Make(Kind::kFunctionError, kLambdaFunctionError,
                         "The Lambda function returned a response larger than the 6 MB payload "
                         "limit (" +
                             std::to_string(opts_.max_response_bytes) + " bytes)."));
    }
    if (st.code() == StatusCode::kInvalidArgument) {
      return finish(Make(Kind::kFatal, kInvalidRequest, st.message()));
    }
    return finish(Make(Kind::kRetryable, kServiceUnavailable,
                       "hydrant could not reach the Lambda endpoint: " + st.message()));
  }
  return finish(MapInvokeResponse(*resp));
}

}  // namespace hydrant::processing
