#pragma once
// Server-side encryption in the S3 API of the embedded store (docs/security.md,
// "Server-side encryption"): the x-amz-server-side-encryption* request headers
// and the bucket default, the data keys of new objects, opening the data key of
// a stored one for a caller, and the response headers. The bucket encryption
// operations are in s3_handlers.h. The bytes' format: server/sse_format.h.
//
// The functions that reply return false after writing the whole error reply
// into c.resp; the handler then returns at once.

#include <optional>
#include <string>
#include <string_view>

#include "server/s3_context.h"
#include "server/sse_keys.h"

namespace hydrant::store {
class ObjectStore;
struct ObjectMeta;
}  // namespace hydrant::store

namespace hydrant::server::s3 {

// What a write asks for: the request's SSE headers, else the bucket's default
// encryption; nullopt = plaintext. False after an error reply (an unsupported
// algorithm, a key id without aws:kms, SSE-C, no KMS configured).
bool WantedEncryption(Context& c, store::ObjectStore* store,
                      std::optional<sse::KeyRequest>* wanted);

// The bucket's default encryption (PutBucketEncryption): sets req->algorithm
// (sse::kAes256 or kAwsKms) and req->key (KMSMasterKeyID; "" = the aws/s3 key)
// and returns true; false when the bucket has none (or does not exist). The one
// reading of <bucket>/.encryption, shared by the S3 API (WantedEncryption) and
// delivery (server::SseSink: a Firehose PutObject carries no SSE headers, so
// the bucket default applies to it as to any other).
bool ApplyBucketDefault(const store::ObjectStore* store, std::string_view bucket, sse::KeyRequest* req);

// A data key for c.bucket/c.key as `wanted` says (authorized for the caller).
// False after an error reply (S3's KMS.* errors, AccessDenied).
bool NewObjectKey(Context& c, const sse::KeyRequest& wanted, sse::NewDataKey* out);

// WantedEncryption then NewObjectKey: for a new object c.bucket/c.key, sets
// meta->encryption and *key when the object is to be encrypted (else leaves
// both empty). False after an error reply.
bool EncryptNewObject(Context& c, store::ObjectStore* store, store::ObjectMeta* meta,
                      std::optional<sse::NewDataKey>* key);

// The record of a stored object (nullopt: plaintext). False after an error
// reply when the object's record is damaged.
bool StoredRecord(Context& c, const std::string& encryption, std::optional<sse::Record>* out);

// The data key of the stored object c.bucket/`key` for the caller (kms:Decrypt
// for SSE-KMS). False after an error reply.
bool ObjectDataKey(Context& c, const sse::Record& record, const std::string& key,
                   std::string* data_key);

// x-amz-server-side-encryption, -aws-kms-key-id and -context, as S3 returns them.
void SseHeaders(Context& c, const sse::Record& record);

}  // namespace hydrant::server::s3
