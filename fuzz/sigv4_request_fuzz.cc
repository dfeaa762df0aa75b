// Fuzz target: request authentication (auth/authenticator.h) on arbitrary
// requests: the Authorization header and presigned-query parsers, the
// canonicalizer, the verifier and the payload rules.
// Input parts (fuzz_util.h SplitParts): method, path, query, headers ("Name:
// value" lines), body, and one flags byte (bit 0: the body streams).
//
// Checks: Authenticate takes any request without crashing; a refusal carries
// no secret the request did not carry itself; a request hydrant signs itself
// (headers a client could send) with a known key is accepted, with the right
// principal, and refused once its body (non-S3) or its secret changes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.h"
#include "auth/static_credential_source.h"
#include "aws/sigv4.h"
#include "common/digest.h"
#include "common/strings.h"
#include "fuzz/fuzz_util.h"

namespace aws = hydrant::aws;
namespace auth = hydrant::auth;

using hydrant::fuzz::IsHttpFieldValue;
using hydrant::fuzz::IsHttpToken;

namespace {

constexpr int64_t kNow = 1369353600000;  // 2013-05-24T00:00:00Z
const char kKey[] = "AKIAIOSFODNN7EXAMPLE";
const char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const char kToken[] = "session-token-value";

// Errors may echo what the client sent (AWS quotes the Authorization header),
// so the secret counts only when the request itself did not carry it.
void CheckNoSecret(const auth::AuthOutcome& o, std::string_view input) {
  if (o.ok() || input.find(kSecret) != std::string_view::npos) return;
  for (const std::string* s :
       {&o.error->message, &o.error->canonical_request, &o.error->string_to_sign}) {
    FUZZ_CHECK(s->find(kSecret) == std::string::npos, "a secret in an error: " + *s);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auth::StaticCredentialSource users(
      "111122223333",
      {{"alice", kKey, kSecret, "", false, "", 0, true},
       {"temp", "ASIATEMPORARYKEY0000", kSecret, "", false, kToken, kNow + 1, true}});
  static auth::Authenticator authenticator(&users, {"us-east-1", 15 * 60 * 1000, 64});
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 6);
  const bool streamed = !parts[5].empty() && (parts[5][0] & 1);

  std::vector<aws::Header> headers;
  const bool wire_headers = hydrant::fuzz::ParseHeaderLines(parts[3], &headers);
  const std::string body(parts[4]);
  constexpr std::string_view kAny[] = {"s3", "firehose", "logs", "lambda", "iam", "sts"};

  // Whatever the client claims.
  auth::AuthRequest req{parts[0], parts[1], parts[2], headers, streamed ? nullptr : &body, kAny};
  auto o = authenticator.Authenticate(req, kNow);
  CheckNoSecret(o, hydrant::fuzz::AsView(data, size));
  if (o.ok()) FUZZ_CHECK(o.result.principal != nullptr, "accepted without a principal");

  // Signed by us: accepted; tampered: refused.
  if (!wire_headers || !IsHttpToken(parts[0]) || !IsHttpFieldValue(parts[1]) ||
      !IsHttpFieldValue(parts[2]) || aws::IsPresignedQuery(parts[2])) {
    return 0;
  }
  for (std::string service : {"firehose", "s3"}) {
    aws::SignableRequest s;
    s.method = std::string(parts[0]);
    s.path = parts[1].empty() ? "/" : std::string(parts[1]);
    s.query = std::string(parts[2]);
    for (const auto& h : headers) {
      // Headers the signer would replace, or that change what is signed.
      std::string n = hydrant::AsciiLower(h.first);
      if (n == "authorization" || n == "x-amz-date" || n == "x-amz-security-token" ||
          n == "x-amz-content-sha256" || n == "date" || n == "host") {
        continue;
      }
      s.headers.push_back(h);
    }
    s.headers.emplace_back("Host", "localhost:4573");
    s.payload_hash = hydrant::Sha256Hex(body);
    const bool temp = !body.empty() && (body[0] & 1);
    aws::Credentials creds{temp ? "ASIATEMPORARYKEY0000" : kKey, kSecret, temp ? kToken : ""};
    auto signed_req =
        aws::Sign(&s, creds, {"us-east-1", service, aws::PathRules::kAuto, service == "s3"}, kNow);
    if (!signed_req.ok()) continue;
    const std::string_view services[] = {service};
    auth::AuthRequest good{s.method, s.path, s.query, s.headers, &body, services};
    auto ok = authenticator.Authenticate(good, kNow);
    FUZZ_CHECK(ok.ok(), "our own signature is refused (" + service +
                            "): " + (ok.error ? ok.error->message : ""));
    FUZZ_CHECK(ok.result.principal->access_key_id == creds.access_key_id, "wrong principal");
    if (service == "firehose") {
      const std::string other = body + "x";
      auth::AuthRequest tampered{s.method, s.path, s.query, s.headers, &other, services};
      FUZZ_CHECK(!authenticator.Authenticate(tampered, kNow).ok(), "a tampered body is accepted");
    } else {
      // S3: a streamed body leaves its hash to the reader.
      auth::AuthRequest stream{s.method, s.path, s.query, s.headers, nullptr, services};
      auto st = authenticator.Authenticate(stream, kNow);
      FUZZ_CHECK(
          st.ok() && st.result.payload && st.result.payload->sha256_hex == hydrant::Sha256Hex(body),
          "a streamed S3 body's hash is not left to check");
    }
    // Past the skew, refused.
    FUZZ_CHECK(!authenticator.Authenticate(good, kNow + 16 * 60 * 1000).ok(),
               "a request 16 minutes old is accepted");
  }
  return 0;
}
