#pragma once
// KmsApi: the subset of AWS KMS (JSON 1.1, POST / with X-Amz-Target:
// TrentService.<Operation>, as `aws kms` and the SDKs call it) over hydrant's
// KeyStore (kms/key_store.h): CreateKey, DescribeKey, ListKeys, CreateAlias,
// ListAliases, DeleteAlias, EnableKey, DisableKey, ScheduleKeyDeletion,
// CancelKeyDeletion, GetKeyPolicy, PutKeyPolicy, Encrypt, Decrypt,
// GenerateDataKey, GenerateDataKeyWithoutPlaintext. Shapes follow botocore's
// kms/2014-11-01 model; errors are KMS's exception types (HTTP 400; 500 for
// KMSInternalException) with KMS's messages. Other operations answer
// UnsupportedOperationException. docs/security.md ("KMS") lists the choices.
//
// Authorization of signed requests (server/authorization.h's Authorizer::Applies)
// happens here, because KMS's rule is its own: kms:<Operation> on the key ARN
// decided by the key policy and, where it delegates to the account, the
// caller's identity policies (KeyStore::Authorize); CreateKey, ListKeys and
// ListAliases on "*" by identity policies only (the Authorizer).
//
// Handle writes key files for the management calls: run it off the I/O threads.
// Thread-safe (the store is).

#include <string>

#include "server/http_types.h"

namespace hydrant::kms {
class KeyStore;
}

namespace hydrant::server {

class Authorizer;

class KmsApi {
 public:
  // `store` may be null: every call then answers KMSInternalException.
  // `authz` (optional) authorizes the "*" operations. Both outlive this object.
  KmsApi(kms::KeyStore* store, const Authorizer* authz) : store_(store), authz_(authz) {}

  static bool IsKmsRequest(const http::Request& req);
  http::Response Handle(const http::Request& req) const;

 private:
  kms::KeyStore* store_;
  const Authorizer* authz_;
};

}  // namespace hydrant::server
