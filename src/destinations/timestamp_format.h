#pragma once
// Java DateTimeFormatter patterns, as Firehose's !{timestamp:...} expressions and
// object names use them (destinations/naming.h): a pattern is compiled once into
// tokens with Java's own letter/count rules (DateTimeFormatterBuilder.appendPattern,
// JDK 17, Locale.US), so an invalid pattern is rejected at validation time with the
// message Java would give, and then formatted from an instant broken down in a time
// zone (destinations/tz.h). Internal to the naming code; pure functions, no I/O but
// the cached reading of time-zone rules. Supported letters: docs/object-naming.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "destinations/tz.h"

namespace hydrant::naming::java_time {

struct Token {
  char letter = 0;  // 0 = literal text
  int count = 0;
  std::string literal;
};

// Compiles `pattern`; on error returns InvalidArgument naming the pattern.
Result<std::vector<Token>> CompilePattern(std::string_view pattern);

// The broken-down local time a pattern is formatted from.
struct LocalFields {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int64_t nano = 0;       // nano-of-second
  int64_t epoch_day = 0;  // local date, days since 1970-01-01
  int iso_dow = 4;        // 1 = Monday .. 7 = Sunday
  int day_of_year = 1;
  const LocalTimeType* type = nullptr;
  std::string_view zone_id;
};

// The local time of `epoch_ms` in time zone `tz` ("" = UTC); InvalidArgument for
// an unknown zone. Cached zones live for the whole process, so `type` stays valid.
Result<LocalFields> Fields(int64_t epoch_ms, std::string_view tz);

// Formats compiled tokens; InvalidArgument for a field Java cannot print.
Result<std::string> FormatTokens(const std::vector<Token>& tokens, const LocalFields& f);

}  // namespace hydrant::naming::java_time
