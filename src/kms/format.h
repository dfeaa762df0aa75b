#pragma once
// The KMS's on-disk and on-wire formats, fixed here and restated in
// docs/security.md ("KMS"). What protects what: the master key file protects the
// key material in the key files; each key's material protects the blobs made
// under it (Encrypt's ciphertexts and data keys), which protect the data.
//
// 1. The master key file (<data-dir>/kms/master.key, or [kms] master_key_file),
//    mode 0600, two lines of text:
//        hydrant-kms-master-key 1
//        <base64 of 32 random bytes>
//    Its fingerprint (below) is written into every key file, so that a wrong
//    master key is told apart from a damaged key file.
//
// 2. A key file (<data-dir>/kms/keys/<KEY-ID>.json), mode 0600, one JSON object:
//        {"format":1, "key_id":"<uuid>", "created_ms":N, "description":"...",
//         "state":"Enabled"|"Disabled"|"PendingDeletion", "deletion_ms":N,
//         "policy":"<key policy JSON text>", "owned":false,
//         "master":"<master key fingerprint>",
//         "material":"<base64 of IV(12) || AES-256-GCM(material) || tag(16)>"}
//    The material (32 bytes) is sealed under the master key with associated data
//    kMaterialAad + key_id: a material moved into another key's file fails.
//
// 3. The aliases file (<data-dir>/kms/aliases.json), mode 0600:
//        {"format":1, "aliases":[{"name":"alias/x", "key_id":"<uuid>",
//                                 "created_ms":N, "updated_ms":N}, ...]}
//
// 4. A ciphertext blob (Encrypt's CiphertextBlob, a data key's), version 1:
//        offset 0      1 byte   version (kBlobVersion = 1)
//        offset 1      1 byte   L: key id length (1..64)
//        offset 2      L bytes  key id (ASCII)
//        offset 2+L    12 bytes IV (random)
//        offset 14+L   N bytes  AES-256-GCM ciphertext of the plaintext
//        last          16 bytes GCM tag
//    Associated data: the blob's first 2+L bytes, then the encryption context in
//    canonical form (pairs sorted by key, each u32 big-endian length + key bytes,
//    u32 length + value bytes). Any changed byte, a different key or a
//    different context fails the tag: InvalidCiphertextException.
//
// What changes together: a new blob version or key-file format adds a number
// here and a parser branch; old numbers stay readable.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kms/key_service.h"

namespace hydrant::kms {

inline constexpr std::string_view kMasterKeyHeader = "hydrant-kms-master-key 1";
inline constexpr int kKeyFileFormat = 1;
inline constexpr int kAliasesFileFormat = 1;
inline constexpr uint8_t kBlobVersion = 1;
inline constexpr size_t kMaxKeyIdBytes = 64;
inline constexpr std::string_view kMaterialAad = "hydrant-kms-key-material-v1:";
// Key files and the aliases file are small; anything larger is not ours.
inline constexpr size_t kMaxKeyFileBytes = 1 << 20;

// The master key file's text for `key` (32 bytes), and its parse.
std::string SerializeMasterKey(std::string_view key);
Result<std::string> ParseMasterKey(std::string_view text);
// 16 hex digits identifying a master key (SHA-256 of a label and the key):
// safe to store and to print, it reveals nothing of the key.
std::string MasterKeyFingerprint(std::string_view key);

// One key as stored (the material still sealed).
struct KeyRecord {
  KeyMetadata meta;  // arn is not stored: derived from the account at load
  std::string policy;
  std::string master_fingerprint;
  std::string sealed_material;  // IV || ciphertext || tag
};
std::string SerializeKeyRecord(const KeyRecord& r);
// Corruption naming what is wrong when `text` is not a key file of a known format.
Result<KeyRecord> ParseKeyRecord(std::string_view text);
// Seals and opens the material of key `key_id` under the master key.
std::string SealMaterial(std::string_view master, std::string_view key_id, std::string_view material);
std::optional<std::string> OpenMaterial(std::string_view master, std::string_view key_id,
                                        std::string_view sealed);

// One alias as stored.
struct AliasRecord {
  std::string name;  // "alias/x"
  std::string key_id;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};
std::string SerializeAliases(const std::vector<AliasRecord>& aliases);
Result<std::vector<AliasRecord>> ParseAliases(std::string_view text);

// A parsed blob (views into the blob's bytes).
struct BlobView {
  std::string_view key_id;
  std::string_view header;  // the first 2+L bytes (part of the associated data)
  std::string_view iv;
  std::string_view sealed;  // ciphertext || tag
};
// nullopt when `blob` is not a version-1 blob (too short, unknown version, bad
// key id length or characters).
std::optional<BlobView> ParseBlob(std::string_view blob);
// The canonical encoding of an encryption context (associated data).
std::string CanonicalContext(const EncryptionContext& context);
// A blob of `plaintext` under key `key_id` with `material`.
std::string SealBlob(std::string_view key_id, std::string_view material, std::string_view plaintext,
                     const EncryptionContext& context);
// The plaintext, or nullopt when the tag fails.
std::optional<std::string> OpenBlob(const BlobView& blob, std::string_view material,
                                    const EncryptionContext& context);

}  // namespace hydrant::kms
