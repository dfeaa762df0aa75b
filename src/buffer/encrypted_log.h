#pragma once
// EncryptedLog: encryption at rest for any RecordLog (Firehose's
// StartDeliveryStreamEncryption; docs/wal-format.md, "Encryption at rest").
// A decorator: the delivery stages read and acknowledge through RecordLog as
// before, and a replicated log can be wrapped the same way as the local one.
//
// While encryption is on, each Append call becomes one AES-256-GCM message
// under the log's data key: one GCM operation per call (per-record GCM costs
// ~0.5 us of OpenSSL overhead per record, measured: half the ingest rate of
// 100 B records). Every record of the call keeps its own seq and frame; its
// payload is an envelope (kRecordEncrypted) holding its piece of the
// ciphertext, and the call's first record also holds the key id, the nonce, the
// record count and the tag. Reading a record decrypts and verifies its whole
// call (reading back to the call's first record when needed).
//
// Data keys come from a KMS (LogKeyService), are stored wrapped in the log's
// folder (KEYS, log_format-style binary, replaced atomically) and are never
// written in plaintext. Nonces are a per-key counter leased in blocks: KEYS
// records the end of the leased block before any nonce of it is used, so no
// nonce repeats under a key, across crashes and restarts.
//
// Records appended while encryption is off are stored as given and read back as
// they are; both kinds mix freely in one log.
//
// Errors: the key service's errors (Status::error_code() = the KMS exception
// name) fail Append (nothing written) and Read (retry later). A call whose bytes
// do not authenticate, or whose records cannot all be found (damage cut some),
// is damage: its records are skipped, counted in unreadable_records() and
// logged (event=log_decrypt_failed), and reading goes on.
//
// Thread-safety: all methods may be called concurrently.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "buffer/record_log.h"
#include "common/status.h"

namespace hydrant::buffer {

// A data key: `plaintext` (32 bytes) to encrypt with, `blob` to store.
struct LogDataKey {
  std::string kms_key_arn;
  std::string plaintext;
  std::string blob;
};

// What an encrypted log asks of a KMS. Errors carry the KMS exception name as
// Status::error_code() (kms/key_service.h).
class LogKeyService {
 public:
  virtual ~LogKeyService() = default;
  // The ARN of the key `kms_key` names ("" = hydrant's own key, Firehose's
  // AWS_OWNED_CMK), checking that it is usable now.
  virtual Result<std::string> ResolveKey(std::string_view kms_key) = 0;
  // A fresh 32-byte data key under the key `kms_key_arn`, bound to `context`.
  virtual Result<LogDataKey> NewDataKey(std::string_view kms_key_arn,
                                        std::string_view context) = 0;
  // The plaintext of a data key's blob; `context` as given to NewDataKey.
  virtual Result<std::string> Unwrap(std::string_view blob, std::string_view context) = 0;
  // OK when the key may be used now; else the KMS's error (disabled, deleted).
  virtual Status CheckUsable(std::string_view kms_key_arn) = 0;
};

// ---- formats (exposed for tests and the fuzz target) ----
namespace log_keys {

// Envelope of an encrypted record (a frame payload with kRecordEncrypted):
//   first record of a call: u8 1, u32 key id, u64 nonce, u32 count, 16-byte tag,
//                            ciphertext of (u32 length, the record)
//   record k (1..count-1):   u8 2, u32 k, ciphertext of (u32 length, the record)
// The call is one GCM message: the records' (length, bytes) back to back, with
// the associated data (arrival ms, key id, nonce, count).
inline constexpr size_t kHeadBytes = 1 + 4 + 8 + 4 + 16;
inline constexpr size_t kMemberBytes = 1 + 4;
inline constexpr uint32_t kMaxCallRecords = 1u << 20;

struct Envelope {
  bool head = false;
  uint32_t index = 0;  // 0 for the head
  uint32_t key_id = 0;
  uint64_t nonce = 0;
  uint32_t count = 0;
  std::string_view tag;
  std::string_view ciphertext;
};
// Empty when `payload` is a well-formed envelope (*out set), else the reason.
std::string DecodeEnvelope(std::string_view payload, Envelope* out);

// KEYS: u32 masked CRC32C of the rest, u32 magic "HYKR", u32 version 1,
// u32 count, then per key: u32 id, u64 nonce limit, u16 ARN length, ARN,
// u16 blob length, blob.
struct StoredKey {
  uint32_t id = 0;
  uint64_t nonce_limit = 0;
  std::string kms_key_arn;
  std::string blob;
};
std::string EncodeKeys(const std::vector<StoredKey>& keys);
// Empty when valid (*out set), else the reason.
std::string DecodeKeys(std::string_view in, std::vector<StoredKey>* out);
inline constexpr std::string_view kKeysName = "KEYS";

}  // namespace log_keys

struct EncryptedLogOptions {
  std::string dir;      // the folder of KEYS (the inner log's own folder)
  std::string context;  // bound to every data key: which stream and log
  LogKeyService* keys = nullptr;  // not owned; must outlive the log
};

class EncryptedLog final : public RecordLog {
 public:
  // Wraps `inner`, loading KEYS from opts.dir. Corruption (naming the file) when
  // KEYS exists but does not decode: without it the encrypted records cannot be
  // read, so the log is not opened rather than having them skipped.
  static Result<std::shared_ptr<EncryptedLog>> Open(std::shared_ptr<RecordLog> inner,
                                                    EncryptedLogOptions opts);
  ~EncryptedLog() override;

  // Records appended from now on are encrypted under a data key of `kms_key`
  // ("" = hydrant's own key). A key used before by this log is used again (its
  // data key unwrapped), else a new data key is made. On error (the KMS's) the
  // log still refuses plaintext appends: Append retries the key (at most once a
  // second) and fails until it works. LimitExceeded when the log already holds
  // kMaxKeys data keys and is not empty.
  Status Enable(std::string_view kms_key);
  // Records appended from now on are stored as given.
  void Disable();
  // Whether the next Append would encrypt (Firehose's `Encrypted` answer).
  bool encrypting() const;
  // Records skipped because their call failed authentication or was incomplete
  // (each place counted once, however often it is read).
  uint64_t unreadable_records() const { return unreadable_.load(std::memory_order_relaxed); }
  // Data keys KEYS holds (tests).
  size_t key_count() const;

  static constexpr size_t kMaxKeys = 16;

  // --- RecordLog ---
  using RecordLog::Append;
  Result<uint64_t> Append(int64_t arrival_ms, std::span<const std::string_view> payloads,
                          uint32_t flags) override;
  Status Sync() override { return inner_->Sync(); }
  Status Read(uint64_t from, uint64_t max_bytes,
              const std::function<bool(const LogRecord&)>& fn) const override;
  Status MarkDelivered(uint64_t up_to) override;
  uint64_t first_undelivered() const override { return inner_->first_undelivered(); }
  uint64_t next_seq() const override { return inner_->next_seq(); }
  uint64_t disk_bytes() const override { return inner_->disk_bytes(); }
  const LatencyHistogram& sync_latency() const override { return inner_->sync_latency(); }
  void ReleaseIdleFiles() override { inner_->ReleaseIdleFiles(); }
  Status Destroy() override { return inner_->Destroy(); }

 private:
  struct CipherKey;  // a data key's bytes, with a process-wide unique id
  struct ActiveKey;  // the data key Append uses
  class Reader;

  EncryptedLog(std::shared_ptr<RecordLog> inner, EncryptedLogOptions opts);
  // Makes want_ the active key (key_mu_ held exclusively).
  Status ActivateLocked();
  // Writes entries as KEYS, atomically and durably.
  Status WriteKeys(const std::vector<log_keys::StoredKey>& entries) const;
  // The plaintext data key of entry `id`, unwrapped once and cached.
  Result<std::shared_ptr<const CipherKey>> KeyFor(uint32_t id) const;
  // Builds the envelopes of one call into *buf (views: one per record).
  static bool SealCall(const ActiveKey& key, uint64_t nonce, int64_t arrival_ms,
                       std::span<const std::string_view> payloads, std::string* buf,
                       std::vector<std::string_view>* views);
  // Whether [from, end) is reported for the first time (bounded memory: the
  // last kMaxReported places).
  bool FirstReport(uint64_t from, uint64_t end) const;
  static constexpr size_t kMaxReported = 64;
  // Leases the next block of nonces for the active key (key_mu_ held exclusively).
  Status LeaseNoncesLocked();

  const std::shared_ptr<RecordLog> inner_;
  const EncryptedLogOptions opts_;

  // Appends hold key_mu_ shared; Enable, Disable, leases and the removal of
  // unused keys hold it exclusively.
  mutable std::shared_mutex key_mu_;
  std::vector<log_keys::StoredKey> entries_;  // as in KEYS
  std::optional<std::string> want_;         // the key asked for; nullopt = off
  std::shared_ptr<ActiveKey> active_;       // null: not encrypting (or key unusable)
  Status last_error_;                       // of the last activation
  int64_t last_attempt_ms_ = 0;

  mutable std::mutex cache_mu_;
  mutable std::map<uint32_t, std::shared_ptr<const CipherKey>> plain_keys_;
  mutable std::atomic<uint64_t> unreadable_{0};
  mutable std::mutex report_mu_;
  mutable std::vector<std::pair<uint64_t, uint64_t>> reported_;
};


}  // namespace hydrant::buffer
