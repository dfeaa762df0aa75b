// Tests for the tz database reader (tz.h). Expected values are written out by hand
// from the calendar, and compared with independent implementations run as child
// processes: glibc's TZ parser and zic-built "slim" zone files.

#include "destinations/tz.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "destinations/naming.h"
#include "destinations/naming_test_util.h"
#include "testing/temp_dir.h"

namespace hydrant::naming {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------
// Time zones.

TEST(TimeZones, SummerWinterAndBothSidesOfEachDstChange) {
  const FormatCase cases[] = {
      {"yyyy-MM-dd HH:mm:ss z", kSummer2026, "America/New_York", "2026-07-15 08:00:00 EDT"},
      {"yyyy-MM-dd HH:mm:ss z", kWinter2026, "America/New_York", "2026-01-15 07:00:00 EST"},
      {"yyyy-MM-dd HH:mm:ss z", kSummer2026, "Europe/Paris", "2026-07-15 14:00:00 CEST"},
      {"yyyy-MM-dd HH:mm:ss z", kWinter2026, "Europe/Paris", "2026-01-15 13:00:00 CET"},
      {"yyyy-MM-dd HH:mm:ss z", kSummer2026, "Asia/Tokyo", "2026-07-15 21:00:00 JST"},
      {"yyyy-MM-dd HH:mm:ss z", kWinter2026, "Asia/Tokyo", "2026-01-15 21:00:00 JST"},
      {"yyyy-MM-dd HH:mm:ss z", kSummer2026, "UTC", "2026-07-15 12:00:00 UTC"},
      // New York 2026: 02:00 EST on March 8 becomes 03:00 EDT; 02:00 EDT on November 1
      // becomes 01:00 EST.
      {"MM-dd HH:mm:ss XXX", 1772953199000, "America/New_York", "03-08 01:59:59 -05:00"},
      {"MM-dd HH:mm:ss XXX", 1772953200000, "America/New_York", "03-08 03:00:00 -04:00"},
      {"MM-dd HH:mm:ss XXX", 1793512799000, "America/New_York", "11-01 01:59:59 -04:00"},
      {"MM-dd HH:mm:ss XXX", 1793512800000, "America/New_York", "11-01 01:00:00 -05:00"},
      // Paris 2026: March 29 02:00 CET -> 03:00 CEST; October 25 03:00 CEST -> 02:00 CET.
      {"MM-dd HH:mm:ss XXX", 1774745999000, "Europe/Paris", "03-29 01:59:59 +01:00"},
      {"MM-dd HH:mm:ss XXX", 1774746000000, "Europe/Paris", "03-29 03:00:00 +02:00"},
      {"MM-dd HH:mm:ss XXX", 1792889999000, "Europe/Paris", "10-25 02:59:59 +02:00"},
      {"MM-dd HH:mm:ss XXX", 1792890000000, "Europe/Paris", "10-25 02:00:00 +01:00"},
      // 2040 is past the table of a "fat" file: the POSIX footer rule decides.
      {"yyyy-MM-dd HH z", 2224756800000, "America/New_York", "2040-07-01 08 EDT"},
      {"yyyy-MM-dd HH z", 2209032000000, "America/New_York", "2040-01-01 07 EST"},
      {"yyyy-MM-dd HH z", 2224756800000, "Europe/Paris", "2040-07-01 14 CEST"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Fmt(c.pattern, c.ms, c.tz), c.want) << c.tz << " @" << c.ms;
  }
}

TEST(TimeZones, KnownAndUnknownNames) {
  ASSERT_EQ(access((ZoneInfoDir() + "/America/New_York").c_str(), R_OK), 0)
      << "the tz database (Debian package tzdata) is not installed";
  for (const char* ok : {"", "UTC", "America/New_York", "Asia/Tokyo", "Europe/Paris",
                         "America/Argentina/Buenos_Aires", "Etc/GMT+5", "America/Port-au-Prince"}) {
    EXPECT_TRUE(IsKnownTimeZone(ok)) << ok;
  }
  for (const char* bad :
       {"../../../etc/passwd", "/etc/passwd", "America/../Europe/Paris", "Nowhere/City",
        "america/new_york", "zone.tab", "tzdata.zi", "posix/America/New_York", "right/UTC",
        "localtime", "posixrules", "America", "America/", "America//New_York", "Europe/Paris ",
        "Asia/Tokyo\n"}) {
    EXPECT_FALSE(IsKnownTimeZone(bad)) << bad;
  }
}

TEST(TimeZones, ConcurrentLoadsAgree) {
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &results] {
      for (int k = 0; k < 50; ++k) {
        results[t] = Fmt("HH z", kSummer2026, t % 2 ? "Europe/Paris" : "Asia/Tokyo");
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(results[t], t % 2 ? "14 CEST" : "21 JST");
}

TEST(PosixTzRule, ParsesAndAppliesRules) {
  struct Case {
    const char* spec;
    int64_t unix_seconds;
    int32_t offset;
    const char* abbr;
  };
  const Case cases[] = {
      {"EST5EDT,M3.2.0,M11.1.0", 1772953199, -5 * 3600, "EST"},
      {"EST5EDT,M3.2.0,M11.1.0", 1772953200, -4 * 3600, "EDT"},
      {"EST5EDT,M3.2.0,M11.1.0", 1793512799, -4 * 3600, "EDT"},
      {"EST5EDT,M3.2.0,M11.1.0", 1793512800, -5 * 3600, "EST"},
      {"EST5EDT", 1784116800, -4 * 3600, "EDT"},  // no rule: US default
      {"CET-1CEST,M3.5.0,M10.5.0/3", 1774745999, 3600, "CET"},
      {"CET-1CEST,M3.5.0,M10.5.0/3", 1774746000, 7200, "CEST"},
      {"JST-9", 1784116800, 9 * 3600, "JST"},
      {"<+0530>-5:30", 0, 5 * 3600 + 1800, "+0530"},
      // Southern hemisphere: DST spans the new year (Sydney, first Sunday of October to
      // first Sunday of April 03:00 local DST).
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1768478400, 11 * 3600, "AEDT"},  // January
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", 1784116800, 10 * 3600, "AEST"},  // July
      // Julian-day forms: J60 is always March 1; 59 is March 1 only in leap years.
      {"XST3XDT,J60/0,J300/0", 1772334000, -2 * 3600, "XDT"},  // 2026-03-01T03:00Z
      {"XST3XDT,J60/0,J300/0", 1772333999, -3 * 3600, "XST"},  // a second earlier
      {"XST3XDT,59/0,J300/0", 1772334000, -2 * 3600, "XDT"},   // 2026: day 59 = March 1
      {"XST3XDT,59/0,J300/0", 1709089200, -3 * 3600, "XST"},   // 2024-02-28T03:00Z
      {"XST3XDT,59/0,J300/0", 1709175600, -2 * 3600, "XDT"},   // 2024: day 59 = Feb 29
      // RFC 8536 extension: all-year DST via hours beyond 24.
      {"EST5EDT4,0/0,J365/25", 1768478400, -4 * 3600, "EDT"},
  };
  for (const auto& c : cases) {
    auto rule = PosixTzRule::Parse(c.spec);
    ASSERT_TRUE(rule.has_value()) << c.spec;
    const LocalTimeType& t = rule->Lookup(c.unix_seconds);
    EXPECT_EQ(t.utc_offset, c.offset) << c.spec << " @" << c.unix_seconds;
    EXPECT_EQ(t.abbreviation, c.abbr) << c.spec << " @" << c.unix_seconds;
  }
  for (const char* bad : {"", "E5", "EST", "EST5EDT,M3.2.0", "EST5EDT,M13.2.0,M11.1.0",
                          "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "<EST5", "EST5x"}) {
    EXPECT_FALSE(PosixTzRule::Parse(bad).has_value()) << bad;
  }
}

// glibc's TZ parser as an oracle: `TZ=spec date -f times +'%z %Z'` for many instants.
TEST(PosixTzRule, AgreesWithGlibc) {
  if (system("command -v date >/dev/null 2>&1") != 0) GTEST_SKIP() << "no date(1)";
  const char* specs[] = {"EST5EDT,M3.2.0,M11.1.0",
                         "CET-1CEST,M3.5.0,M10.5.0/3",
                         "AEST-10AEDT,M10.1.0,M4.1.0/3",
                         "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
                         "NZST-12NZDT,M9.5.0,M4.1.0/3",
                         "IST-1GMT0,M10.5.0,M3.5.0/1",
                         "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
                         "XST3XDT,J60/0,J300/0",
                         "XST3XDT,59/0,300/23:30",
                         "<+0330>-3:30",
                         "PST8PDT,M3.2.0/2:00:00,M11.1.0/2:00:00"};
  // Not compared: all-year DST ("EST5EDT4,0/0,J365/25", RFC 8536 section 3.3.1). glibc
  // picks the rule year from UTC and so reports standard time for the first hours of each
  // UTC year; the table test above pins the RFC's reading.
  std::vector<int64_t> instants;
  for (int64_t t = 946684800; t < 4102444800; t += 86400 * 3 + 3541) instants.push_back(t);
  const ::hydrant::testing::TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.path();
  {
    std::ofstream times(dir + "/times");
    for (int64_t t : instants) times << "@" << t << "\n";
  }
  int mismatches = 0;
  for (const char* spec : specs) {
    auto rule = PosixTzRule::Parse(spec);
    ASSERT_TRUE(rule.has_value()) << spec;
    std::string cmd =
        "TZ='" + std::string(spec) + "' date -f " + dir + "/times +'%z %Z' > " + dir + "/out";
    ASSERT_EQ(system(cmd.c_str()), 0) << cmd;
    std::ifstream out(dir + "/out");
    for (int64_t t : instants) {
      std::string z, abbr;
      ASSERT_TRUE(out >> z >> abbr) << spec;
      const LocalTimeType& got = rule->Lookup(t);
      int sign = z[0] == '-' ? -1 : 1;
      int32_t want = sign * (std::stoi(z.substr(1, 2)) * 3600 + std::stoi(z.substr(3, 2)) * 60);
      if ((got.utc_offset != want || got.abbreviation != abbr) && ++mismatches <= 10) {
        ADD_FAILURE() << spec << " @" << t << ": glibc " << z << " " << abbr << ", hydrant "
                      << got.utc_offset << " " << got.abbreviation;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(TimeZones, DamagedTzifIsRejectedNotCrashed) {
  std::string good = ReadFile(ZoneInfoDir() + "/Europe/Paris");
  ASSERT_GT(good.size(), 100u);
  ASSERT_TRUE(TimeZone::FromTzif("Europe/Paris", good).ok());
  EXPECT_EQ(TimeZone::FromTzif("x", "").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(TimeZone::FromTzif("x", "TZjf" + good.substr(4)).status().code(),
            StatusCode::kCorruption);
  for (size_t cut : {size_t{10}, size_t{44}, good.size() / 2, good.size() - 3}) {
    EXPECT_FALSE(TimeZone::FromTzif("x", good.substr(0, cut)).ok()) << "cut at " << cut;
  }
  // Flip bytes everywhere: each result is either an error or a zone that answers lookups.
  for (size_t k = 0; k < good.size(); k += 7) {
    std::string bad = good;
    bad[k] = static_cast<char>(bad[k] ^ 0x5A);
    auto tz = TimeZone::FromTzif("x", bad);
    if (tz.ok()) (void)tz->Lookup(kSummer2026 / 1000);
  }
}

// Slim zone files (zic -b slim) stop their tables early and leave every later instant to
// the POSIX footer; fat ones list transitions to 2037. Both must agree everywhere.
TEST(TimeZones, SlimFilesFromZicAgreeWithFatFiles) {
  if (system("command -v zic >/dev/null 2>&1") != 0) GTEST_SKIP() << "zic not installed";
  const ::hydrant::testing::TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.path();
  std::string cmd = "zic -b slim -d " + dir + " " + ZoneInfoDir() + "/tzdata.zi 2>/dev/null";
  if (system(cmd.c_str()) != 0) GTEST_SKIP() << "zic could not build " << cmd;
  int compared = 0;
  for (const char* zone : {"America/New_York", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney",
                           "America/Sao_Paulo", "Europe/Dublin", "Pacific/Chatham",
                           "America/St_Johns", "Africa/Casablanca", "Asia/Kolkata"}) {
    auto fat = TimeZone::FromTzif(zone, ReadFile(ZoneInfoDir() + "/" + zone));
    auto slim = TimeZone::FromTzif(zone, ReadFile(dir + "/" + zone));
    ASSERT_TRUE(fat.ok()) << zone << fat.status().ToString();
    ASSERT_TRUE(slim.ok()) << zone << slim.status().ToString();
    // Every 5 hours 1970..2037, where the fat table is authoritative.
    for (int64_t t = 0; t < 2145916800; t += 5 * 3600 + 17) {
      const auto& a = fat->Lookup(t);
      const auto& b = slim->Lookup(t);
      ASSERT_EQ(a.utc_offset, b.utc_offset) << zone << " @" << t;
      ASSERT_EQ(a.abbreviation, b.abbreviation) << zone << " @" << t;
      ++compared;
    }
  }
  EXPECT_GT(compared, 100000);
}

}  // namespace
}  // namespace hydrant::naming
