#pragma once
// RequestAuth: authentication of every request at the top of Router::Handle,
// and each protocol's answer when it fails (docs/security.md, "Authentication
// (SigV4)").
//
// Modes: "open" checks nothing and attaches the anonymous principal (any key,
// or none, is accepted); "sigv4" verifies every request's signature with
// auth::Authenticator and attaches the principal of its key, except unsigned
// GET /health and GET /metrics when public_health is set.
//
// Failures are answered as the API the request is for answers them:
//   S3 (XML <Error>): AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch
//     (with StringToSign and CanonicalRequest), RequestTimeTooSkewed,
//     AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
//     InvalidToken, ExpiredToken, XAmzContentSHA256Mismatch, ...;
//   JSON 1.1 (Firehose, CloudWatch Logs; 400): MissingAuthenticationTokenException,
//     UnrecognizedClientException, InvalidSignatureException,
//     IncompleteSignatureException, ExpiredTokenException;
//   Lambda REST-JSON: the same codes, 403, in x-amzn-ErrorType;
//   IAM/STS Query (XML <ErrorResponse>): MissingAuthenticationToken,
//     InvalidClientTokenId, SignatureDoesNotMatch, IncompleteSignature, ExpiredToken.
// Nothing secret goes into an answer or a log line.
//
// Thread-safe: Check may run on any thread (it runs on the I/O threads).

#include <memory>
#include <optional>
#include <string>

#include "auth/authenticator.h"
#include "common/clock.h"
#include "iam/credential_source.h"
#include "server/http_types.h"

namespace hydrant::server {

// Which wire protocol a request speaks, for its error answers and the service
// its signature must be scoped to.
enum class Protocol {
  kS3,       // the S3 REST API (XML errors)
  kJson,     // AWS JSON 1.1: Firehose, CloudWatch Logs
  kLambda,   // the Lambda REST-JSON API
  kQuery,    // IAM and STS: POST / with Action=...&Version=... (form body or query)
  kHydrant,  // hydrant's own unsigned GET /health, /metrics, /metrics/series, /doctor
};
Protocol ProtocolOf(const http::Request& req);

struct RequestAuthOptions {
  std::string mode = "open";  // "open" or "sigv4"
  bool public_health = true;  // sigv4: unsigned GET /health and /metrics still answered
  std::string region;         // the signatures' scope must name it (IAM/STS excepted)
  const iam::CredentialSource* credentials = nullptr;  // required for sigv4; not owned
  const Clock* clock = nullptr;                        // null: the system clock
};

class RequestAuth {
 public:
  explicit RequestAuth(RequestAuthOptions opts);
  ~RequestAuth();
  // Attaches req->principal (and req->payload_check) and returns nullopt when
  // the request may go on; otherwise the answer that refuses it.
  std::optional<http::Response> Check(http::Request* req) const;
  bool verifying() const { return authenticator_ != nullptr; }

 private:
  RequestAuthOptions opts_;
  std::unique_ptr<auth::Authenticator> authenticator_;  // null in open mode
};

// The answer `protocol` gives for `e` (exposed for tests).
http::Response AuthErrorResponse(Protocol protocol, const auth::AuthError& e,
                                 const http::Request& req);

}  // namespace hydrant::server
