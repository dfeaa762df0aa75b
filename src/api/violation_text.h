#pragma once
// The wording of AWS's constraint violations, shared by the Firehose and Kinesis
// walkers (api/validation.cc, api/kinesis_validation.cc): both services answer in the
// Coral framework's words, "Value 'x' at 'path' failed to satisfy constraint: ...".
// Pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "api/java_patterns.h"

namespace hydrant::api {

// "Value 'V' at 'PATH' failed to satisfy constraint: C"; rendered_value nullopt prints
// "Value null".
std::string Violation(std::optional<std::string_view> rendered_value, std::string_view path,
                      std::string_view constraint);

std::string LengthMax(int64_t n);  // "Member must have length less than or equal to N"
std::string LengthMin(int64_t n);  // "Member must have length greater than or equal to N"
std::string ValueMax(int64_t n);   // "Member must have value less than or equal to N"
std::string ValueMin(int64_t n);   // "Member must have value greater than or equal to N"
// "Member must satisfy regular expression pattern: TEXT"
std::string PatternConstraint(const Pattern& p);
// "Member must satisfy enum value set: [A, B]"
std::string EnumConstraint(std::span<const std::string_view> values);
// How Java prints a blob of `size` bytes: "java.nio.HeapByteBuffer[pos=0 lim=N cap=N]".
std::string HeapByteBuffer(size_t size);
// A map's or list's element rule: "[Member must have length less than or equal to MAX,
// Member must have length greater than or equal to MIN(, Member must satisfy regular
// expression pattern: P)]".
std::string ElementLengthConstraints(int64_t min, int64_t max, const Pattern* pattern);

}  // namespace hydrant::api
