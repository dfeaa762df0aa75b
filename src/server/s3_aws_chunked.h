#pragma once
// The aws-chunked content encoding: how SigV4 streaming uploads (signed or
// unsigned, with optional trailing headers such as x-amz-checksum-crc32) frame
// their body:
//   hex-size[;chunk-signature=...]\r\n bytes \r\n ... 0[;...]\r\n [name:value\r\n]* \r\n
// Chunk signatures are not checked (the S3 API checks no signatures). Pure
// functions.

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

// True when the request's body is aws-chunked: its x-amz-content-sha256 is
// STREAMING-... or its Content-Encoding names aws-chunked.
bool IsAwsChunked(const http::Request& req);

// A Content-Encoding header without the "aws-chunked" coding, which describes
// the upload and not the object ("aws-chunked, gzip" is stored as "gzip").
std::string StoredContentEncoding(std::string_view header);

}  // namespace hydrant::server
