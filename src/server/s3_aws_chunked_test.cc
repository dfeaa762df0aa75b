// aws-chunked uploads (SigV4 streaming payloads), signed and unsigned, with trailers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hydrant::server
