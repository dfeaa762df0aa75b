// Tests for Firehose object naming (naming.h): prefixes, keys and their validation.
// Expected values are written out by hand from AWS's documentation. Patterns and
// zones: timestamp_format_test.cc and tz_test.cc.

#include "destinations/naming.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <regex>
#include <set>
#include <thread>

#include "destinations/naming_test_util.h"

namespace hydrant::naming {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// A RandomSource that replays fixed values, so keys are exact.
RandomSource Replay(std::vector<uint64_t> values) {
  auto state = std::make_shared<std::deque<uint64_t>>(values.begin(), values.end());
  return [state]() {
    uint64_t v = state->front();
    state->pop_front();
    state->push_back(v);
    return v;
  };
}

// A RandomSource that counts 1, 2, 3, ...: every draw differs.
RandomSource Counter() {
  auto n = std::make_shared<uint64_t>(0);
  return [n]() { return ++*n * 0x9E3779B97F4A7C15ull; };
}

// ---------------------------------------------------------------------------------------
// Prefixes.

ObjectNameInput Input(std::string_view tz = "") {
  ObjectNameInput in;
  in.stream_name = "my-stream";
  in.version_id = 3;
  in.oldest_arrival_ms = kAwsExample;
  in.time_zone = tz;
  return in;
}

TEST(EvaluatePrefix, AwsRulesAndExamples) {
  struct Case {
    const char* prefix;
    const char* tz;
    const char* want;
  };
  const Case cases[] = {
      {"", "", "2018/08/27/10/"},          // default YYYY/MM/dd/HH/
      {"logs", "", "logs2018/08/27/10/"},  // appended with no "/" inserted
      {"logs/", "", "logs/2018/08/27/10/"},
      {"", "Asia/Tokyo", "2018/08/27/19/"},  // CustomTimeZone
      {"", "America/New_York", "2018/08/27/06/"},
      {"myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
       "hour=!{timestamp:HH}/",
       "", "myPrefix/year=2018/month=08/day=27/hour=10/"},
      {"!{timestamp:yyyy/MM/dd}", "", "2018/08/27"},  // has a timestamp: used as is
      {"!{timestamp:'year='yyyy'/month='MM}/", "", "year=2018/month=08/"},
      {"a/!{timestamp:HH}/b/!{timestamp:HH}/", "Europe/Paris", "a/12/b/12/"},  // same instant
      {"{braces} and } alone/", "", "{braces} and } alone/2018/08/27/10/"},
  };
  for (const auto& c : cases) {
    auto r = EvaluatePrefix(c.prefix, Input(c.tz), "", Counter());
    ASSERT_TRUE(r.ok()) << c.prefix << ": " << r.status().ToString();
    EXPECT_EQ(*r, c.want) << c.prefix;
  }
}

TEST(EvaluatePrefix, RandomStringIsElevenHexCharsFreshPerOccurrence) {
  auto r = EvaluatePrefix("a=!{firehose:random-string}/b=!{firehose:random-string}/", Input(), "",
                          DefaultRandom());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // No timestamp expression, so the default timestamp part is appended.
  std::smatch m;
  ASSERT_TRUE(
      std::regex_match(*r, m, std::regex("a=([0-9a-f]{11})/b=([0-9a-f]{11})/2018/08/27/10/")))
      << *r;
  EXPECT_NE(m[1].str(), m[2].str());
  // With a replayed source the value is exactly the one RandomString makes of the draw.
  auto fixed =
      EvaluatePrefix("!{firehose:random-string}/", Input(), "", Replay({0x0123456789abcdefull}));
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(*fixed, "fedcba98765/2018/08/27/10/");
}

TEST(RandomString, LengthAlphabetAndSpread) {
  RandomSource rnd = DefaultRandom();
  std::set<std::string> seen;
  std::set<char> alphabet;
  for (int k = 0; k < 2000; ++k) {
    std::string s = RandomString(rnd);
    ASSERT_THAT(s, MatchesRegex("[0-9a-f]{11}"));
    seen.insert(s);
    alphabet.insert(s.begin(), s.end());
  }
  EXPECT_EQ(seen.size(), 2000u);
  EXPECT_EQ(alphabet.size(), 16u);
}

TEST(RandomUuid, Version4LowercaseLayout) {
  // Version nibble forced to 4 and variant bits to 10: 'c' -> '4' and 'f' -> 'b'.
  EXPECT_EQ(RandomUuid(Replay({0x0123456789abcdefull, 0xfedcba9876543210ull})),
            "01234567-89ab-4def-bedc-ba9876543210");
  EXPECT_EQ(RandomUuid(Replay({0, 0})), "00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(RandomUuid(Replay({~0ull, ~0ull})), "ffffffff-ffff-4fff-bfff-ffffffffffff");
  RandomSource rnd = DefaultRandom();
  std::set<std::string> seen;
  for (int k = 0; k < 1000; ++k) {
    std::string u = RandomUuid(rnd);
    ASSERT_THAT(
        u, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(DefaultRandom, IsThreadSafeAndUnseeded) {
  RandomSource shared = DefaultRandom();
  std::vector<std::vector<uint64_t>> drawn(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 5000; ++k) drawn[t].push_back(shared());
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (const auto& v : drawn) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 20000u);  // a torn engine state would repeat values
  // Two sources are seeded independently.
  EXPECT_NE(DefaultRandom()(), DefaultRandom()());
}

TEST(ObjectKeys, DataKeyLayout) {
  ObjectNameInput in = Input();
  in.extension = ".gz";
  auto key = DataObjectKey("logs", in, DefaultRandom());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_THAT(*key, MatchesRegex("logs2018/08/27/10/my-stream-3-2018-08-27-10-30-00-"
                                 "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                 "[0-9a-f]{12}\\.gz"));
  // Exact with fixed draws: random-string first, then the UUID's two draws.
  auto exact = DataObjectKey("r=!{firehose:random-string}/!{timestamp:yyyy}/", in,
                             Replay({0xabcdef, 0x0123456789abcdefull, 0xfedcba9876543210ull}));
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(*exact,
            "r=fedcba00000/2018/my-stream-3-2018-08-27-10-30-00-01234567-89ab-4def-bedc-"
            "ba9876543210.gz");
}

TEST(ObjectKeys, SuffixTimeUsesCustomTimeZone) {
  ObjectNameInput in = Input("Asia/Tokyo");
  auto key = DataObjectKey("", in, DefaultRandom());
  ASSERT_TRUE(key.ok());
  EXPECT_THAT(*key, MatchesRegex("2018/08/27/19/my-stream-3-2018-08-27-19-30-00-[-0-9a-f]{36}"));
  // Across a date line: 10:30 UTC on Aug 27 is 06:30 in New York, same day; 00:30 UTC is
  // the previous evening.
  in = Input("America/New_York");
  in.oldest_arrival_ms = 1535329800000;  // 2018-08-27T00:30:00Z
  key = DataObjectKey("", in, DefaultRandom());
  ASSERT_TRUE(key.ok());
  EXPECT_THAT(*key, MatchesRegex("2018/08/26/20/my-stream-3-2018-08-26-20-30-00-[-0-9a-f]{36}"));
}

TEST(ObjectKeys, ErrorKeys) {
  struct Case {
    const char* prefix;
    std::optional<std::string_view> eop;
    const char* type;
    const char* want_prefix;
  };
  const Case cases[] = {
      // AWS's examples (s3-prefixes.md), evaluated at 2018-08-27T10:30Z.
      {"", "myFirehoseFailures/!{firehose:error-output-type}/", "processing-failed",
       "myFirehoseFailures/processing-failed/"},
      {"myPrefix/",
       "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/"
       "!{firehose:error-output-type}",
       "processing-failed", "myErrorPrefix/year=2018/month=08/day=27/hour=10/processing-failed"},
      {"myFirehose/DeliveredYear=!{timestamp:yyyy}/",
       "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/"
       "!{timestamp:dd}",
       "format-conversion-failed", "myFirehoseFailures/format-conversion-failed/2018/anyMonth/27"},
      // No ErrorOutputPrefix: <Prefix><type>/yyyy/MM/dd/HH/ (observed with an empty Prefix).
      {"", std::nullopt, "processing-failed", "processing-failed/2018/08/27/10/"},
      {"myFirehosePrefix/", std::nullopt, "processing-failed",
       "myFirehosePrefix/processing-failed/2018/08/27/10/"},
      {"logs", std::nullopt, "processing-failed", "logsprocessing-failed/2018/08/27/10/"},
      {"logs/", "", "http-endpoint-failed", "logs/http-endpoint-failed/2018/08/27/10/"},
      // A literal ErrorOutputPrefix is used as given.
      {"logs/", "errors/", "processing-failed", "errors/"},
  };
  for (const auto& c : cases) {
    auto key = ErrorObjectKey(c.prefix, c.eop, c.type, Input(), Replay({1, 2}));
    ASSERT_TRUE(key.ok()) << c.prefix << ": " << key.status().ToString();
    EXPECT_EQ(*key, std::string(c.want_prefix) + "my-stream-3-2018-08-27-10-30-00-" +
                        RandomUuid(Replay({1, 2})))
        << c.prefix;
  }
  // The error prefix in a custom time zone.
  auto key = ErrorObjectKey("", std::nullopt, "processing-failed", Input("Asia/Tokyo"), Counter());
  ASSERT_TRUE(key.ok());
  EXPECT_THAT(*key,
              MatchesRegex("processing-failed/2018/08/27/19/my-stream-3-2018-08-27-19-30-00-.*"));
}

TEST(ObjectKeys, EvaluatedPrefixOver512IsAnError) {
  std::string p498(498, 'p');  // + "2018/08/27/10/" (14) = 512: allowed
  auto ok = EvaluatePrefix(p498, Input(), "", Counter());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 512u);
  auto too_long = EvaluatePrefix(p498 + "x", Input(), "", Counter());
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(too_long.status().message(), HasSubstr("513"));
  // Characters, not bytes: 500 two-byte characters + 12 = 512.
  std::string wide;
  for (int k = 0; k < 500; ++k) wide += "\xc3\xa9";
  EXPECT_TRUE(EvaluatePrefix(wide + "!{timestamp:yyyyMMddHHmm}", Input(), "", Counter()).ok());
  // Expressions can push past the limit too.
  EXPECT_TRUE(EvaluatePrefix(std::string(505, 'p') + "!{timestamp:MMMM}/", Input(), "",
                             Counter())
                  .ok());  // + "August/" = 512
  EXPECT_FALSE(
      EvaluatePrefix(std::string(506, 'p') + "!{timestamp:MMMM}/", Input(), "", Counter()).ok());
  // The ErrorOutputPrefix composed from a long Prefix.
  EXPECT_FALSE(
      ErrorObjectKey(std::string(490, 'p'), std::nullopt, "processing-failed", Input(), Counter())
          .ok());
  EXPECT_FALSE(DataObjectKey(p498 + "x", Input(), Counter()).ok());
}

TEST(ObjectKeys, InvalidPrefixesFailAtEvaluation) {
  for (const char* bad : {"a/!{timestamp:yyyy", "!{foo:bar}", "!{timestamp:bb}",
                          "!{partitionKeyFromQuery:id}/", "!{firehose:error-output-type}/"}) {
    auto r = EvaluatePrefix(bad, Input(), "", Counter());
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// ---------------------------------------------------------------------------------------
// ValidatePrefixes.

constexpr const char* kFrame = "Ths supplied prefix(es) do not satisfy the following constraint: ";

TEST(ValidatePrefixes, AcceptsWhatAwsAccepts) {
  const std::pair<const char*, std::optional<std::string_view>> ok[] = {
      {"", std::nullopt},
      {"logs/", std::nullopt},
      {"logs/", ""},
      {"", "myFirehoseFailures/!{firehose:error-output-type}/"},
      {"!{timestamp:yyyy/MM/dd}", "err/!{firehose:error-output-type}/!{timestamp:yyyy}/"},
      {"myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}",
       "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/"
       "!{timestamp:dd}"},
      {"!{firehose:random-string}/", "e/!{firehose:random-string}/!{firehose:error-output-type}"},
      {"logs/", "errors/"},  // a literal ErrorOutputPrefix needs no expression
      {"a{b}c/", std::nullopt},
  };
  for (const auto& [prefix, eop] : ok) {
    EXPECT_EQ(ValidatePrefixes(prefix, eop), std::nullopt) << prefix;
  }
}

TEST(ValidatePrefixes, RejectsWithAwsStyleMessages) {
  struct Case {
    std::string prefix;
    std::optional<std::string_view> eop;
    std::string want;
  };
  const Case cases[] = {
      // AWS's own message (seen from CloudFormation and Terraform users).
      {"!{timestamp:yyyy}/", std::nullopt,
       "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"},
      {"!{timestamp:yyyy}/", "",
       "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"},
      {"r/!{firehose:random-string}/", std::nullopt,
       "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"},
      {"logs/!{firehose:error-output-type}/", "e/!{firehose:error-output-type}",
       "Prefix cannot contain !{firehose:error-output-type}"},
      {"logs/", "errors/!{timestamp:yyyy}/",
       "ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains expressions"},
      {"logs/!{timestamp:yyyy", std::nullopt,
       "Prefix contains a malformed expression \"!{timestamp:yyyy\": the sequence !{ can only "
       "appear in !{namespace:value} expressions"},
      {"logs/!{timestamp}/", std::nullopt,
       "Prefix contains a malformed expression \"!{timestamp}\""},
      {"a/!{x!{timestamp:yyyy}/", std::nullopt, "Prefix contains a malformed expression"},
      {"logs/", "e/!{firehose:error-output-type",
       "ErrorOutputPrefix contains a malformed expression"},
      {"!{foo:bar}", "e/!{firehose:error-output-type}",
       "Prefix contains an expression with an unknown namespace \"!{foo:bar}\""},
      {"!{Timestamp:yyyy}", "e/!{firehose:error-output-type}",
       "unknown namespace \"!{Timestamp:yyyy}\""},
      {"!{firehose:random}", "e/!{firehose:error-output-type}",
       "Prefix contains an unknown firehose expression \"!{firehose:random}\""},
      {"!{timestamp:yyyy-bb}/", "e/!{firehose:error-output-type}",
       "Prefix contains an invalid timestamp expression \"!{timestamp:yyyy-bb}\": invalid "
       "timestamp pattern \"yyyy-bb\": Unknown pattern letter: b"},
      {"!{timestamp:'year=yyyy}/", "e/!{firehose:error-output-type}",
       "Pattern ends with an incomplete string literal: 'year=yyyy"},
      {"!{timestamp:}/", "e/!{firehose:error-output-type}",
       "Prefix contains a timestamp expression without a pattern: \"!{timestamp:}\""},
      {"logs/", "e/!{firehose:error-output-type}/!{timestamp:ddd}",
       "ErrorOutputPrefix contains an invalid timestamp expression \"!{timestamp:ddd}\""},
      {"!{partitionKeyFromQuery:customer_id}/", "e/!{firehose:error-output-type}",
       "Prefix contains !{partitionKeyFromQuery:customer_id}, but dynamic partitioning is not "
       "supported"},
      {"!{timestamp:yyyy}/", "e/!{firehose:error-output-type}/!{partitionKeyFromLambda:k}",
       "ErrorOutputPrefix contains !{partitionKeyFromLambda:k}"},
      {std::string(513, 'p'), std::nullopt,
       "Prefix cannot be longer than 512 characters after it is evaluated"},
  };
  for (const auto& c : cases) {
    auto msg = ValidatePrefixes(c.prefix, c.eop);
    ASSERT_TRUE(msg.has_value()) << c.prefix;
    EXPECT_EQ(msg->rfind(kFrame, 0), 0u) << *msg;
    EXPECT_THAT(*msg, HasSubstr(c.want)) << c.prefix;
  }
  // The one message known verbatim.
  EXPECT_EQ(ValidatePrefixes("!{timestamp:yyyy}/", std::nullopt),
            std::string(kFrame) +
                "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions");
}

}  // namespace
}  // namespace hydrant::naming
