// RequestAuth: modes, hydrant's public endpoints, and each protocol's answer to
// an authentication failure (status, code, message, body shape).
#include "server/request_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/static_credential_source.h"
#include "aws/sigv4.h"
#include "common/digest.h"
#include "iam/principal.h"
#include "server/s3_api_test_util.h"

namespace hydrant::server {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1369353600000;  // 2013-05-24T00:00:00Z
const char kKey[] = "AKIAIOSFODNN7EXAMPLE";
const char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

class FixedClock final : public Clock {
 public:
  int64_t NowMillis() const override { return now; }
  int64_t now = kNow;
};

class RequestAuthTest : public ::testing::Test {
 protected:
  RequestAuthTest()
      : users_("111122223333", {{"alice", kKey, kSecret, "", false, "", 0, true}}),
        auth_({"sigv4", true, "us-east-1", &users_, &clock_}) {}

  // A Firehose PutRecord signed by aws::Sign.
  http::Request Firehose(std::string body, std::string secret = kSecret) {
    aws::SignableRequest s{"POST",
                           "/",
                           "",
                           {{"Host", "localhost"},
                            {"Content-Type", "application/x-amz-json-1.1"},
                            {"X-Amz-Target", "Firehose_20150804.PutRecord"}},
                           Sha256Hex(body)};
    EXPECT_TRUE(aws::Sign(&s, {kKey, secret, ""}, {"us-east-1", "firehose"}, kNow).ok());
    http::Request r;
    r.method = "POST";
    r.target = "/";
    r.headers = s.headers;
    r.body = std::move(body);
    return r;
  }

  auth::StaticCredentialSource users_;
  FixedClock clock_;
  RequestAuth auth_;
};

TEST(RequestAuthOpen, AttachesTheAnonymousPrincipalAndChecksNothing) {
  RequestAuth open({});
  http::Request r;
  r.method = "PUT";
  r.target = "/bucket/key";
  r.headers = {{"Authorization", "AWS4-HMAC-SHA256 garbage"}};
  EXPECT_FALSE(open.Check(&r).has_value());
  ASSERT_NE(r.principal, nullptr);
  EXPECT_EQ(r.principal->kind, iam::Principal::Kind::kAnonymous);
  EXPECT_FALSE(open.verifying());
}

TEST_F(RequestAuthTest, SignedRequestGetsItsPrincipal) {
  http::Request r = Firehose("{\"DeliveryStreamName\":\"s\"}");
  EXPECT_FALSE(auth_.Check(&r).has_value());
  ASSERT_NE(r.principal, nullptr);
  EXPECT_EQ(r.principal->arn, "arn:aws:iam::111122223333:user/alice");
}

TEST_F(RequestAuthTest, JsonProtocolAnswers) {
  http::Request tampered = Firehose("{\"a\":1}");
  tampered.body = "{\"a\":2}";
  auto resp = auth_.Check(&tampered);
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 400);
  EXPECT_EQ(HeaderOf(*resp, "x-amzn-ErrorType"), "InvalidSignatureException:");
  EXPECT_THAT(resp->body, HasSubstr("\"__type\":\"InvalidSignatureException\""));
  EXPECT_THAT(resp->body, HasSubstr("The request signature we calculated does not match the "
                                    "signature you provided. Check your AWS Secret Access Key "
                                    "and signing method."));
  EXPECT_THAT(resp->body, HasSubstr("The Canonical String for this request should have been"));
  EXPECT_THAT(resp->body, ::testing::Not(HasSubstr(kSecret)));

  http::Request unsigned_req = Firehose("{}");
  std::erase_if(unsigned_req.headers, [](const auto& h) { return h.first == "Authorization"; });
  resp = auth_.Check(&unsigned_req);
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 400);
  EXPECT_EQ(resp->body,
            "{\"__type\":\"MissingAuthenticationTokenException\",\"message\":\"Missing "
            "Authentication Token\"}");

  http::Request unknown = Firehose("{}");
  for (auto& [k, v] : unknown.headers) {
    if (k == "Authorization") v.replace(v.find(kKey), 20, "AKIANOSUCHKEY0000000");
  }
  resp = auth_.Check(&unknown);
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->body,
            "{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security token "
            "included in the request is invalid.\"}");

  clock_.now = kNow + 20 * 60000;
  http::Request old = Firehose("{}");
  resp = auth_.Check(&old);
  ASSERT_TRUE(resp.has_value());
  EXPECT_THAT(resp->body, HasSubstr("Signature expired: 20130524T000000Z is now earlier than "
                                    "20130524T000500Z (20130524T002000Z - 15 min.)"));
}

TEST_F(RequestAuthTest, HydrantEndpoints) {
  http::Request health;
  health.method = "GET";
  health.target = "/health";
  EXPECT_FALSE(auth_.Check(&health).has_value());
  http::Request doctor;
  doctor.method = "GET";
  doctor.target = "/doctor?stream=s";
  auto resp = auth_.Check(&doctor);
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->status, 403);
  RequestAuth private_health({"sigv4", false, "us-east-1", &users_, &clock_});
  EXPECT_TRUE(private_health.Check(&health).has_value());
}

TEST(ProtocolOf, TellsTheApisApart) {
  auto req = [](std::string method, std::string target,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = std::move(headers);
    return r;
  };
  EXPECT_EQ(ProtocolOf(req("POST", "/", {{"X-Amz-Target", "Firehose_20150804.PutRecord"}})),
            Protocol::kJson);
  EXPECT_EQ(ProtocolOf(req("POST", "/", {{"X-Amz-Target", "Logs_20140328.PutLogEvents"}})),
            Protocol::kJson);
  EXPECT_EQ(ProtocolOf(req("POST", "/2015-03-31/functions/f/invocations")), Protocol::kLambda);
  EXPECT_EQ(ProtocolOf(req("POST", "/",
                           {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}})),
            Protocol::kQuery);
  EXPECT_EQ(ProtocolOf(req("GET", "/?Action=GetCallerIdentity&Version=2011-06-15")),
            Protocol::kQuery);
  EXPECT_EQ(ProtocolOf(req("GET", "/health")), Protocol::kHydrant);
  EXPECT_EQ(ProtocolOf(req("GET", "/health", {{"Authorization", "x"}})), Protocol::kS3);
  EXPECT_EQ(ProtocolOf(req("GET", "/bucket?list-type=2")), Protocol::kS3);
  EXPECT_EQ(ProtocolOf(req("GET", "/")), Protocol::kS3);
}

// An element's text as an XML parser gives it (the writer escapes newlines and quotes).
std::string Text(const std::string& xml, const std::string& tag) {
  std::string v = Tag1(xml, tag);
  for (auto [from, to] : {std::pair<std::string, std::string>{"&#xA;", "\n"},
                          {"&apos;", "'"},
                          {"&quot;", "\""},
                          {"&lt;", "<"},
                          {"&gt;", ">"},
                          {"&amp;", "&"}}) {
    for (size_t p = v.find(from); p != std::string::npos; p = v.find(from, p + to.size())) {
      v.replace(p, from.size(), to);
    }
  }
  return v;
}

http::Request S3Get() {
  http::Request r;
  r.method = "GET";
  r.target = "/bucket/key";
  return r;
}

// S3's answer to `e`, checked for its status, code and message; the body.
std::string ExpectS3(const auth::AuthError& e, int status, const std::string& code,
                     const std::string& message) {
  http::Response r = AuthErrorResponse(Protocol::kS3, e, S3Get());
  EXPECT_EQ(r.status, status) << code;
  EXPECT_EQ(Tag1(r.body, "Code"), code);
  EXPECT_EQ(Text(r.body, "Message"), message);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/xml");
  return r.body;
}

TEST(AuthErrorResponse, S3Answers) {
  auth::AuthError e;
  e.failure = auth::Failure::kSignatureMismatch;
  e.access_key_id = kKey;
  e.string_to_sign = "AWS4-HMAC-SHA256\n20130524T000000Z\nscope\nabc";
  e.canonical_request = "GET\n/bucket/key\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD";
  e.signature_provided = "00";
  std::string body = ExpectS3(e, 403, "SignatureDoesNotMatch",
                              "The request signature we calculated does not match the signature "
                              "you provided. Check your key and signing method.");
  EXPECT_EQ(Tag1(body, "AWSAccessKeyId"), kKey);
  EXPECT_EQ(Text(body, "StringToSign"), e.string_to_sign);
  EXPECT_EQ(Text(body, "CanonicalRequest"), e.canonical_request);
  EXPECT_EQ(Tag1(body, "StringToSignBytes").substr(0, 11), "41 57 53 34");

  e = {};
  e.failure = auth::Failure::kTimeSkewed;
  e.request_time = "20130523T234000Z";
  e.server_ms = kNow;
  e.max_skew_ms = 900000;
  body = ExpectS3(e, 403, "RequestTimeTooSkewed",
                  "The difference between the request time and the current time is too large.");
  EXPECT_EQ(Tag1(body, "RequestTime"), "20130523T234000Z");
  EXPECT_EQ(Tag1(body, "ServerTime"), "2013-05-24T00:00:00Z");
  EXPECT_EQ(Tag1(body, "MaxAllowedSkewMilliseconds"), "900000");

  e = {};
  e.failure = auth::Failure::kUnknownKey;
  e.access_key_id = "AKIANOSUCHKEY0000000";
  body = ExpectS3(e, 403, "InvalidAccessKeyId",
                  "The AWS Access Key Id you provided does not exist in our records.");
  EXPECT_EQ(Tag1(body, "AWSAccessKeyId"), "AKIANOSUCHKEY0000000");

  e = {};
  e.failure = auth::Failure::kPresignExpired;
  e.presigned = true;
  e.request_ms = kNow;
  e.expires_seconds = 86400;
  e.server_ms = kNow + 90000 * 1000ll;
  body = ExpectS3(e, 403, "AccessDenied", "Request has expired");
  EXPECT_EQ(Tag1(body, "X-Amz-Expires"), "86400");
  EXPECT_EQ(Tag1(body, "Expires"), "2013-05-25T00:00:00Z");

  e = {};
  e.failure = auth::Failure::kWrongRegion;
  e.region = "eu-west-1";
  e.expected_region = "us-east-1";
  body = ExpectS3(e, 400, "AuthorizationHeaderMalformed",
                  "The authorization header is malformed; the region 'eu-west-1' is wrong; "
                  "expecting 'us-east-1'");
  EXPECT_EQ(Tag1(body, "Region"), "us-east-1");

  struct Case {
    auth::Failure f;
    int status;
    const char* code;
  } cases[] = {
      {auth::Failure::kMissing, 403, "AccessDenied"},
      {auth::Failure::kQueryMalformed, 400, "AuthorizationQueryParametersError"},
      {auth::Failure::kInvalidToken, 400, "InvalidToken"},
      {auth::Failure::kExpiredToken, 400, "ExpiredToken"},
      {auth::Failure::kContentSha256Missing, 400, "InvalidRequest"},
      {auth::Failure::kContentSha256Invalid, 400, "InvalidArgument"},
      {auth::Failure::kContentSha256Mismatch, 400, "XAmzContentSHA256Mismatch"},
      {auth::Failure::kChunkSignatureMismatch, 403, "SignatureDoesNotMatch"},
      {auth::Failure::kUnsupportedMechanism, 400, "InvalidRequest"},
      {auth::Failure::kMalformedCredential, 400, "AuthorizationHeaderMalformed"},
  };
  for (const auto& c : cases) {
    e = {};
    e.failure = c.f;
    http::Response r = AuthErrorResponse(Protocol::kS3, e, S3Get());
    EXPECT_EQ(r.status, c.status) << c.code;
    EXPECT_EQ(Tag1(r.body, "Code"), c.code);
  }
}

TEST(AuthErrorResponse, LambdaAndQueryAnswers) {
  auth::AuthError e;
  e.failure = auth::Failure::kUnknownKey;
  http::Request lambda;
  lambda.method = "POST";
  lambda.target = "/2015-03-31/functions/f/invocations";
  auto r = AuthErrorResponse(Protocol::kLambda, e, lambda);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HeaderOf(r, "x-amzn-ErrorType"), "UnrecognizedClientException");
  EXPECT_THAT(r.body, HasSubstr("The security token included in the request is invalid."));

  http::Request sts;
  sts.method = "POST";
  sts.target = "/";
  sts.body = "Action=GetCallerIdentity&Version=2011-06-15";
  r = AuthErrorResponse(Protocol::kQuery, e, sts);
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body,
              HasSubstr("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                        "<Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
                        "<Message>The security token included in the request is invalid."
                        "</Message></Error><RequestId>"));
  e.failure = auth::Failure::kMissing;
  sts.body = "Action=ListUsers&Version=2010-05-08";
  r = AuthErrorResponse(Protocol::kQuery, e, sts);
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("iam.amazonaws.com/doc/2010-05-08/"));
  EXPECT_EQ(Tag1(r.body, "Code"), "MissingAuthenticationToken");
  e.failure = auth::Failure::kExpiredToken;
  r = AuthErrorResponse(Protocol::kQuery, e, sts);
  EXPECT_EQ(Tag1(r.body, "Code"), "ExpiredToken");
  e.failure = auth::Failure::kIncomplete;
  e.message = "Authorization header requires 'Signature' parameter.";
  r = AuthErrorResponse(Protocol::kQuery, e, sts);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Tag1(r.body, "Code"), "IncompleteSignature");
}

}  // namespace
}  // namespace hydrant::server
