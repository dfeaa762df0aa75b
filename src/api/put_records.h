#pragma once
// PutRecordsParser: the PutRecord / PutRecordBatch request body, parsed with simdjson,
// validated and decoded in one place, for the server's data plane
// (server/firehose_api.cc) and its micro-benchmark (bench/micro_bench.cc). Gives the
// same errors, in the same order, as ValidateRequest would for the body (see
// api/validation.h): JSON and member type errors, then a Data blob's base64 length
// and padding, then the model constraints together, then the 4 MB request size, then
// an invalid base64 character (the alphabet is checked while decoding).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.h"

namespace hydrant::api {

struct PutRecordsInput {
  std::string_view stream_name;
  std::vector<std::string_view> records;  // each record's decoded Data
  size_t total_bytes = 0;                 // sum of the records' sizes
};

class PutRecordsParser {
 public:
  // Bytes of spare capacity the parser wants after a body (simdjson reads up to 64
  // bytes past the end); a body without them is copied once to get them.
  static constexpr size_t kBodyPadding = 64;

  PutRecordsParser();
  ~PutRecordsParser();
  PutRecordsParser(const PutRecordsParser&) = delete;
  PutRecordsParser& operator=(const PutRecordsParser&) = delete;

  // Parses a PutRecordBatch body (batch) or a PutRecord body. An empty body is read
  // as "{}". The views in *out point into this parser's buffers and stay valid until
  // its next Parse. Not thread-safe: one parser per thread.
  std::optional<ApiError> Parse(bool batch, std::string& body, PutRecordsInput* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RecordIds are opaque to producers: base64 of 16 bytes of the stream's incarnation
// (so ids of a re-created stream differ) and the record's sequence number in its log,
// big-endian: 32 characters. The first 20 encode incarnation bytes 0..14 and are the
// same for every record of a stream, so they are encoded once; each record encodes
// only the last 9 bytes.
class RecordIdEncoder {
 public:
  // incarnation_hex: 32 hex digits (StreamMeta::incarnation).
  explicit RecordIdEncoder(std::string_view incarnation_hex);
  // Appends the 32 characters of the id of record `seq` to *out.
  void Append(uint64_t seq, std::string* out) const;

 private:
  char prefix_[20];
  unsigned char last_incarnation_byte_;
};

}  // namespace hydrant::api
