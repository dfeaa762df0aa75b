#pragma once
// The S3 operation a request names (method, bucket/key presence, subresources),
// decided once: S3Api::Handle dispatches on it and authorization maps it to the
// IAM action and resource that AWS's Service Authorization Reference gives
// (server/authorization.h).

#include <string>
#include <string_view>
#include <vector>

#include "server/authorization.h"
#include "server/s3_context.h"

namespace hydrant::server::s3 {

enum class Op {
  kListBuckets,
  kCreateBucket,
  kDeleteBucket,
  kHeadBucket,
  kGetBucketLocation,
  kListObjectsV1,
  kListObjectsV2,
  kDeleteObjects,
  kGetBucketPolicy,
  kPutBucketPolicy,
  kDeleteBucketPolicy,
  kGetBucketEncryption,
  kPutBucketEncryption,
  kDeleteBucketEncryption,
  kGetObject,  // HEAD too
  kPutObject,
  kCopyObject,
  kDeleteObject,
  kCreateMultipartUpload,
  kUploadPart,
  kUploadPartCopy,  // refused: not implemented
  kCompleteMultipartUpload,
  kAbortMultipartUpload,
  kListParts,
  kListMultipartUploads,
  kMethodNotAllowed,  // the method does not apply to the resource
};

// The operation of a request whose Context has its bucket, key and query set
// (list-type is checked by the list handler, not here).
Op Classify(const Context& c);

// What the operation asks for in IAM terms: one Access, two for CopyObject
// (s3:PutObject on the target, s3:GetObject on the source). Empty for
// kMethodNotAllowed and kUploadPartCopy (answered without touching anything).
// DeleteObjects is authorized per key by its handler (s3:DeleteObject on each).
std::vector<Access> AccessFor(Op op, const Context& c);

}  // namespace hydrant::server::s3
