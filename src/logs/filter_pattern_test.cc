#include "logs/filter_pattern.h"

#include <gtest/gtest.h>

namespace hydrant::logs {
namespace {

bool M(std::string_view pattern, std::string_view message) {
  auto p = FilterPattern::Parse(pattern);
  EXPECT_TRUE(p.ok()) << pattern << ": " << p.status().ToString();
  return p.ok() && p->Matches(message);
}

bool Refused(std::string_view pattern) {
  auto p = FilterPattern::Parse(pattern);
  return !p.ok() && p.status().code() == StatusCode::kInvalidArgument;
}

constexpr std::string_view kEvent =
    R"({"deliveryStreamARN":"arn:aws:firehose:us-east-1:000000000000:deliverystream/demo",)"
    R"("destination":"arn:aws:s3:::missing","deliveryStreamVersionId":2,)"
    R"("message":"The specified bucket does not exist.","errorCode":"S3.NoSuchBucket",)"
    R"("nested":{"list":[{"ok":true},{"ok":false}],"none":null}})";

TEST(FilterPatternTest, EmptyMatchesEverything) {
  EXPECT_TRUE(M("", "anything"));
  EXPECT_TRUE(M("   ", ""));
}

TEST(FilterPatternTest, UnstructuredTerms) {
  EXPECT_TRUE(M("ERROR disk", "ERROR: disk full"));
  EXPECT_FALSE(M("ERROR disk", "ERROR: network"));
  EXPECT_FALSE(M("error", "ERROR"));  // case-sensitive
  EXPECT_TRUE(M("?WARN ?INFO", "INFO start"));
  EXPECT_FALSE(M("?WARN ?INFO", "DEBUG"));
  EXPECT_FALSE(M("disk -ERROR", "ERROR disk"));
  EXPECT_TRUE(M("\"bucket does not\"", std::string(kEvent)));
  EXPECT_FALSE(M("\"bucket is not\"", std::string(kEvent)));
}

TEST(FilterPatternTest, JsonStringEqualityAndWildcards) {
  EXPECT_TRUE(M(R"({ $.errorCode = "S3.NoSuchBucket" })", kEvent));
  EXPECT_TRUE(M(R"({$.errorCode="S3.NoSuchBucket"})", kEvent));
  EXPECT_FALSE(M(R"({ $.errorCode = "S3.AccessDenied" })", kEvent));
  EXPECT_TRUE(M(R"({ $.errorCode = "S3.*" })", kEvent));
  EXPECT_TRUE(M(R"({ $.errorCode = S3.NoSuchBucket })", kEvent));  // unquoted
  EXPECT_TRUE(M(R"({ $.destination = *missing })", kEvent));
  EXPECT_TRUE(M(R"({ $.errorCode != "Lambda.*" })", kEvent));
  EXPECT_FALSE(M(R"({ $.processor != "x" })", kEvent));  // missing selector never matches
  EXPECT_FALSE(M(R"({ $.errorCode = "S3.NoSuchBucket" })", "not json S3.NoSuchBucket"));
}

TEST(FilterPatternTest, JsonNumbersBooleansNullsAndPaths) {
  EXPECT_TRUE(M("{ $.deliveryStreamVersionId = 2 }", kEvent));
  EXPECT_TRUE(M("{ $.deliveryStreamVersionId >= 2 }", kEvent));
  EXPECT_FALSE(M("{ $.deliveryStreamVersionId > 2 }", kEvent));
  EXPECT_TRUE(M("{ $.deliveryStreamVersionId < 2.5 }", kEvent));
  EXPECT_FALSE(M("{ $.errorCode > 1 }", kEvent));  // not a number
  EXPECT_TRUE(M("{ $.nested.list[0].ok IS TRUE }", kEvent));
  EXPECT_TRUE(M("{ $.nested.list[1].ok IS FALSE }", kEvent));
  EXPECT_FALSE(M("{ $.nested.list[2].ok IS FALSE }", kEvent));
  EXPECT_TRUE(M("{ $.nested.none IS NULL }", kEvent));
  EXPECT_TRUE(M("{ $.processor NOT EXISTS }", kEvent));
  EXPECT_FALSE(M("{ $.errorCode NOT EXISTS }", kEvent));
}

TEST(FilterPatternTest, JsonAndOrParentheses) {
  EXPECT_TRUE(M(R"({ $.errorCode = "S3.NoSuchBucket" && $.deliveryStreamVersionId = 2 })", kEvent));
  EXPECT_FALSE(M(R"({ $.errorCode = "S3.NoSuchBucket" && $.deliveryStreamVersionId = 3 })", kEvent));
  EXPECT_TRUE(M(R"({ $.errorCode = "X" || $.deliveryStreamVersionId = 2 })", kEvent));
  EXPECT_TRUE(M(R"({ ($.errorCode = "X" || $.errorCode = "S3.*") && $.nested.none IS NULL })", kEvent));
  EXPECT_FALSE(M(R"({ $.errorCode = "X" || ($.errorCode = "S3.*" && $.processor IS NULL) })", kEvent));
}

TEST(FilterPatternTest, RefusesWhatItDoesNotUnderstand) {
  EXPECT_TRUE(Refused("[ip, user, status=404]"));
  EXPECT_TRUE(Refused("%ERROR [0-9]+%"));
  EXPECT_TRUE(Refused("\"unterminated"));
  EXPECT_TRUE(Refused("{ $.a = 1"));
  EXPECT_TRUE(Refused("{ a = 1 }"));
  EXPECT_TRUE(Refused("{ $.a ~ 1 }"));
  EXPECT_TRUE(Refused("{ $.a > abc }"));
  EXPECT_TRUE(Refused("{ $.a IS MAYBE }"));
  EXPECT_TRUE(Refused("{ ($.a = 1 }"));
  EXPECT_TRUE(Refused("{ $.a = 1 } trailing"));
  EXPECT_TRUE(Refused(std::string(1025, 'a')));
}

}  // namespace
}  // namespace hydrant::logs
