// Tests for Java DateTimeFormatter patterns (FormatTimestamp, timestamp_format.h).
// Expected values are written out by hand from the calendar; the whole grammar is
// also compared with an independent implementation run as a child process: the
// JDK's java.time (if `java` is installed), for patterns and for zone offsets.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "destinations/naming.h"
#include "destinations/naming_test_util.h"
#include "testing/temp_dir.h"

namespace hydrant::naming {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------
// Java DateTimeFormatter patterns.

TEST(FormatTimestamp, JavaPatternLetters) {
  const int64_t jan5 = 1767582245000;    // Monday 2026-01-05T03:04:05Z
  const int64_t sun_pm = 1784473440000;  // Sunday 2026-07-19T15:04:00Z
  const int64_t sun_am = 1784421000000;  // Sunday 2026-07-19T00:30:00Z
  const FormatCase cases[] = {
      {"yyyy/MM/dd/HH/", kAwsExample, "", "2018/08/27/10/"},
      {"yyyy-MM-dd-HH-mm-ss", kAwsExample, "", "2018-08-27-10-30-00"},
      {"y M d H m s", jan5, "", "2026 1 5 3 4 5"},
      {"yy uu yyy yyyyy", jan5, "", "26 26 2026 02026"},
      {"D DD DDD", jan5, "", "5 05 005"},
      {"D DD", sun_pm, "", "200 200"},
      {"MMM MMMM MMMMM LLL", jan5, "", "Jan January J Jan"},
      {"E EE EEE EEEE EEEEE", jan5, "", "Mon Mon Mon Monday M"},
      {"e ee c", jan5, "", "2 02 2"},  // Locale.US: Sunday is day 1
      {"e", sun_pm, "", "1"},
      {"h:mm a", sun_pm, "", "3:04 PM"},
      {"hh a K k", sun_am, "", "12 AM 0 24"},
      {"HH H", sun_am, "", "00 0"},
      {"S SS SSS SSSSSS", kAwsExample, "", "1 12 123 123000"},
      {"Q QQQ QQQQ", sun_pm, "", "3 Q3 3rd quarter"},
      {"G GGGG", jan5, "", "AD Anno Domini"},
      {"uuuu yyyy", 253402300800000, "", "+10000 +10000"},  // 10000-01-01: EXCEEDS_PAD
      // 2018-12-31 is a Monday in the Sunday-first week holding 2019-01-01.
      {"YYYY yyyy ww w", 1546257600000, "", "2019 2018 01 1"},
      {"YY", 1546257600000, "", "19"},
      {"W", sun_pm, "", "4"},  // July 2026 starts on Wednesday: 19th is in week 4
      {"Z X x xx XXX xxxxx VV z O", jan5, "", "+0000 Z +00 +0000 Z +00:00 UTC UTC GMT"},
      {"Z X XXX xx O OOOO ZZZZ", kSummer2026, "America/New_York",
       "-0400 -04 -04:00 -0400 GMT-4 GMT-04:00 GMT-04:00"},
      {"VV z", kSummer2026, "America/New_York", "America/New_York EDT"},
      {"X XXX O z", kSummer2026, "Asia/Kolkata", "+0530 +05:30 GMT+5:30 IST"},
      // Literals: quotes, doubled quotes, non-letters passing through.
      {"'year='yyyy'/month='MM", kAwsExample, "", "year=2018/month=08"},
      {"''yyyy''", kAwsExample, "", "'2018'"},
      {"'it''s' yy", kAwsExample, "", "it's 18"},
      {"yyyy_MM-dd=HH.mm:ss!", kAwsExample, "", "2018_08-27=10.30:00!"},
      {"[yyyy]", kAwsExample, "", "2018"},
      {"", kAwsExample, "", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Fmt(c.pattern, c.ms, c.tz), c.want) << c.pattern << " @" << c.ms << " " << c.tz;
  }
}

TEST(FormatTimestamp, InvalidPatternsNameThePattern) {
  const std::pair<const char*, const char*> cases[] = {
      {"yyyy-bb", "invalid timestamp pattern \"yyyy-bb\": Unknown pattern letter: b"},
      {"'abc",
       "invalid timestamp pattern \"'abc\": Pattern ends with an incomplete string "
       "literal: 'abc"},
      {"yyyy'/month='MM'", "Pattern ends with an incomplete string literal"},
      {"ddd", "Too many pattern letters: d"},
      {"HHH", "Too many pattern letters: H"},
      {"aa", "Too many pattern letters: a"},
      {"MMMMMM", "Too many pattern letters: M"},
      {"SSSSSSSSSS", "Minimum width must be from 0 to 9 inclusive but was 10"},
      {"VVV", "Pattern letter count must be 2: V"},
      {"OO", "Pattern letter count must be 1 or 4: O"},
      {"cc", "Invalid pattern \"cc\""},
      {"yyyy#", "Pattern includes reserved character: '#'"},
      {"yyyy]", "Pattern invalid as it contains ] without previous ["},
      {"T", "Unknown pattern letter: T"},
      {"zzzz", "not supported by hydrant"},
      {"ppH", "not supported by hydrant"},
  };
  for (const auto& [pattern, want] : cases) {
    auto r = FormatTimestamp(pattern, kAwsExample, "");
    ASSERT_FALSE(r.ok()) << pattern;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(want)) << pattern;
    EXPECT_THAT(r.status().message(), HasSubstr(std::string("\"") + pattern + "\"")) << pattern;
  }
}

TEST(FormatTimestamp, UnknownZoneIsInvalidArgument) {
  auto r = FormatTimestamp("yyyy", kAwsExample, "Mars/Olympus_Mons");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("Mars/Olympus_Mons"));
}

// ---------------------------------------------------------------------------------------
// The JDK as an oracle for patterns and zone rules.

constexpr const char* kJavaOracle = R"JAVA(
import java.io.*;
import java.time.*;
import java.time.format.*;
import java.util.Locale;

public class Oracle {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    PrintStream out = new PrintStream(new BufferedOutputStream(System.out), false, "UTF-8");
    String line;
    while ((line = in.readLine()) != null) {
      String[] p = line.split("\t", -1);
      try {
        ZoneId zone = ZoneId.of(p[2].isEmpty() ? "UTC" : p[2]);
        DateTimeFormatter f = DateTimeFormatter.ofPattern(p[0], Locale.US);
        out.println("OK\t" + f.format(Instant.ofEpochMilli(Long.parseLong(p[1])).atZone(zone)));
      } catch (Exception e) {
        out.println("ERR\t" + e.getMessage());
      }
    }
    out.flush();
  }
}
)JAVA";

struct OracleQuery {
  std::string pattern;
  int64_t ms;
  std::string tz;
};

// Runs the queries through java.time; nullopt if java is unavailable.
std::optional<std::vector<std::string>> RunJava(const std::vector<OracleQuery>& queries) {
  if (system("command -v java >/dev/null 2>&1") != 0) return std::nullopt;
  const ::hydrant::testing::TempDir tmp;
  if (tmp.path().empty()) return std::nullopt;
  const std::string dir = tmp.path();
  std::ofstream(dir + "/Oracle.java") << kJavaOracle;
  {
    std::ofstream in(dir + "/in.txt");
    for (const auto& q : queries) in << q.pattern << '\t' << q.ms << '\t' << q.tz << '\n';
  }
  std::string cmd = "java -Xshare:auto " + dir + "/Oracle.java < " + dir + "/in.txt > " + dir +
                    "/out.txt 2> " + dir + "/err.txt";
  int rc = system(cmd.c_str());
  std::vector<std::string> lines;
  std::ifstream out(dir + "/out.txt");
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  if (rc != 0 || lines.size() != queries.size()) return std::nullopt;
  return lines;
}

TEST(JavaOracle, PatternsFormatAsJavaTimeDoes) {
  const std::vector<std::string> patterns = {
      "G",
      "GGGG",
      "GGGGG",
      "u",
      "uu",
      "uuu",
      "uuuu",
      "uuuuu",
      "y",
      "yy",
      "yyy",
      "yyyy",
      "yyyyyy",
      "Y",
      "YY",
      "YYY",
      "YYYY",
      "w",
      "ww",
      "W",
      "e",
      "ee",
      "eee",
      "eeee",
      "eeeee",
      "c",
      "ccc",
      "cccc",
      "ccccc",
      "Q",
      "QQ",
      "QQQ",
      "QQQQ",
      "QQQQQ",
      "q",
      "qq",
      "qqq",
      "qqqq",
      "M",
      "MM",
      "MMM",
      "MMMM",
      "MMMMM",
      "L",
      "LL",
      "LLL",
      "LLLL",
      "LLLLL",
      "d",
      "dd",
      "D",
      "DD",
      "DDD",
      "F",
      "E",
      "EE",
      "EEE",
      "EEEE",
      "EEEEE",
      "a",
      "h",
      "hh",
      "K",
      "KK",
      "k",
      "kk",
      "H",
      "HH",
      "m",
      "mm",
      "s",
      "ss",
      "S",
      "SS",
      "SSS",
      "SSSS",
      "SSSSSSSSS",
      "A",
      "AAAAAAAAA",
      "n",
      "nnnnnnnnnn",
      "N",
      "g",
      "ggggggg",
      "VV",
      "z",
      "zz",
      "zzz",
      "O",
      "OOOO",
      "X",
      "XX",
      "XXX",
      "XXXX",
      "XXXXX",
      "x",
      "xx",
      "xxx",
      "xxxx",
      "xxxxx",
      "Z",
      "ZZ",
      "ZZZ",
      "ZZZZ",
      "ZZZZZ",
      "'year='yyyy'/month='MM'/day='dd'/hour='HH",
      "''yyyy''",
      "'it''s' h 'o''clock' a",
      "yyyy/MM/dd/HH/",
      "yyyy-MM-dd-HH-mm-ss",
      "[yyyy][MM]",
      "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
      // Errors: both sides must reject these.
      "b",
      "ddd",
      "HHH",
      "aa",
      "'open",
      "yyyy]",
      "#",
      "{",
      "OO",
      "VVV",
      "cc",
      "SSSSSSSSSS",
      "FF",
      "WW",
      "www",
      "DDDD",
      "XXXXXX",
      "ZZZZZZ",
      "GGGGGG",
      "EEEEEE",
      "T",
      "zzzzz",
  };
  // Instants chosen around year ends (week-based years), leap days, DST changes, noon and
  // midnight, before 1970 and past 2037, and one with a 5-digit year.
  const std::vector<int64_t> instants = {0,
                                         -1,
                                         86399999,
                                         kAwsExample,
                                         kSummer2026,
                                         kWinter2026,
                                         1546257600000 /* 2018-12-31 */,
                                         1546214400000 /* 2018-12-31T00:00Z */,
                                         1609459199999 /* 2020-12-31T23:59:59.999Z */,
                                         1582934400000 /* 2020-02-29 */,
                                         1772953200000,
                                         1793512799000,
                                         1774746000000,
                                         1792889999000,
                                         -2208988800000 /* 1900-01-01 */,
                                         2224756800000,
                                         4102444800000 /* 2100 */,
                                         253402300800000 /* 10000-01-01 */,
                                         1767582245678,
                                         1784421000000,
                                         1784473440000,
                                         1704067200000 /* 2024-01-01, a Monday */,
                                         1735603200000 /* 2024-12-31 */,
                                         1451606400000 /* 2016-01-01, a Friday */,
                                         1483142400000 /* 2016-12-31, Saturday */};
  const std::vector<std::string> zones = {"",
                                          "UTC",
                                          "America/New_York",
                                          "Europe/Paris",
                                          "Asia/Tokyo",
                                          "Asia/Kolkata",
                                          "Australia/Sydney",
                                          "America/St_Johns",
                                          "Europe/London"};
  std::vector<OracleQuery> queries;
  for (const auto& p : patterns) {
    for (int64_t ms : instants) {
      for (const auto& z : zones) queries.push_back({p, ms, z});
    }
  }
  auto java = RunJava(queries);
  if (!java) GTEST_SKIP() << "java (JDK 11+) not available";
  int mismatches = 0;
  for (size_t k = 0; k < queries.size(); ++k) {
    const auto& q = queries[k];
    const std::string& j = (*java)[k];
    auto ours = FormatTimestamp(q.pattern, q.ms, q.tz);
    // Known deviation: Java names zones from CLDR, which has no historical abbreviations
    // (LMT, PMT, London's 1968-71 BST); hydrant uses the tz database's. Compare 'z' only
    // from 1980 on.
    if (q.pattern[0] == 'z' && q.ms < 315532800000) continue;
    if (j.rfind("OK\t", 0) == 0) {
      bool same = ours.ok() && *ours == j.substr(3);
      if (!same && ++mismatches <= 20) {
        ADD_FAILURE() << "pattern \"" << q.pattern << "\" @" << q.ms << " " << q.tz << ": java \""
                      << j.substr(3) << "\", hydrant \""
                      << (ours.ok() ? *ours : ours.status().message()) << "\"";
      }
    } else {
      bool same = !ours.ok() && ours.status().message().find(j.substr(4)) != std::string::npos;
      if (!same && ++mismatches <= 20) {
        ADD_FAILURE() << "pattern \"" << q.pattern << "\": java error \"" << j.substr(4)
                      << "\", hydrant "
                      << (ours.ok() ? "\"" + *ours + "\"" : ours.status().message());
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << queries.size();
}

TEST(JavaOracle, ZoneOffsetsMatchJavaTime) {
  const std::vector<std::string> zones = {
      "America/New_York", "America/Chicago",  "America/Los_Angeles", "America/Sao_Paulo",
      "America/Santiago", "America/St_Johns", "America/Havana",      "Europe/Paris",
      "Europe/London",    "Europe/Dublin",    "Europe/Moscow",       "Europe/Istanbul",
      "Africa/Cairo",     "Asia/Tokyo",       "Asia/Kolkata",        "Asia/Tehran",
      "Asia/Kathmandu",   "Australia/Sydney", "Australia/Adelaide",  "Australia/Lord_Howe",
      "Pacific/Auckland", "Pacific/Chatham",  "Pacific/Apia",        "UTC"};
  std::vector<OracleQuery> queries;
  // Every ~9 days from 1980 to 2099 (past the fat tables' 2037, so the footers count),
  // offset by odd minutes so transitions' neighbourhoods are hit over the years. Earlier
  // history is left out: the JDK bundles its own tz data, and releases revise old
  // history (tzdata 2025b moved Iran's 1978 change, which JDK 17.0.15 does not have).
  for (const auto& z : zones) {
    for (int64_t ms = 315532800000; ms < 4070908800000; ms += 9 * 86400000 + 3 * 3600000 + 60000) {
      queries.push_back({"yyyy-MM-dd HH:mm:ss xxxxx", ms, z});
    }
  }
  auto java = RunJava(queries);
  if (!java) GTEST_SKIP() << "java (JDK 11+) not available";
  int mismatches = 0;
  for (size_t k = 0; k < queries.size(); ++k) {
    auto ours = FormatTimestamp(queries[k].pattern, queries[k].ms, queries[k].tz);
    std::string want = (*java)[k].substr(3);
    if ((!ours.ok() || *ours != want) && ++mismatches <= 20) {
      ADD_FAILURE() << queries[k].tz << " @" << queries[k].ms << ": java " << want << ", hydrant "
                    << (ours.ok() ? *ours : ours.status().message());
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << queries.size();
}

}  // namespace
}  // namespace hydrant::naming
