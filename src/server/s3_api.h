#pragma once
// S3Api: the S3 REST API (path-style only: /BUCKET and /BUCKET/KEY) over the
// embedded ObjectStore, as the AWS CLI, boto3 and the AWS SDKs speak it.
// Synchronous: Handle() touches the disk, so the router runs it on a worker
// thread. Thread-safe (all state is in the ObjectStore). Signatures are not
// checked. Operations, wire details and choices: docs/object-store.md.
//
// GetObject answers with Response::file/file_offset/file_length: the object's data
// file, opened with its description (it is not read into memory); HEAD answers set content_length_override and no body.
// The listener adds Content-Length (and Date/Server) itself.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/http_types.h"

namespace hydrant::store {
class ObjectStore;
}

namespace hydrant::server {

class S3Api {
 public:
  // `store` must outlive this object. `region` is reported by GetBucketLocation
  // and HeadBucket.
  S3Api(store::ObjectStore* store, std::string region);

  void Handle(const http::Request& req, http::Response* resp);

  // True for anything that is not a Firehose JSON call (those carry X-Amz-Target).
  static bool IsS3Request(const http::Request& req);

 private:
  store::ObjectStore* store_;
  std::string region_;
};

// The aws-chunked content encoding (SigV4 streaming uploads, signed or unsigned,
// with optional trailing headers such as x-amz-checksum-crc32):
//   hex-size[;chunk-signature=...]\r\n bytes \r\n ... 0[;...]\r\n [name:value\r\n]* \r\n
struct AwsChunkedBody {
  std::string data;
  std::vector<std::pair<std::string, std::string>> trailers;  // names lower-cased
};
// InvalidArgument when the framing is broken or truncated.
Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body);

}  // namespace hydrant::server
