#pragma once
// What an upload (PutObject, UploadPart) carries: its bytes, aws-chunked
// decoded and checked against Content-MD5 and every x-amz-checksum-*, and the
// object metadata its headers set (also for CopyObject with REPLACE and
// CreateMultipartUpload).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "destinations/object_store.h"
#include "server/http_types.h"
#include "server/s3_aws_chunked.h"
#include "server/s3_context.h"

namespace hydrant::server::s3 {

// The bytes of an upload. Not movable: `data` may point into `decoded`.
struct Payload {
  Payload() = default;
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;
  std::string_view data;
  AwsChunkedBody decoded;
  // Checksums from headers and, for aws-chunked bodies, from trailers.
  std::vector<std::pair<std::string, std::string>> checksums;
};

// Fills *p from the request. False after an error reply (a broken aws-chunked
// body, a wrong decoded length, a digest that does not hold).
bool ReadPayload(Context& c, Payload* p);

// Content-Type (S3's default when none), Content-Encoding without aws-chunked,
// and the x-amz-meta-* headers (names lower-cased).
store::ObjectMeta MetaFromRequest(const http::Request& req);

}  // namespace hydrant::server::s3
