#pragma once
// Kinesis hash keys: the 128-bit unsigned integers that shards own in ranges.
// A record's hash key is the MD5 of its partition key read as a big-endian
// number, or the ExplicitHashKey it was put with; AWS writes both as decimal
// strings ("0" to "340282366920938463463374607431768211455").

#include <optional>
#include <string>
#include <string_view>

namespace hydrant::kinesis {

using HashKey = unsigned __int128;

inline constexpr HashKey kMaxHashKey = ~HashKey{0};

// MD5(partition_key), big-endian.
HashKey PartitionKeyHash(std::string_view partition_key);

// A decimal string of at most 39 digits within [0, 2^128 - 1]; nullopt otherwise
// (empty, a sign, a non-digit, or too large). Leading zeros are accepted.
std::optional<HashKey> ParseHashKey(std::string_view decimal);

// The decimal string, without leading zeros.
std::string HashKeyToString(HashKey key);

}  // namespace hydrant::kinesis
