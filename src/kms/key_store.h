#pragma once
// KeyStore: hydrant's KMS keys, durable under <data-dir>/kms (docs/security.md,
// "KMS"; the file formats are in kms/format.h):
//   master.key       the master key (0600; or [kms] master_key_file), created at
//                    first start
//   keys/ID.json     one key: metadata, key policy, material sealed under the
//                    master key (0600)
//   aliases.json     every alias (0600)
// The folders are 0700. Every file is replaced atomically (temp file,
// fdatasync, rename, fsync of the folder); a mutation writes its file before it
// changes memory, so a failed write changes nothing.
//
// Open refuses to start (a Status naming the master key file) when the master
// key does not open the stored keys, or when the master key file is missing
// while keys are stored.
//
// Symmetric keys only (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT). States and their
// rules are AWS's: Enabled ⇄ Disabled; ScheduleKeyDeletion (7..30 days) →
// PendingDeletion; CancelKeyDeletion → Disabled; a key past its deletion date is
// deleted (with its aliases) the next time the store is used. Errors carry KMS's
// exception names and messages (kms/key_service.h).
//
// Thread-safety: all methods may be called concurrently. Reads and the
// cryptographic operations share a lock; mutations take it exclusively.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/account.h"
#include "common/clock.h"
#include "kms/format.h"
#include "kms/key_service.h"

namespace hydrant::iam {
class Policy;
}

namespace hydrant::kms {

struct KeyStoreOptions {
  std::string dir;              // <data-dir>/kms
  std::string master_key_file;  // "" = dir + "/master.key"
  AccountContext account;
  const Clock* clock = &SystemClock::Get();
};

// Encrypt's plaintext limit, and NumberOfBytes' range.
inline constexpr size_t kMaxPlaintextBytes = 4096;
inline constexpr size_t kMaxDataKeyBytes = 1024;

struct AliasInfo {
  std::string name;  // alias/x
  std::string arn;   // arn:aws:kms:REGION:ACCOUNT:alias/x
  std::string key_id;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

class KeyStore final : public KeyService {
 public:
  static Result<std::unique_ptr<KeyStore>> Open(KeyStoreOptions options);
  ~KeyStore() override;

  // --- KeyService ---
  Result<KeyMetadata> DescribeKey(std::string_view key) const override;
  Status CheckUsable(std::string_view key) const override;
  Result<DataKey> GenerateDataKey(std::string_view key, const EncryptionContext& context,
                                  size_t bytes = 32) const override;
  Result<DataKey> Encrypt(std::string_view key, std::string_view plaintext,
                          const EncryptionContext& context) const override;
  Result<Decrypted> Decrypt(std::string_view blob, const EncryptionContext& context,
                            std::string_view expected_key = {}) const override;
  Result<std::string> BlobKeyArn(std::string_view blob) const override;
  Status Authorize(const KeyAccessRequest& request) const override;
  Result<std::string> OwnedKeyArn(std::string_view purpose) override;

  // --- the KMS API's management operations ---
  // `policy` "" = the default key policy; otherwise validated (MalformedPolicyDocumentException).
  Result<KeyMetadata> CreateKey(std::string description, std::string policy);
  // Customer keys (not hydrant's own), every state, by key id.
  std::vector<KeyMetadata> ListKeys() const;
  Status EnableKey(std::string_view key);
  Status DisableKey(std::string_view key);
  Result<KeyMetadata> ScheduleKeyDeletion(std::string_view key, int pending_window_days);
  Result<KeyMetadata> CancelKeyDeletion(std::string_view key);
  Result<std::string> GetKeyPolicy(std::string_view key) const;
  Status PutKeyPolicy(std::string_view key, std::string policy);
  Status CreateAlias(std::string_view alias_name, std::string_view target_key);
  Status DeleteAlias(std::string_view alias_name);
  // Every alias, or those of one key (`key`: a key id or ARN), by name.
  Result<std::vector<AliasInfo>> ListAliases(std::string_view key = {}) const;
  // The key ARN `key` names (key operations accept what AWS accepts: aliases
  // only where `allow_alias`); NotFoundException otherwise. For authorizing a
  // request before running it.
  Result<std::string> ResolveArn(std::string_view key, bool allow_alias) const;

  const AccountContext& account() const { return options_.account; }
  const std::string& master_key_file() const { return options_.master_key_file; }

 private:
  struct Key {
    KeyRecord record;  // record.meta.arn filled
    std::string material;
    std::shared_ptr<const iam::Policy> policy;  // null for owned keys
  };

  explicit KeyStore(KeyStoreOptions options);
  Status Load();
  int64_t Now() const { return options_.clock->NowMillis(); }
  std::string KeyArn(std::string_view id) const;
  std::string AliasArn(std::string_view name) const;
  std::string KeyPath(std::string_view id) const;
  // Deletes keys past their deletion date (exclusive lock taken inside).
  void Sweep() const;
  // Under mu_: the key `ref` names. `allow_alias`: alias names and ARNs accepted;
  // `owned`: keys of hydrant's own visible.
  Result<const Key*> Find(std::string_view ref, bool allow_alias, bool owned) const;
  // Under mu_ (exclusive): writes the key's file, then replaces it in memory.
  Status Store(Key key);
  Status WriteAliases(const std::map<std::string, AliasRecord>& aliases) const;
  Status UsableLocked(const Key& k) const;
  Result<DataKey> SealLocked(std::string_view key, std::string_view plaintext,
                             const EncryptionContext& context) const;

  KeyStoreOptions options_;
  std::string master_;       // the master key (32 bytes)
  std::string fingerprint_;  // MasterKeyFingerprint(master_)
  mutable std::shared_mutex mu_;
  mutable std::map<std::string, Key> keys_;                // by key id
  mutable std::map<std::string, AliasRecord> aliases_;     // by alias name
  mutable std::atomic<int64_t> next_deletion_ms_{INT64_MAX};
  std::map<std::string, std::string, std::less<>> owned_;  // purpose → key id
  std::mutex create_mu_;                                    // OwnedKeyArn's get-or-create
};

}  // namespace hydrant::kms
