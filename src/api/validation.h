#pragma once
// Service-model validation of Firehose requests (shapes from
// botocore/data/firehose/2015-08-04/service-2.json; docs/api.md): required members, types,
// string lengths, patterns, numeric ranges, enums, list sizes. A violation gives
// the ValidationException AWS gives, in AWS's words:
//   "1 validation error detected: Value 'x' at 'deliveryStreamName' failed to
//    satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
// (several violations: "2 validation errors detected: ...; ..."). A member of the
// wrong JSON type is a SerializationException. Unknown members are ignored, as AWS does.
//
// Two phases, as AWS's request pipeline has them: first the body is read against the
// input shape in document order and the first member of the wrong JSON type (or a
// Data blob that is not valid base64) stops it with a SerializationException; then
// every constraint is checked in model member order and up to 10 violations are
// reported together. docs/api.md lists the rules and each choice made where AWS is
// silent. All functions are pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "api/errors.h"

namespace hydrant::api {

// op is the X-Amz-Target operation name, e.g. "CreateDeliveryStream". An operation
// hydrant does not know gives UnknownOperationException.
std::optional<ApiError> ValidateRequest(std::string_view op, const boost::json::object& input);

// The same for a whole parsed body: a body that is not a JSON object is a
// SerializationException ("Start of list found where not expected" for an array).
std::optional<ApiError> ValidateRequest(std::string_view op, const boost::json::value& body);

// ---------------------------------------------------------------------------
// Building blocks for the PutRecord/PutRecordBatch hot path, which parses with
// simdjson instead of calling ValidateRequest. Each gives exactly the message
// ValidateRequest gives for the same input.

inline constexpr size_t kMaxRecordBytes = 1024000;                 // Record.Data, decoded
inline constexpr size_t kMaxBatchRecords = 500;                    // PutRecordBatch.Records
inline constexpr size_t kMaxBatchBytes = 4194304;                  // sum of decoded Data, 4 MiB
inline constexpr size_t kMaxValidationErrors = 10;                 // AWS reports at most 10
inline constexpr size_t kNoRecordIndex = static_cast<size_t>(-1);  // PutRecord's 'record'

// Collects constraint violations ("Value ... at '...' failed to satisfy constraint:
// ...") and turns them into one ValidationException. Keeps at most 10, as AWS does.
class Violations {
 public:
  void Add(std::string violation);
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const std::vector<std::string>& items() const { return items_; }
  // nullopt when empty; else "N validation error(s) detected: a; b".
  std::optional<ApiError> ToError() const;

 private:
  std::vector<std::string> items_;
};

// "Value null at 'PATH' failed to satisfy constraint: Member must not be null".
std::string NullViolation(std::string_view path);

// DeliveryStreamName rules (length 1..64, pattern [a-zA-Z0-9_.-]+) at `path`.
void CheckStreamName(std::string_view name, Violations* out,
                     std::string_view path = "deliveryStreamName");
std::optional<ApiError> CheckStreamName(std::string_view name,
                                        std::string_view path = "deliveryStreamName");

// The path of a record's Data member: 'record.data' for kNoRecordIndex (PutRecord),
// else 'records.N.member.data' with N = index + 1 (index counts from 0).
std::string RecordDataPath(size_t index);
// A record whose decoded Data is `size` bytes > kMaxRecordBytes:
// "Value 'java.nio.HeapByteBuffer[pos=0 lim=SIZE cap=SIZE]' at 'records.N.member.data'
// failed to satisfy constraint: Member must have length less than or equal to 1024000".
void AddRecordTooLarge(size_t index, size_t size, Violations* out);
ApiError RecordTooLarge(size_t index, size_t size);
// A record without Data: "Value null at 'records.N.member.data' ... must not be null".
ApiError RecordDataMissing(size_t index);

// More than 500 records. AWS prints the whole list, one
// "Record(data=java.nio.HeapByteBuffer[pos=0 lim=N cap=N])" per record, so the
// decoded size of every record is needed.
void AddTooManyRecords(std::span<const size_t> decoded_sizes, Violations* out);
ApiError TooManyRecords(std::span<const size_t> decoded_sizes);
// Records: [] -> "Value '[]' at 'records' ... Member must have length greater than or equal to 1".
ApiError NoRecords();
// Sum of decoded Data above kMaxBatchBytes (checked only after the model constraints
// pass): InvalidArgumentException "Records size exceeds 4 MB limit".
ApiError BatchTooLarge(size_t total_decoded_bytes);

// Checks that `encoded` is what AWS accepts as a base64 blob (padded, length a
// multiple of 4, alphabet A-Za-z0-9+/, canonical final character). Returns the
// SerializationException AWS gives otherwise, e.g.
// "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple
// of 4 bytes but found: 3".
std::optional<ApiError> CheckBase64(std::string_view encoded);
// The O(1) part of CheckBase64 for the hot path: length, padding and the final
// character; returns CheckBase64's error when they are wrong. The alphabet is left to
// the decoder (base64::DecodeToBuffer fails on any other character), after which
// CheckBase64 gives the message.
std::optional<ApiError> CheckBase64Shape(std::string_view encoded);
// Decoded size of base64 that passed CheckBase64.
size_t Base64DecodedSize(std::string_view encoded);

// Java-regex-compatible full matches of the model patterns hydrant checks by hand,
// exposed for tests and for other modules that must agree with the model.
bool MatchesTagKeyPattern(std::string_view s);    // ^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$
bool MatchesTagValuePattern(std::string_view s);  // ^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$

}  // namespace hydrant::api
