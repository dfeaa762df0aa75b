#include "server/request_auth.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "api/errors.h"
#include "common/request_id.h"
#include "common/strings.h"
#include "iam/principal.h"
#include "server/aws_json.h"
#include "server/firehose_api.h"
#include "server/kinesis_api.h"
#include "server/kms_api.h"
#include "server/lambda_api.h"
#include "server/logs_api.h"
#include "server/s3_aws_chunked.h"
#include "server/s3_context.h"
#include "server/xml_writer.h"

namespace hydrant::server {
namespace {

using auth::Failure;

constexpr std::string_view kS3Services[] = {"s3"};
constexpr std::string_view kFirehoseServices[] = {"firehose"};
constexpr std::string_view kLogsServices[] = {"logs"};
constexpr std::string_view kLambdaServices[] = {"lambda"};
constexpr std::string_view kKmsServices[] = {"kms"};
constexpr std::string_view kKinesisServices[] = {"kinesis"};
constexpr std::string_view kQueryServices[] = {"iam", "sts"};

const std::shared_ptr<const iam::Principal>& Anonymous() {
  static const auto* p = new std::shared_ptr<const iam::Principal>(
      std::make_shared<iam::Principal>());  // kind kAnonymous
  return *p;
}

bool IsHydrantEndpoint(const http::Request& req) {
  if (req.method != "GET" || req.HasHeader("Authorization")) return false;
  std::string_view path = req.Path();
  if (path == "/health" || path == "/metrics") return req.Query().empty();
  return (path == "/metrics/series" || path == "/doctor") &&
         req.Query().find("X-Amz-") == std::string_view::npos;
}

// "2013-05-24T00:30:00Z", as S3 writes ServerTime and Expires.
std::string Iso8601(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// S3's *Bytes fields: each byte as two hex digits, space-separated.
std::string SpacedHex(std::string_view s) {
  std::string hex = HexEncode(s);
  std::string out;
  out.reserve(hex.size() * 3 / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i > 0) out.push_back(' ');
    out.append(hex, i, 2);
  }
  return out;
}

constexpr std::string_view kMismatchS3 =
    "The request signature we calculated does not match the signature you provided. Check your "
    "key and signing method.";

// The JSON and Query services' mismatch message names what the server signed.
std::string MismatchMessage(const auth::AuthError& e) {
  if (!e.message.empty() && !e.message.starts_with("The request signature")) return e.message;
  return "The request signature we calculated does not match the signature you provided. Check "
         "your AWS Secret Access Key and signing method. Consult the service documentation for "
         "details.\n\nThe Canonical String for this request should have been\n'" +
         e.canonical_request + "'\n\nThe String-to-Sign should have been\n'" + e.string_to_sign +
         "'\n";
}

std::string IncompleteMessage(const auth::AuthError& e, const http::Request& req) {
  std::string m = e.message;
  std::string_view authz = req.Header("Authorization");
  if (e.failure == Failure::kUnsupportedMechanism) {
    m = "Authorization header requires 'Credential' parameter. Authorization header requires "
        "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
        "Authorization=" +
        std::string(authz);
  } else if (e.failure == Failure::kMultipleMechanisms) {
    m = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.";
  } else if (!authz.empty() && m.find("Authorization=") == std::string::npos) {
    m += " Authorization=" + std::string(authz);
  }
  return m;
}

// The (code, message) of the JSON 1.1, Lambda and Query protocols; `query`
// selects the Query names (no "Exception" suffix, InvalidClientTokenId).
std::pair<std::string, std::string> ServiceError(const auth::AuthError& e, const http::Request& req,
                                                 bool query) {
  auto code = [&](std::string_view json, std::string_view q) {
    return std::string(query ? q : json);
  };
  switch (e.failure) {
    case Failure::kMissing:
      return {code("MissingAuthenticationTokenException", "MissingAuthenticationToken"),
              query ? "Request is missing Authentication Token" : "Missing Authentication Token"};
    case Failure::kUnsupportedMechanism:
    case Failure::kMultipleMechanisms:
    case Failure::kIncomplete:
    case Failure::kMalformedCredential:
    case Failure::kQueryMalformed:
      return {code("IncompleteSignatureException", "IncompleteSignature"),
              IncompleteMessage(e, req)};
    case Failure::kWrongRegion:
      return {code("InvalidSignatureException", "SignatureDoesNotMatch"),
              "Credential should be scoped to a valid region. "};
    case Failure::kWrongService:
      return {code("InvalidSignatureException", "SignatureDoesNotMatch"),
              "Credential should be scoped to correct service: '" + e.expected_service + "'. "};
    case Failure::kUnknownKey:
    case Failure::kInvalidToken:
      return {code("UnrecognizedClientException", "InvalidClientTokenId"),
              "The security token included in the request is invalid."};
    case Failure::kExpiredToken:
      return {code("ExpiredTokenException", "ExpiredToken"),
              "The security token included in the request is expired"};
    case Failure::kTimeSkewed:
      return {code("InvalidSignatureException", "SignatureDoesNotMatch"), e.message};
    case Failure::kPresignExpired:
    case Failure::kPresignNotYetValid:
      return {code("InvalidSignatureException", "SignatureDoesNotMatch"), e.message};
    case Failure::kSignatureMismatch:
    case Failure::kChunkSignatureMismatch:
    case Failure::kContentSha256Missing:
    case Failure::kContentSha256Invalid:
    case Failure::kContentSha256Mismatch:
      return {code("InvalidSignatureException", "SignatureDoesNotMatch"), MismatchMessage(e)};
  }
  return {code("InvalidSignatureException", "SignatureDoesNotMatch"), MismatchMessage(e)};
}

http::Response S3AuthError(const auth::AuthError& e, const http::Request& req) {
  http::Response resp;
  s3::Context c{req, &resp, NewHexRequestId(), std::string(req.Path()), req.method == "HEAD", {},
                {},  {}};
  resp.SetHeader("x-amz-request-id", c.request_id);
  resp.SetHeader("x-amz-id-2", c.request_id);
  const bool q = e.presigned;
  const std::string malformed = q ? "Error parsing the X-Amz-Credential parameter; "
                                  : "The authorization header is malformed; ";
  const char* malformed_code =
      q ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed";
  switch (e.failure) {
    case Failure::kMissing:
      s3::Error(c, 403, "AccessDenied", "Access Denied");
      break;
    case Failure::kUnsupportedMechanism:
      s3::Error(c, 400, "InvalidRequest",
                "The authorization mechanism you have provided is not supported. Please use "
                "AWS4-HMAC-SHA256.");
      break;
    case Failure::kMultipleMechanisms:
      s3::Error(c, 400, "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified",
                {{"ArgumentName", "Authorization"},
                 {"ArgumentValue", std::string(req.Header("Authorization"))}});
      break;
    case Failure::kIncomplete:
      if (e.message.find("'X-Amz-Date' or a 'Date'") != std::string::npos ||
          e.message.starts_with("Could not parse the request date")) {
        s3::Error(c, 403, "AccessDenied",
                  "AWS authentication requires a valid Date or x-amz-date header");
      } else {
        s3::Error(c, 400, malformed_code,
                  q ? e.message
                    : "The authorization header is malformed; the authorization header requires "
                      "three components: Credential, SignedHeaders, and Signature.");
      }
      break;
    case Failure::kMalformedCredential:
      s3::Error(c, 400, malformed_code,
                malformed +
                    "the Credential is mal-formed; expecting "
                    "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
      break;
    case Failure::kWrongRegion:
      s3::Error(c, 400, malformed_code,
                malformed + "the region '" + e.region + "' is wrong; expecting '" +
                    e.expected_region + "'",
                {{"Region", e.expected_region}});
      break;
    case Failure::kWrongService:
      s3::Error(c, 400, malformed_code,
                malformed + "incorrect service \"" + e.service + "\". This endpoint belongs to \"" +
                    e.expected_service + "\".");
      break;
    case Failure::kQueryMalformed:
      s3::Error(c, 400, "AuthorizationQueryParametersError", e.message);
      break;
    case Failure::kUnknownKey:
      s3::Error(c, 403, "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                {{"AWSAccessKeyId", e.access_key_id}});
      break;
    case Failure::kInvalidToken:
      s3::Error(c, 400, "InvalidToken", "The provided token is malformed or otherwise invalid.");
      break;
    case Failure::kExpiredToken:
      s3::Error(c, 400, "ExpiredToken", "The provided token has expired.");
      break;
    case Failure::kSignatureMismatch:
      s3::Error(c, 403, "SignatureDoesNotMatch", kMismatchS3,
                {{"AWSAccessKeyId", e.access_key_id},
                 {"StringToSign", e.string_to_sign},
                 {"SignatureProvided", e.signature_provided},
                 {"StringToSignBytes", SpacedHex(e.string_to_sign)},
                 {"CanonicalRequest", e.canonical_request},
                 {"CanonicalRequestBytes", SpacedHex(e.canonical_request)}});
      break;
    case Failure::kChunkSignatureMismatch:
      s3::Error(c, 403, "SignatureDoesNotMatch", kMismatchS3,
                {{"AWSAccessKeyId", e.access_key_id}});
      break;
    case Failure::kTimeSkewed:
      s3::Error(c, 403, "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                {{"RequestTime", e.request_time},
                 {"ServerTime", Iso8601(e.server_ms)},
                 {"MaxAllowedSkewMilliseconds", std::to_string(e.max_skew_ms)}});
      break;
    case Failure::kPresignExpired:
      s3::Error(c, 403, "AccessDenied", "Request has expired",
                {{"X-Amz-Expires", std::to_string(e.expires_seconds)},
                 {"Expires", Iso8601(e.request_ms + e.expires_seconds * 1000)},
                 {"ServerTime", Iso8601(e.server_ms)}});
      break;
    case Failure::kPresignNotYetValid:
      s3::Error(c, 403, "AccessDenied", "Request is not valid yet",
                {{"X-Amz-Date", e.request_time}, {"ServerTime", Iso8601(e.server_ms)}});
      break;
    case Failure::kContentSha256Missing:
      s3::Error(c, 400, "InvalidRequest",
                "Missing required header for this request: x-amz-content-sha256");
      break;
    case Failure::kContentSha256Invalid:
      s3::Error(
          c, 400, "InvalidArgument",
          "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
          "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
          "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
          "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
          {{"ArgumentName", "x-amz-content-sha256"}, {"ArgumentValue", e.client_sha256}});
      break;
    case Failure::kContentSha256Mismatch:
      s3::Error(c, 400, "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                {{"ClientComputedContentSHA256", e.client_sha256},
                 {"S3ComputedContentSHA256", e.computed_sha256}});
      break;
  }
  return resp;
}

http::Response QueryAuthError(const auth::AuthError& e, const http::Request& req) {
  auto [code, message] = ServiceError(e, req, /*query=*/true);
  const bool sts = req.body.find("Version=2011-06-15") != std::string::npos ||
                   req.Query().find("Version=2011-06-15") != std::string_view::npos;
  XmlWriter w;
  w.Declaration();
  w.Open("ErrorResponse", sts ? "https://sts.amazonaws.com/doc/2011-06-15/"
                              : "https://iam.amazonaws.com/doc/2010-05-08/");
  w.Open("Error");
  w.Element("Type", "Sender");
  w.Element("Code", code);
  w.Element("Message", message);
  w.Close();
  const std::string request_id = NewUuid();
  w.Element("RequestId", request_id);
  w.Close();
  http::Response r;
  r.status = code == "IncompleteSignature" ? 400 : 403;
  r.SetHeader("Content-Type", "text/xml");
  r.SetHeader("x-amzn-RequestId", request_id);
  r.body = w.Take();
  return r;
}

}  // namespace

Protocol ProtocolOf(const http::Request& req) {
  if (FirehoseApi::IsFirehoseRequest(req) || LogsApi::IsLogsRequest(req) || KmsApi::IsKmsRequest(req) ||
      KinesisApi::IsKinesisRequest(req)) {
    return Protocol::kJson;
  }
  if (LambdaApi::IsLambdaRequest(req)) return Protocol::kLambda;
  if (IsHydrantEndpoint(req)) return Protocol::kHydrant;
  if (req.Path() == "/" || req.Path().empty()) {
    // IAM and STS: Action=...&Version=... in a form body (POST) or the query.
    const bool form =
        AsciiLower(req.Header("Content-Type")).starts_with("application/x-www-form-urlencoded");
    if ((req.method == "POST" && form) || req.Query().starts_with("Action=") ||
        req.Query().find("&Action=") != std::string_view::npos) {
      return Protocol::kQuery;
    }
  }
  return Protocol::kS3;
}

http::Response AuthErrorResponse(Protocol protocol, const auth::AuthError& e,
                                 const http::Request& req) {
  switch (protocol) {
    case Protocol::kS3:
      return S3AuthError(e, req);
    case Protocol::kQuery:
      return QueryAuthError(e, req);
    case Protocol::kLambda: {
      auto [code, message] = ServiceError(e, req, false);
      api::ApiError err{code, message};
      http::Response r = http::JsonReply(403, err.ToJson());
      r.SetHeader("x-amzn-ErrorType", code);
      r.SetHeader("x-amzn-RequestId", NewUuid());
      return r;
    }
    case Protocol::kHydrant: {
      api::ApiError err{"MissingAuthenticationTokenException", "Missing Authentication Token"};
      return http::JsonReply(403, err.ToJson());
    }
    case Protocol::kJson:
      break;
  }
  auto [code, message] = ServiceError(e, req, false);
  return AwsJsonError(api::ApiError{code, message}, NewUuid());
}

RequestAuth::RequestAuth(RequestAuthOptions opts) : opts_(std::move(opts)) {
  if (opts_.mode == "sigv4") {
    auth::AuthenticatorOptions ao;
    ao.region = opts_.region;
    authenticator_ = std::make_unique<auth::Authenticator>(opts_.credentials, ao);
  }
}

RequestAuth::~RequestAuth() = default;

std::optional<http::Response> RequestAuth::Check(http::Request* req) const {
  if (!authenticator_) {
    req->principal = Anonymous();
    return std::nullopt;
  }
  const Protocol protocol = ProtocolOf(*req);
  if (protocol == Protocol::kHydrant) {
    if (opts_.public_health && (req->Path() == "/health" || req->Path() == "/metrics")) {
      req->principal = Anonymous();
      return std::nullopt;
    }
    return AuthErrorResponse(protocol, auth::AuthError{}, *req);
  }
  std::span<const std::string_view> services;
  switch (protocol) {
    case Protocol::kS3:
      services = kS3Services;
      break;
    case Protocol::kJson:
      services = FirehoseApi::IsFirehoseRequest(*req) ? std::span<const std::string_view>(kFirehoseServices)
                 : KmsApi::IsKmsRequest(*req)         ? std::span<const std::string_view>(kKmsServices)
                 : KinesisApi::IsKinesisRequest(*req) ? std::span<const std::string_view>(kKinesisServices)
                                                      : std::span<const std::string_view>(kLogsServices);
      break;
    case Protocol::kLambda:
      services = kLambdaServices;
      break;
    case Protocol::kQuery:
      services = kQueryServices;
      break;
    case Protocol::kHydrant:
      break;
  }
  auth::AuthRequest ar;
  ar.method = req->method;
  ar.path = req->Path();
  ar.query = req->Query();
  ar.headers = req->headers;
  ar.body = req->body_reader ? nullptr : &req->body;
  if (ar.body != nullptr) ar.body_sha256 = req->body_sha256;
  ar.services = services;
  const int64_t now = opts_.clock ? opts_.clock->NowMillis() : SystemClock().NowMillis();
  auth::AuthOutcome out = authenticator_->Authenticate(ar, now);
  if (out.ok() && out.result.payload && !req->body_reader &&
      out.result.payload->kind != auth::PayloadCheck::Kind::kSha256) {
    // An aws-chunked body already in memory: its chunk signatures are checked now.
    bool bad_signature = false;
    (void)DecodeAwsChunked(req->body, out.result.payload.get(), &bad_signature);
    if (bad_signature) {
      auth::AuthError e;
      e.failure = Failure::kChunkSignatureMismatch;
      e.access_key_id = out.result.principal->access_key_id;
      out.error = std::move(e);
    }
  }
  if (!out.ok()) {
    spdlog::debug("event=auth_refused protocol={} failure={} access_key_id={}",
                  static_cast<int>(protocol), static_cast<int>(out.error->failure),
                  out.error->access_key_id);
    return AuthErrorResponse(protocol, *out.error, *req);
  }
  req->principal = std::move(out.result.principal);
  req->payload_check = std::move(out.result.payload);
  return std::nullopt;
}

}  // namespace hydrant::server
