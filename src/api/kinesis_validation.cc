#include "api/kinesis_validation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <boost/json.hpp>

#include "api/kinesis_model.h"
#include "api/shape_walk.h"
#include "api/validation.h"
#include "api/violation_text.h"

namespace hydrant::api {
namespace {

namespace json = boost::json;
using model::Kind;
using model::kNoLimit;
using model::Member;
using model::Shape;

// ---------------------------------------------------------------------------
// Phase 1: JSON types (SerializationException), in the words of Kinesis's Coral
// deserializer as kinesalite recorded them.

constexpr std::string_view kJavaBoolean = "class java.lang.Boolean";
constexpr std::string_view kJavaString = "class java.lang.String";
constexpr std::string_view kJavaNumber = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";

ApiError Serialization(std::string_view message) { return SerializationError(std::string(message)); }

// "<java class of v> can not be converted to <target>" for a scalar v.
ApiError NotConvertible(const json::value& v, std::string_view target) {
  std::string_view cls = v.is_bool() ? kJavaBoolean : v.is_string() ? kJavaString : kJavaNumber;
  return Serialization(std::string(cls) + " can not be converted to " + std::string(target));
}

std::optional<ApiError> CheckTypes(const Shape& shape, const json::value& v);

std::optional<ApiError> CheckMemberTypes(const Shape& shape, const json::object& o) {
  for (const Member& m : shape.members) {
    const json::value* child = o.if_contains(m.name);
    if (child == nullptr || child->is_null()) continue;
    if (auto err = CheckTypes(*m.shape, *child)) return err;
  }
  return std::nullopt;
}

std::optional<ApiError> CheckTypes(const Shape& shape, const json::value& v) {
  switch (shape.kind) {
    case Kind::kStructure:
    case Kind::kOpaqueStructure:
      if (v.is_array()) return Serialization(kListNotExpected);
      if (!v.is_object()) return Serialization("Expected null");
      return CheckMemberTypes(shape, v.get_object());
    case Kind::kString:
      if (v.is_string()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return NotConvertible(v, "an String");
    case Kind::kInteger:
    case Kind::kDouble:
      if (v.is_number()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return NotConvertible(v, shape.kind == Kind::kInteger ? "an Integer" : "an Double");
    case Kind::kBoolean:
      if (v.is_bool()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      if (v.is_string()) {
        // Kinesis echoes the string upper-cased.
        std::string upper(v.get_string());
        for (char& c : upper) {
          if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
        return Serialization("'" + upper + "' can not be converted to an Boolean");
      }
      return NotConvertible(v, "an Boolean");
    case Kind::kBlob:
      if (v.is_string()) return CheckBase64(v.get_string());
      if (auto err = ContainerError(v)) return err;
      return NotConvertible(v, "a Blob");
    case Kind::kTimestamp:
      if (v.is_number()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return NotConvertible(v, "milliseconds since epoch");
    case Kind::kList:
    case Kind::kMap:
      return CheckContainerTypes(shape, v, CheckTypes);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Phase 2: constraints (ValidationException).

// An Integer as Kinesis reads it: a fraction is truncated toward negative infinity and
// anything above 2^31-1 becomes 2^31-1 (what kinesalite recorded of AWS).
int64_t KinesisInteger(const json::value& v) {
  constexpr int64_t kIntMax = 2147483647;
  if (v.is_int64()) return std::min(v.get_int64(), kIntMax);
  if (v.is_uint64()) return kIntMax;
  double d = std::floor(v.get_double());
  if (!(d < static_cast<double>(kIntMax))) return kIntMax;  // also NaN
  if (d < -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

// How AWS prints a list: its elements' toString(). A structure element prints as a
// Java object identity (kinesalite's recording of one: the hash is not reproducible).
std::string RenderList(const Shape& shape, const json::array& a) {
  std::string out = "[";
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0) out += ", ";
    if (shape.element->kind == Kind::kStructure) {
      out += "com.amazonaws.kinesis.v20131202." + std::string(shape.element->name) + "@c965e310";
    } else if (a[i].is_string()) {
      out += a[i].get_string();
    }
  }
  return out + "]";
}

std::string RenderMap(const json::object& o) {
  std::string out = "{";
  bool first = true;
  for (const auto& kv : o) {
    if (!first) out += ", ";
    first = false;
    out += std::string(kv.key()) + "=";
    out += kv.value().is_string() ? std::string(kv.value().get_string()) : std::string("null");
  }
  return out + "}";
}

bool LengthBroken(const Shape& shape, int64_t len) {
  return (shape.min != kNoLimit && len < shape.min) || (shape.max != kNoLimit && len > shape.max);
}

// Length constraints of a list or map with `n` elements, min first.
void CheckCount(const Shape& shape, int64_t n, std::string_view rendered, const std::string& path,
                Violations* out) {
  if (shape.min != kNoLimit && n < shape.min) out->Add(Violation(rendered, path, LengthMin(shape.min)));
  if (shape.max != kNoLimit && n > shape.max) out->Add(Violation(rendered, path, LengthMax(shape.max)));
}

void CheckValue(const Shape& shape, const json::value& v, const std::string& path,
                Violations* out) {
  switch (shape.kind) {
    case Kind::kStructure:
      CheckMembers(shape, v.get_object(), path, out, CheckValue);
      return;
    case Kind::kString: {
      // Kinesis checks a string's pattern before its length.
      std::string_view s = v.get_string();
      if (shape.pattern != nullptr && !shape.pattern->matches(s)) {
        out->Add(Violation(s, path, PatternConstraint(*shape.pattern)));
      }
      int64_t len = Utf16Length(s);
      if (shape.min != kNoLimit && len < shape.min) out->Add(Violation(s, path, LengthMin(shape.min)));
      if (shape.max != kNoLimit && len > shape.max) out->Add(Violation(s, path, LengthMax(shape.max)));
      if (!shape.enum_values.empty() &&
          std::find(shape.enum_values.begin(), shape.enum_values.end(), s) ==
              shape.enum_values.end()) {
        out->Add(Violation(s, path, EnumConstraint(shape.enum_values)));
      }
      return;
    }
    case Kind::kInteger:
    case Kind::kDouble: {
      int64_t n = KinesisInteger(v);
      std::string rendered = std::to_string(n);
      if (shape.min != kNoLimit && n < shape.min) out->Add(Violation(rendered, path, ValueMin(shape.min)));
      if (shape.max != kNoLimit && n > shape.max) out->Add(Violation(rendered, path, ValueMax(shape.max)));
      return;
    }
    case Kind::kBlob:
      CheckBlobLength(shape, v.get_string(), path, out);
      return;
    case Kind::kList: {
      const json::array& a = v.get_array();
      CheckCount(shape, static_cast<int64_t>(a.size()), RenderList(shape, a), path, out);
      const Shape& element = *shape.element;
      if (element.kind == Kind::kString) {
        // A list of strings is checked as a whole: one violation at the list's path
        // naming every length rule of the element shape.
        bool broken = false;
        for (const json::value& e : a) {
          if (e.is_string() && LengthBroken(element, Utf16Length(e.get_string()))) broken = true;
        }
        if (broken) {
          out->Add(Violation(RenderList(shape, a), path,
                             "Member must satisfy constraint: " +
                                 ElementLengthConstraints(element.min, element.max, nullptr)));
        }
        return;
      }
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].is_null()) continue;
        CheckValue(element, a[i], path + "." + std::to_string(i + 1) + ".member", out);
      }
      return;
    }
    case Kind::kMap: {
      // A map's keys and values are checked as wholes, like a list of strings.
      const json::object& o = v.get_object();
      std::string rendered = RenderMap(o);
      CheckCount(shape, static_cast<int64_t>(o.size()), rendered, path, out);
      bool bad_key = false;
      bool bad_value = false;
      for (const auto& kv : o) {
        std::string_view key(kv.key().data(), kv.key().size());
        if (LengthBroken(*shape.key, Utf16Length(key))) bad_key = true;
        if (kv.value().is_string() &&
            LengthBroken(*shape.element, Utf16Length(kv.value().get_string()))) {
          bad_value = true;
        }
      }
      if (bad_key) {
        out->Add(Violation(rendered, path,
                           "Map keys must satisfy constraint: " +
                               ElementLengthConstraints(shape.key->min, shape.key->max, nullptr)));
      }
      if (bad_value) {
        out->Add(Violation(rendered, path,
                           "Map value must satisfy constraint: " +
                               ElementLengthConstraints(shape.element->min, shape.element->max,
                                                        nullptr)));
      }
      return;
    }
    case Kind::kOpaqueStructure:
    case Kind::kBoolean:
    case Kind::kTimestamp:
      return;
  }
}

const Shape* FindOperation(std::string_view op) {
  for (const kinesis_model::Operation& o : kinesis_model::kOperations) {
    if (o.name == op) return &o.input;
  }
  return nullptr;
}

constexpr auto kOperationNames = [] {
  std::array<std::string_view, std::size(kinesis_model::kOperations)> names{};
  for (size_t i = 0; i < names.size(); ++i) names[i] = kinesis_model::kOperations[i].name;
  return names;
}();

}  // namespace

int64_t Utf16Length(std::string_view s) {
  int64_t n = 0;
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if ((b & 0xC0) != 0x80) ++n;  // a lead byte starts a code point
    if (b >= 0xF0) ++n;           // four-byte sequences are surrogate pairs in UTF-16
  }
  return n;
}

std::span<const std::string_view> KinesisOperations() { return kOperationNames; }

std::optional<ApiError> ValidateKinesisRequest(std::string_view op,
                                               const boost::json::object& input) {
  const Shape* shape = FindOperation(op);
  if (shape == nullptr) return ApiError{"UnknownOperationException", ""};
  if (auto err = CheckMemberTypes(*shape, input)) return err;
  Violations v;
  CheckMembers(*shape, input, "", &v, CheckValue);
  return v.ToError();
}

std::optional<ApiError> ValidateKinesisRequest(std::string_view op,
                                               const boost::json::value& body) {
  if (body.is_object()) return ValidateKinesisRequest(op, body.get_object());
  if (FindOperation(op) == nullptr) return ApiError{"UnknownOperationException", ""};
  if (body.is_array()) return Serialization(kListNotExpected);
  return Serialization("");
}

}  // namespace hydrant::api
