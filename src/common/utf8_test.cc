#include "common/utf8.h"

#include <gtest/gtest.h>

namespace hydrant::utf8 {
namespace {

TEST(Utf8, SequenceLengthAcceptsOnlyWellFormedSequences) {
  char32_t cp = 0;
  EXPECT_EQ(SequenceLength("a", 0, &cp), 1u);
  EXPECT_EQ(cp, U'a');
  EXPECT_EQ(SequenceLength("\xC3\xA9", 0, &cp), 2u);  // é
  EXPECT_EQ(cp, U'\u00E9');
  EXPECT_EQ(SequenceLength("\xE2\x82\xAC", 0, &cp), 3u);  // €
  EXPECT_EQ(SequenceLength("\xF0\x9F\x98\x80", 0, &cp), 4u);
  EXPECT_EQ(cp, U'\U0001F600');
  EXPECT_EQ(SequenceLength("\x80", 0), 0u);              // continuation byte first
  EXPECT_EQ(SequenceLength("\xC0\xAF", 0), 0u);          // overlong '/'
  EXPECT_EQ(SequenceLength("\xED\xA0\x80", 0), 0u);      // surrogate U+D800
  EXPECT_EQ(SequenceLength("\xF4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(SequenceLength("\xE2\x82", 0), 0u);          // cut short
  EXPECT_EQ(SequenceLength("\xE2(\xAC", 0), 0u);         // bad continuation
}

TEST(Utf8, IsValidAndSanitize) {
  EXPECT_TRUE(IsValid(""));
  EXPECT_TRUE(IsValid("plain \xC3\xA9t\xC3\xA9"));
  EXPECT_FALSE(IsValid("bad \xFF byte"));
  EXPECT_EQ(Sanitize("a\xFF" "b", 100), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(Sanitize("\xE2\x82", 100), "\xEF\xBF\xBD\xEF\xBF\xBD");
  // Cut at a character boundary: the 2-byte é does not fit in 2 bytes after 'a'.
  EXPECT_EQ(Sanitize("a\xC3\xA9", 2), "a");
  EXPECT_EQ(Sanitize("abc", 0), "");
}

}  // namespace
}  // namespace hydrant::utf8
