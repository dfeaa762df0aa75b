#pragma once
// S3Api: the S3 REST API (path-style only: /BUCKET and /BUCKET/KEY) over the
// embedded ObjectStore, as the AWS CLI, boto3 and the AWS SDKs speak it.
// Synchronous: Handle() touches the disk, so the router runs it on a worker
// thread. Thread-safe (all state is in the ObjectStore). Signatures are checked
// before (server/request_auth.h); authorization here (`authz`). Operations, wire details and choices: docs/object-store.md.
//
// GetObject answers with Response::file/file_offset/file_length: the object's data
// file, opened with its description (it is not read into memory); HEAD answers set
// content_length_override and no body. The listener adds Content-Length (and Date/Server) itself.
//
// The implementation: routing in s3_api.cc; the operations in s3_bucket_ops.cc,
// s3_object_ops.cc and s3_multipart_ops.cc (s3_handlers.h), sharing
// s3_context.h; uploads' bytes in s3_payload.h, s3_aws_chunked.h and
// s3_checksum.h; XML through xml_writer.h and xml_reader.h.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/http_types.h"
#include "server/s3_aws_chunked.h"  // DecodeAwsChunked, part of this API

namespace hydrant::store {
class ObjectStore;
}
namespace hydrant::kms {
class KeyService;
}

namespace hydrant::server {

class Authorizer;

class S3Api {
 public:
  // `store` must outlive this object. `region` is reported by GetBucketLocation
  // and HeadBucket. `disk_full` (optional, outlives this object) counts writes
  // refused because the disk is full.
  // `authz` (optional, outlives this object) authorizes signed requests: the
  // operation's action and resource (s3_operations.h) and the bucket policy.
  S3Api(store::ObjectStore* store, std::string region,
        std::atomic<uint64_t>* disk_full = nullptr, const Authorizer* authz = nullptr);

  void Handle(const http::Request& req, http::Response* resp);

  // The KMS of server-side encryption (SSE-S3, SSE-KMS; server/s3_sse.cc). Null
  // (the default): requests asking for SSE are refused with NotImplemented. Set
  // before serving; must outlive this object.
  void SetKeyService(kms::KeyService* keys) { keys_ = keys; }

  // True for anything that is not a Firehose JSON call (those carry X-Amz-Target).
  static bool IsS3Request(const http::Request& req);

  // How the listener takes an S3 request's body: PutObject and UploadPart with
  // a Content-Length are streamed (to the store's temp file, never whole in
  // memory) up to S3's 5 GiB; other bodies (XML documents, uploads sent
  // chunked) are read into memory up to kInMemoryBodyLimit. Past the limit:
  // EntityTooLarge (400).
  static http::BodyPolicy BodyPolicyFor(const http::Request& head);
  static constexpr uint64_t kMaxUploadSize = 5ull << 30;
  static constexpr uint64_t kInMemoryBodyLimit = 160ull << 20;

 private:
  store::ObjectStore* store_;
  std::string region_;
  std::atomic<uint64_t>* disk_full_;
  const Authorizer* authz_;
  kms::KeyService* keys_ = nullptr;
};

}  // namespace hydrant::server
