// The Authenticator against requests signed by aws::Sign (the signer tested on
// AWS's vectors) and AWS's own S3 examples (presigned GET, chunked PUT).
#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include "auth/static_credential_source.h"
#include "common/digest.h"

namespace hydrant::auth {
namespace {

constexpr int64_t kNow = 1369353600000;  // 2013-05-24T00:00:00Z (the S3 examples' time)
constexpr std::string_view kFirehose[] = {"firehose"};
constexpr std::string_view kS3[] = {"s3"};
const std::string kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

StaticCredentialSource Users() {
  std::vector<StaticUser> users = {
      {"alice", "AKIAIOSFODNN7EXAMPLE", kSecret, "{\"Version\":\"2012-10-17\"}", false, "", 0,
       true},
      {"root", "AKIAROOTROOTROOT0000", "rootsecretrootsecret", "", true, "", 0, true},
      {"temp", "ASIATEMPORARY0000000", "tempsecrettempsecret", "", false, "the-token",
       kNow + 3600 * 1000, true},
      {"off", "AKIAINACTIVE00000000", "offsecretoffsecret", "", false, "", 0, false},
  };
  return StaticCredentialSource("111122223333", users);
}

struct Signed {
  aws::SignableRequest req;
  std::string body;
};

Signed SignFirehose(std::string body, const aws::Credentials& creds, int64_t at = kNow,
                    std::string region = "us-east-1", std::string service = "firehose") {
  Signed s;
  s.body = std::move(body);
  s.req.method = "POST";
  s.req.path = "/";
  s.req.headers = {{"Host", "localhost:4573"},
                   {"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", "Firehose_20150804.PutRecord"}};
  s.req.payload_hash = Sha256Hex(s.body);
  auto r = aws::Sign(&s.req, creds, {region, service, aws::PathRules::kAuto, false}, at);
  EXPECT_TRUE(r.ok());
  return s;
}

Signed SignS3Put(std::string body, const aws::Credentials& creds, std::string payload_hash = "") {
  Signed s;
  s.body = std::move(body);
  s.req.method = "PUT";
  s.req.path = "/bucket/key";
  s.req.headers = {{"Host", "localhost:4573"}};
  s.req.payload_hash = payload_hash.empty() ? Sha256Hex(s.body) : payload_hash;
  auto r = aws::Sign(&s.req, creds, {"us-east-1", "s3", aws::PathRules::kAuto, true}, kNow);
  EXPECT_TRUE(r.ok());
  return s;
}

AuthOutcome Authn(const Authenticator& a, const Signed& s,
                  std::span<const std::string_view> services, int64_t now = kNow,
                  bool streamed = false) {
  AuthRequest r{s.req.method, s.req.path, s.req.query, s.req.headers, streamed ? nullptr : &s.body,
                services};
  return a.Authenticate(r, now);
}

Failure FailureOf(const AuthOutcome& o) {
  EXPECT_FALSE(o.ok());
  return o.ok() ? Failure::kMissing : o.error->failure;
}

const aws::Credentials kAlice{"AKIAIOSFODNN7EXAMPLE", kSecret, ""};

TEST(Authenticator, SignedFirehoseRequestYieldsTheUser) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  auto o = Authn(a, SignFirehose("{\"DeliveryStreamName\":\"s\"}", kAlice), kFirehose);
  ASSERT_TRUE(o.ok()) << o.error->message;
  EXPECT_EQ(o.result.principal->kind, iam::Principal::Kind::kUser);
  EXPECT_EQ(o.result.principal->arn, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(o.result.principal->user_name, "alice");
  EXPECT_EQ(o.result.principal->access_key_id, "AKIAIOSFODNN7EXAMPLE");
  ASSERT_EQ(o.result.principal->policy_documents.size(), 1u);
  EXPECT_EQ(o.result.payload, nullptr);

  auto root =
      Authn(a, SignFirehose("{}", {"AKIAROOTROOTROOT0000", "rootsecretrootsecret", ""}), kFirehose);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root.result.principal->kind, iam::Principal::Kind::kRoot);
  EXPECT_EQ(root.result.principal->arn, "arn:aws:iam::111122223333:root");
}

TEST(Authenticator, TamperedBodyWrongSecretUnknownAndInactiveKeys) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  Signed s = SignFirehose("{\"a\":1}", kAlice);
  s.body = "{\"a\":2}";
  auto o = Authn(a, s, kFirehose);
  EXPECT_EQ(FailureOf(o), Failure::kSignatureMismatch);
  EXPECT_NE(o.error->canonical_request.find(Sha256Hex("{\"a\":2}")), std::string::npos);
  EXPECT_TRUE(o.error->string_to_sign.starts_with("AWS4-HMAC-SHA256\n20130524T000000Z\n"));
  EXPECT_EQ(o.error->access_key_id, "AKIAIOSFODNN7EXAMPLE");

  EXPECT_EQ(
      FailureOf(Authn(a, SignFirehose("{}", {"AKIAIOSFODNN7EXAMPLE", "wrong", ""}), kFirehose)),
      Failure::kSignatureMismatch);
  EXPECT_EQ(
      FailureOf(Authn(a, SignFirehose("{}", {"AKIANOSUCHKEY0000000", kSecret, ""}), kFirehose)),
      Failure::kUnknownKey);
  EXPECT_EQ(
      FailureOf(Authn(a, SignFirehose("{}", {"AKIAINACTIVE00000000", "offsecretoffsecret", ""}),
                      kFirehose)),
      Failure::kUnknownKey);
}

TEST(Authenticator, SessionTokens) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  const aws::Credentials temp{"ASIATEMPORARY0000000", "tempsecrettempsecret", "the-token"};
  EXPECT_TRUE(Authn(a, SignFirehose("{}", temp), kFirehose).ok());
  // No token, a wrong one, a token with a long-term key, an expired key.
  EXPECT_EQ(FailureOf(Authn(a, SignFirehose("{}", {temp.access_key_id, temp.secret_access_key, ""}),
                            kFirehose)),
            Failure::kUnknownKey);
  EXPECT_EQ(
      FailureOf(Authn(a, SignFirehose("{}", {temp.access_key_id, temp.secret_access_key, "x"}),
                      kFirehose)),
      Failure::kInvalidToken);
  EXPECT_EQ(FailureOf(Authn(a, SignFirehose("{}", {kAlice.access_key_id, kSecret, "the-token"}),
                            kFirehose)),
            Failure::kInvalidToken);
  const int64_t later = kNow + 3600 * 1000 + 1;
  EXPECT_EQ(FailureOf(Authn(a, SignFirehose("{}", temp, later), kFirehose, later)),
            Failure::kExpiredToken);
}

TEST(Authenticator, MissingUnsupportedAndMalformed) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  Signed s = SignFirehose("{}", kAlice);
  Signed none = s;
  std::erase_if(none.req.headers, [](const auto& h) { return h.first == "Authorization"; });
  EXPECT_EQ(FailureOf(Authn(a, none, kFirehose)), Failure::kMissing);
  Signed v2 = none;
  v2.req.headers.emplace_back("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:c2lnbmF0dXJl");
  EXPECT_EQ(FailureOf(Authn(a, v2, kFirehose)), Failure::kUnsupportedMechanism);
  Signed both = s;
  both.req.query = "X-Amz-Signature=00";
  EXPECT_EQ(FailureOf(Authn(a, both, kFirehose)), Failure::kMultipleMechanisms);
  Signed partial = none;
  partial.req.headers.emplace_back(
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"
      "firehose/aws4_request");
  auto o = Authn(a, partial, kFirehose);
  EXPECT_EQ(FailureOf(o), Failure::kIncomplete);
  EXPECT_TRUE(o.error->message.starts_with("Authorization header requires 'Signature' parameter."));
  Signed no_date = s;
  std::erase_if(no_date.req.headers, [](const auto& h) { return h.first == "X-Amz-Date"; });
  EXPECT_EQ(FailureOf(Authn(a, no_date, kFirehose)), Failure::kIncomplete);
}

TEST(Authenticator, ScopeMustNameTheServerRegionAndTheApiService) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  auto region = Authn(a, SignFirehose("{}", kAlice, kNow, "eu-west-1"), kFirehose);
  EXPECT_EQ(FailureOf(region), Failure::kWrongRegion);
  EXPECT_EQ(region.error->region, "eu-west-1");
  EXPECT_EQ(region.error->expected_region, "us-east-1");
  auto service = Authn(a, SignFirehose("{}", kAlice, kNow, "us-east-1", "kinesis"), kFirehose);
  EXPECT_EQ(FailureOf(service), Failure::kWrongService);
  EXPECT_EQ(service.error->expected_service, "firehose");
  // IAM and STS are global: any region.
  constexpr std::string_view kQuery[] = {"iam", "sts"};
  EXPECT_TRUE(Authn(a, SignFirehose("{}", kAlice, kNow, "eu-west-1", "sts"), kQuery).ok());
}

TEST(Authenticator, ClockSkewFifteenMinutes) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  EXPECT_TRUE(Authn(a, SignFirehose("{}", kAlice, kNow - 14 * 60000), kFirehose).ok());
  auto o = Authn(a, SignFirehose("{}", kAlice, kNow - 20 * 60000), kFirehose);
  EXPECT_EQ(FailureOf(o), Failure::kTimeSkewed);
  EXPECT_EQ(o.error->message,
            "Signature expired: 20130523T234000Z is now earlier than 20130523T234500Z "
            "(20130524T000000Z - 15 min.)");
  EXPECT_EQ(o.error->request_time, "20130523T234000Z");
  EXPECT_EQ(FailureOf(Authn(a, SignFirehose("{}", kAlice, kNow + 20 * 60000), kFirehose)),
            Failure::kTimeSkewed);
}

TEST(Authenticator, S3PayloadHashes) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  // A hex hash over a body in memory: checked now.
  EXPECT_TRUE(Authn(a, SignS3Put("hello", kAlice), kS3).ok());
  Signed tampered = SignS3Put("hello", kAlice);
  tampered.body = "jello";
  auto o = Authn(a, tampered, kS3);
  EXPECT_EQ(FailureOf(o), Failure::kContentSha256Mismatch);
  EXPECT_EQ(o.error->client_sha256, Sha256Hex("hello"));
  EXPECT_EQ(o.error->computed_sha256, Sha256Hex("jello"));
  // Streamed: left to the body's reader.
  auto streamed = Authn(a, SignS3Put("hello", kAlice), kS3, kNow, /*streamed=*/true);
  ASSERT_TRUE(streamed.ok());
  ASSERT_NE(streamed.result.payload, nullptr);
  EXPECT_EQ(streamed.result.payload->kind, PayloadCheck::Kind::kSha256);
  EXPECT_EQ(streamed.result.payload->sha256_hex, Sha256Hex("hello"));
  // UNSIGNED-PAYLOAD: anything goes.
  Signed unsigned_payload = SignS3Put("hello", kAlice, "UNSIGNED-PAYLOAD");
  unsigned_payload.body = "other";
  EXPECT_TRUE(Authn(a, unsigned_payload, kS3).ok());
  // Required, and only the known forms.
  Signed missing = SignS3Put("", kAlice);
  std::erase_if(missing.req.headers,
                [](const auto& h) { return h.first == "x-amz-content-sha256"; });
  EXPECT_EQ(FailureOf(Authn(a, missing, kS3)), Failure::kContentSha256Missing);
  EXPECT_EQ(FailureOf(Authn(a, SignS3Put("", kAlice, "SHA256-OF-SOMETHING"), kS3)),
            Failure::kContentSha256Invalid);
}

// The hash the listener computed while the body arrived stands for the body:
// the signature and an S3 content hash are checked against it.
TEST(Authenticator, ABodyHashedOnArrivalIsNotHashedAgain) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  Signed f = SignFirehose("{\"a\":1}", kAlice);
  const std::string right = Sha256Hex(f.body), wrong = Sha256Hex("{\"a\":2}");
  AuthRequest r{f.req.method, f.req.path, f.req.query, f.req.headers, &f.body, kFirehose, right};
  EXPECT_TRUE(a.Authenticate(r, kNow).ok());
  r.body_sha256 = wrong;
  auto o = a.Authenticate(r, kNow);
  EXPECT_EQ(FailureOf(o), Failure::kSignatureMismatch);
  EXPECT_NE(o.error->canonical_request.find(wrong), std::string::npos);

  Signed s3 = SignS3Put("hello", kAlice);
  const std::string jello = Sha256Hex("jello");
  AuthRequest p{s3.req.method, s3.req.path, s3.req.query, s3.req.headers, &s3.body, kS3, jello};
  auto m = a.Authenticate(p, kNow);
  EXPECT_EQ(FailureOf(m), Failure::kContentSha256Mismatch);
  EXPECT_EQ(m.error->computed_sha256, jello);
}

TEST(Authenticator, PublishedS3ChunkedUploadSeedAndChain) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  std::vector<aws::Header> headers = {
      {"Host", "s3.amazonaws.com"},
      {"x-amz-date", "20130524T000000Z"},
      {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
      {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
      {"Content-Encoding", "aws-chunked"},
      {"x-amz-decoded-content-length", "66560"},
      {"Content-Length", "66824"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
       "us-east-1/s3/aws4_request,SignedHeaders=content-encoding;"
       "content-length;host;x-amz-content-sha256;x-amz-date;"
       "x-amz-decoded-content-length;x-amz-storage-class,"
       "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea"
       "153f7db9fa80a0a9"}};
  AuthRequest r{"PUT", "/examplebucket/chunkObject.txt", "", headers, nullptr, kS3};
  auto o = a.Authenticate(r, kNow);
  ASSERT_TRUE(o.ok()) << o.error->message;
  ASSERT_NE(o.result.payload, nullptr);
  const PayloadCheck& check = *o.result.payload;
  EXPECT_EQ(check.kind, PayloadCheck::Kind::kChunkSigned);
  EXPECT_EQ(check.seed_signature,
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
  ChunkSignatureChain chain(check);
  EXPECT_FALSE(chain.Next(Sha256Hex(std::string(65536, 'b')),
                          "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"));
  EXPECT_TRUE(chain.Next(Sha256Hex(std::string(65536, 'a')),
                         "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"));
  EXPECT_TRUE(chain.Next(Sha256Hex(std::string(1024, 'a')),
                         "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"));
  // The chain is ordered: replaying the first chunk's signature now fails.
  ChunkSignatureChain replay(check);
  EXPECT_FALSE(replay.Next(Sha256Hex(std::string(1024, 'a')),
                           "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"));
  EXPECT_TRUE(chain.Next(Sha256Hex(""),
                         "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"));
}

TEST(Authenticator, PublishedS3PresignedGet) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1"});
  const std::string query =
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
      "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
      "X-Amz-SignedHeaders=host&X-Amz-Signature="
      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
  std::vector<aws::Header> headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  const std::string body;
  AuthRequest r{"GET", "/test.txt", query, headers, &body, kS3};
  auto o = a.Authenticate(r, kNow + 3600 * 1000);
  ASSERT_TRUE(o.ok()) << o.error->message;
  EXPECT_EQ(o.result.principal->user_name, "alice");
  auto expired = a.Authenticate(r, kNow + 86401 * 1000);
  EXPECT_EQ(FailureOf(expired), Failure::kPresignExpired);
  EXPECT_TRUE(expired.error->presigned);
  EXPECT_EQ(expired.error->expires_seconds, 86400);
  std::string bad = query;
  bad.replace(bad.find("86400"), 5, "999999");
  auto malformed = a.Authenticate({"GET", "/test.txt", bad, headers, &body, kS3}, kNow);
  EXPECT_EQ(FailureOf(malformed), Failure::kQueryMalformed);
}

TEST(Authenticator, SigningKeysAreCachedPerScope) {
  auto users = Users();
  Authenticator a(&users, {"us-east-1", 15 * 60 * 1000, 2});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Authn(a, SignFirehose("{}", kAlice), kFirehose).ok());
  EXPECT_EQ(a.cached_signing_keys(), 1u);
  ASSERT_TRUE(
      Authn(a, SignFirehose("{}", {"AKIAROOTROOTROOT0000", "rootsecretrootsecret", ""}), kFirehose)
          .ok());
  ASSERT_TRUE(Authn(a, SignS3Put("x", kAlice), kS3).ok());
  EXPECT_EQ(a.cached_signing_keys(), 2u);  // bounded
}

}  // namespace
}  // namespace hydrant::auth
