#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/crc32c.h"
#include "common/log_fields.h"
#include "common/status.h"

namespace hydrant {

TEST(Crc32c, KnownValues) {
  // RFC 3720 B.4 test vectors.
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros.data(), zeros.size()), 0x8a9136aau);
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones.data(), ones.size()), 0x62a8ab43u);
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xe3069283u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string s = "hello, firehose world";
  uint32_t a = crc32c::Value(s.data(), 5);
  EXPECT_EQ(crc32c::Extend(a, s.data() + 5, s.size() - 5), crc32c::Value(s.data(), s.size()));
}

TEST(Crc32c, MaskRoundTrips) {
  uint32_t c = crc32c::Value("abc", 3);
  EXPECT_NE(crc32c::Mask(c), c);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(c)), c);
}

TEST(Base64, RoundTrip) {
  EXPECT_EQ(base64::Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64::Encode(""), "");
  EXPECT_EQ(*base64::Decode("aGVsbG8="), "hello");
  std::string bin;
  for (int i = 0; i < 256; ++i) bin.push_back(static_cast<char>(i));
  EXPECT_EQ(*base64::Decode(base64::Encode(bin)), bin);
}

TEST(Base64, RejectsInvalid) {
  EXPECT_FALSE(base64::Decode("aGVsbG8").has_value());   // not a multiple of 4
  EXPECT_FALSE(base64::Decode("aGV$bG8=").has_value());  // bad character
  EXPECT_FALSE(base64::Decode("aG=sbG8=").has_value());  // '=' before the end
  EXPECT_FALSE(base64::Decode("aGVs\nG8=").has_value()); // whitespace
}

TEST(Status, ToString) {
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  EXPECT_EQ(Status::NotFound("no bucket").ToString(), "NotFound: no bucket");
  Result<int> r = Status::IoError("x");
  EXPECT_FALSE(r.ok());
  Result<int> v = 3;
  EXPECT_EQ(*v, 3);
}

}  // namespace hydrant

namespace hydrant {
TEST(LogQuote, KeepsOneLine) {
  EXPECT_EQ(LogQuote("plain"), "\"plain\"");
  EXPECT_EQ(LogQuote("a \"b\"\\c"), "\"a \\\"b\\\"\\\\c\"");
  EXPECT_EQ(LogQuote("Traceback:\n  line 1\r\tx\x01"), "\"Traceback:\\n  line 1\\r\\tx\\x01\"");
  EXPECT_EQ(LogQuote(""), "\"\"");
}
}  // namespace hydrant
