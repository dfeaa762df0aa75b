#pragma once
// The S3 operations, one function each, as S3Api::Handle (s3_api.cc) routes
// requests to them. Each answers into c.resp, errors included; the bucket and
// key are already decoded and the unsupported subresources refused.
//
// `store` is the embedded ObjectStore; `region` is the one region of this server.

#include <string>

#include "server/s3_context.h"

namespace hydrant::store {
class ObjectStore;
}

namespace hydrant::server::s3 {

// Service and bucket operations (s3_bucket_ops.cc).
void ListBuckets(Context& c, store::ObjectStore* store, const std::string& region);
void CreateBucket(Context& c, store::ObjectStore* store);
void DeleteBucket(Context& c, store::ObjectStore* store);
void HeadBucket(Context& c, store::ObjectStore* store, const std::string& region);
void GetBucketLocation(Context& c, store::ObjectStore* store, const std::string& region);
void ListObjectsV1(Context& c, store::ObjectStore* store);
void ListObjectsV2(Context& c, store::ObjectStore* store);
void DeleteObjects(Context& c, store::ObjectStore* store);
// The bucket policy (s3_policy_ops.cc): GET, PUT and DELETE ?policy.
void GetBucketPolicy(Context& c, store::ObjectStore* store);
void PutBucketPolicy(Context& c, store::ObjectStore* store);
void DeleteBucketPolicy(Context& c, store::ObjectStore* store);
// The bucket's default encryption (s3_sse.cc): GET, PUT and DELETE ?encryption.
void GetBucketEncryption(Context& c, store::ObjectStore* store);
void PutBucketEncryption(Context& c, store::ObjectStore* store);
void DeleteBucketEncryption(Context& c, store::ObjectStore* store);

// Object operations (s3_object_ops.cc). GetObject answers HEAD too.
void GetObject(Context& c, store::ObjectStore* store);
void PutObject(Context& c, store::ObjectStore* store);
void CopyObject(Context& c, store::ObjectStore* store);
void DeleteObject(Context& c, store::ObjectStore* store);

// Multipart uploads (s3_multipart_ops.cc).
void CreateMultipartUpload(Context& c, store::ObjectStore* store);
void UploadPart(Context& c, store::ObjectStore* store);
void CompleteMultipartUpload(Context& c, store::ObjectStore* store);
void AbortMultipartUpload(Context& c, store::ObjectStore* store);
void ListParts(Context& c, store::ObjectStore* store);
void ListMultipartUploads(Context& c, store::ObjectStore* store);

}  // namespace hydrant::server::s3
