#include "api/validation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <boost/json.hpp>

#include "api/java_patterns.h"
#include "common/base64.h"
#include "api/service_model.h"
#include "api/shape_walk.h"
#include "api/violation_text.h"

namespace hydrant::api {
namespace {

namespace json = boost::json;

using namespace model;  // NOLINT: the table's names read as the model's

// ---------------------------------------------------------------------------
// Phase 1: JSON types, as AWS's deserializer reports them (SerializationException).

std::string_view ScalarToken(const json::value& v) {
  if (v.is_string()) return "STRING_VALUE";
  if (v.is_bool()) return v.get_bool() ? "TRUE_VALUE" : "FALSE_VALUE";
  return "NUMBER_VALUE";
}

bool IsIntegral(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  if (!v.is_double()) return false;
  double d = v.get_double();
  return std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18;
}

std::optional<ApiError> CheckTypes(const Shape& shape, const json::value& v);

// Members in document order, as a streaming deserializer meets them.
std::optional<ApiError> CheckStructureTypes(const Shape& shape, const json::object& o) {
  for (const auto& kv : o) {
    if (kv.value().is_null()) continue;
    std::string_view key(kv.key().data(), kv.key().size());
    for (const Member& m : shape.members) {
      if (m.name == key) {
        if (auto err = CheckTypes(*m.shape, kv.value())) return err;
        break;
      }
    }
  }
  return std::nullopt;
}

std::optional<ApiError> CheckTypes(const Shape& shape, const json::value& v) {
  switch (shape.kind) {
    case Kind::kStructure:
    case Kind::kOpaqueStructure:
      if (v.is_array()) return SerializationError(std::string(kListNotExpected));
      if (!v.is_object()) return SerializationError("Expected null");
      if (shape.kind == Kind::kOpaqueStructure) return std::nullopt;
      return CheckStructureTypes(shape, v.get_object());
    case Kind::kString:
      if (v.is_string()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return SerializationError(std::string(ScalarToken(v)) + " can not be converted to a String");
    case Kind::kInteger:
      if (IsIntegral(v)) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return SerializationError(std::string(ScalarToken(v)) +
                                " can not be converted to an Integer");
    case Kind::kDouble:
      if (v.is_number()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return SerializationError(std::string(ScalarToken(v)) + " can not be converted to a Double");
    case Kind::kBoolean:
      if (v.is_bool()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      if (v.is_string())
        return SerializationError("STRING_VALUE can not be converted to an Boolean");
      return SerializationError("NUMBER_VALUE can not be converted to a Boolean");
    case Kind::kBlob:
      if (v.is_string()) return CheckBase64(v.get_string());
      if (auto err = ContainerError(v)) return err;
      return SerializationError(std::string(ScalarToken(v)) + " can not be converted to a Blob");
    case Kind::kTimestamp:  // not in the Firehose model's inputs
      return std::nullopt;
    case Kind::kList:
    case Kind::kMap:
      return CheckContainerTypes(shape, v, CheckTypes);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Phase 2: constraints (ValidationException).

std::string FormatDouble(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // Java prints 1.0
  return s;
}

std::string FormatInteger(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  return std::to_string(static_cast<int64_t>(v.get_double()));
}

// The value as AWS's Java service prints it in a violation (toString()).
std::string Render(const Shape& shape, const json::value& v) {
  switch (shape.kind) {
    case Kind::kString:
      return std::string(v.get_string());
    case Kind::kInteger:
      return FormatInteger(v);
    case Kind::kDouble:
      return FormatDouble(v.to_number<double>());
    case Kind::kBoolean:
      return v.get_bool() ? "true" : "false";
    case Kind::kTimestamp:
      return FormatDouble(v.to_number<double>());
    case Kind::kBlob:
      return HeapByteBuffer(Base64DecodedSize(v.get_string()));
    case Kind::kList: {
      std::string out = "[";
      bool first = true;
      for (const json::value& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        out += e.is_null() ? "null" : Render(*shape.element, e);
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += std::string(kv.key()) + "=" +
               (kv.value().is_null() ? "null" : Render(*shape.element, kv.value()));
      }
      return out + "}";
    }
    case Kind::kStructure: {
      std::string out = std::string(shape.name) + "(";
      const json::object& o = v.get_object();
      bool first = true;
      for (const Member& m : shape.members) {
        if (!first) out += ", ";
        first = false;
        const json::value* child = o.if_contains(m.name);
        out += LowerFirst(m.name) + "=" +
               (child == nullptr || child->is_null() ? "null" : Render(*m.shape, *child));
      }
      return out + ")";
    }
    case Kind::kOpaqueStructure:
      return std::string(shape.name) + "()";
  }
  return {};
}

// Every constraint of a string shape that `s` breaks, in AWS's order: length, then
// pattern, then enum.
std::vector<std::string> StringConstraintsBroken(const Shape& shape, std::string_view s) {
  std::vector<std::string> broken;
  int64_t len = CodePointLength(s);
  if (shape.min != kNoLimit && len < shape.min) broken.push_back(LengthMin(shape.min));
  if (shape.max != kNoLimit && len > shape.max) broken.push_back(LengthMax(shape.max));
  if (shape.pattern != nullptr && !shape.pattern->matches(s)) {
    broken.push_back(PatternConstraint(*shape.pattern));
  }
  if (!shape.enum_values.empty() &&
      std::find(shape.enum_values.begin(), shape.enum_values.end(), s) == shape.enum_values.end()) {
    broken.push_back(EnumConstraint(shape.enum_values));
  }
  return broken;
}

void CheckValue(const Shape& shape, const json::value& v, const std::string& path,
                Violations* out) {
  switch (shape.kind) {
    case Kind::kStructure:
      CheckMembers(shape, v.get_object(), path, out, CheckValue);
      return;
    case Kind::kOpaqueStructure:
      return;
    case Kind::kString: {
      std::string_view s = v.get_string();
      for (const std::string& c : StringConstraintsBroken(shape, s))
        out->Add(Violation(s, path, c));
      return;
    }
    case Kind::kInteger:
    case Kind::kDouble: {
      double d = v.to_number<double>();
      if (shape.min != kNoLimit && d < static_cast<double>(shape.min)) {
        out->Add(Violation(Render(shape, v), path, ValueMin(shape.min)));
      }
      if (shape.max != kNoLimit && d > static_cast<double>(shape.max)) {
        out->Add(Violation(Render(shape, v), path, ValueMax(shape.max)));
      }
      return;
    }
    case Kind::kBoolean:
    case Kind::kTimestamp:
      return;
    case Kind::kBlob:
      CheckBlobLength(shape, v.get_string(), path, out);
      return;
    case Kind::kList: {
      const json::array& a = v.get_array();
      auto n = static_cast<int64_t>(a.size());
      if (shape.min != kNoLimit && n < shape.min) {
        out->Add(Violation(Render(shape, v), path, LengthMin(shape.min)));
      }
      if (shape.max != kNoLimit && n > shape.max) {
        out->Add(Violation(Render(shape, v), path, LengthMax(shape.max)));
      }
      for (size_t i = 0; i < a.size(); ++i) {
        std::string element_path = path + "." + std::to_string(i + 1) + ".member";
        // A null element would reach the service as a null member; AWS answers it
        // with an InternalFailure, hydrant with the model's "not null" wording.
        if (a[i].is_null()) {
          out->Add(NullViolation(element_path));
          continue;
        }
        CheckValue(*shape.element, a[i], element_path, out);
      }
      return;
    }
    case Kind::kMap: {
      // AWS reports a map's key and value constraints once each, listing every
      // constraint of the key (value) shape, whichever of them failed.
      const json::object& o = v.get_object();
      bool bad_key = false;
      bool bad_value = false;
      for (const auto& kv : o) {
        std::string_view key(kv.key().data(), kv.key().size());
        const json::value& child = kv.value();
        if (!StringConstraintsBroken(*shape.key, key).empty()) bad_key = true;
        if (child.is_null() ||
            (child.is_string() &&
             !StringConstraintsBroken(*shape.element, child.get_string()).empty())) {
          bad_value = true;
        }
      }
      auto all_constraints = [](const Shape& s) {
        return ElementLengthConstraints(s.min, s.max, s.pattern);
      };
      if (bad_key) {
        out->Add(Violation(Render(shape, v), path,
                           "Map keys must satisfy constraint: " + all_constraints(*shape.key)));
      }
      if (bad_value) {
        out->Add(
            Violation(Render(shape, v), path,
                      "Map value must satisfy constraint: " + all_constraints(*shape.element)));
      }
      return;
    }
  }
}

const Shape* FindOperation(std::string_view op) {
  for (const Operation& o : kOperations) {
    if (o.name == op) return o.input;
  }
  return nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------

void Violations::Add(std::string violation) {
  if (items_.size() < kMaxValidationErrors) items_.push_back(std::move(violation));
}

std::optional<ApiError> Violations::ToError() const {
  if (items_.empty()) return std::nullopt;
  std::string msg =
      std::to_string(items_.size()) +
      (items_.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (size_t i = 0; i < items_.size(); ++i) {
    if (i > 0) msg += "; ";
    msg += items_[i];
  }
  return Validation(std::move(msg));
}

std::string NullViolation(std::string_view path) {
  return Violation(std::nullopt, path, "Member must not be null");
}

void CheckStreamName(std::string_view name, Violations* out, std::string_view path) {
  for (const std::string& c : StringConstraintsBroken(kDeliveryStreamName, name)) {
    out->Add(Violation(name, path, c));
  }
}

std::optional<ApiError> CheckStreamName(std::string_view name, std::string_view path) {
  Violations v;
  CheckStreamName(name, &v, path);
  return v.ToError();
}

std::string RecordDataPath(size_t index) {
  if (index == kNoRecordIndex) return "record.data";
  return "records." + std::to_string(index + 1) + ".member.data";
}

void AddRecordTooLarge(size_t index, size_t size, Violations* out) {
  out->Add(Violation(HeapByteBuffer(size), RecordDataPath(index), LengthMax(kData.max)));
}

ApiError RecordTooLarge(size_t index, size_t size) {
  Violations v;
  AddRecordTooLarge(index, size, &v);
  return *v.ToError();
}

ApiError RecordDataMissing(size_t index) {
  Violations v;
  v.Add(NullViolation(RecordDataPath(index)));
  return *v.ToError();
}

void AddTooManyRecords(std::span<const size_t> decoded_sizes, Violations* out) {
  std::string list = "[";
  for (size_t i = 0; i < decoded_sizes.size(); ++i) {
    if (i > 0) list += ", ";
    list += "Record(data=" + HeapByteBuffer(decoded_sizes[i]) + ")";
  }
  list += "]";
  out->Add(Violation(list, "records", LengthMax(kRecordList.max)));
}

ApiError TooManyRecords(std::span<const size_t> decoded_sizes) {
  Violations v;
  AddTooManyRecords(decoded_sizes, &v);
  return *v.ToError();
}

ApiError NoRecords() {
  Violations v;
  v.Add(Violation("[]", "records", LengthMin(kRecordList.min)));
  return *v.ToError();
}

ApiError BatchTooLarge(size_t /*total_decoded_bytes*/) {
  return InvalidArgument("Records size exceeds 4 MB limit");
}

std::optional<ApiError> CheckBase64(std::string_view s) {
  auto fail = [&](std::string_view why) {
    std::string msg = "'";
    msg += s;
    msg += "' can not be converted to a Blob: ";
    msg += why;
    return SerializationError(std::move(msg));
  };
  if (s.size() % 4 != 0) {
    return fail("Base64 encoded length is expected a multiple of 4 bytes but found: " +
                std::to_string(s.size()));
  }
  size_t first_pad = s.find('=');
  size_t data_end = first_pad == std::string_view::npos ? s.size() : first_pad;
  for (size_t i = 0; i < data_end; ++i) {
    if (base64::AlphabetValue(s[i]) < 0) return fail(std::string("Invalid Base64 character: '") + s[i] + "'");
  }
  // Padding only at the end ("=" followed by anything but "=" is an invalid '='),
  // at most two characters.
  size_t pad = s.size() - data_end;
  if (s.find_first_not_of('=', data_end) != std::string_view::npos || pad > 2) {
    return fail("Invalid Base64 character: '='");
  }
  if (pad > 0) {
    // The last data character must not carry bits beyond the encoded bytes.
    int last = base64::AlphabetValue(s[s.size() - pad - 1]);
    int mask = pad == 1 ? 0x3 : 0xF;
    if ((last & mask) != 0) return fail("Invalid last non-pad Base64 character dectected");
  }
  return std::nullopt;
}

std::optional<ApiError> CheckBase64Shape(std::string_view s) {
  if (s.size() % 4 != 0) return CheckBase64(s);
  size_t pad = 0;
  while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    int last = s.size() > pad ? base64::AlphabetValue(s[s.size() - pad - 1]) : -1;
    int mask = pad == 1 ? 0x3 : 0xF;
    if (last < 0 || (last & mask) != 0) return CheckBase64(s);
  }
  return std::nullopt;
}

size_t Base64DecodedSize(std::string_view s) {
  size_t pad = 0;
  while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  return s.size() / 4 * 3 - pad;
}

bool MatchesTagKeyPattern(std::string_view s) { return kTagKeyPattern.matches(s); }
bool MatchesTagValuePattern(std::string_view s) { return kTagValuePattern.matches(s); }

std::optional<ApiError> ValidateRequest(std::string_view op, const boost::json::object& input) {
  const Shape* shape = FindOperation(op);
  if (shape == nullptr) {
    return ApiError{"UnknownOperationException",
                    "Operation " + std::string(op) + " is not supported."};
  }
  if (auto err = CheckStructureTypes(*shape, input)) return err;
  Violations v;
  CheckMembers(*shape, input, "", &v, CheckValue);
  if (auto err = v.ToError()) return err;
  // The request-size rule AWS checks after the model's constraints.
  if (op == "PutRecordBatch") {
    size_t total = 0;
    for (const json::value& r : input.at("Records").get_array()) {
      if (!r.is_object()) continue;
      if (const json::value* d = r.get_object().if_contains("Data"); d && d->is_string()) {
        total += Base64DecodedSize(d->get_string());
      }
    }
    if (total > kMaxBatchBytes) return BatchTooLarge(total);
  }
  return std::nullopt;
}

std::optional<ApiError> ValidateRequest(std::string_view op, const boost::json::value& body) {
  if (body.is_object()) return ValidateRequest(op, body.get_object());
  if (body.is_array()) return SerializationError(std::string(kListNotExpected));
  return SerializationError("Request body must be a JSON object.");
}

}  // namespace hydrant::api
