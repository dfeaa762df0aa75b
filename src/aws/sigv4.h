#pragma once
// AWS Signature Version 4 (header form): signing outgoing requests and verifying
// incoming ones. Pure computation, no I/O and no clock of its own: the caller
// passes "now", so tests pin it and the server checks skew against its Clock.
//
// The canonical request follows AWS's published rules:
//   METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
// with two URI dialects (PathRules):
//   - default services: the path is normalized (".", "..", empty segments removed)
//     and the path as sent is percent-encoded once more ("double encoding": a
//     "%3A" on the wire becomes "%253A"), as botocore and the SDKs do;
//   - S3: no normalization and single encoding (the path is decoded, then encoded
//     with the unreserved set), so "/a b" and "/a%20b" sign alike.
// Query parameters are decoded, re-encoded, and sorted by key then value; header
// names are lower-cased and sorted, values trimmed with inner runs of spaces
// collapsed, repeated headers joined with ",".
//
// Thread-safety: all functions are pure and may be called concurrently.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/digest.h"
#include "common/strings.h"
#include "common/status.h"

namespace hydrant::aws {

using Header = std::pair<std::string, std::string>;

// Long-term (access key + secret) or temporary (plus session token) credentials.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" for long-term keys
  bool empty() const { return access_key_id.empty() || secret_access_key.empty(); }
};

enum class PathRules {
  kAuto,     // kS3 when the service is "s3" (or starts with "s3-"), else kDefault
  kDefault,  // normalize, then encode the wire path again
  kS3,       // no normalization, encode once
};

// A request as it appears on the wire. Headers must include Host.
struct SignableRequest {
  std::string method;      // "GET", "POST", ...
  std::string path = "/";  // request-line path before '?', as sent (percent-encoded or raw)
  std::string query;       // after '?', without it; "" for none
  std::vector<Header> headers;
  std::string payload_hash;  // lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// A read-only view of a request, for canonicalization and verification without copies.
struct RequestView {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  std::span<const Header> headers;
  std::string_view payload_hash;
};
inline RequestView ViewOf(const SignableRequest& r) {
  return {r.method, r.path, r.query, r.headers, r.payload_hash};
}

struct SigningOptions {
  std::string region;
  std::string service;
  PathRules path_rules = PathRules::kAuto;
  // Adds x-amz-content-sha256 (and signs it): S3 requires it, other services ignore it.
  bool add_content_sha256_header = false;
};

// What Sign computed, for logs and tests.
struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lowercase hex
  std::string authorization;  // the Authorization header value
};

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Signs `req` in place at time `now_unix_ms`: sets X-Amz-Date (replacing any),
// X-Amz-Security-Token when the credentials carry a session token,
// x-amz-content-sha256 if asked, and Authorization. Every header present is
// signed except those proxies or the HTTP stack may add, drop or rewrite
// (authorization, user-agent, expect, content-length, connection,
// transfer-encoding, keep-alive, proxy-*, x-amzn-trace-id).
// InvalidArgument when credentials are empty, region/service unset, or Host missing.
Result<SigningResult> Sign(SignableRequest* req, const Credentials& creds,
                           const SigningOptions& opts, int64_t now_unix_ms);

// Like Sign but with an explicit list of (lower-case) header names to sign; the
// headers must already carry X-Amz-Date (and the token if any). For tests against
// published vectors and for callers that must sign an exact set.
Result<SigningResult> SignWithHeaders(const RequestView& req,
                                      std::span<const std::string> signed_headers,
                                      const Credentials& creds, const SigningOptions& opts,
                                      std::string_view amz_date);

// ---- verification (server side) ----

// The parts of "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/svc/aws4_request,
// SignedHeaders=a;b, Signature=hex".
struct ParsedAuthorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD from the scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // as listed (lower-case expected)
  std::string signature;
};
// Why an Authorization header did not parse (each protocol names these differently).
enum class AuthorizationError {
  kNotSigV4,           // another scheme ("AWS AKID:sig", "Bearer ..."): unsupported mechanism
  kMissingComponent,   // Credential, SignedHeaders or Signature absent: IncompleteSignature
  kMalformedCredential,  // not AKID/YYYYMMDD/REGION/SERVICE/aws4_request
};
// InvalidArgument when the value is not a well-formed SigV4 Authorization header,
// with AWS's IncompleteSignature message ("Authorization header requires
// 'Credential' parameter. ... Authorization=..."); *why (if given) says which.
Result<ParsedAuthorization> ParseAuthorization(std::string_view header_value,
                                               AuthorizationError* why = nullptr);

struct VerifyOptions {
  PathRules path_rules = PathRules::kAuto;  // resolved against the scope's service
  int64_t now_unix_ms = 0;
  // Reject requests whose X-Amz-Date (or Date) is further than this from now;
  // 0 disables the check. AWS allows 15 minutes.
  int64_t max_skew_ms = 15 * 60 * 1000;
};

struct VerifyResult {
  enum class Outcome {
    kOk,
    kMalformed,   // missing X-Amz-Date, a signed header absent, bad date: IncompleteSignature
    kTimeSkewed,  // RequestTimeTooSkewed / "Signature expired" / "Signature not yet current"
    kExpired,     // presigned: X-Amz-Date + X-Amz-Expires is past ("Request has expired")
    kNotYetValid,  // presigned: X-Amz-Date more than the skew in the future
    kSignatureMismatch,  // SignatureDoesNotMatch (also a scope date differing from X-Amz-Date)
  };
  Outcome outcome = Outcome::kOk;
  std::string message;
  std::string canonical_request;  // what the server computed, for error messages
  std::string string_to_sign;
  std::string amz_date;          // the request time in X-Amz-Date form (once parsed)
  int64_t request_ms = 0;        // the request time (once parsed)
  bool ok() const { return outcome == Outcome::kOk; }
};

// Recomputes the signature of `req` with the SignedHeaders list and scope from
// `auth` and the secret of auth.access_key_id, and compares in constant time.
// req.payload_hash must be what the client signed: the x-amz-content-sha256
// header for S3, the SHA-256 of the body otherwise.
VerifyResult Verify(const RequestView& req, const ParsedAuthorization& auth,
                    std::string_view secret_access_key, const VerifyOptions& opts);
// The same with the signing key already derived (DeriveSigningKey or a SigningKeyCache).
VerifyResult VerifyWithKey(const RequestView& req, const ParsedAuthorization& auth,
                           std::string_view signing_key, const VerifyOptions& opts);

// ---- presigned URLs (query-string authentication) ----

// The X-Amz-* parameters of a presigned request.
struct ParsedPresigned {
  ParsedAuthorization auth;  // key id, scope, X-Amz-SignedHeaders, X-Amz-Signature
  std::string amz_date;      // X-Amz-Date as sent
  int64_t date_ms = 0;
  int64_t expires_seconds = 0;  // X-Amz-Expires
  std::string security_token;   // X-Amz-Security-Token; "" when absent
};
inline constexpr int64_t kMaxPresignedExpiresSeconds = 604800;  // a week
// True when the query carries any of X-Amz-Algorithm, X-Amz-Credential or
// X-Amz-Signature (the request means to be presigned).
bool IsPresignedQuery(std::string_view query);
// InvalidArgument with S3's AuthorizationQueryParametersError message when a
// parameter is missing or malformed (X-Amz-Expires outside 1..604800, a bad
// date, an unknown algorithm, a malformed credential).
Result<ParsedPresigned> ParsePresigned(std::string_view query);
// Verifies a presigned request: the canonical query leaves X-Amz-Signature out;
// req.payload_hash is what the client signed (S3: UNSIGNED-PAYLOAD unless an
// x-amz-content-sha256 header was sent). kExpired once now is past X-Amz-Date +
// X-Amz-Expires, kNotYetValid when X-Amz-Date is more than max_skew_ms ahead.
VerifyResult VerifyPresigned(const RequestView& req, const ParsedPresigned& p,
                             std::string_view signing_key, const VerifyOptions& opts);

// Derived signing keys per (secret, date, region, service): a request costs one
// HMAC for its signature instead of five. At most `capacity` keys; when full the
// oldest goes. Thread-safe.
class SigningKeyCache {
 public:
  explicit SigningKeyCache(size_t capacity = 4096);
  ~SigningKeyCache();
  std::string Get(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service);
  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- aws-chunked payload signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) ----

// "DATE/REGION/SERVICE/aws4_request".
std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service);
// A chunk's signature: hex HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" amz_date
// "\n" scope "\n" previous "\n" SHA256("") "\n" chunk_sha256_hex). The first
// chunk's previous signature is the seed (the Authorization header's).
std::string ChunkSignature(std::string_view signing_key, std::string_view amz_date,
                           std::string_view scope, std::string_view previous_signature,
                           std::string_view chunk_sha256_hex);
// The trailer's signature: "AWS4-HMAC-SHA256-TRAILER\n" amz_date "\n" scope "\n"
// previous (the final chunk's) "\n" SHA256 of the trailer lines ("name:value\n" each).
std::string TrailerSignature(std::string_view signing_key, std::string_view amz_date,
                             std::string_view scope, std::string_view previous_signature,
                             std::string_view trailer_sha256_hex);

// ---- building blocks (exposed for tests and for aws-chunked payload signing) ----

using ::hydrant::Sha256Hex;  // common/digest.h
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
using ::hydrant::HexEncode;  // common/strings.h
// kSigning = HMAC chain "AWS4"+secret → date → region → service → "aws4_request".
std::string DeriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service);
// "20150830T123600Z" for a Unix time in milliseconds.
std::string FormatAmzDate(int64_t unix_ms);
// Parses "20150830T123600Z" (X-Amz-Date) or an RFC 1123 date ("Fri, 24 May 2013
// 00:00:00 GMT"); false when neither.
bool ParseRequestDate(std::string_view s, int64_t* unix_ms);
// Percent-encodes every byte except A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash).
inline std::string UriEncode(std::string_view s, bool keep_slash) {
  return PercentEncode(s, keep_slash);  // common/strings.h
}
std::string CanonicalUri(std::string_view path, PathRules rules);  // rules must not be kAuto
std::string CanonicalQuery(std::string_view query);
PathRules ResolvePathRules(PathRules rules, std::string_view service);

}  // namespace hydrant::aws
