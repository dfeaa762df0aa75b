// Fuzz target: Firehose custom prefixes (destinations/naming.h): the Prefix and
// ErrorOutputPrefix a caller gives at CreateDeliveryStream, their
// !{timestamp:PATTERN} / !{firehose:...} expressions, Java DateTimeFormatter
// patterns and CustomTimeZone names.
//
// Input parts (fuzz_util.h SplitParts): Prefix, ErrorOutputPrefix (absent when
// there is no second part), CustomTimeZone, the instant in ms (decimal, clamped
// to years 1..9999), and TZif bytes (a zone file as destinations/tz.h reads
// /usr/share/zoneinfo), looked up at that instant.
// Invariants: a pair ValidatePrefixes accepts evaluates, or fails only because
// the result is longer than kMaxEvaluatedPrefixChars; an evaluated prefix is
// never longer than that; keys are the prefix followed by the object name.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "common/utf8.h"
#include "destinations/naming.h"
#include "destinations/tz.h"
#include "fuzz/fuzz_util.h"

namespace naming = hydrant::naming;

namespace {

constexpr int64_t kYear1Ms = -62135596800000;
constexpr int64_t kYear9999Ms = 253402300799999;

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 5);
  const std::string_view prefix = parts[0];
  std::optional<std::string_view> error_prefix;
  if (size > prefix.size()) error_prefix = parts[1];
  const std::string tz(parts[2].substr(0, 64));
  int64_t ms = std::strtoll(std::string(parts[3].substr(0, 24)).c_str(), nullptr, 10);
  ms = std::clamp(ms, kYear1Ms, kYear9999Ms);

  uint64_t counter = 0;
  naming::RandomSource rnd = [&counter] { return 0x9e3779b97f4a7c15ull * ++counter; };
  naming::ObjectNameInput in;
  in.stream_name = "fuzz-stream";
  in.oldest_arrival_ms = ms;
  in.time_zone = naming::IsKnownTimeZone(tz) ? std::string_view(tz) : std::string_view();
  in.extension = ".gz";

  (void)naming::FormatTimestamp(prefix, ms, in.time_zone);
  if (!parts[4].empty()) {
    auto zone = naming::TimeZone::FromTzif("Fuzz/Zone", parts[4]);
    if (zone.ok()) (void)zone->Lookup(ms / 1000);
  }

  auto invalid = naming::ValidatePrefixes(prefix, error_prefix);
  auto evaluated = naming::EvaluatePrefix(prefix, in, "", rnd);
  if (evaluated.ok()) {
    FUZZ_CHECK(CodePoints(*evaluated) <= naming::kMaxEvaluatedPrefixChars,
               "evaluated prefix over the limit");
  } else if (!invalid && hydrant::utf8::IsValid(prefix)) {
    // Valid prefixes fail only by growing past the limit once evaluated.
    FUZZ_CHECK(evaluated.status().message().find("512") != std::string::npos,
               "a valid prefix failed to evaluate: " + evaluated.status().message());
  }
  auto key = naming::DataObjectKey(prefix, in, rnd);
  if (key.ok() && evaluated.ok()) {
    FUZZ_CHECK(key->size() > evaluated->size(), "a key no longer than its prefix");
  }
  if (error_prefix) {
    (void)naming::EvaluatePrefix(*error_prefix, in, "processing-failed", rnd);
    (void)naming::ErrorObjectKey(prefix, error_prefix, "processing-failed", in, rnd);
  }
  return 0;
}
