#pragma once
// KeyService: what the rest of hydrant asks of its KMS (docs/security.md, "KMS"):
// data keys for envelope encryption (S3 SSE-KMS, stream encryption at rest),
// the decryption of their blobs, whether a key is usable, and whether a
// principal may use it. The KMS API (server/kms_api.h) is one caller; the object
// store, the stream log and the doctor are the others. KeyStore (kms/key_store.h)
// implements it.
//
// Contract for callers:
// - `key` (a "key reference") is what AWS accepts as KeyId: a key id
//   ("1234abcd-12ab-34cd-56ef-1234567890ab"), a key ARN
//   ("arn:aws:kms:REGION:ACCOUNT:key/ID"), an alias name ("alias/NAME") or an
//   alias ARN ("arn:aws:kms:REGION:ACCOUNT:alias/NAME"). Store the key ARN
//   (DataKey::key_arn) beside your data, not the reference: aliases move.
// - Every failure is a Status whose error_code() is AWS KMS's exception name (the
//   k*Exception constants below) and whose message is KMS's message, so that it
//   can be answered as is (the KMS API) or mapped to a service's own code
//   (Firehose's S3.KMS.NotFoundException, S3.KMS.KeyDisabled, ...):
//     NotFoundException           no such key or alias (StatusCode::kNotFound)
//     DisabledException           the key is Disabled
//     KMSInvalidStateException    the key is PendingDeletion (message names the state)
//     InvalidCiphertextException  a blob that is damaged, not ours, or whose
//                                 encryption context differs (kInvalidArgument)
//     IncorrectKeyException       Decrypt's expected key is not the blob's key
//     AccessDeniedException       Authorize's denial (message: KMS's AccessDenied text)
//     KMSInternalException        the key store could not be read or written (kIoError)
// - Authorization is separate from the key operations: a caller acting for a
//   principal asks Authorize first (kms:GenerateDataKey, kms:Decrypt, ...), then
//   calls the operation. The operations themselves check only the key's state.
// - A key past its deletion date is gone: NotFoundException, even if its blobs
//   remain somewhere (they can never be decrypted again).
// - Thread-safety: every method may be called from any thread concurrently.
//   Cryptographic operations take a shared lock and do no I/O, except the
//   removal of a key whose deletion date has passed (once, by whichever call
//   comes first after that date).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "iam/principal.h"

namespace hydrant::kms {

// AWS KMS's exception names, carried as Status::error_code().
inline constexpr std::string_view kNotFoundException = "NotFoundException";
inline constexpr std::string_view kDisabledException = "DisabledException";
inline constexpr std::string_view kInvalidStateException = "KMSInvalidStateException";
inline constexpr std::string_view kInvalidCiphertextException = "InvalidCiphertextException";
inline constexpr std::string_view kIncorrectKeyException = "IncorrectKeyException";
inline constexpr std::string_view kAccessDeniedException = "AccessDeniedException";
inline constexpr std::string_view kValidationException = "ValidationException";
inline constexpr std::string_view kAlreadyExistsException = "AlreadyExistsException";
inline constexpr std::string_view kInvalidAliasNameException = "InvalidAliasNameException";
inline constexpr std::string_view kMalformedPolicyDocumentException =
    "MalformedPolicyDocumentException";
inline constexpr std::string_view kUnsupportedOperationException = "UnsupportedOperationException";
inline constexpr std::string_view kInternalException = "KMSInternalException";

// The EncryptionContext: bound to a blob as associated data; Decrypt must be
// given the same pairs (order does not matter).
using EncryptionContext = std::map<std::string, std::string>;

enum class KeyState { kEnabled, kDisabled, kPendingDeletion };
std::string_view KeyStateName(KeyState s);  // "Enabled", "Disabled", "PendingDeletion"

// What DescribeKey tells of a key (symmetric keys only: SYMMETRIC_DEFAULT,
// ENCRYPT_DECRYPT, origin AWS_KMS).
struct KeyMetadata {
  std::string key_id;  // the UUID
  std::string arn;     // arn:aws:kms:REGION:ACCOUNT:key/ID
  std::string description;
  int64_t creation_ms = 0;
  KeyState state = KeyState::kEnabled;
  int64_t deletion_ms = 0;  // PendingDeletion: when the key goes; else 0
  // A key of hydrant's own (Firehose's AWS_OWNED_CMK): KeyManager "AWS", never
  // listed nor reachable through the KMS API, no key policy (always usable).
  bool aws_owned = false;
};

// A data key: `plaintext` (NumberOfBytes random bytes) to encrypt with and then
// forget, `ciphertext_blob` to store beside the data.
struct DataKey {
  std::string key_arn;  // the key that encrypts it
  std::string plaintext;
  std::string ciphertext_blob;
};

struct Decrypted {
  std::string key_arn;  // the key the blob names
  std::string plaintext;
};

// One authorization question: may `principal` perform `action` ("kms:Decrypt")
// on the key? `condition_keys` adds request keys (aws:SourceIp,
// kms:ViaService = "s3.REGION.amazonaws.com" for S3 on a caller's behalf, ...);
// the service adds kms:CallerAccount, kms:EncryptionContext:K,
// kms:EncryptionContextKeys and kms:RequestAlias itself.
struct KeyAccessRequest {
  const iam::Principal* principal = nullptr;  // null or anonymous: allowed
  std::string action;                         // "kms:GenerateDataKey"
  std::string key;                            // a key reference (see above)
  EncryptionContext context;
  std::vector<std::pair<std::string, std::string>> condition_keys;
};

class KeyService {
 public:
  virtual ~KeyService() = default;

  // The key's metadata, any state.
  virtual Result<KeyMetadata> DescribeKey(std::string_view key) const = 0;
  // OK when the key exists and is Enabled; else NotFoundException,
  // DisabledException or KMSInvalidStateException (the error the key's use
  // would give). This is the doctor's "is the KMS key usable" check.
  virtual Status CheckUsable(std::string_view key) const = 0;

  // A fresh data key of `bytes` bytes (1..1024; 32 for AES-256) encrypted under
  // `key`, bound to `context`.
  virtual Result<DataKey> GenerateDataKey(std::string_view key, const EncryptionContext& context,
                                          size_t bytes = 32) const = 0;
  // Encrypts up to 4096 bytes under `key` (the KMS Encrypt operation).
  virtual Result<DataKey> Encrypt(std::string_view key, std::string_view plaintext,
                                  const EncryptionContext& context) const = 0;
  // Decrypts a blob of GenerateDataKey or Encrypt; the key comes from the blob.
  // `expected_key`, when not empty, must resolve to that same key
  // (IncorrectKeyException otherwise), as Decrypt's KeyId.
  virtual Result<Decrypted> Decrypt(std::string_view blob, const EncryptionContext& context,
                                    std::string_view expected_key = {}) const = 0;
  // The key id a blob names (no decryption, no state check): to authorize
  // kms:Decrypt before decrypting. InvalidCiphertextException if unparsable.
  virtual Result<std::string> BlobKeyArn(std::string_view blob) const = 0;

  // KMS's rule (kms/key_policy.h): the key policy decides; identity policies
  // count only where the key policy allows the account; an explicit Deny in
  // either wins. OK, or AccessDeniedException with KMS's message; a missing key
  // is NotFoundException. Keys of hydrant's own allow every principal.
  virtual Status Authorize(const KeyAccessRequest& request) const = 0;

  // The id of the key of hydrant's own named `purpose` ("firehose"), created on
  // first use (Firehose's AWS_OWNED_CMK).
  virtual Result<std::string> OwnedKeyArn(std::string_view purpose) = 0;
};

}  // namespace hydrant::kms
