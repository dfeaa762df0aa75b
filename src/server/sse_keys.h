#pragma once
// The KMS side of server-side encryption in the embedded store: making an
// object's data key (PutObject, CopyObject, CreateMultipartUpload, delivery) and
// opening it again (GetObject, UploadPart), each authorized as S3 does on the
// caller's behalf. Shared by the S3 API (server/s3_sse.cc) and delivery
// (server/sse_sink.h); the bytes' format is server/sse_format.h.
//
// Keys: SSE-KMS uses the key the caller names (id, ARN, alias, alias ARN) or,
// without one, hydrant's own "aws/s3" key (KeyService::OwnedKeyArn: S3's AWS
// managed key); SSE-S3 (AES256) uses hydrant's own "s3" key. Owned keys allow
// every principal. Failures are the KeyService's: error_code() is KMS's exception
// name (kms::kNotFoundException, kDisabledException, kInvalidStateException,
// kAccessDeniedException, ...), which callers map to their own codes.

#include <string>
#include <string_view>

#include "common/status.h"
#include "iam/principal.h"
#include "kms/key_service.h"
#include "server/sse_format.h"

namespace hydrant::server::sse {

// The owned key purposes.
inline constexpr char kOwnedS3Purpose[] = "s3";              // SSE-S3
inline constexpr char kOwnedKmsDefaultPurpose[] = "aws/s3";  // SSE-KMS without a key id

struct NewDataKey {
  Record record;         // to store as ObjectMeta::encryption (EncodeRecord)
  std::string data_key;  // 32 bytes: encrypt with it (ChunkEncryptor), then drop it
};

// What a new object of BUCKET/KEY is encrypted with.
struct KeyRequest {
  std::string algorithm;    // kAes256 or kAwsKms
  std::string key;          // aws:kms: the key reference; "" = the default key
  std::string context_b64;  // aws:kms: the caller's context header; "" = none
  std::string bucket, object_key;
  // The caller on whose behalf S3 asks KMS (null or anonymous: allowed), and
  // kms:ViaService ("s3.REGION.amazonaws.com"; "" = not added).
  const iam::Principal* principal = nullptr;
  std::string via_service;
};

// Authorizes kms:GenerateDataKey for the principal (SSE-KMS) and makes the data key.
// InvalidArgument (no error code) when context_b64 is not a JSON string map.
Result<NewDataKey> MakeDataKey(kms::KeyService* keys, const KeyRequest& req);

// The data key of a stored object: authorizes kms:Decrypt for the principal
// (SSE-KMS objects) and decrypts the record's wrapped key (the key must be
// Enabled). `req.algorithm/key/context_b64` are ignored: the record says them.
Result<std::string> OpenDataKey(kms::KeyService* keys, const Record& record, const KeyRequest& req);

}  // namespace hydrant::server::sse
