#pragma once
// AWS's CBOR wire format (Content-Type application/x-amz-cbor-1.1), which the AWS
// SDKs for Java (v1 and v2), and so the KCL, use for Kinesis Data Streams by
// default. It carries the same documents as the JSON 1.1 protocol, in CBOR (RFC
// 8949), with two differences: blobs are CBOR byte strings (JSON: base64 text), and
// timestamps are tag 1 over an integer count of epoch MILLISECONDS (JSON: a number
// of epoch seconds). The millisecond unit is AWS's own (RFC 8949's tag 1 counts
// seconds); every SDK that speaks this protocol writes and reads it so.
// docs/kinesis.md "CBOR (application/x-amz-cbor-1.1)" says what this relies on.
//
// The Kinesis API parses a CBOR request with ToJson into the value a JSON 1.1
// request gives, runs the JSON handler, and writes the JSON answer (errors too:
// {"__type", "message"}) back with FromJson, with Content-Type kContentType.
//
// Pure functions, no I/O, thread-safe. ToJson allocates at most a small multiple
// of the input's size (no length field is trusted before the bytes are there).

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace hydrant::api::cbor {

inline constexpr std::string_view kContentType = "application/x-amz-cbor-1.1";

// Which members of a service's shapes are blobs and timestamps, by wire name, at
// any depth (the conversion has no shapes: a member name means the same in every
// structure of the service, as it does in Kinesis's model).
struct Schema {
  std::span<const std::string_view> blob_members;
  std::span<const std::string_view> timestamp_members;
};

// Kinesis Data Streams (botocore's kinesis 2013-12-02 model): every member whose
// shape is a blob or a timestamp. Table with the structures in docs/kinesis.md.
inline constexpr std::string_view kKinesisBlobMembers[] = {"Data"};
inline constexpr std::string_view kKinesisTimestampMembers[] = {
    "ApproximateArrivalTimestamp",  // Record
    "ConsumerCreationTimestamp",    // Consumer, ConsumerDescription
    "StreamCreationTimestamp",      // ListShards/ListStreamConsumers input, Stream*
    "Timestamp",                    // GetShardIterator input, ShardFilter, StartingPosition
    "EarliestAllowedEndAt",         // MinimumThroughputBillingCommitmentOutput
    "EndedAt",                      // MinimumThroughputBillingCommitmentOutput
    "StartedAt",                    // MinimumThroughputBillingCommitmentOutput
};
inline constexpr Schema kKinesisSchema{kKinesisBlobMembers, kKinesisTimestampMembers};

// Containers and tags nested deeper than this are refused (Kinesis's shapes nest
// five deep at most).
inline constexpr size_t kMaxDepth = 64;
// Timestamps must lie in years 0001-9999 (as epoch milliseconds).
inline constexpr int64_t kMinTimestampMillis = -62135596800000;
inline constexpr int64_t kMaxTimestampMillis = 253402300799999;

// One whole CBOR data item -> the value the JSON 1.1 protocol would carry:
//   map (text keys only) -> object; array -> array; text -> string (UTF-8 checked);
//   byte string -> its base64 text (with padding); unsigned/negative integer ->
//   int64 (uint64 above INT64_MAX; a negative below -2^63 is refused); half, single
//   and double floats -> double (NaN and infinities are refused: JSON has none);
//   true/false -> bool; null and undefined -> null.
//   Timestamps: a number under tag 1, or a number that is the value of a member in
//   schema.timestamp_members (tagged or not), counts epoch milliseconds; it becomes
//   epoch seconds, an int64 when whole, else a double (floats are rounded to the
//   millisecond first; outside [kMinTimestampMillis, kMaxTimestampMillis] refused).
//   Tag 1 over anything but a number is refused.
//   Other tags: tags 2 and 3 (bignums) are refused; every other tag (0, 55799
//   self-described CBOR, ...) is dropped and its content converted as above.
//   Indefinite-length strings (chunks of their own type), arrays and maps are read.
//   Duplicate keys in a map are refused, as are simple values other than
//   false/true/null/undefined, reserved encodings, and trailing bytes.
// Errors are InvalidArgument, "CBOR: <what> at byte <offset>".
// The value's memory comes from `sp` (e.g. a boost::json::monotonic_resource that
// lives as long as the request), by default the heap.
Result<boost::json::value> ToJson(std::string_view cbor, const Schema& schema,
                                  boost::json::storage_ptr sp = {});

// A JSON 1.1 value (an answer or an error body) -> CBOR: object -> map, array ->
// array, string -> text, int64/uint64 -> the shortest integer, double -> the
// shortest float that holds it exactly (half, single or double), bool, null.
// Definite lengths throughout. Under a member named in schema.blob_members, a
// string that is canonical padded base64 becomes the byte string it encodes (any
// other string stays text); under a member in schema.timestamp_members, a number of
// epoch seconds becomes tag 1 over the integer count of epoch milliseconds (rounded;
// a number outside the range above stays a plain number). Never fails.
std::string FromJson(const boost::json::value& v, const Schema& schema);

}  // namespace hydrant::api::cbor
