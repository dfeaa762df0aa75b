#pragma once
// Shard iterators: the opaque tokens GetShardIterator hands out and GetRecords
// takes. A token carries the stream (name and incarnation), the shard, the log
// position to read next and when it was issued, and an HMAC-SHA256 (truncated
// to 16 bytes) under a key only this server knows, so a token cannot be forged
// or altered into another position. Tokens are base64, at most ~200 characters
// for the longest stream names (AWS's limit is 512). Expiry (5 minutes after
// issue) is the API's check, on issued_ms.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace hydrant::kinesis {

struct IteratorState {
  std::string stream_name;
  int64_t stream_epoch_ms = 0;  // the stream's creation time (its incarnation)
  uint32_t shard = 0;
  uint64_t seq = 0;             // next log position to read
  int64_t issued_ms = 0;
};

class IteratorCodec {
 public:
  explicit IteratorCodec(std::string key) : key_(std::move(key)) {}
  std::string Encode(const IteratorState& s) const;
  // nullopt when the token is not one of this key's (malformed, altered).
  std::optional<IteratorState> Decode(std::string_view token) const;

 private:
  std::string key_;
};

// The key in `path`: read it, or make 32 random bytes and write them (mode 0600).
Result<std::string> LoadOrCreateIteratorKey(const std::string& path);

}  // namespace hydrant::kinesis
