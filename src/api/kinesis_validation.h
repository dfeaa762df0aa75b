#pragma once
// Service-model validation of Kinesis Data Streams requests (shapes from
// botocore/data/kinesis/2013-12-02/service-2.json, api/kinesis_model.h), answering as
// AWS Kinesis does (docs/kinesis.md, "Request validation"; checked against kinesalite's
// record of AWS's answers in tests/fixtures/kinesis_validation.json):
//
// 1. JSON types, member by member in AWS's checking order: the first member of the
//    wrong JSON type (or a Data blob that is not valid base64) is a
//    SerializationException in the older Coral wording Kinesis uses, e.g.
//    "class java.lang.String can not be converted to an Integer".
// 2. Constraints, in the same order: required members, string patterns then lengths
//    (UTF-16 units, as Java counts), numeric ranges (numbers are truncated to integers
//    first: 1.9 is 1), enums, list and map sizes, and element rules. Up to 10 violations
//    form one ValidationException: "2 validation errors detected: Value '' at
//    'streamName' failed to satisfy constraint: ...; ...". Paths are lowerCamelCase
//    ('records.1.member.partitionKey').
//
// Unknown members (at any depth) and null members are ignored. Rules that need state or
// cross-member logic (the stream exists, StreamName or StreamARN given, retention
// bounds, shard counts, hash-key ranges) are the handler's; docs/kinesis.md lists
// AWS's messages for them. Pure functions, thread-safe.

#include <optional>
#include <span>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "api/errors.h"

namespace hydrant::api {

// nullopt when the request may proceed; otherwise the error to answer with (type,
// message). An operation hydrant does not serve gives UnknownOperationException with
// an empty message (AWS's body then carries only "__type").
//
// On the wire (the handler's part): Kinesis spells the key of a SerializationException's
// text "Message" (capital M), and of a ValidationException's "message".
std::optional<ApiError> ValidateKinesisRequest(std::string_view op,
                                               const boost::json::object& input);

// The same for a whole parsed body: a body that is not a JSON object is a
// SerializationException ("Start of list found where not expected" for an array,
// an empty message otherwise).
std::optional<ApiError> ValidateKinesisRequest(std::string_view op,
                                               const boost::json::value& body);

// The operations hydrant's Kinesis API serves (X-Amz-Target "Kinesis_20131202.<op>").
std::span<const std::string_view> KinesisOperations();

// Length as Java's String.length() counts it: UTF-16 code units (a character outside
// the Basic Multilingual Plane counts 2). Exposed for the handler's own length rules.
int64_t Utf16Length(std::string_view utf8);

}  // namespace hydrant::api
