#pragma once
// Authenticator: verifies a request's AWS Signature Version 4 as AWS does and
// says who sent it. Both forms: the Authorization header and the presigned
// query string (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
// X-Amz-SignedHeaders, X-Amz-Signature, X-Amz-Security-Token). The secret of the
// access key comes from an iam::CredentialSource; temporary keys need their
// session token (compared in constant time) and fail once expired; inactive keys
// are refused as unknown ones are.
//
// The payload: S3 signs what x-amz-content-sha256 says (required with the
// header form): UNSIGNED-PAYLOAD, a hex SHA-256 of the body, or an aws-chunked
// STREAMING-* body whose chunks carry their own signatures. Other services sign
// the SHA-256 of the body, computed here once. What cannot be checked before
// the body has arrived (a streamed S3 upload's hash, chunk signatures) is
// returned as a PayloadCheck for the reader of the body.
//
// Failures are protocol-neutral (Failure plus the facts AWS puts in its
// answers); server/request_auth.cc writes each protocol's error. Nothing secret
// (secret keys, signing keys, session tokens) is ever put in an AuthError.
//
// Pure apart from the credential lookup: the caller passes "now". Thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "iam/credential_source.h"
#include "iam/principal.h"

namespace hydrant::auth {

enum class Failure {
  kMissing,                 // neither an Authorization header nor a presigned query
  kUnsupportedMechanism,    // an Authorization header of another scheme (SigV2, Bearer, ...)
  kMultipleMechanisms,      // both the header and a presigned query
  kIncomplete,              // a malformed Authorization header or request date (message)
  kMalformedCredential,     // Credential not AKID/YYYYMMDD/REGION/SERVICE/aws4_request
  kWrongRegion,             // the scope's region is not the server's (expected_region)
  kWrongService,            // the scope's service is not the API's (expected_service)
  kQueryMalformed,          // presigned parameters missing or malformed (message)
  kUnknownKey,              // no such access key, an inactive one, or a temporary key without token
  kInvalidToken,            // a wrong session token, or a token with a long-term key
  kExpiredToken,            // temporary credentials past their expiry
  kSignatureMismatch,       // (canonical_request, string_to_sign for the answer)
  kTimeSkewed,              // header form: the request time is more than 15 minutes off (message)
  kPresignExpired,          // X-Amz-Date + X-Amz-Expires is past
  kPresignNotYetValid,      // X-Amz-Date is in the future
  kContentSha256Missing,    // S3 header form without x-amz-content-sha256
  kContentSha256Invalid,    // x-amz-content-sha256 neither a hash nor a known keyword
  kContentSha256Mismatch,   // the body's SHA-256 differs from x-amz-content-sha256
  kChunkSignatureMismatch,  // an aws-chunked chunk's (or the trailer's) signature is wrong
};

struct AuthError {
  Failure failure = Failure::kMissing;
  // AWS's message where it depends on the case (kIncomplete, kQueryMalformed,
  // kTimeSkewed, kSignatureMismatch for the scope date); may be empty.
  std::string message;
  std::string access_key_id;
  std::string canonical_request;  // kSignatureMismatch
  std::string string_to_sign;     // kSignatureMismatch
  std::string signature_provided;
  std::string request_time;  // kTimeSkewed: as sent; presign: X-Amz-Date
  int64_t request_ms = 0;
  int64_t server_ms = 0;  // "now"
  int64_t max_skew_ms = 0;
  int64_t expires_seconds = 0;                 // presign: X-Amz-Expires
  std::string expected_region, region;         // kWrongRegion
  std::string expected_service, service;       // kWrongService
  std::string client_sha256, computed_sha256;  // kContentSha256*
  bool presigned = false;                      // the query form was used
};

// What the reader of a body must still check (a body not in memory at
// Authenticate time, or aws-chunked with chunk signatures).
struct PayloadCheck {
  enum class Kind {
    kSha256,              // the body's SHA-256 must equal `sha256_hex`
    kChunkSigned,         // STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signed
    kChunkSignedTrailer,  // ...-PAYLOAD-TRAILER: chunks and the trailer signed
  };
  Kind kind = Kind::kSha256;
  std::string sha256_hex;
  // Chunk signatures: the derived signing key (secret: never logged), the
  // request's X-Amz-Date, the credential scope and the seed signature.
  std::string signing_key;
  std::string amz_date;
  std::string scope;
  std::string seed_signature;
};

// Verifies a chain of aws-chunked signatures: each chunk's signature covers
// the previous one, starting from the seed. Not thread-safe (one per body).
class ChunkSignatureChain {
 public:
  explicit ChunkSignatureChain(const PayloadCheck& check) : check_(check) {
    previous_ = check.seed_signature;
  }
  // One chunk (the final one is empty) with the SHA-256 of its bytes; false when
  // `signature` is not its signature.
  bool Next(std::string_view chunk_sha256_hex, std::string_view signature);
  // The trailer ("name:value\n" lines) after the final chunk.
  bool Trailer(std::string_view trailer_sha256_hex, std::string_view signature);
  bool expects_trailer() const { return check_.kind == PayloadCheck::Kind::kChunkSignedTrailer; }

 private:
  const PayloadCheck& check_;
  std::string previous_;
};

// One request as authentication sees it; views into the caller's request.
struct AuthRequest {
  std::string_view method;
  std::string_view path;   // before '?', as sent
  std::string_view query;  // after '?', as sent
  std::span<const aws::Header> headers;
  // The body when it is in memory; null when it streams (a PayloadCheck then
  // carries what remains to check).
  const std::string* body = nullptr;
  // The services the API signs as ("s3", "firehose", ...); the scope must name
  // one. Empty: any.
  std::span<const std::string_view> services;
  // The hex SHA-256 of *body when it is already known (hashed while it
  // arrived); empty: Authenticate hashes the body itself.
  std::string_view body_sha256;
};

struct Authenticated {
  std::shared_ptr<const iam::Principal> principal;
  std::shared_ptr<const PayloadCheck> payload;  // null: nothing left to check
};

struct AuthOutcome {
  std::optional<AuthError> error;
  Authenticated result;
  bool ok() const { return !error.has_value(); }
};

struct AuthenticatorOptions {
  std::string region;                    // the scope's region must be this (IAM/STS excepted)
  int64_t max_skew_ms = 15 * 60 * 1000;  // AWS: 15 minutes
  size_t signing_key_cache = 4096;       // derived keys kept
};

class Authenticator {
 public:
  // `credentials` must outlive the Authenticator.
  Authenticator(const iam::CredentialSource* credentials, AuthenticatorOptions opts);
  AuthOutcome Authenticate(const AuthRequest& req, int64_t now_ms) const;
  size_t cached_signing_keys() const { return keys_.size(); }

 private:
  const iam::CredentialSource* credentials_;
  AuthenticatorOptions opts_;
  mutable aws::SigningKeyCache keys_;
};

// S3's accepted x-amz-content-sha256 keywords.
inline constexpr std::string_view kStreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingSignedTrailer =
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

}  // namespace hydrant::auth
