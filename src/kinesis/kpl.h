#pragma once
// KPL aggregation: the format in which the Kinesis Producer Library (and
// aws-kinesis-agg) packs many user records into one Kinesis record.
//
//   record   = magic protobuf md5
//   magic    = F3 89 9A C2                               (kKplMagic)
//   protobuf = AggregatedRecord (proto2, below)          (at least one byte)
//   md5      = MD5(protobuf), 16 bytes                   (kKplDigestBytes)
//
//   message AggregatedRecord {
//     repeated string partition_key_table     = 1;
//     repeated string explicit_hash_key_table = 2;
//     repeated Record records                 = 3;
//   }
//   message Record {
//     required uint64 partition_key_index     = 1;
//     optional uint64 explicit_hash_key_index = 2;
//     required bytes  data                    = 3;
//     repeated Tag    tags                    = 4;
//   }
//   message Tag { required string key = 1; optional string value = 2; }
//
// docs/kinesis.md ("KPL aggregation") restates the format and every choice made
// where the KCL, aws-kinesis-agg and Firehose could differ; kpl_test.cc holds a
// test for each. In short: a record is de-aggregated only when all of it is
// valid (magic, protobuf wire format, required fields, every index within its
// table, MD5); anything else is passed on whole, as the KCL does. Unknown fields
// (and known field numbers with an unexpected wire type) are skipped.
//
// Pure functions, no I/O, thread-safe. The parser allocates only in proportion
// to what it has actually read, never to a length or count the input claims.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hydrant::kinesis {

inline constexpr std::string_view kKplMagic{"\xF3\x89\x9A\xC2", 4};
inline constexpr size_t kKplDigestBytes = 16;

// One user record of an aggregate. From Deaggregate, the views point into the
// Kinesis record passed in (which must outlive them); its subsequence number is
// its index in the output.
struct UserRecord {
  std::string_view partition_key;
  // The explicit hash key as written in the aggregate's table (a decimal string
  // when a KPL wrote it; not validated here).
  std::optional<std::string_view> explicit_hash_key;
  std::string_view data;

  friend bool operator==(const UserRecord&, const UserRecord&) = default;
};

// True when `record` is a well-formed KPL aggregate: magic, a non-empty protobuf
// valid on the wire with its required fields, every index within its table, and
// a matching MD5 trailer. Then *out holds its user records in order (possibly
// none: an aggregate with tables but no records yields nothing, as in the KCL).
// False otherwise, with *out cleared: the caller passes the record on as one
// record (subsequence number 0).
bool Deaggregate(std::string_view record, std::vector<UserRecord>* out);

// The aggregate the KPL (and aws-kinesis-agg) builds for `records`, byte for
// byte: partition keys and explicit hash keys each in a table in order of first
// use, records in order with their indexes and data, then the MD5. For zero
// records it returns magic + MD5 of nothing, which Deaggregate (like the KCL)
// does not take for an aggregate.
std::string Aggregate(std::span<const UserRecord> records);

}  // namespace hydrant::kinesis
