// The transformed log's record format, byte for byte as docs/wal-format.md states
// it ("Transformed-log record payload").

#include "stream/transformed_record.h"

#include <gtest/gtest.h>

#include <string>

namespace hydrant::stream {
namespace {

TEST(TransformedRecord, BytesAreAsDocumented) {
  PartBuilder b;
  b.Add("ab");
  b.Add("c\n");
  std::vector<std::string> parts = b.Finish(/*source_end=*/0x0102030405060708ull);
  ASSERT_EQ(parts.size(), 1u);
  // u64 source_end | u32 part | u32 parts | u32 records | bytes, little-endian.
  const std::string want = std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8) +
                           std::string("\0\0\0\0", 4) + std::string("\x01\0\0\0", 4) +
                           std::string("\x02\0\0\0", 4) + "abc\n";
  EXPECT_EQ(parts[0], want);
  EXPECT_EQ(b.bytes(), 4u);
  std::string_view data;
  auto h = ParsePart(parts[0], &data);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->source_end, 0x0102030405060708ull);
  EXPECT_EQ(h->part, 0u);
  EXPECT_EQ(h->parts, 1u);
  EXPECT_EQ(h->records, 2u);
  EXPECT_EQ(data, "abc\n");
}

TEST(TransformedRecord, AnEmptyBatchStillCarriesItsSourcePosition) {
  PartBuilder b;
  auto parts = b.Finish(42);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].size(), kPartHeaderBytes);
  std::string_view data;
  auto h = ParsePart(parts[0], &data);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->source_end, 42u);
  EXPECT_EQ(h->records, 0u);
  EXPECT_TRUE(data.empty());
}

TEST(TransformedRecord, ALargeBatchIsCutIntoNumberedParts) {
  PartBuilder b;
  const std::string big(kMaxPartBytes / 2 + 1, 'x');
  for (int i = 0; i < 3; ++i) b.Add(big);  // two fit in no part: three parts
  auto parts = b.Finish(7);
  ASSERT_EQ(parts.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    std::string_view data;
    auto h = ParsePart(parts[i], &data);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->part, i);
    EXPECT_EQ(h->parts, 3u);
    EXPECT_EQ(h->records, 1u);
    EXPECT_EQ(h->source_end, 7u);
  }
}

TEST(TransformedRecord, ImpossibleHeadersAreRefused) {
  std::string_view data;
  EXPECT_FALSE(ParsePart(std::string(kPartHeaderBytes - 1, '\0'), &data).has_value());
  PartBuilder b;
  std::string rec = b.Finish(1)[0];
  rec[12] = 0;  // parts = 0
  EXPECT_FALSE(ParsePart(rec, &data).has_value());
  rec[12] = 1;
  rec[8] = 1;  // part 1 of 1
  EXPECT_FALSE(ParsePart(rec, &data).has_value());
}

}  // namespace
}  // namespace hydrant::stream
