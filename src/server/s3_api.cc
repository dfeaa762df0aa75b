#include "server/s3_api.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>

#include "common/request_id.h"
#include "server/authorization.h"
#include "server/s3_context.h"
#include "server/s3_handlers.h"
#include "server/s3_operations.h"

// S3Api::Handle decodes the bucket and key, refuses what is not implemented,
// and routes by method, key and subresource to the operations of
// s3_handlers.h: service and bucket operations (s3_bucket_ops.cc), object
// operations (s3_object_ops.cc) and multipart uploads (s3_multipart_ops.cc).

namespace hydrant::server {
namespace {

// Subresources of S3 this server does not implement: answered 501 rather than
// being mistaken for a plain GET/PUT of the bucket or object.
constexpr const char* kUnsupported[] = {"versioning",
                                        "acl",
                                        "tagging",
                                        "cors",
                                        "lifecycle",
                                        "website",
                                        "logging",
                                        "notification",
                                        "replication",
                                        "object-lock",
                                        "versions",
                                        "accelerate",
                                        "requestPayment",
                                        "analytics",
                                        "inventory",
                                        "metrics",
                                        "intelligent-tiering",
                                        "ownershipControls",
                                        "publicAccessBlock",
                                        "retention",
                                        "legal-hold",
                                        "torrent",
                                        "restore",
                                        "select",
                                        "attributes",
                                        "policyStatus",
                                        "session",
                                        "renameObject"};


// S3's answer to a body over the limit.
http::Response EntityTooLarge(const http::Request& head, uint64_t limit) {
  http::Response resp;
  s3::Context c{head, &resp, NewHexRequestId(), std::string(head.Path()), false, {}, {}, {}};
  resp.SetHeader("x-amz-request-id", c.request_id);
  resp.SetHeader("x-amz-id-2", c.request_id);
  s3::Error(c, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
            {{"ProposedSize", std::string(head.Header("Content-Length"))},
             {"MaxSizeAllowed", std::to_string(limit)}});
  return resp;
}

// S3 quotes the resource in its AccessDenied message ("on resource:
// \"arn:aws:s3:::bucket/key\"").
std::string S3DeniedMessage(const std::string& message, const Access& access) {
  const std::string plain = "on resource: " + access.resource + " ";
  size_t at = message.find(plain);
  if (at == std::string::npos) return message;
  return message.substr(0, at) + "on resource: \"" + access.resource + "\" " +
         message.substr(at + plain.size());
}

}  // namespace

// --- S3Api -----------------------------------------------------------------------------

S3Api::S3Api(store::ObjectStore* store, std::string region, std::atomic<uint64_t>* disk_full,
             const Authorizer* authz)
    : store_(store), region_(std::move(region)), disk_full_(disk_full), authz_(authz) {}

bool S3Api::IsS3Request(const http::Request& req) { return !req.HasHeader("X-Amz-Target"); }

http::BodyPolicy S3Api::BodyPolicyFor(const http::Request& head) {
  http::BodyPolicy in_memory{kInMemoryBodyLimit, false, EntityTooLarge};
  if (head.method != "PUT" || head.HasHeader("x-amz-copy-source") ||
      !head.HasHeader("Content-Length")) {
    return in_memory;
  }
  std::string_view path = head.Path();
  size_t slash = path.size() > 1 ? path.find('/', 1) : std::string_view::npos;
  if (slash == std::string_view::npos || slash + 1 == path.size()) return in_memory;  // no key
  // PutObject has no query; UploadPart has partNumber and uploadId only.
  for (const auto& [k, v] : http::ParseQuery(head.Query())) {
    if (k != "partNumber" && k != "uploadId" && !k.starts_with("X-Amz-")) return in_memory;
  }
  return {kMaxUploadSize, true, EntityTooLarge};
}

void S3Api::Handle(const http::Request& req, http::Response* resp) {
  s3::Context c{req, resp, NewHexRequestId(), std::string(req.Path()), req.method == "HEAD", {},
                {},  {}};
  c.disk_full = disk_full_;
  c.keys = keys_;
  c.via_service = "s3." + region_ + ".amazonaws.com";
  resp->SetHeader("x-amz-request-id", c.request_id);
  resp->SetHeader("x-amz-id-2", c.request_id);
  c.query.items = http::ParseQuery(req.Query());

  std::string_view path = req.Path();
  if (path.empty() || path.front() != '/') {
    return s3::Error(c, 400, "InvalidURI", "Couldn't parse the specified URI.");
  }
  path.remove_prefix(1);
  size_t slash = path.find('/');
  auto bucket = http::PercentDecode(path.substr(0, slash));
  std::optional<std::string> key = std::string();
  if (slash != std::string_view::npos) key = http::PercentDecode(path.substr(slash + 1));
  if (!bucket || !key) return s3::Error(c, 400, "InvalidURI", "Couldn't parse the specified URI.");
  c.bucket = *bucket;
  c.key = *key;
  c.resource = "/" + c.bucket + (c.key.empty() ? "" : "/" + c.key);

  for (const char* sub : kUnsupported) {
    if (c.query.Has(sub)) {
      return s3::Error(c, 501, "NotImplemented",
                       "A header or query you provided implies functionality that is not "
                       "implemented: hydrant's embedded S3 does not support the ?" +
                           std::string(sub) + " subresource.");
    }
  }

  const s3::Op op = s3::Classify(c);
  if (authz_ && Authorizer::Applies(req)) {
    for (const Access& access : s3::AccessFor(op, c)) {
      if (auto denied = authz_->Check(req, access)) return s3::AccessDenied(c, S3DeniedMessage(*denied, access));
    }
    c.authz = authz_;
  }
  using s3::Op;
  switch (op) {
    case Op::kListBuckets: return s3::ListBuckets(c, store_, region_);
    case Op::kCreateBucket: return s3::CreateBucket(c, store_);
    case Op::kDeleteBucket: return s3::DeleteBucket(c, store_);
    case Op::kHeadBucket: return s3::HeadBucket(c, store_, region_);
    case Op::kGetBucketLocation: return s3::GetBucketLocation(c, store_, region_);
    case Op::kListObjectsV1: return s3::ListObjectsV1(c, store_);
    case Op::kListObjectsV2:
      if (c.query.Get("list-type") != "2") {
        return s3::Error(c, 400, "InvalidArgument", "Invalid List Type specified in Request",
                         {{"ArgumentName", "list-type"}, {"ArgumentValue", c.query.Get("list-type")}});
      }
      return s3::ListObjectsV2(c, store_);
    case Op::kDeleteObjects: return s3::DeleteObjects(c, store_);
    case Op::kGetBucketPolicy: return s3::GetBucketPolicy(c, store_);
    case Op::kPutBucketPolicy: return s3::PutBucketPolicy(c, store_);
    case Op::kDeleteBucketPolicy: return s3::DeleteBucketPolicy(c, store_);
    case Op::kGetBucketEncryption: return s3::GetBucketEncryption(c, store_);
    case Op::kPutBucketEncryption: return s3::PutBucketEncryption(c, store_);
    case Op::kDeleteBucketEncryption: return s3::DeleteBucketEncryption(c, store_);
    case Op::kGetObject: return s3::GetObject(c, store_);
    case Op::kPutObject: return s3::PutObject(c, store_);
    case Op::kCopyObject: return s3::CopyObject(c, store_);
    case Op::kDeleteObject: return s3::DeleteObject(c, store_);
    case Op::kCreateMultipartUpload: return s3::CreateMultipartUpload(c, store_);
    case Op::kUploadPart: return s3::UploadPart(c, store_);
    case Op::kUploadPartCopy:
      return s3::Error(c, 501, "NotImplemented",
                       "A header or query you provided implies functionality that is not "
                       "implemented: hydrant's embedded S3 does not support UploadPartCopy.");
    case Op::kCompleteMultipartUpload: return s3::CompleteMultipartUpload(c, store_);
    case Op::kAbortMultipartUpload: return s3::AbortMultipartUpload(c, store_);
    case Op::kListParts: return s3::ListParts(c, store_);
    case Op::kListMultipartUploads: return s3::ListMultipartUploads(c, store_);
    case Op::kMethodNotAllowed: return s3::MethodNotAllowed(c);
  }
  return s3::MethodNotAllowed(c);
}

}  // namespace hydrant::server
