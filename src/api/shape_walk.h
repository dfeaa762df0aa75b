#pragma once
// The pieces of a service-model walk that the Firehose and Kinesis validators
// (api/validation.cc, api/kinesis_validation.cc) share: member paths, the
// container-type errors both deserializers give, and the required-member walk of a
// structure. Pure functions.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "api/errors.h"
#include "api/model_shape.h"
#include "api/validation.h"

namespace hydrant::api {

inline constexpr std::string_view kListNotExpected = "Start of list found where not expected";
inline constexpr std::string_view kStructNotExpected =
    "Start of structure or map found where not expected.";

// A member's name as AWS prints it in a path: "DeliveryStreamName" -> "deliveryStreamName".
std::string LowerFirst(std::string_view name);

// The SerializationException for a JSON array or object where a scalar was expected;
// nullopt for a scalar.
std::optional<ApiError> ContainerError(const boost::json::value& v);

// The JSON-type check of one present, non-null value of `shape`.
using TypeChecker = std::optional<ApiError> (*)(const model::Shape& shape,
                                                const boost::json::value& v);

// The type check of a list or map: its own type ("Expected list or null", "Expected map
// or null", or the container errors), then each non-null element's through `check`.
std::optional<ApiError> CheckContainerTypes(const model::Shape& shape, const boost::json::value& v,
                                            TypeChecker check);

// Checks one present, non-null value of `shape` at `path`.
using ValueChecker = void (*)(const model::Shape& shape, const boost::json::value& v,
                              const std::string& path, Violations* out);

// Walks `shape`'s members in table order: a required member that is absent or null is
// "Value null at 'PATH' ... Member must not be null"; a present one goes to `check`.
// Paths are prefix.lowerCamelName.
void CheckMembers(const model::Shape& shape, const boost::json::object& o,
                  const std::string& prefix, Violations* out, ValueChecker check);

// A blob (base64 `encoded`, already checked by CheckBase64) longer than shape.max
// decoded bytes: "Value 'java.nio.HeapByteBuffer[pos=0 lim=N cap=N]' at 'PATH' ...".
void CheckBlobLength(const model::Shape& shape, std::string_view encoded, const std::string& path,
                     Violations* out);

}  // namespace hydrant::api
