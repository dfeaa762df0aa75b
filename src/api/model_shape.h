#pragma once
// The shape table types both service models are written in (api/service_model.h for
// Firehose, api/kinesis_model.h for Kinesis): an input shape is a tree of Shapes whose
// members, lengths, patterns, ranges and enums come from the botocore model. Pure
// constexpr data; the walkers (api/validation.cc, api/kinesis_validation.cc) give the
// rules their service's wording.

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "api/java_patterns.h"

namespace hydrant::api::model {

enum class Kind {
  kStructure,
  kOpaqueStructure,  // recognised (must be an object) but not described further
  kString,
  kInteger,
  kDouble,
  kBoolean,
  kBlob,
  kTimestamp,  // epoch seconds (a JSON number)
  kList,
  kMap,
};

struct Shape;

struct Member {
  std::string_view name;  // wire name, e.g. "DeliveryStreamName"
  const Shape* shape;
  bool required = false;
};

constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::min();

struct Shape {
  Kind kind;
  std::string_view name;   // model shape name; AWS prints it when rendering structures
  int64_t min = kNoLimit;  // length (strings, blobs, lists) or value (numbers)
  int64_t max = kNoLimit;
  const Pattern* pattern = nullptr;
  std::span<const std::string_view> enum_values = {};  // in the order AWS prints them
  std::span<const Member> members = {};
  const Shape* element = nullptr;  // list member, map value
  const Shape* key = nullptr;      // map key
};

constexpr Shape Str(std::string_view name, int64_t min, int64_t max, const Pattern* p) {
  return Shape{.kind = Kind::kString, .name = name, .min = min, .max = max, .pattern = p};
}
constexpr Shape Enum(std::string_view name, std::span<const std::string_view> values) {
  return Shape{.kind = Kind::kString, .name = name, .enum_values = values};
}
constexpr Shape Int(std::string_view name, int64_t min, int64_t max = kNoLimit) {
  return Shape{.kind = Kind::kInteger, .name = name, .min = min, .max = max};
}
constexpr Shape Struct(std::string_view name, std::span<const Member> members) {
  return Shape{.kind = Kind::kStructure, .name = name, .members = members};
}
constexpr Shape Opaque(std::string_view name) {
  return Shape{.kind = Kind::kOpaqueStructure, .name = name};
}
constexpr Shape List(std::string_view name, const Shape* element, int64_t min = kNoLimit,
                     int64_t max = kNoLimit) {
  return Shape{.kind = Kind::kList, .name = name, .min = min, .max = max, .element = element};
}

constexpr Shape Bool(std::string_view name) { return Shape{.kind = Kind::kBoolean, .name = name}; }
constexpr Shape Timestamp(std::string_view name) {
  return Shape{.kind = Kind::kTimestamp, .name = name};
}
constexpr Shape Blob(std::string_view name, int64_t min, int64_t max) {
  return Shape{.kind = Kind::kBlob, .name = name, .min = min, .max = max};
}
constexpr Shape Map(std::string_view name, const Shape* key, const Shape* value, int64_t min,
                    int64_t max) {
  return Shape{
      .kind = Kind::kMap, .name = name, .min = min, .max = max, .element = value, .key = key};
}

}  // namespace hydrant::api::model
