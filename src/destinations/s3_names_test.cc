#include "destinations/s3_names.h"

#include <gtest/gtest.h>

#include <string>

namespace hydrant::store {
namespace {

TEST(BucketName, S3Rules) {
  for (const char* ok :
       {"abc", "my-bucket", "my.bucket.name", "a1b", "123", "xn-abc", "bucket-s3alia"}) {
    EXPECT_TRUE(IsValidBucketName(ok)) << ok;
  }
  EXPECT_TRUE(IsValidBucketName(std::string(63, 'a')));
  for (const char* bad : {"ab", "", "My-Bucket", "my_bucket", "-abc", "abc-", ".abc", "abc.",
                          "a..b", "192.168.1.1", "xn--abc", "sthree-abc", "abc-s3alias",
                          "abc--ol-s3", "a b c", "abc/def", ".tmp", ".lock"}) {
    EXPECT_FALSE(IsValidBucketName(bad)) << bad;
  }
  EXPECT_FALSE(IsValidBucketName(std::string(64, 'a')));
}

TEST(Key, Validation) {
  EXPECT_EQ(ValidateKey("a"), std::nullopt);
  EXPECT_EQ(ValidateKey(std::string(1024, 'k')), std::nullopt);
  EXPECT_NE(ValidateKey(std::string(1025, 'k')), std::nullopt);
  EXPECT_NE(ValidateKey(""), std::nullopt);
  EXPECT_NE(ValidateKey(std::string("a\0b", 3)), std::nullopt);
  EXPECT_EQ(ValidateKey("日本語/ключ/🔥"), std::nullopt);
  EXPECT_NE(ValidateKey("\xff"), std::nullopt);          // not UTF-8
  EXPECT_NE(ValidateKey("\xc0\xaf"), std::nullopt);      // overlong '/'
  EXPECT_NE(ValidateKey("\xed\xa0\x80"), std::nullopt);  // surrogate
  EXPECT_NE(ValidateKey("abc\xe6\x97"), std::nullopt);   // truncated sequence
  // S3 accepts these; the store keeps them safe by hashing.
  EXPECT_EQ(ValidateKey("../../etc/passwd"), std::nullopt);
  EXPECT_EQ(ValidateKey("/etc/passwd"), std::nullopt);
  EXPECT_EQ(ValidateKey("a//b/./c/"), std::nullopt);
}

}  // namespace
}  // namespace hydrant::store
