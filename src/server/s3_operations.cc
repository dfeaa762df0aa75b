#include "server/s3_operations.h"

#include "common/strings.h"

namespace hydrant::server::s3 {

Op Classify(const Context& c) {
  const std::string& m = c.req.method;
  if (c.bucket.empty()) return m == "GET" ? Op::kListBuckets : Op::kMethodNotAllowed;
  if (c.key.empty()) {
    if (c.query.Has("uploads")) return m == "GET" ? Op::kListMultipartUploads : Op::kMethodNotAllowed;
    if (c.query.Has("policy")) {
      if (m == "GET") return Op::kGetBucketPolicy;
      if (m == "PUT") return Op::kPutBucketPolicy;
      if (m == "DELETE") return Op::kDeleteBucketPolicy;
      return Op::kMethodNotAllowed;
    }
    if (c.query.Has("encryption")) {
      if (m == "GET") return Op::kGetBucketEncryption;
      if (m == "PUT") return Op::kPutBucketEncryption;
      if (m == "DELETE") return Op::kDeleteBucketEncryption;
      return Op::kMethodNotAllowed;
    }
    if (m == "GET") {
      if (c.query.Has("location")) return Op::kGetBucketLocation;
      return c.query.Has("list-type") ? Op::kListObjectsV2 : Op::kListObjectsV1;
    }
    if (m == "PUT") return Op::kCreateBucket;
    if (m == "DELETE") return Op::kDeleteBucket;
    if (m == "HEAD") return Op::kHeadBucket;
    if (m == "POST" && c.query.Has("delete")) return Op::kDeleteObjects;
    return Op::kMethodNotAllowed;
  }
  if (c.query.Has("uploadId")) {  // an operation on one multipart upload
    if (m == "PUT") {
      return c.req.HasHeader("x-amz-copy-source") ? Op::kUploadPartCopy : Op::kUploadPart;
    }
    if (m == "POST") return Op::kCompleteMultipartUpload;
    if (m == "GET") return Op::kListParts;
    if (m == "DELETE") return Op::kAbortMultipartUpload;
    return Op::kMethodNotAllowed;
  }
  if (c.query.Has("uploads")) return m == "POST" ? Op::kCreateMultipartUpload : Op::kMethodNotAllowed;
  if (m == "GET" || m == "HEAD") return Op::kGetObject;
  if (m == "PUT") return c.req.HasHeader("x-amz-copy-source") ? Op::kCopyObject : Op::kPutObject;
  if (m == "DELETE") return Op::kDeleteObject;
  return Op::kMethodNotAllowed;
}

namespace {

std::string BucketArn(std::string_view bucket) { return "arn:aws:s3:::" + std::string(bucket); }
std::string ObjectArn(std::string_view bucket, std::string_view key) {
  return "arn:aws:s3:::" + std::string(bucket) + "/" + std::string(key);
}

Access On(std::string action, std::string resource, const Context& c) {
  Access a;
  a.action = std::move(action);
  a.resource = std::move(resource);
  a.bucket = c.bucket;
  return a;
}

}  // namespace

std::vector<Access> AccessFor(Op op, const Context& c) {
  const std::string bucket = BucketArn(c.bucket);
  const std::string object = ObjectArn(c.bucket, c.key);
  switch (op) {
    case Op::kListBuckets: {
      Access a;
      a.action = "s3:ListAllMyBuckets";
      a.resource = "*";
      return {a};
    }
    case Op::kCreateBucket: return {On("s3:CreateBucket", bucket, c)};
    case Op::kDeleteBucket: return {On("s3:DeleteBucket", bucket, c)};
    case Op::kHeadBucket: return {On("s3:ListBucket", bucket, c)};
    case Op::kGetBucketLocation: return {On("s3:GetBucketLocation", bucket, c)};
    case Op::kListObjectsV1:
    case Op::kListObjectsV2: {
      Access a = On("s3:ListBucket", bucket, c);
      // The keys of ListBucket that bucket policies use; a parameter not sent is
      // not a key (so StringEquals on it fails and ...IfExists passes).
      for (const char* k : {"prefix", "delimiter", "max-keys"}) {
        if (c.query.Has(k)) a.keys.emplace_back(std::string("s3:") + k, c.query.Get(k));
      }
      return {a};
    }
    case Op::kDeleteObjects: return {};  // per key, in the handler
    case Op::kGetBucketPolicy: return {On("s3:GetBucketPolicy", bucket, c)};
    case Op::kPutBucketPolicy: return {On("s3:PutBucketPolicy", bucket, c)};
    case Op::kDeleteBucketPolicy: return {On("s3:DeleteBucketPolicy", bucket, c)};
    // S3 has no separate action for DeleteBucketEncryption.
    case Op::kGetBucketEncryption: return {On("s3:GetEncryptionConfiguration", bucket, c)};
    case Op::kPutBucketEncryption:
    case Op::kDeleteBucketEncryption: return {On("s3:PutEncryptionConfiguration", bucket, c)};
    case Op::kGetObject: return {On("s3:GetObject", object, c)};
    case Op::kPutObject:
    case Op::kCreateMultipartUpload: {
      Access a = On("s3:PutObject", object, c);
      if (auto sse = c.req.Header("x-amz-server-side-encryption"); !sse.empty()) {
        a.keys.emplace_back("s3:x-amz-server-side-encryption", std::string(sse));
      }
      return {a};
    }
    case Op::kUploadPart:
    case Op::kCompleteMultipartUpload: return {On("s3:PutObject", object, c)};
    case Op::kCopyObject: {
      std::vector<Access> out = AccessFor(Op::kPutObject, c);
      // x-amz-copy-source: "bucket/key" or "/bucket/key", percent-encoded, maybe
      // with "?versionId=": decoded first, then one leading '/' dropped, exactly as
      // CopyObject reads it (s3_object_ops.cc), so the source authorized is the
      // source copied. A source CopyObject would refuse asks for nothing more.
      std::string_view src = c.req.Header("x-amz-copy-source");
      auto decoded = http::PercentDecode(src.substr(0, src.find('?')));
      if (decoded && !decoded->empty() && decoded->front() == '/') decoded->erase(0, 1);
      const size_t slash = decoded ? decoded->find('/') : std::string::npos;
      if (!decoded || slash == std::string::npos || slash == 0 || slash + 1 == decoded->size()) {
        return out;
      }
      Access get;
      get.action = "s3:GetObject";
      get.resource = "arn:aws:s3:::" + *decoded;
      get.bucket = decoded->substr(0, slash);
      out.push_back(std::move(get));
      return out;
    }
    case Op::kDeleteObject: return {On("s3:DeleteObject", object, c)};
    case Op::kAbortMultipartUpload: return {On("s3:AbortMultipartUpload", object, c)};
    case Op::kListParts: return {On("s3:ListMultipartUploadParts", object, c)};
    case Op::kListMultipartUploads: return {On("s3:ListBucketMultipartUploads", bucket, c)};
    case Op::kUploadPartCopy:
    case Op::kMethodNotAllowed: return {};
  }
  return {};
}

}  // namespace hydrant::server::s3
