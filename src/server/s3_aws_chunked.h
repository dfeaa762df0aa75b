#pragma once
// The aws-chunked content encoding: how SigV4 streaming uploads (signed or
// unsigned, with optional trailing headers such as x-amz-checksum-crc32) frame
// their body:
//   hex-size[;chunk-signature=...]\r\n bytes \r\n ... 0[;...]\r\n [name:value\r\n]* \r\n
// Chunk signatures are not checked (the S3 API checks no signatures). Pure
// functions.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/http_types.h"

namespace hydrant::server {

struct AwsChunkedBody {
  std::string data;
  std::vector<std::pair<std::string, std::string>> trailers;  // names lower-cased
};
// InvalidArgument when the framing is broken or truncated.
Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body);

// Decodes an aws-chunked body fed in pieces of any size: the chunks' bytes go
// to `out` as they are decoded, so memory does not grow with the body (only a
// chunk header or trailer line is held, at most kMaxLineBytes).
class AwsChunkedDecoder {
 public:
  using Output = std::function<Status(std::string_view)>;
  static constexpr size_t kMaxLineBytes = 4096;

  // InvalidArgument when the framing is broken; out's failure as it is.
  Status Feed(std::string_view in, const Output& out);
  // After the last piece: InvalidArgument when the body ended early.
  Status Finish();
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailers, kDone };
  Status SizeLine(std::string_view line);
  Status TrailerLine(std::string_view line);
  State state_ = State::kSize;
  std::string line_;     // the line being read (chunk header, trailer, or the CRLF after data)
  uint64_t left_ = 0;    // bytes left in the current chunk
  std::vector<std::pair<std::string, std::string>> trailers_;  // names lower-cased
};

// True when the request's body is aws-chunked: its x-amz-content-sha256 is
// STREAMING-... or its Content-Encoding names aws-chunked.
bool IsAwsChunked(const http::Request& req);

// A Content-Encoding header without the "aws-chunked" coding, which describes
// the upload and not the object ("aws-chunked, gzip" is stored as "gzip").
std::string StoredContentEncoding(std::string_view header);

}  // namespace hydrant::server
