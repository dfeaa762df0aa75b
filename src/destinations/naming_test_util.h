#pragma once
// Helpers shared by the naming tests (naming_test.cc, timestamp_format_test.cc,
// tz_test.cc; not part of the library): fixed instants and FormatTimestamp as text.

#include <cstdint>
#include <string>
#include <string_view>

#include "destinations/naming.h"

namespace hydrant::naming {

// 2018-08-27T10:30:00.123Z, the instant of AWS's prefix examples.
inline constexpr int64_t kAwsExample = 1535365800123;
inline constexpr int64_t kSummer2026 = 1784116800000;  // 2026-07-15T12:00:00Z
inline constexpr int64_t kWinter2026 = 1768478400000;  // 2026-01-15T12:00:00Z

// A pattern formatted at an instant in a zone, and the text expected.
struct FormatCase {
  const char* pattern;
  int64_t ms;
  const char* tz;
  const char* want;
};

// FormatTimestamp's text, or "ERROR: " and its message.
inline std::string Fmt(std::string_view pattern, int64_t ms, std::string_view tz = "") {
  auto r = FormatTimestamp(pattern, ms, tz);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

}  // namespace hydrant::naming
