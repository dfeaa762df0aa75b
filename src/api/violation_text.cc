#include "api/violation_text.h"

namespace hydrant::api {

std::string Violation(std::optional<std::string_view> rendered_value, std::string_view path,
                      std::string_view constraint) {
  std::string out = "Value ";
  if (!rendered_value) {
    out += "null";
  } else {
    out += "'";
    out += *rendered_value;
    out += "'";
  }
  out += " at '";
  out += path;
  out += "' failed to satisfy constraint: ";
  out += constraint;
  return out;
}

std::string LengthMax(int64_t n) {
  return "Member must have length less than or equal to " + std::to_string(n);
}
std::string LengthMin(int64_t n) {
  return "Member must have length greater than or equal to " + std::to_string(n);
}
std::string ValueMax(int64_t n) {
  return "Member must have value less than or equal to " + std::to_string(n);
}
std::string ValueMin(int64_t n) {
  return "Member must have value greater than or equal to " + std::to_string(n);
}
std::string PatternConstraint(const Pattern& p) {
  return "Member must satisfy regular expression pattern: " + std::string(p.text);
}
std::string EnumConstraint(std::span<const std::string_view> values) {
  std::string out = "Member must satisfy enum value set: [";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += values[i];
  }
  return out + "]";
}

std::string HeapByteBuffer(size_t size) {
  std::string n = std::to_string(size);
  return "java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "]";
}

std::string ElementLengthConstraints(int64_t min, int64_t max, const Pattern* pattern) {
  std::string c = "[" + LengthMax(max) + ", " + LengthMin(min);
  if (pattern != nullptr) c += ", " + PatternConstraint(*pattern);
  return c + "]";
}

}  // namespace hydrant::api
