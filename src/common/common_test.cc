#include <gtest/gtest.h>
#include <modp_b64.h>

#include <cerrno>
#include <random>

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

// DecodeToBuffer's vector loop against modp itself (the reference for what is
// accepted) and against the original bytes: every length around the loop's 32-
// character steps and its 45-character stop, valid and with one bad character at
// each position, and nothing written past the decoded length.
TEST(Base64, DecodeToBufferMatchesModp) {
  std::mt19937 rng(42);
  const std::string bad_chars = std::string("=$-_ \n@[`{\x80\xff") + '\0';
  for (size_t raw_len = 0; raw_len <= 160; ++raw_len) {
    std::string raw(raw_len, '\0');
    for (auto& c : raw) c = static_cast<char>(rng());
    const std::string enc = base64::Encode(raw);
    for (size_t bad = 0; bad <= enc.size(); ++bad) {  // bad == size(): unchanged
      std::string in = enc;
      if (bad < in.size()) in[bad] = bad_chars[rng() % bad_chars.size()];
      std::string got(base64::DecodedSizeUpperBound(in.size()) + 8, '\x5a');
      auto n = base64::DecodeToBuffer(in, got.data());
      std::string want(modp_b64_decode_len(in.size()), '\0');
      size_t m = modp_b64_decode(want.data(), in.data(), in.size());
      ASSERT_EQ(n.has_value(), m != static_cast<size_t>(-1)) << in;
      if (bad == enc.size()) {
        ASSERT_TRUE(n.has_value()) << in;
        ASSERT_EQ(got.substr(0, *n), raw) << in;
      }
      if (!n) continue;
      ASSERT_EQ(got.substr(0, *n), want.substr(0, m)) << in;
      ASSERT_EQ(got.find_first_not_of('\x5a', *n), std::string::npos) << "wrote past the end: " << in;
    }
  }
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
TEST(Status, FromErrnoMarksAFullDisk) {
  for (int err : {ENOSPC, EDQUOT}) {
    Status st = Status::FromErrno("write f", err);
    EXPECT_EQ(st.code(), StatusCode::kIoError);
    EXPECT_TRUE(IsDiskFull(st)) << st.ToString();
  }
  EXPECT_FALSE(IsDiskFull(Status::FromErrno("write f", EIO)));
  // The code survives a re-wrap that keeps it, not a bare message copy.
  EXPECT_FALSE(IsDiskFull(Status::IoError(Status::FromErrno("w", ENOSPC).message())));
}

TEST(LogQuote, KeepsOneLine) {
  EXPECT_EQ(LogQuote("plain"), "\"plain\"");
  EXPECT_EQ(LogQuote("a \"b\"\\c"), "\"a \\\"b\\\"\\\\c\"");
  EXPECT_EQ(LogQuote("Traceback:\n  line 1\r\tx\x01"), "\"Traceback:\\n  line 1\\r\\tx\\x01\"");
  EXPECT_EQ(LogQuote(""), "\"\"");
}
}  // namespace hydrant
