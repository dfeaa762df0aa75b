// Content-MD5 and the x-amz-checksum-* headers of uploads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base64.h"
#include "server/s3_api_test_util.h"

namespace hydrant::server {
namespace {

TEST_F(S3ApiTest, ContentMd5) {
  MakeBucket("bkt");
  std::string good =
      base64::Encode(*base64::Decode("XrY7u+Ae7tCTyyK7j1rNww=="));  // md5("hello world")
  EXPECT_EQ(Call("PUT", "/bkt/ok", {{"Content-MD5", good}}, "hello world").status, 200);
  ExpectError(Call("PUT", "/bkt/bad", {{"Content-MD5", good}}, "hello worle"), 400, "BadDigest");
  ExpectError(Call("PUT", "/bkt/bad", {{"Content-MD5", "not base64!"}}, "x"), 400, "InvalidDigest");
  ExpectError(Call("PUT", "/bkt/bad", {{"Content-MD5", "AAAA"}}, "x"), 400, "InvalidDigest");
  EXPECT_EQ(store_->HeadObject("bkt", "bad").status().code(), StatusCode::kNotFound);
  // A flexible checksum in a header (what boto3 sends over plain HTTP).
  auto r = Call("PUT", "/bkt/crc", {{"x-amz-checksum-crc32", "y/Q5Jg=="}}, "123456789");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "x-amz-checksum-crc32"), "y/Q5Jg==");
  ExpectError(Call("PUT", "/bkt/crc2", {{"x-amz-checksum-crc32", "y/Q5Jg=="}}, "123456780"), 400,
              "BadDigest");
  EXPECT_EQ(store_->HeadObject("bkt", "crc2").status().code(), StatusCode::kNotFound);
}

// Reference values for "123456789" from the CRC catalogue and sha256sum.
TEST_F(S3ApiTest, ChecksumAlgorithms) {
  MakeBucket("bkt");
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"x-amz-checksum-crc32", "y/Q5Jg=="},
           {"x-amz-checksum-crc32c", "4waSgw=="},
           {"x-amz-checksum-crc64nvme", "rosUhgp5mIg="},
           {"x-amz-checksum-sha256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
           {"x-amz-checksum-sha1", "98O8HYCOBHMq32eZZczDTKeuNEE="}}) {
    EXPECT_EQ(Call("PUT", "/bkt/k", {{name, value}}, "123456789").status, 200) << name;
    ExpectError(Call("PUT", "/bkt/k", {{name, value}}, "12345678"), 400, "BadDigest");
  }
}

}  // namespace
}  // namespace hydrant::server
