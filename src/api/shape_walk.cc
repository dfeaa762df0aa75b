#include "api/shape_walk.h"

#include <boost/json.hpp>

#include "api/violation_text.h"

namespace hydrant::api {

std::string LowerFirst(std::string_view name) {
  std::string s(name);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

std::optional<ApiError> ContainerError(const boost::json::value& v) {
  if (v.is_array()) return SerializationError(std::string(kListNotExpected));
  if (v.is_object()) return SerializationError(std::string(kStructNotExpected));
  return std::nullopt;
}

std::optional<ApiError> CheckContainerTypes(const model::Shape& shape, const boost::json::value& v,
                                            TypeChecker check) {
  if (shape.kind == model::Kind::kList) {
    if (v.is_object()) return SerializationError(std::string(kStructNotExpected));
    if (!v.is_array()) return SerializationError("Expected list or null");
    for (const boost::json::value& e : v.get_array()) {
      if (e.is_null()) continue;
      if (auto err = check(*shape.element, e)) return err;
    }
    return std::nullopt;
  }
  if (v.is_array()) return SerializationError(std::string(kListNotExpected));
  if (!v.is_object()) return SerializationError("Expected map or null");
  for (const auto& kv : v.get_object()) {
    if (kv.value().is_null()) continue;
    if (auto err = check(*shape.element, kv.value())) return err;
  }
  return std::nullopt;
}

void CheckMembers(const model::Shape& shape, const boost::json::object& o,
                  const std::string& prefix, Violations* out, ValueChecker check) {
  for (const model::Member& m : shape.members) {
    std::string path = prefix.empty() ? LowerFirst(m.name) : prefix + "." + LowerFirst(m.name);
    const boost::json::value* child = o.if_contains(m.name);
    if (child == nullptr || child->is_null()) {
      if (m.required) out->Add(NullViolation(path));
      continue;
    }
    check(*m.shape, *child, path, out);
  }
}

void CheckBlobLength(const model::Shape& shape, std::string_view encoded, const std::string& path,
                     Violations* out) {
  size_t size = Base64DecodedSize(encoded);
  if (shape.max != model::kNoLimit && size > static_cast<size_t>(shape.max)) {
    out->Add(Violation(HeapByteBuffer(size), path, LengthMax(shape.max)));
  }
}

}  // namespace hydrant::api
