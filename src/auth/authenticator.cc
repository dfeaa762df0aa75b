#include "auth/authenticator.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "common/digest.h"
#include "common/strings.h"

namespace hydrant::auth {
namespace {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

const std::string* FindHeader(std::span<const aws::Header> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.first, name)) return &h.second;
  }
  return nullptr;
}

bool IsSha256Hex(std::string_view v) {
  return v.size() == 64 && std::all_of(v.begin(), v.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

// The body's hex SHA-256: the one the listener computed while it arrived, or now.
std::string BodySha256(const AuthRequest& req) {
  if (!req.body_sha256.empty()) return std::string(req.body_sha256);
  return Sha256Hex(req.body != nullptr ? std::string_view(*req.body) : "");
}

bool IsS3Service(std::string_view service) {
  return aws::ResolvePathRules(aws::PathRules::kAuto, service) == aws::PathRules::kS3;
}

AuthOutcome Refuse(AuthError e) {
  AuthOutcome o;
  o.error = std::move(e);
  return o;
}

}  // namespace

bool ChunkSignatureChain::Next(std::string_view chunk_sha256_hex, std::string_view signature) {
  std::string expected = aws::ChunkSignature(check_.signing_key, check_.amz_date, check_.scope,
                                             previous_, chunk_sha256_hex);
  if (!ConstantTimeEquals(expected, signature)) return false;
  previous_ = std::move(expected);
  return true;
}

bool ChunkSignatureChain::Trailer(std::string_view trailer_sha256_hex, std::string_view signature) {
  std::string expected = aws::TrailerSignature(check_.signing_key, check_.amz_date, check_.scope,
                                               previous_, trailer_sha256_hex);
  return ConstantTimeEquals(expected, signature);
}

Authenticator::Authenticator(const iam::CredentialSource* credentials, AuthenticatorOptions opts)
    : credentials_(credentials), opts_(std::move(opts)), keys_(opts_.signing_key_cache) {}

AuthOutcome Authenticator::Authenticate(const AuthRequest& req, int64_t now_ms) const {
  AuthError e;
  e.server_ms = now_ms;
  e.max_skew_ms = opts_.max_skew_ms;
  auto fail = [&](Failure f, std::string message = {}) {
    e.failure = f;
    e.message = std::move(message);
    return Refuse(std::move(e));
  };

  // 1. Which form, and its parameters.
  const std::string* authorization = FindHeader(req.headers, "authorization");
  const bool presigned = aws::IsPresignedQuery(req.query);
  e.presigned = presigned && authorization == nullptr;
  if (authorization != nullptr && presigned) return fail(Failure::kMultipleMechanisms);
  if (authorization == nullptr && !presigned) {
    // A SigV2 presigned URL (AWSAccessKeyId, Signature, Expires) is a mechanism
    // S3 no longer takes, not a missing one.
    const bool v2 = req.query.find("AWSAccessKeyId=") != std::string_view::npos &&
                    req.query.find("Signature=") != std::string_view::npos;
    return fail(v2 ? Failure::kUnsupportedMechanism : Failure::kMissing);
  }
  aws::ParsedPresigned query_auth;
  aws::ParsedAuthorization header_auth;
  if (presigned) {
    auto p = aws::ParsePresigned(req.query);
    if (!p.ok()) return fail(Failure::kQueryMalformed, p.status().message());
    query_auth = std::move(*p);
  } else {
    aws::AuthorizationError why;
    auto a = aws::ParseAuthorization(*authorization, &why);
    if (!a.ok()) {
      switch (why) {
        case aws::AuthorizationError::kNotSigV4:
          return fail(Failure::kUnsupportedMechanism);
        case aws::AuthorizationError::kMalformedCredential:
          return fail(Failure::kMalformedCredential, a.status().message());
        case aws::AuthorizationError::kMissingComponent:
          return fail(Failure::kIncomplete, a.status().message());
      }
    }
    header_auth = std::move(*a);
  }
  const aws::ParsedAuthorization& auth = presigned ? query_auth.auth : header_auth;
  e.access_key_id = auth.access_key_id;
  e.signature_provided = auth.signature;

  // 2. The scope: the API's service, the server's region (IAM and STS are global).
  if (!req.services.empty() &&
      std::find(req.services.begin(), req.services.end(), auth.service) == req.services.end()) {
    e.service = auth.service;
    e.expected_service = std::string(req.services.front());
    return fail(Failure::kWrongService);
  }
  if (!opts_.region.empty() && auth.region != opts_.region && auth.service != "iam" &&
      auth.service != "sts") {
    e.region = auth.region;
    e.expected_region = opts_.region;
    return fail(Failure::kWrongRegion);
  }

  // 3. The key, its state and its session token.
  std::optional<iam::KeyLookup> key = credentials_->Lookup(auth.access_key_id);
  if (!key || !key->active) return fail(Failure::kUnknownKey);
  std::string_view token;
  if (presigned) {
    token = query_auth.security_token;
  } else if (const std::string* t = FindHeader(req.headers, "x-amz-security-token")) {
    token = *t;
  }
  if (!key->session_token.empty()) {
    if (token.empty()) return fail(Failure::kUnknownKey);
    if (!ConstantTimeEquals(token, key->session_token)) return fail(Failure::kInvalidToken);
  } else if (!token.empty()) {
    return fail(Failure::kInvalidToken);
  }

  // 4. What the client says it signed as the payload.
  const bool s3 = IsS3Service(auth.service);
  const std::string* content_sha = FindHeader(req.headers, "x-amz-content-sha256");
  std::string payload_hash;
  if (s3) {
    if (content_sha != nullptr) {
      payload_hash = std::string(TrimSpaces(*content_sha));
    } else if (presigned) {
      payload_hash = std::string(aws::kUnsignedPayload);
    } else {
      return fail(Failure::kContentSha256Missing);
    }
    if (!IsSha256Hex(payload_hash) && payload_hash != aws::kUnsignedPayload &&
        payload_hash != kStreamingSigned && payload_hash != kStreamingSignedTrailer &&
        payload_hash != kStreamingUnsignedTrailer) {
      e.client_sha256 = payload_hash;
      return fail(Failure::kContentSha256Invalid);
    }
  } else {
    payload_hash = BodySha256(req);
  }

  // 5. The signature (and the request time).
  // Only keys a valid request can use are cached (a scope dated within a day of
  // now, in this server's region or us-east-1 for IAM/STS): a known key id must
  // not let anyone flush the cache with junk scopes.
  const auto day = [&](int64_t ms) { return aws::FormatAmzDate(ms).substr(0, 8); };
  constexpr int64_t kDayMs = 86'400'000;
  const bool cacheable =
      (auth.date == day(now_ms) || auth.date == day(now_ms - kDayMs) ||
       auth.date == day(now_ms + kDayMs)) &&
      (auth.region == opts_.region || auth.region == "us-east-1");
  const std::string signing_key =
      cacheable ? keys_.Get(key->secret_access_key, auth.date, auth.region, auth.service)
                : aws::DeriveSigningKey(key->secret_access_key, auth.date, auth.region,
                                        auth.service);
  aws::RequestView view{req.method, req.path, req.query, req.headers, payload_hash};
  aws::VerifyOptions vo{aws::PathRules::kAuto, now_ms, opts_.max_skew_ms};
  aws::VerifyResult v = presigned ? aws::VerifyPresigned(view, query_auth, signing_key, vo)
                                  : aws::VerifyWithKey(view, header_auth, signing_key, vo);
  e.request_ms = v.request_ms;
  e.request_time = presigned ? query_auth.amz_date : v.amz_date;
  if (!presigned) {
    const std::string* sent = FindHeader(req.headers, "x-amz-date");
    if (sent == nullptr) sent = FindHeader(req.headers, "date");
    if (sent != nullptr) e.request_time = *sent;
  }
  e.expires_seconds = query_auth.expires_seconds;
  switch (v.outcome) {
    case aws::VerifyResult::Outcome::kOk:
      break;
    case aws::VerifyResult::Outcome::kMalformed:
      return fail(Failure::kIncomplete, v.message);
    case aws::VerifyResult::Outcome::kTimeSkewed:
      return fail(Failure::kTimeSkewed, v.message);
    case aws::VerifyResult::Outcome::kExpired:
      return fail(Failure::kPresignExpired, v.message);
    case aws::VerifyResult::Outcome::kNotYetValid:
      return fail(Failure::kPresignNotYetValid, v.message);
    case aws::VerifyResult::Outcome::kSignatureMismatch:
      e.canonical_request = std::move(v.canonical_request);
      e.string_to_sign = std::move(v.string_to_sign);
      return fail(Failure::kSignatureMismatch, v.message);
  }
  if (key->expires_ms > 0 && now_ms >= key->expires_ms) return fail(Failure::kExpiredToken);

  // 6. The payload, now or by the body's reader.
  Authenticated ok;
  if (s3 && IsSha256Hex(payload_hash)) {
    if (req.body != nullptr) {
      std::string computed = BodySha256(req);
      if (!EqualsIgnoreCase(computed, payload_hash)) {
        e.client_sha256 = payload_hash;
        e.computed_sha256 = std::move(computed);
        return fail(Failure::kContentSha256Mismatch);
      }
    } else {
      auto check = std::make_shared<PayloadCheck>();
      check->kind = PayloadCheck::Kind::kSha256;
      check->sha256_hex = AsciiLower(payload_hash);
      ok.payload = std::move(check);
    }
  } else if (s3 && (payload_hash == kStreamingSigned || payload_hash == kStreamingSignedTrailer)) {
    auto check = std::make_shared<PayloadCheck>();
    check->kind = payload_hash == kStreamingSigned ? PayloadCheck::Kind::kChunkSigned
                                                   : PayloadCheck::Kind::kChunkSignedTrailer;
    check->signing_key = signing_key;
    check->amz_date = v.amz_date;
    check->scope = aws::CredentialScope(auth.date, auth.region, auth.service);
    check->seed_signature = auth.signature;
    ok.payload = std::move(check);
  }
  auto principal = std::make_shared<iam::Principal>(std::move(key->principal));
  principal->access_key_id = auth.access_key_id;
  ok.principal = std::move(principal);
  AuthOutcome out;
  out.result = std::move(ok);
  return out;
}

}  // namespace hydrant::auth
