#pragma once
// Service-model validation of Firehose requests (shapes from
// botocore/data/firehose/2015-08-04/service-2.json, summarised in
// ../shared/reference/firehose-spec.md section 2): required members, types,
// string lengths, patterns, numeric ranges, enums, list sizes. A violation gives
// the ValidationException AWS gives, in AWS's words:
//   "1 validation error detected: Value 'x' at 'deliveryStreamName' failed to
//    satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
// (several violations: "2 validation errors detected: ...; ..."). A member of the
// wrong JSON type is a SerializationException. Unknown members are ignored, as AWS does.

#include <optional>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "api/errors.h"

namespace hydrant::api {

// op is the X-Amz-Target operation name, e.g. "CreateDeliveryStream".
std::optional<ApiError> ValidateRequest(std::string_view op, const boost::json::object& input);

}  // namespace hydrant::api
