// aws-chunked uploads (SigV4 streaming payloads), signed and unsigned, with trailers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/authenticator.h"
#include "aws/sigv4.h"
#include "common/digest.h"
#include "server/s3_api_test_util.h"

namespace hydrant::server {
namespace {

TEST_F(S3ApiTest, AwsChunkedUnsignedWithTrailer) {
  MakeBucket("bkt");
  // "123456789" in chunks of 5 and 4, then a CRC32 trailer, as SDKs send it.
  std::string body =
      "5\r\n12345\r\n"
      "4\r\n6789\r\n"
      "0\r\n"
      "x-amz-checksum-crc32:y/Q5Jg==\r\n"
      "\r\n";
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Encoding", "aws-chunked"},
      {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
      {"x-amz-decoded-content-length", "9"},
      {"x-amz-trailer", "x-amz-checksum-crc32"},
      {"Content-Type", "text/plain"}};
  auto r = Call("PUT", "/bkt/chunked", headers, body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HeaderOf(r, "x-amz-checksum-crc32"), "y/Q5Jg==");
  auto g = Call("GET", "/bkt/chunked");
  EXPECT_EQ(BodyOf(g), "123456789");
  EXPECT_EQ(HeaderOf(g, "Content-Length"), "<absent>");    // the listener's job
  EXPECT_EQ(HeaderOf(g, "Content-Encoding"), "<absent>");  // aws-chunked is not stored
  EXPECT_EQ(HeaderOf(g, "ETag"), "\"25f9e794323b453885f5181f1b624d0b\"");  // md5("123456789")

  // A wrong trailer checksum is refused and nothing is stored.
  std::string bad = body;
  bad.replace(bad.find("y/Q5Jg=="), 8, "AAAAAA==");
  ExpectError(Call("PUT", "/bkt/bad", headers, bad), 400, "BadDigest");
  EXPECT_EQ(store_->HeadObject("bkt", "bad").status().code(), StatusCode::kNotFound);
  // x-amz-decoded-content-length must match.
  auto wrong_len = headers;
  wrong_len[2].second = "10";
  ExpectError(Call("PUT", "/bkt/bad", wrong_len, body), 400, "IncompleteBody");
  // Truncated framing.
  ExpectError(Call("PUT", "/bkt/bad", headers, "5\r\n123"), 400, "IncompleteBody");
  ExpectError(Call("PUT", "/bkt/bad", headers, "zz\r\n"), 400, "IncompleteBody");
  EXPECT_EQ(store_->HeadObject("bkt", "bad").status().code(), StatusCode::kNotFound);

  // Another content coding next to aws-chunked is kept.
  auto gz = headers;
  gz[0].second = "aws-chunked, gzip";
  ASSERT_EQ(Call("PUT", "/bkt/gz", gz, body).status, 200);
  EXPECT_EQ(HeaderOf(Call("GET", "/bkt/gz"), "Content-Encoding"), "gzip");
}

TEST_F(S3ApiTest, AwsChunkedSigned) {
  MakeBucket("bkt");
  std::string sig(64, 'a');
  std::string payload(70000, 'q');
  payload[12345] = 'Z';
  std::string body = "10000;chunk-signature=" + sig + "\r\n" + payload.substr(0, 65536) + "\r\n" +
                     "1170;chunk-signature=" + sig + "\r\n" + payload.substr(65536) + "\r\n" +
                     "0;chunk-signature=" + sig + "\r\n\r\n";
  auto r = Call("PUT", "/bkt/signed",
                {{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                 {"Content-Encoding", "aws-chunked"},
                 {"x-amz-decoded-content-length", "70000"}},
                body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(Call("GET", "/bkt/signed")), payload);
  // Detected from x-amz-content-sha256 alone (no Content-Encoding).
  r = Call("PUT", "/bkt/signed2", {{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}},
           body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(Call("GET", "/bkt/signed2")), payload);
}

TEST(DecodeAwsChunked, Framing) {
  auto r = DecodeAwsChunked(
      "3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:abc=\r\nx-amz-trailer-signature:ff\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, "abc");
  ASSERT_EQ(r->trailers.size(), 1u);
  EXPECT_EQ(r->trailers[0].first, "x-amz-checksum-crc32c");
  EXPECT_EQ(r->trailers[0].second, "abc=");
  // Lower- and upper-case hex sizes; a missing final CRLF is tolerated.
  r = DecodeAwsChunked("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, "0123456789abcdefghij");
  EXPECT_FALSE(DecodeAwsChunked("").ok());
  EXPECT_FALSE(DecodeAwsChunked("3\r\nabcd\r\n0\r\n\r\n").ok());  // chunk longer than declared
  EXPECT_FALSE(DecodeAwsChunked("ffffffffffffffff\r\nabc").ok());
  EXPECT_FALSE(DecodeAwsChunked("3\r\nabc\r\n").ok());  // no terminating chunk
}

// ---- chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), with the AWS example ----

// The check Authenticator returns for AWS's chunked PUT example (seed 4f232c...).
auth::PayloadCheck ExampleCheck(
    auth::PayloadCheck::Kind kind = auth::PayloadCheck::Kind::kChunkSigned) {
  auth::PayloadCheck c;
  c.kind = kind;
  c.signing_key = aws::DeriveSigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524",
                                        "us-east-1", "s3");
  c.amz_date = "20130524T000000Z";
  c.scope = "20130524/us-east-1/s3/aws4_request";
  c.seed_signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  return c;
}

// The example's body: 65536 + 1024 bytes of 'a' and the final chunk, with the
// signatures AWS publishes.
std::string ExampleBody(bool corrupt = false) {
  std::string b =
      "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
      std::string(65536, 'a') + "\r\n" +
      "400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
      std::string(1024, 'a') + "\r\n" +
      "0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";
  if (corrupt) b[b.find("400;chunk") + 86 + 10] = 'b';  // a byte of the second chunk
  return b;
}

TEST(DecodeAwsChunked, VerifiesThePublishedChunkSignatures) {
  auth::PayloadCheck check = ExampleCheck();
  bool bad = true;
  auto ok = DecodeAwsChunked(ExampleBody(), &check, &bad);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_FALSE(bad);
  EXPECT_EQ(ok->data, std::string(66560, 'a'));
  auto corrupt = DecodeAwsChunked(ExampleBody(true), &check, &bad);
  EXPECT_FALSE(corrupt.ok());
  EXPECT_TRUE(bad);
  // A missing signature, or the final chunk left out.
  std::string unsigned_body = ExampleBody();
  unsigned_body.replace(unsigned_body.find(";chunk-signature=0055"), 81, "");
  EXPECT_FALSE(DecodeAwsChunked(unsigned_body, &check, &bad).ok());
  EXPECT_TRUE(bad);
  std::string cut = ExampleBody();
  cut.erase(cut.find("0;chunk-signature=b6c6"));
  EXPECT_FALSE(DecodeAwsChunked(cut, &check, &bad).ok());
  // Fed in pieces of any size, the same verdicts.
  for (size_t piece : {1, 7, 4096, 70000}) {
    AwsChunkedDecoder d;
    d.VerifySignatures(check);
    std::string body = ExampleBody(), out;
    Status st;
    for (size_t i = 0; i < body.size() && st.ok(); i += piece) {
      st = d.Feed(std::string_view(body).substr(i, piece), [&](std::string_view b) {
        out.append(b);
        return Status::Ok();
      });
    }
    if (st.ok()) st = d.Finish();
    EXPECT_TRUE(st.ok()) << piece << " " << st.ToString();
    EXPECT_EQ(out.size(), 66560u);
  }
}

TEST(DecodeAwsChunked, VerifiesTheTrailerSignature) {
  auth::PayloadCheck check = ExampleCheck(auth::PayloadCheck::Kind::kChunkSignedTrailer);
  const std::string data = "123456789";
  std::string s1 = aws::ChunkSignature(check.signing_key, check.amz_date, check.scope,
                                       check.seed_signature, Sha256Hex(data));
  std::string s2 =
      aws::ChunkSignature(check.signing_key, check.amz_date, check.scope, s1, Sha256Hex(""));
  std::string trailer = "x-amz-checksum-crc32:y/Q5Jg==\n";
  std::string ts =
      aws::TrailerSignature(check.signing_key, check.amz_date, check.scope, s2, Sha256Hex(trailer));
  auto body = [&](std::string trailer_sig) {
    return "9;chunk-signature=" + s1 + "\r\n" + data + "\r\n0;chunk-signature=" + s2 +
           "\r\nx-amz-checksum-crc32:y/Q5Jg==\r\nx-amz-trailer-signature:" + trailer_sig +
           "\r\n\r\n";
  };
  bool bad = true;
  auto ok = DecodeAwsChunked(body(ts), &check, &bad);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->data, data);
  EXPECT_EQ(ok->trailers.size(), 1u);
  EXPECT_FALSE(DecodeAwsChunked(body(std::string(64, '0')), &check, &bad).ok());
  EXPECT_TRUE(bad);
  // The trailer's value changed after signing.
  std::string changed = body(ts);
  changed.replace(changed.find("y/Q5Jg=="), 8, "AAAAAA==");
  EXPECT_FALSE(DecodeAwsChunked(changed, &check, &bad).ok());
  EXPECT_TRUE(bad);
}

// An upload carrying what authentication left to check (Request::payload_check).
http::Response PutChecked(S3Api& api, const std::string& target, std::string body,
                          std::shared_ptr<const auth::PayloadCheck> check,
                          std::vector<std::pair<std::string, std::string>> headers) {
  http::Request req;
  req.method = "PUT";
  req.target = target;
  req.headers = std::move(headers);
  req.body = std::move(body);
  req.payload_check = std::move(check);
  http::Response resp;
  api.Handle(req, &resp);
  return resp;
}

TEST_F(S3ApiTest, AChunkWithABadSignatureAbortsTheUpload) {
  MakeBucket("bkt");
  auto check = std::make_shared<auth::PayloadCheck>(ExampleCheck());
  std::vector<std::pair<std::string, std::string>> headers = {
      {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
      {"Content-Encoding", "aws-chunked"},
      {"x-amz-decoded-content-length", "66560"}};
  auto bad = PutChecked(*api_, "/bkt/chunkObject.txt", ExampleBody(true), check, headers);
  ExpectError(bad, 403, "SignatureDoesNotMatch");
  ExpectError(Call("GET", "/bkt/chunkObject.txt"), 404, "NoSuchKey");
  auto good = PutChecked(*api_, "/bkt/chunkObject.txt", ExampleBody(), check, headers);
  ASSERT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(BodyOf(Call("GET", "/bkt/chunkObject.txt")), std::string(66560, 'a'));
}

TEST_F(S3ApiTest, AStreamedBodyMustMatchItsContentSha256) {
  MakeBucket("bkt");
  auto check = std::make_shared<auth::PayloadCheck>();
  check->kind = auth::PayloadCheck::Kind::kSha256;
  check->sha256_hex = Sha256Hex("hello");
  auto bad =
      PutChecked(*api_, "/bkt/k", "jello", check, {{"x-amz-content-sha256", Sha256Hex("hello")}});
  ExpectError(bad, 400, "XAmzContentSHA256Mismatch");
  EXPECT_EQ(Tag1(bad.body, "ClientComputedContentSHA256"), Sha256Hex("hello"));
  EXPECT_EQ(Tag1(bad.body, "S3ComputedContentSHA256"), Sha256Hex("jello"));
  ExpectError(Call("GET", "/bkt/k"), 404, "NoSuchKey");
  ASSERT_EQ(PutChecked(*api_, "/bkt/k", "hello", check, {}).status, 200);
  EXPECT_EQ(BodyOf(Call("GET", "/bkt/k")), "hello");
}

}  // namespace
}  // namespace hydrant::server
