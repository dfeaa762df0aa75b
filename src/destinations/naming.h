#pragma once
// Firehose's S3 object naming: prefix expressions (!{timestamp:...},
// !{firehose:random-string}, !{firehose:error-output-type}), the default
// YYYY/MM/dd/HH/ prefix, the rules that validate Prefix and ErrorOutputPrefix,
// and the object name STREAM-VERSION-yyyy-MM-dd-HH-mm-ss-UUID[ext].
// Behaviour and its sources: docs/object-naming.md. Pure functions, no I/O
// except reading time-zone rules from /usr/share/zoneinfo (cached).
// naming.cc parses and evaluates prefixes and builds keys; timestamp_format.{h,cc}
// compile and format Java DateTimeFormatter patterns (FormatTimestamp).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace hydrant::naming {

// Checks Prefix and ErrorOutputPrefix (nullopt = not given) as CreateDeliveryStream
// and UpdateDestination do. Returns the InvalidArgumentException message AWS would
// give, or nullopt when valid. Checks: "!{" only inside well-formed expressions,
// known namespaces, valid timestamp patterns, Prefix must not use
// firehose:error-output-type, an ErrorOutputPrefix with expressions must use it,
// ErrorOutputPrefix may be absent only if Prefix has no expressions,
// no partitionKeyFrom* (dynamic partitioning is not supported).
std::optional<std::string> ValidatePrefixes(std::string_view prefix,
                                            std::optional<std::string_view> error_output_prefix);

// True when `tz` is empty (UTC) or names a zone in the system's tz database.
bool IsKnownTimeZone(std::string_view tz);

// Formats `epoch_ms` in time zone `tz` ("" = UTC) with a Java DateTimeFormatter
// pattern (letters y u M L d H h m s S a E D etc., 'quoted literals', '' for a quote),
// as JDK 17 does with Locale.US (weeks start on Sunday). Error (InvalidArgument) for an
// unsupported or malformed pattern (the message names the pattern and gives Java's reason)
// or an unknown zone. Supported letters and deviations: docs/object-naming.md.
Result<std::string> FormatTimestamp(std::string_view pattern, int64_t epoch_ms,
                                    std::string_view tz);

// Source of randomness for !{firehose:random-string} and the UUID; injectable for tests.
// Must be safe to call from the thread that evaluates the prefix.
using RandomSource = std::function<uint64_t()>;
// Thread-safe (one mutex-guarded 64-bit Mersenne Twister seeded from std::random_device).
RandomSource DefaultRandom();

// An evaluated Prefix or ErrorOutputPrefix may not exceed this many characters (code points).
inline constexpr size_t kMaxEvaluatedPrefixChars = 512;

// !{firehose:random-string}: 11 lowercase hex characters from one draw of `rnd`.
std::string RandomString(const RandomSource& rnd);
// A version-4 UUID, lowercase 8-4-4-4-12, from two draws of `rnd`.
std::string RandomUuid(const RandomSource& rnd);

struct ObjectNameInput {
  std::string_view stream_name;
  int64_t version_id = 1;
  int64_t oldest_arrival_ms = 0;  // approximate arrival time of the batch's oldest record
  std::string_view time_zone;     // CustomTimeZone ("" = UTC)
  std::string_view extension;     // FileExtension if set, else the compression's extension
};

// The object name after the prefix: STREAM-VERSION-yyyy-MM-dd-HH-mm-ss-UUID + extension,
// the time being in.oldest_arrival_ms in in.time_zone (one UUID draw of `rnd`).
Result<std::string> ObjectName(const ObjectNameInput& in, const RandomSource& rnd);

// Evaluates `prefix` (expressions, default-timestamp rule) for a batch.
// error_output_type is substituted for !{firehose:error-output-type} ("" when not an error object).
// With error_output_type "" the prefix is a data Prefix: without a !{timestamp:...} expression it
// gets !{timestamp:yyyy/MM/dd/HH/} appended ("" gives the default YYYY/MM/dd/HH/). With a
// non-empty error_output_type it is an ErrorOutputPrefix and is evaluated as given.
// Random draws happen left to right, one per !{firehose:random-string}.
// InvalidArgument for a prefix ValidatePrefixes would reject, or one longer than
// kMaxEvaluatedPrefixChars once evaluated.
Result<std::string> EvaluatePrefix(std::string_view prefix, const ObjectNameInput& in,
                                   std::string_view error_output_type, const RandomSource& rnd);

// Full key of a delivered object: evaluated Prefix + STREAM-VERSION-yyyy-MM-dd-HH-mm-ss-UUID + ext.
Result<std::string> DataObjectKey(std::string_view prefix, const ObjectNameInput& in,
                                  const RandomSource& rnd);

// Full key of an error object (error_output_type e.g. "processing-failed"): the evaluated
// ErrorOutputPrefix if given (an empty one counts as not given), else Prefix-without-default +
// TYPE/YYYY/MM/dd/HH/, then the object name. See docs/object-naming.md.
Result<std::string> ErrorObjectKey(std::string_view prefix,
                                   std::optional<std::string_view> error_output_prefix,
                                   std::string_view error_output_type, const ObjectNameInput& in,
                                   const RandomSource& rnd);

}  // namespace hydrant::naming
