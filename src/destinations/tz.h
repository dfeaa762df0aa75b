#pragma once
// Time-zone rules for CustomTimeZone, read from the system tz database.
//
// Why our own reader: GCC 12's libstdc++ has no C++20 tzdb, and TZ/localtime_r depend on
// the process-global TZ variable (setenv is not thread-safe). So this reads TZif files
// (RFC 8536, versions 1 to 4) from /usr/share/zoneinfo (or $TZDIR) itself, including the
// POSIX TZ footer rule that governs instants after the file's last transition ("slim"
// tzdata files stop their tables at 2007 and rely on it entirely).
//
// Contract: everything here is thread-safe. A TimeZone is immutable once built; zones
// loaded by name are cached for the life of the process (shared_ptr, never evicted).
// Leap-second ("right/") files are refused: Firehose timestamps are POSIX time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace hydrant::naming {

// Proleptic Gregorian calendar helpers (valid for the whole int64 day range that an
// int64 millisecond count can reach).
struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};
// Days since 1970-01-01 of a civil date.
int64_t DaysFromCivil(int64_t year, int month, int day);
CivilDate CivilFromDays(int64_t days);
bool IsLeapYear(int64_t year);
int DaysInMonth(int64_t year, int month);

// One local-time type: the offset from UTC in effect, whether it is daylight saving
// time, and its abbreviation ("EST", "CEST", "JST", "+03").
struct LocalTimeType {
  int32_t utc_offset = 0;  // seconds east of UTC
  bool is_dst = false;
  std::string abbreviation;
};

// A POSIX TZ rule such as "EST5EDT,M3.2.0,M11.1.0" or "<+0330>-3:30" (POSIX.1-2017
// section 8.3, with RFC 8536's extensions: rule hours from -167 to 167). Without a rule
// part, a zone with a DST name uses the US rule M3.2.0,M11.1.0 (as glibc does).
class PosixTzRule {
 public:
  static std::optional<PosixTzRule> Parse(std::string_view spec);
  const LocalTimeType& Lookup(int64_t unix_seconds) const;
  bool has_dst() const { return has_dst_; }

 private:
  // A transition date: Jn (1..365, Feb 29 never counted), n (0..365), or Mm.w.d.
  struct Date {
    char kind = 'M';  // 'J', 'N' (zero-based day) or 'M'
    int month = 0, week = 0, weekday = 0, day = 0;
    int32_t time = 7200;  // seconds after local midnight
  };
  // The instant (UTC seconds) of `date` in `year`, interpreted with `offset` in effect.
  static int64_t TransitionUtc(const Date& date, int64_t year, int32_t offset);

  LocalTimeType std_;
  LocalTimeType dst_;
  bool has_dst_ = false;
  Date start_, end_;
};

class TimeZone {
 public:
  // Parses a TZif file's contents. Corruption if malformed or if it carries leap seconds.
  static Result<TimeZone> FromTzif(std::string name, std::string_view data);
  static TimeZone Utc();

  const std::string& name() const { return name_; }
  // The local-time type in effect at `unix_seconds`.
  const LocalTimeType& Lookup(int64_t unix_seconds) const;

 private:
  TimeZone() = default;
  std::string name_;
  std::vector<int64_t> transitions_;       // ascending UTC seconds
  std::vector<uint8_t> transition_types_;  // index into types_, one per transition
  std::vector<LocalTimeType> types_;       // at least one
  std::optional<PosixTzRule> footer_;      // for instants after the last transition
};

// The directory holding the tz database: $TZDIR if set and non-empty, else
// /usr/share/zoneinfo (Debian package tzdata).
std::string ZoneInfoDir();

// Loads zone `name` from ZoneInfoDir(), cached process-wide. "" and "UTC" are built in
// (they work without tzdata). NotFound for a name that is not a zone: names with "." (so
// ".."), a leading or doubled "/", characters outside [A-Za-z0-9/_+-], the non-zone files
// of the database (posix/, right/, localtime, posixrules, Factory) or a missing file;
// Corruption for a file that is not valid TZif.
Result<std::shared_ptr<const TimeZone>> LoadTimeZone(std::string_view name);

}  // namespace hydrant::naming
