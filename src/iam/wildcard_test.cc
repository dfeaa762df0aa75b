#include "iam/wildcard.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace hydrant::iam {
namespace {

using Mode = WildcardPattern::Mode;

bool M(std::string_view pattern, Mode mode, std::string_view text) {
  return WildcardPattern::Compile(pattern, mode, true).Match(text, nullptr);
}

class MapResolver : public VariableResolver {
 public:
  std::map<std::string, std::string, std::less<>> values;
  bool Resolve(std::string_view key, std::string_view* value) const override {
    auto it = values.find(key);
    if (it == values.end()) return false;
    *value = it->second;
    return true;
  }
};

struct Case {
  const char* pattern;
  Mode mode;
  const char* text;
  bool want;
};

TEST(WildcardTest, Cases) {
  const Case cases[] = {
      // Actions: case-insensitive globs.
      {"firehose:PutRecord", Mode::kGlobNoCase, "FIREHOSE:putrecord", true},
      {"firehose:PutRecord", Mode::kGlobNoCase, "firehose:PutRecordBatch", false},
      {"firehose:Put*", Mode::kGlobNoCase, "firehose:PutRecordBatch", true},
      {"firehose:*Record*", Mode::kGlobNoCase, "firehose:PutRecordBatch", true},
      {"s3:Get?bject", Mode::kGlobNoCase, "s3:GetObject", true},
      {"s3:Get?bject", Mode::kGlobNoCase, "s3:Getbject", false},
      {"*", Mode::kGlobNoCase, "anything:AtAll", true},
      {"s3:*", Mode::kGlobNoCase, "S3:ListBucket", true},
      {"s3:*", Mode::kGlobNoCase, "s3x:ListBucket", false},
      {"*:Get*", Mode::kGlobNoCase, "kms:GetKeyPolicy", true},
      // ARNs: case-sensitive.
      {"arn:aws:s3:::bucket/*", Mode::kArn, "arn:aws:s3:::bucket/a/b:c", true},
      {"arn:aws:s3:::bucket/*", Mode::kArn, "arn:aws:s3:::Bucket/a", false},
      {"arn:aws:firehose:*:123456789012:deliverystream/*", Mode::kArn,
       "arn:aws:firehose:us-east-1:123456789012:deliverystream/s1", true},
      // A * that does not end its segment does not cross a colon...
      {"arn:aws:s3:::a*z", Mode::kArn, "arn:aws:s3:::abcz", true},
      {"arn:aws:s3:::a*z", Mode::kArn, "arn:aws:s3:::ab:cz", false},
      {"arn:aws:firehose:us-*-1:1:x", Mode::kArn, "arn:aws:firehose:us-a:b-1:1:x", false},
      // ...one that ends a segment does (IAM: "it can expand to match beyond the colon").
      {"arn:aws:logs:*:*:log-group:g:*", Mode::kArn, "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s", true},
      {"arn:aws:s3:*", Mode::kArn, "arn:aws:s3:::bucket/key", true},
      // ? is one character within a segment.
      {"arn:aws:s3:::b?cket", Mode::kArn, "arn:aws:s3:::bucket", true},
      {"arn:aws:s3:::b?cket", Mode::kArn, "arn:aws:s3:::b:cket", false},
      {"arn:aws:s3:::b?cket", Mode::kArn, "arn:aws:s3:::bcket", false},
      {"*", Mode::kArn, "arn:aws:iam::1:user/x", true},
      // Exact modes have no wildcards.
      {"a*b", Mode::kExact, "a*b", true},
      {"a*b", Mode::kExact, "axxb", false},
      {"Hello", Mode::kExactNoCase, "hELLO", true},
      {"Hello", Mode::kExact, "hello", false},
      {"a**b", Mode::kGlob, "ab", true},
      {"a**b", Mode::kGlob, "a:x:b", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(M(c.pattern, c.mode, c.text), c.want) << c.pattern << " ~ " << c.text;
  }
}

TEST(WildcardTest, GlobsWithManyStarsAreLinear) {
  std::string pattern;
  for (int i = 0; i < 40; ++i) pattern += "*a";
  pattern += "b";
  std::string text(5000, 'a');
  EXPECT_FALSE(M(pattern, Mode::kGlob, text));  // a naive backtracker never returns
  EXPECT_TRUE(M(pattern, Mode::kGlob, text + "b"));
  // Patterns longer than the on-stack bit set.
  std::string long_pattern(700, '?');
  EXPECT_TRUE(M(long_pattern + "*", Mode::kGlob, std::string(800, 'x')));
  EXPECT_FALSE(M(long_pattern + "*", Mode::kGlob, std::string(600, 'x')));
}

TEST(WildcardTest, VariablesAreResolvedAsText) {
  MapResolver r;
  r.values["aws:username"] = "al*ce";
  auto p = WildcardPattern::Compile("arn:aws:s3:::home/${aws:username}/*", Mode::kArn, true);
  EXPECT_TRUE(p.has_variables());
  EXPECT_TRUE(p.Match("arn:aws:s3:::home/al*ce/x", &r));
  EXPECT_FALSE(p.Match("arn:aws:s3:::home/alice/x", &r));  // the value's * is not a wildcard
  EXPECT_FALSE(p.Match("arn:aws:s3:::home/al*ce/x", nullptr));
  // Key names are case-insensitive; a missing key takes the default, else fails.
  auto q = WildcardPattern::Compile("${AWS:UserName, 'nobody'}", Mode::kExact, true);
  EXPECT_TRUE(q.Match("al*ce", &r));
  MapResolver empty;
  EXPECT_TRUE(q.Match("nobody", &empty));
  auto special = WildcardPattern::Compile("a${*}b${?}c${$}", Mode::kGlob, true);
  EXPECT_TRUE(special.Match("a*b?c$", nullptr));
  EXPECT_FALSE(special.Match("axb?c$", nullptr));
  // Version 2008-10-17: ${...} is text.
  auto text = WildcardPattern::Compile("home/${aws:username}", Mode::kExact, false);
  EXPECT_FALSE(text.has_variables());
  EXPECT_TRUE(text.Match("home/${aws:username}", &r));
}

}  // namespace
}  // namespace hydrant::iam
