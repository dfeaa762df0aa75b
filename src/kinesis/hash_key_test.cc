#include "kinesis/hash_key.h"

#include <gtest/gtest.h>

namespace hydrant::kinesis {
namespace {

TEST(HashKey, PartitionKeysHashAsTheirMd5ReadBigEndian) {
  // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
  const HashKey want = (HashKey{0x0cc175b9c0f1b6a8ULL} << 64) | HashKey{0x31c399e269772661ULL};
  EXPECT_EQ(PartitionKeyHash("a"), want);
  EXPECT_EQ(HashKeyToString(PartitionKeyHash("a")), "16955237001963240173058271559858726497");
}

TEST(HashKey, DecimalStringsRoundTripUpToTheLargestKey) {
  EXPECT_EQ(HashKeyToString(kMaxHashKey), "340282366920938463463374607431768211455");
  EXPECT_EQ(ParseHashKey("340282366920938463463374607431768211455"), kMaxHashKey);
  EXPECT_EQ(ParseHashKey("0"), HashKey{0});
  EXPECT_EQ(ParseHashKey("007"), HashKey{7});
  EXPECT_EQ(HashKeyToString(0), "0");
  EXPECT_FALSE(ParseHashKey("340282366920938463463374607431768211456"));  // 2^128
  EXPECT_FALSE(ParseHashKey("1000000000000000000000000000000000000000"));
  EXPECT_FALSE(ParseHashKey(""));
  EXPECT_FALSE(ParseHashKey("-1"));
  EXPECT_FALSE(ParseHashKey("+1"));
  EXPECT_FALSE(ParseHashKey("1 "));
  EXPECT_FALSE(ParseHashKey("0x10"));
}

}  // namespace
}  // namespace hydrant::kinesis
