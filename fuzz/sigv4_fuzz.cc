// Fuzz target: SigV4 (aws/sigv4.h) and the credentials files (aws/credentials.h).
// Input parts (fuzz_util.h SplitParts): an Authorization header value, the
// method, the path as sent, the query, headers ("Name: value" lines), and the
// text of an AWS credentials file.
//
// Checks: ParseAuthorization, ParseRequestDate, CanonicalUri/CanonicalQuery and
// Verify take any bytes; a request hydrant signs itself (with headers a client
// could send: token names, values without line breaks) verifies against the
// Authorization header it produced, in both path dialects.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "fuzz/fuzz_util.h"

namespace aws = hydrant::aws;

using hydrant::fuzz::IsHttpFieldValue;
using hydrant::fuzz::IsHttpToken;

namespace {

constexpr int64_t kNow = 1440938160000;  // 2015-08-30T12:36:00Z, AWS's test-suite date

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hydrant::fuzz::ScratchDir dir;
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 6);

  std::vector<aws::Header> headers;
  const bool wire_headers = hydrant::fuzz::ParseHeaderLines(parts[4], &headers);

  // Verification of whatever the client claims.
  aws::RequestView view{parts[1], parts[2], parts[3], headers, aws::kEmptyPayloadHash};
  auto parsed = aws::ParseAuthorization(parts[0]);
  aws::VerifyOptions vopts;
  vopts.now_unix_ms = kNow;
  if (parsed.ok()) (void)aws::Verify(view, *parsed, "secret", vopts);
  int64_t ms = 0;
  (void)aws::ParseRequestDate(parts[0], &ms);
  (void)aws::CanonicalUri(parts[2], aws::PathRules::kDefault);
  (void)aws::CanonicalUri(parts[2], aws::PathRules::kS3);
  (void)aws::CanonicalQuery(parts[3]);

  // Sign, then verify our own signature.
  if (wire_headers && IsHttpToken(parts[1]) && IsHttpFieldValue(parts[2]) &&
      IsHttpFieldValue(parts[3])) {
    for (std::string service : {"firehose", "s3"}) {
      aws::SignableRequest req;
      req.method = std::string(parts[1]);
      req.path = parts[2].empty() ? "/" : std::string(parts[2]);
      req.query = std::string(parts[3]);
      req.headers = headers;
      req.headers.emplace_back("Host", "localhost:4573");
      req.payload_hash = std::string(aws::kEmptyPayloadHash);
      aws::Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
      aws::SigningOptions sopts;
      sopts.region = "us-east-1";
      sopts.service = service;
      auto signed_req = aws::Sign(&req, creds, sopts, kNow);
      if (!signed_req.ok()) continue;
      auto auth = aws::ParseAuthorization(signed_req->authorization);
      FUZZ_CHECK(auth.ok(), "cannot parse our own Authorization: " + signed_req->authorization);
      auto v = aws::Verify(aws::ViewOf(req), *auth, creds.secret_access_key, vopts);
      FUZZ_CHECK(v.ok(), "our own signature does not verify: " + v.message);
    }
  }

  // A credentials file.
  dir.Write("credentials", parts[5]);
  aws::ProfileFileCredentialsProvider file(aws::ProfileFileCredentialsProvider::Kind::kCredentials,
                                           dir.Sub("credentials"), "default");
  (void)file.GetCredentials();
  return 0;
}
