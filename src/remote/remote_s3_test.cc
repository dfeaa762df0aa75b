// Unit tests of the remote S3 sink against a fake S3 on a loopback socket
// (testing/test_http_server.h): request shapes, signing, integrity headers, SSE-KMS,
// multipart and its abort, error mapping, AssumeRole.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "aws/sigv4.h"
#include "testing/test_http_server.h"
#include "destinations/sink_errors.h"
#include "remote/assume_role.h"
#include "remote/remote_s3_sink.h"
#include "remote/s3_errors.h"

namespace hydrant::remote {
namespace {

using testing::TestHttpRequest;
using testing::TestHttpResponse;
using testing::TestHttpServer;

constexpr int64_t kNow = 1700000000000;  // 2023-11-14T22:13:20Z

std::string Path(const TestHttpRequest& r) { return r.target.substr(0, r.target.find('?')); }
std::string Query(const TestHttpRequest& r) {
  size_t q = r.target.find('?');
  return q == std::string::npos ? "" : r.target.substr(q + 1);
}

// Checks the request's SigV4 signature with `secret`, as S3 would.
void ExpectSigned(const TestHttpRequest& r, const std::string& access_key,
                  const std::string& secret) {
  const std::string* auth = r.Header("Authorization");
  ASSERT_NE(auth, nullptr);
  auto parsed = aws::ParseAuthorization(*auth);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->access_key_id, access_key);
  EXPECT_EQ(parsed->service, "s3");
  const std::string* sha = r.Header("x-amz-content-sha256");
  ASSERT_NE(sha, nullptr);
  EXPECT_EQ(*sha, aws::Sha256Hex(r.body));  // the payload is hashed, not UNSIGNED-PAYLOAD
  std::string path = Path(r), query = Query(r);
  aws::RequestView view{r.method, path, query, r.headers, *sha};
  aws::VerifyOptions vo;
  vo.now_unix_ms = kNow;
  auto v = aws::Verify(view, *parsed, secret, vo);
  EXPECT_TRUE(v.ok()) << v.message << "\n" << v.canonical_request;
  for (const auto& h : parsed->signed_headers) {
    EXPECT_NE(h, "authorization");
  }
}

struct Fixture {
  explicit Fixture(TestHttpServer::Handler h, RemoteS3Options o = {}) : clock(kNow) {
    server = std::make_unique<TestHttpServer>(std::move(h));
    o.endpoint = o.endpoint.empty() ? server->url("") : o.endpoint;
    if (o.access_key_id.empty()) {
      o.access_key_id = "AKIDEXAMPLE";
      o.secret_access_key = "secret";
    }
    o.part_size = 5ull << 20;
    o.multipart_threshold = 5ull << 20;
    auto s = RemoteS3Sink::Create(o, nullptr, nullptr, &clock);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    sink = std::move(s).value();
  }
  FakeClock clock;
  std::unique_ptr<TestHttpServer> server;
  std::unique_ptr<RemoteS3Sink> sink;
};

TestHttpResponse Ok(std::string etag = "\"e\"") { return {200, {{"ETag", etag}}, ""}; }

TEST(RemoteS3Sink, SmallObjectIsOnePutObjectSignedWithMd5AndPayloadHash) {
  Fixture f([](const TestHttpRequest&) { return Ok("\"abc\""); });
  store::ObjectMeta meta;
  meta.content_type = "application/octet-stream";
  meta.content_encoding = "gzip";
  auto w = f.sink->BeginPut("my-bucket", "a/b c+d.gz", meta);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Write("hello ").ok());
  ASSERT_TRUE((*w)->Write("world").ok());
  EXPECT_TRUE(f.server->requests().empty());  // buffered until Commit
  auto info = (*w)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 11u);
  EXPECT_EQ(info->etag, "\"abc\"");
  auto reqs = f.server->requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/my-bucket/a/b%20c%2Bd.gz");
  EXPECT_EQ(r.body, "hello world");
  ASSERT_NE(r.Header("Content-MD5"), nullptr);
  EXPECT_EQ(*r.Header("Content-MD5"), "XrY7u+Ae7tCTyyK7j1rNww==");  // MD5("hello world")
  EXPECT_EQ(*r.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(*r.Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(r.Header("x-amz-server-side-encryption"), nullptr);
  EXPECT_EQ(*r.Header("Host"), "127.0.0.1:" + std::to_string(f.server->port()));
  ExpectSigned(r, "AKIDEXAMPLE", "secret");
}

TEST(RemoteS3Sink, SseKmsHeadersWhenTheMetaNamesAKey) {
  Fixture f([](const TestHttpRequest& r) {
    if (Query(r) == "uploads") {
      return TestHttpResponse{200, {}, "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"};
    }
    if (r.method == "POST") return TestHttpResponse{200, {}, "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>"};
    return Ok();
  });
  store::ObjectMeta meta;
  meta.sse_kms_key_id = "arn:aws:kms:us-east-1:123456789012:key/k1";
  auto w = f.sink->BeginPut("b1", "small", meta);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("x").ok());
  ASSERT_TRUE((*w)->Commit().ok());
  // A multipart object carries them on CreateMultipartUpload, not on the parts.
  auto w2 = f.sink->BeginPut("b1", "big", meta);
  ASSERT_TRUE(w2.ok());
  ASSERT_TRUE((*w2)->Write(std::string(6 << 20, 'a')).ok());
  ASSERT_TRUE((*w2)->Commit().ok());
  auto reqs = f.server->requests();
  ASSERT_EQ(reqs.size(), 5u);  // put; create, part 1, part 2, complete
  for (int i : {0, 1}) {
    ASSERT_NE(reqs[i].Header("x-amz-server-side-encryption"), nullptr) << i;
    EXPECT_EQ(*reqs[i].Header("x-amz-server-side-encryption"), "aws:kms");
    EXPECT_EQ(*reqs[i].Header("x-amz-server-side-encryption-aws-kms-key-id"),
              "arn:aws:kms:us-east-1:123456789012:key/k1");
    ExpectSigned(reqs[i], "AKIDEXAMPLE", "secret");
  }
  EXPECT_EQ(reqs[2].Header("x-amz-server-side-encryption"), nullptr);
}

TEST(RemoteS3Sink, LargeObjectStreamsPartsAndCompletes) {
  std::mutex mu;
  Fixture f([&](const TestHttpRequest& r) {
    if (r.method == "POST" && Query(r) == "uploads") {
      return TestHttpResponse{200, {}, "<InitiateMultipartUploadResult><Bucket>b</Bucket><UploadId>up/1+=</UploadId></InitiateMultipartUploadResult>"};
    }
    if (r.method == "PUT") {
      std::string q = Query(r);
      return Ok("\"etag-" + q.substr(q.find('=') + 1, 1) + "\"");
    }
    return TestHttpResponse{200, {}, "<CompleteMultipartUploadResult><ETag>\"m-3\"</ETag></CompleteMultipartUploadResult>"};
  });
  auto w = f.sink->BeginPut("b", "k", {});
  ASSERT_TRUE(w.ok());
  std::string chunk(1 << 20, 'z');
  for (int i = 0; i < 12; ++i) {
    chunk[0] = static_cast<char>('a' + i);
    ASSERT_TRUE((*w)->Write(chunk).ok());
    if (i == 4) {
      EXPECT_TRUE(f.server->requests().empty());  // 5 MiB: still one put
    }
  }
  // 12 MiB written: create + two 5 MiB parts are out already.
  EXPECT_EQ(f.server->requests().size(), 3u);
  auto info = (*w)->Commit();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 12u << 20);
  EXPECT_EQ(info->etag, "\"m-3\"");
  auto reqs = f.server->requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/b/k?uploads");
  size_t total = 0;
  for (int p = 1; p <= 3; ++p) {
    const auto& r = reqs[p];
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.target, "/b/k?partNumber=" + std::to_string(p) + "&uploadId=up%2F1%2B%3D");
    EXPECT_EQ(r.body.size(), p < 3 ? (5u << 20) : (2u << 20));
    EXPECT_EQ(*r.Header("Content-MD5"), ContentMd5(r.body));
    ExpectSigned(r, "AKIDEXAMPLE", "secret");
    total += r.body.size();
  }
  EXPECT_EQ(total, 12u << 20);
  EXPECT_EQ(reqs[1].body[0], 'a');
  EXPECT_EQ(reqs[2].body[0], 'f');
  EXPECT_EQ(reqs[4].method, "POST");
  EXPECT_EQ(reqs[4].target, "/b/k?uploadId=up%2F1%2B%3D");
  EXPECT_EQ(reqs[4].body,
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"etag-1\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"etag-2\"</ETag></Part>"
            "<Part><PartNumber>3</PartNumber><ETag>\"etag-3\"</ETag></Part></CompleteMultipartUpload>");
  ExpectSigned(reqs[4], "AKIDEXAMPLE", "secret");
}

TEST(RemoteS3Sink, FailedPartAbortsTheUploadAndTheWriterStaysFailed) {
  Fixture f([](const TestHttpRequest& r) {
    if (Query(r) == "uploads") return TestHttpResponse{200, {}, "<UploadId>u</UploadId>"};
    if (r.method == "PUT" && Query(r).starts_with("partNumber=2")) {
      return TestHttpResponse{500, {}, "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"};
    }
    if (r.method == "DELETE") return TestHttpResponse{204, {}, ""};
    return Ok();
  });
  auto w = f.sink->BeginPut("b", "k", {});
  ASSERT_TRUE(w.ok());
  Status st;
  for (int i = 0; i < 12 && st.ok(); ++i) st = (*w)->Write(std::string(1 << 20, 'q'));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(store::FirehoseErrorCode(st), "InternalError");
  EXPECT_NE(st.message().find("UploadPart s3://b/k"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("HTTP 500"), std::string::npos);
  EXPECT_NE(st.message().find("We encountered an internal error."), std::string::npos);
  auto reqs = f.server->requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.back().method, "DELETE");
  EXPECT_EQ(reqs.back().target, "/b/k?uploadId=u");
  EXPECT_FALSE((*w)->Write("more").ok());
  EXPECT_FALSE((*w)->Commit().ok());
  w->reset();
  EXPECT_EQ(f.server->requests().size(), reqs.size());  // aborted once only
}

TEST(RemoteS3Sink, AbandonedWriterAbortsItsUpload) {
  Fixture f([](const TestHttpRequest& r) {
    if (Query(r) == "uploads") return TestHttpResponse{200, {}, "<UploadId>u9</UploadId>"};
    if (r.method == "DELETE") return TestHttpResponse{204, {}, ""};
    return Ok();
  });
  {
    auto w = f.sink->BeginPut("b", "k", {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(std::string(6 << 20, 'q')).ok());
  }
  auto reqs = f.server->requests();
  ASSERT_EQ(reqs.size(), 3u);  // create, part 1, abort
  EXPECT_EQ(reqs[2].method, "DELETE");
  EXPECT_EQ(reqs[2].target, "/b/k?uploadId=u9");
  // An abandoned small object sends nothing at all.
  {
    auto w = f.sink->BeginPut("b", "k2", {});
    ASSERT_TRUE((*w)->Write("x").ok());
  }
  EXPECT_EQ(f.server->requests().size(), 3u);
}

TEST(RemoteS3Sink, CompleteAnsweringErrorIn200Fails) {
  Fixture f([](const TestHttpRequest& r) {
    if (Query(r) == "uploads") return TestHttpResponse{200, {}, "<UploadId>u</UploadId>"};
    if (r.method == "POST") {
      return TestHttpResponse{200, {}, "<?xml version=\"1.0\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"};
    }
    if (r.method == "DELETE") return TestHttpResponse{204, {}, ""};
    return Ok();
  });
  auto w = f.sink->BeginPut("b", "k", {});
  ASSERT_TRUE((*w)->Write(std::string(6 << 20, 'q')).ok());
  auto c = (*w)->Commit();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(store::FirehoseErrorCode(c.status()), "S3.AccessDenied");
  EXPECT_EQ(f.server->requests().back().method, "DELETE");
}

struct ErrorCase {
  int status;
  std::string s3_code;
  std::string firehose_code;
};

TEST(RemoteS3Sink, S3ErrorsMapToFirehoseCodes) {
  const ErrorCase cases[] = {
      {403, "AccessDenied", "S3.AccessDenied"},
      {403, "InvalidAccessKeyId", "S3.AccessDenied"},
      {403, "SignatureDoesNotMatch", "S3.AccessDenied"},
      {400, "ExpiredToken", "S3.AccessDenied"},
      {404, "NoSuchBucket", "S3.NoSuchBucket"},
      {400, "KMS.NotFoundException", "S3.KMS.NotFoundException"},
      {400, "KMS.ThrottlingException", "S3.KMS.RequestLimitExceeded"},
      {403, "AccountProblem", "S3.AccountProblem"},
      {403, "AllAccessDisabled", "S3.AllAccessDisabled"},
      {403, "InvalidPayer", "S3.InvalidPayer"},
      {403, "NotSignedUp", "S3.NotSignedUp"},
      {405, "MethodNotAllowed", "S3.MethodNotAllowed"},
      {503, "SlowDown", "InternalError"},
      {500, "InternalError", "InternalError"},
      {403, "", "S3.AccessDenied"},
      {502, "", "InternalError"},
  };
  for (const auto& c : cases) {
    Fixture f([&](const TestHttpRequest&) {
      std::string body = c.s3_code.empty() ? ""
                                           : "<Error><Code>" + c.s3_code +
                                                 "</Code><Message>the &lt;message&gt;</Message>"
                                                 "<BucketName>bkt</BucketName></Error>";
      return TestHttpResponse{c.status, {{"Content-Type", "application/xml"}}, body};
    });
    auto w = f.sink->BeginPut("bkt", "key", {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("data").ok());
    auto r = (*w)->Commit();
    ASSERT_FALSE(r.ok());
    const Status& st = r.status();
    EXPECT_EQ(store::FirehoseErrorCode(st), c.firehose_code) << c.s3_code << " " << st.message();
    EXPECT_NE(st.message().find("PutObject s3://bkt/key at " + f.sink->endpoint()), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("HTTP " + std::to_string(c.status)), std::string::npos);
    if (!c.s3_code.empty()) {
      EXPECT_NE(st.message().find(c.s3_code + ": the <message>"), std::string::npos) << st.message();
    }
    EXPECT_EQ(st.code() == StatusCode::kNotFound, c.firehose_code == "S3.NoSuchBucket");
  }
}

TEST(RemoteS3Sink, UnreachableEndpointIsInternalErrorNamingIt) {
  RemoteS3Options o;
  std::string url;
  {
    TestHttpServer dead([](const TestHttpRequest&) { return TestHttpResponse{}; });
    url = dead.url("");
  }
  FakeClock clock(kNow);
  o.endpoint = url;
  o.access_key_id = "a";
  o.secret_access_key = "s";
  auto sink = RemoteS3Sink::Create(o, nullptr, nullptr, &clock);
  ASSERT_TRUE(sink.ok());
  auto w = (*sink)->BeginPut("b", "k", {});
  ASSERT_TRUE((*w)->Write("x").ok());
  auto r = (*w)->Commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(store::FirehoseErrorCode(r.status()), "InternalError");
  EXPECT_NE(r.status().message().find(url), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("cannot reach the endpoint"), std::string::npos);
}

TEST(RemoteS3Sink, VirtualHostedAddressingPutsTheBucketInTheHost) {
  TestHttpServer srv([](const TestHttpRequest&) { return Ok(); });
  FakeClock clock(kNow);
  RemoteS3Options o;
  o.endpoint = "http://localhost:" + std::to_string(srv.port());  // curl: *.localhost is loopback
  o.addressing = RemoteS3Options::Addressing::kVirtual;
  o.access_key_id = "AKIDEXAMPLE";
  o.secret_access_key = "secret";
  auto sink = RemoteS3Sink::Create(o, nullptr, nullptr, &clock);
  ASSERT_TRUE(sink.ok());
  auto w = (*sink)->BeginPut("my-bucket", "dir/obj", {});
  ASSERT_TRUE((*w)->Write("v").ok());
  auto r = (*w)->Commit();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/dir/obj");
  EXPECT_EQ(*reqs[0].Header("Host"), "my-bucket.localhost:" + std::to_string(srv.port()));
  ExpectSigned(reqs[0], "AKIDEXAMPLE", "secret");
}

TEST(RemoteS3Sink, AwsDefaultsToVirtualHostedRegionalEndpoint) {
  RemoteS3Options o;
  o.region = "eu-west-1";
  o.access_key_id = "a";
  o.secret_access_key = "s";
  auto sink = RemoteS3Sink::Create(o);
  ASSERT_TRUE(sink.ok());
  EXPECT_EQ((*sink)->endpoint(), "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ((*sink)->options().addressing, RemoteS3Options::Addressing::kVirtual);
  o.endpoint = "ftp://x";
  EXPECT_FALSE(RemoteS3Sink::Create(o).ok());
  o.endpoint = "http://127.0.0.1:9000/";
  auto local = RemoteS3Sink::Create(o);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ((*local)->endpoint(), "http://127.0.0.1:9000");
  EXPECT_EQ((*local)->options().addressing, RemoteS3Options::Addressing::kPath);
}

TEST(RemoteS3Sink, CheckAccessListsWritesAndDeletesAProbe) {
  std::atomic<bool> deny_put{false};
  Fixture f([&](const TestHttpRequest& r) {
    if (r.method == "GET") return TestHttpResponse{200, {}, "<ListBucketResult></ListBucketResult>"};
    if (r.method == "PUT" && deny_put) {
      return TestHttpResponse{403, {}, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"};
    }
    if (r.method == "DELETE") return TestHttpResponse{204, {}, ""};
    return Ok();
  });
  Status st = f.sink->CheckAccess("bk", {});
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto reqs = f.server->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/bk?list-type=2&max-keys=1");
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_TRUE(reqs[1].target.starts_with("/bk/hydrant-access-probe-")) << reqs[1].target;
  EXPECT_EQ(reqs[2].method, "DELETE");
  EXPECT_EQ(reqs[2].target, reqs[1].target);
  for (const auto& r : reqs) ExpectSigned(r, "AKIDEXAMPLE", "secret");
  deny_put = true;
  st = f.sink->CheckAccess("bk", {});
  EXPECT_EQ(store::FirehoseErrorCode(st), "S3.AccessDenied");
  EXPECT_NE(st.message().find("PutObject s3://bk/hydrant-access-probe-"), std::string::npos);
}

// --- AssumeRole -----------------------------------------------------------------

constexpr char kAssumeRoleAnswer[] = R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/hydrant</Arn></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIATEMP</AccessKeyId>
      <SecretAccessKey>tempsecret</SecretAccessKey>
      <SessionToken>TOKEN/+=</SessionToken>
      <Expiration>2023-11-14T23:13:20.123Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>)";

TEST(AssumeRole, ParsesTheAnswer) {
  auto r = ParseAssumeRoleResponse(kAssumeRoleAnswer);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->credentials.access_key_id, "ASIATEMP");
  EXPECT_EQ(r->credentials.secret_access_key, "tempsecret");
  EXPECT_EQ(r->credentials.session_token, "TOKEN/+=");
  EXPECT_EQ(r->expiration_ms, kNow + 3600 * 1000 + 123);
  EXPECT_FALSE(ParseAssumeRoleResponse("<Credentials><AccessKeyId>x</AccessKeyId></Credentials>").ok());
}

TEST(AssumeRole, SinkAssumesTheRoleOnceAndSignsWithTheTemporaryKey) {
  std::atomic<int> sts_calls{0};
  std::atomic<bool> deny{false};
  Fixture f(
      [&](const TestHttpRequest& r) {
        if (r.method == "POST" && r.body.find("Action=AssumeRole") != std::string::npos) {
          ++sts_calls;
          if (deny) {
            return TestHttpResponse{403, {}, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error></ErrorResponse>"};
          }
          return TestHttpResponse{200, {}, kAssumeRoleAnswer};
        }
        return Ok();
      });
  // The STS endpoint is the same fake server here.
  RemoteS3Options o2 = f.sink->options();
  o2.assume_role = true;
  o2.sts_endpoint = f.server->url("");
  auto sink = RemoteS3Sink::Create(o2, nullptr, nullptr, &f.clock);
  ASSERT_TRUE(sink.ok());
  store::ObjectMeta meta;
  meta.role_arn = "arn:aws:iam::123456789012:role/firehose";
  for (int i = 0; i < 2; ++i) {
    auto w = (*sink)->BeginPut("b", "k" + std::to_string(i), meta);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Write("x").ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  EXPECT_EQ(sts_calls.load(), 1);
  auto reqs = f.server->requests();
  ASSERT_EQ(reqs.size(), 3u);
  // The STS call: signed for "sts" with the configured key.
  EXPECT_NE(reqs[0].body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffirehose"),
            std::string::npos)
      << reqs[0].body;
  EXPECT_NE(reqs[0].Header("Authorization")->find("Credential=AKIDEXAMPLE/20231114/us-east-1/sts/aws4_request"),
            std::string::npos);
  // The puts: the temporary key and its session token.
  ASSERT_NE(reqs[1].Header("X-Amz-Security-Token"), nullptr);
  EXPECT_EQ(*reqs[1].Header("X-Amz-Security-Token"), "TOKEN/+=");
  ExpectSigned(reqs[1], "ASIATEMP", "tempsecret");
  // Near expiry, the role is assumed again; a refusal is S3.AccessDenied at BeginPut.
  f.clock.Advance(3600 * 1000 - 60 * 1000);
  deny = true;
  auto w = (*sink)->BeginPut("b", "k", meta);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(sts_calls.load(), 2);
  EXPECT_EQ(store::FirehoseErrorCode(w.status()), "S3.AccessDenied");
  EXPECT_NE(w.status().message().find("sts:AssumeRole of arn:aws:iam::123456789012:role/firehose"),
            std::string::npos)
      << w.status().message();
  EXPECT_NE(w.status().message().find("not authorized"), std::string::npos);
  // Without assume_role the RoleARN is ignored: no STS call.
  auto w2 = f.sink->BeginPut("b", "k", meta);
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(sts_calls.load(), 2);
}

TEST(RemoteS3Sink, MissingCredentialsAreAccessDenied) {
  TestHttpServer srv([](const TestHttpRequest&) { return Ok(); });
  class None final : public aws::CredentialsProvider {
   public:
    Result<aws::Credentials> GetCredentials() override { return Status::NotFound("nothing set"); }
    std::string Name() const override { return "none"; }
  };
  RemoteS3Options o;
  o.endpoint = srv.url("");
  auto sink = RemoteS3Sink::Create(o, nullptr, std::make_shared<None>());
  ASSERT_TRUE(sink.ok());
  auto w = (*sink)->BeginPut("b", "k", {});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(store::FirehoseErrorCode(w.status()), "S3.AccessDenied");
  EXPECT_NE(w.status().message().find("no credentials"), std::string::npos);
  EXPECT_TRUE(srv.requests().empty());
}

}  // namespace
}  // namespace hydrant::remote
