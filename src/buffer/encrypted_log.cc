#include "buffer/encrypted_log.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include <spdlog/spdlog.h>

#include "common/coding.h"
#include "common/crc32c.h"
#include "common/file_util.h"

namespace hydrant::buffer {

namespace {

constexpr uint8_t kHeadKind = 1;
constexpr uint8_t kMemberKind = 2;
constexpr uint32_t kKeysMagic = 0x524b5948;  // bytes "HYKR"
constexpr uint32_t kKeysVersion = 1;
constexpr size_t kKeysHeaderBytes = 16;
constexpr size_t kMaxArnBytes = 2048;
constexpr size_t kMaxBlobBytes = 4096;
constexpr size_t kDataKeyBytes = 32;
constexpr size_t kTagBytes = 16;
// Nonces leased per write of KEYS: a restart skips at most this many.
constexpr uint64_t kNonceLease = uint64_t{1} << 32;
// The highest nonce limit from which another lease fits in 64 bits. Counting
// never gets there; a KEYS entry past it (damaged or forged, with a valid CRC)
// would wrap the limit and reuse nonces, so its data key is not used again.
constexpr uint64_t kMaxNonceLimit = UINT64_MAX - kNonceLease;
constexpr auto kRetryInterval = std::chrono::seconds(1);
constexpr std::string_view kLimitExceeded = "LimitExceededException";

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The 12-byte GCM IV of a nonce: 4 zero bytes, then the nonce (little-endian).
void NonceIv(uint64_t nonce, unsigned char iv[12]) {
  std::fill(iv, iv + 4, 0);
  coding::EncodeFixed64(reinterpret_cast<char*>(iv + 4), nonce);
}

// Associated data of a call: what binds its records together and to the frame
// fields that are not encrypted. (Each record's length is encrypted with it.)
std::string CallAad(int64_t arrival_ms, uint32_t key_id, uint64_t nonce, uint32_t count) {
  std::string out;
  coding::PutFixed64(&out, static_cast<uint64_t>(arrival_ms));
  coding::PutFixed32(&out, key_id);
  coding::PutFixed64(&out, nonce);
  coding::PutFixed32(&out, count);
  return out;
}

// Below this average record size a call is encrypted in one piece (staged):
// an EVP update per record costs more than copying the records twice.
constexpr size_t kStageBelowBytes = 4096;
// A thread keeps its buffers between calls up to this size (a PutRecordBatch is
// at most 4 MiB; a processed batch may be larger, and rare).
constexpr size_t kKeepBufferBytes = 8u << 20;
// Pieces smaller than this are gathered before they are decrypted.
constexpr size_t kGatherBelowBytes = 4096;

std::atomic<uint64_t> next_key_uid{1};

// A thread's AES-256-GCM context, set up for one key (by its uid) and direction:
// the key schedule costs more than encrypting a small call.
class GcmContext {
 public:
  GcmContext() : ctx_(EVP_CIPHER_CTX_new()) {}
  ~GcmContext() { EVP_CIPHER_CTX_free(ctx_); }
  GcmContext(const GcmContext&) = delete;
  GcmContext& operator=(const GcmContext&) = delete;

  // Starts a message under `key` with `iv`; false if OpenSSL fails.
  bool Begin(uint64_t key_uid, std::string_view key, bool encrypt, const unsigned char iv[12]) {
    if (ctx_ == nullptr || key.size() != kDataKeyBytes) return false;
    const auto* k = reinterpret_cast<const unsigned char*>(key.data());
    if (uid_ != key_uid || encrypt_ != encrypt) {
      uid_ = 0;
      if (EVP_CipherInit_ex(ctx_, EVP_aes_256_gcm(), nullptr, k, iv, encrypt ? 1 : 0) != 1) {
        return false;
      }
      uid_ = key_uid;
      encrypt_ = encrypt;
      return true;
    }
    return EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, iv, -1) == 1;
  }
  bool Aad(std::string_view aad) {
    int n = 0;
    return EVP_CipherUpdate(ctx_, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                            static_cast<int>(aad.size())) == 1;
  }
  bool Update(const char* in, size_t len, char* out) {
    if (len == 0) return true;
    int n = 0;
    return EVP_CipherUpdate(ctx_, reinterpret_cast<unsigned char*>(out), &n,
                            reinterpret_cast<const unsigned char*>(in),
                            static_cast<int>(len)) == 1 &&
           static_cast<size_t>(n) == len;
  }
  // Encryption: writes the tag. Decryption: checks `tag` (false = not authentic).
  bool FinishEncrypt(char tag[kTagBytes]) {
    int n = 0;
    unsigned char end[16];
    return EVP_CipherFinal_ex(ctx_, end, &n) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  }
  bool FinishDecrypt(std::string_view tag) {
    int n = 0;
    unsigned char end[16];
    std::string t(tag);
    if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, kTagBytes, t.data()) != 1) return false;
    return EVP_CipherFinal_ex(ctx_, end, &n) == 1;
  }

 private:
  EVP_CIPHER_CTX* ctx_;
  uint64_t uid_ = 0;
  bool encrypt_ = true;
};

GcmContext& ThreadGcm() {
  thread_local GcmContext ctx;
  return ctx;
}

}  // namespace

// ---------------------------------------------------------------------------
// Formats

namespace log_keys {

std::string DecodeEnvelope(std::string_view p, Envelope* out) {
  if (p.empty()) return "empty encrypted record";
  const uint8_t kind = static_cast<uint8_t>(p[0]);
  Envelope e;
  if (kind == kHeadKind) {
    if (p.size() < kHeadBytes) return "encrypted record shorter than its header";
    e.head = true;
    e.key_id = coding::DecodeFixed32(p.data() + 1);
    e.nonce = coding::DecodeFixed64(p.data() + 5);
    e.count = coding::DecodeFixed32(p.data() + 13);
    e.tag = p.substr(17, kTagBytes);
    e.ciphertext = p.substr(kHeadBytes);
    if (e.ciphertext.size() < 4) return "encrypted record shorter than its length";
    if (e.count == 0 || e.count > kMaxCallRecords) {
      return "encrypted call of " + std::to_string(e.count) + " records";
    }
  } else if (kind == kMemberKind) {
    if (p.size() < kMemberBytes) return "encrypted record shorter than its header";
    e.index = coding::DecodeFixed32(p.data() + 1);
    e.ciphertext = p.substr(kMemberBytes);
    if (e.ciphertext.size() < 4) return "encrypted record shorter than its length";
    if (e.index == 0 || e.index >= kMaxCallRecords) {
      return "encrypted record with index " + std::to_string(e.index);
    }
  } else {
    return "unknown encrypted record kind " + std::to_string(kind);
  }
  *out = e;
  return "";
}

std::string EncodeKeys(const std::vector<StoredKey>& keys) {
  std::string out(4, '\0');
  coding::PutFixed32(&out, kKeysMagic);
  coding::PutFixed32(&out, kKeysVersion);
  coding::PutFixed32(&out, static_cast<uint32_t>(keys.size()));
  for (const StoredKey& k : keys) {
    coding::PutFixed32(&out, k.id);
    coding::PutFixed64(&out, k.nonce_limit);
    coding::PutFixed16(&out, static_cast<uint16_t>(k.kms_key_arn.size()));
    out += k.kms_key_arn;
    coding::PutFixed16(&out, static_cast<uint16_t>(k.blob.size()));
    out += k.blob;
  }
  coding::EncodeFixed32(out.data(), crc32c::Mask(crc32c::Value(out.data() + 4, out.size() - 4)));
  return out;
}

std::string DecodeKeys(std::string_view in, std::vector<StoredKey>* out) {
  if (in.size() < kKeysHeaderBytes) return "file shorter than its header";
  if (crc32c::Unmask(coding::DecodeFixed32(in.data())) !=
      crc32c::Value(in.data() + 4, in.size() - 4)) {
    return "checksum mismatch";
  }
  if (coding::DecodeFixed32(in.data() + 4) != kKeysMagic) return "bad magic";
  if (coding::DecodeFixed32(in.data() + 8) != kKeysVersion) return "unsupported version";
  const uint32_t count = coding::DecodeFixed32(in.data() + 12);
  if (count > EncryptedLog::kMaxKeys) return "too many keys (" + std::to_string(count) + ")";
  std::vector<StoredKey> keys;
  size_t pos = kKeysHeaderBytes;
  auto field = [&](size_t max, std::string* s) {
    if (in.size() - pos < 2) return false;
    const size_t n = coding::DecodeFixed16(in.data() + pos);
    pos += 2;
    if (n > max || in.size() - pos < n) return false;
    s->assign(in.data() + pos, n);
    pos += n;
    return true;
  };
  for (uint32_t i = 0; i < count; ++i) {
    StoredKey k;
    if (in.size() - pos < 12) return "truncated key entry";
    k.id = coding::DecodeFixed32(in.data() + pos);
    k.nonce_limit = coding::DecodeFixed64(in.data() + pos + 4);
    pos += 12;
    if (!field(kMaxArnBytes, &k.kms_key_arn) || !field(kMaxBlobBytes, &k.blob)) {
      return "truncated key entry";
    }
    for (const StoredKey& other : keys) {
      if (other.id == k.id) return "duplicate key id " + std::to_string(k.id);
    }
    keys.push_back(std::move(k));
  }
  if (pos != in.size()) return "bytes after the last key";
  *out = std::move(keys);
  return "";
}

}  // namespace log_keys

// ---------------------------------------------------------------------------
// Keys

// An AES-256 key with a process-wide unique id (GcmContext).
struct EncryptedLog::CipherKey {
  uint64_t uid = next_key_uid.fetch_add(1, std::memory_order_relaxed);
  std::string bytes;
  std::string kms_key_arn;  // the KMS key that wraps it
};

struct EncryptedLog::ActiveKey {
  uint32_t id = 0;
  std::string kms_key_arn;
  std::shared_ptr<const CipherKey> key;
  std::atomic<uint64_t> next_nonce{0};
  uint64_t nonce_limit = 0;  // key_mu_
};

EncryptedLog::EncryptedLog(std::shared_ptr<RecordLog> inner, EncryptedLogOptions opts)
    : inner_(std::move(inner)), opts_(std::move(opts)) {}

EncryptedLog::~EncryptedLog() = default;

Result<std::shared_ptr<EncryptedLog>> EncryptedLog::Open(std::shared_ptr<RecordLog> inner,
                                                         EncryptedLogOptions opts) {
  if (!inner || opts.keys == nullptr) return Status::InvalidArgument("EncryptedLog: no log or keys");
  std::shared_ptr<EncryptedLog> log(new EncryptedLog(std::move(inner), std::move(opts)));
  const std::string path = log->opts_.dir + "/" + std::string(log_keys::kKeysName);
  auto data = fs::ReadFile(path, 1 << 20);
  if (data.ok()) {
    if (std::string why = log_keys::DecodeKeys(*data, &log->entries_); !why.empty()) {
      return Status::Corruption(path + ": " + why +
                                "; the log's encrypted records cannot be read without it");
    }
  } else if (data.status().code() != StatusCode::kNotFound) {
    return data.status();
  }
  return log;
}

Status EncryptedLog::WriteKeys(const std::vector<log_keys::StoredKey>& entries) const {
  return fs::WriteFileAtomic(opts_.dir + "/" + std::string(log_keys::kKeysName),
                             log_keys::EncodeKeys(entries), 0600);
}

Status EncryptedLog::Enable(std::string_view kms_key) {
  std::unique_lock lk(key_mu_);
  if (want_ != kms_key) active_.reset();
  want_ = std::string(kms_key);
  last_attempt_ms_ = SteadyMs();
  last_error_ = ActivateLocked();
  return last_error_;
}

void EncryptedLog::Disable() {
  std::unique_lock lk(key_mu_);
  want_.reset();
  active_.reset();
  last_error_ = Status::Ok();
}

bool EncryptedLog::encrypting() const {
  std::shared_lock lk(key_mu_);
  return want_.has_value() && active_ != nullptr;
}

size_t EncryptedLog::key_count() const {
  std::shared_lock lk(key_mu_);
  return entries_.size();
}

Status EncryptedLog::ActivateLocked() {
  auto arn = opts_.keys->ResolveKey(*want_);
  if (!arn.ok()) return arn.status();
  if (active_ && active_->kms_key_arn == *arn) return Status::Ok();
  active_.reset();
  auto existing = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) {
    return e.kms_key_arn == *arn && e.nonce_limit <= kMaxNonceLimit;
  });
  std::vector<log_keys::StoredKey> entries = entries_;
  log_keys::StoredKey* entry = nullptr;
  std::string plaintext;
  if (existing != entries_.end()) {
    entry = &entries[existing - entries_.begin()];
    auto p = opts_.keys->Unwrap(entry->blob, opts_.context);
    if (!p.ok()) return p.status();
    plaintext = std::move(p).value();
  } else {
    if (entries.size() >= kMaxKeys) {
      if (inner_->first_undelivered() != inner_->next_seq()) {
        return Status::ResourceExhausted("the stream's buffer holds records under " +
                                         std::to_string(kMaxKeys) +
                                         " data keys already; deliver them before using another key")
            .WithErrorCode(kLimitExceeded);
      }
      entries.clear();  // an empty log needs none of them
    }
    auto dk = opts_.keys->NewDataKey(*arn, opts_.context);
    if (!dk.ok()) return dk.status();
    uint32_t id = 1;
    for (const auto& e : entries) id = std::max(id, e.id + 1);
    entries.push_back({id, 0, dk->kms_key_arn, dk->blob});
    entry = &entries.back();
    plaintext = std::move(dk->plaintext);
  }
  if (plaintext.size() != kDataKeyBytes) return Status::Internal("data key of the wrong size");
  auto key = std::make_shared<ActiveKey>();
  key->id = entry->id;
  key->kms_key_arn = entry->kms_key_arn;
  auto cipher_key = std::make_shared<CipherKey>();
  cipher_key->bytes = std::move(plaintext);
  cipher_key->kms_key_arn = entry->kms_key_arn;
  key->key = std::move(cipher_key);
  // No nonce is leased yet: the first Append leases a block and writes KEYS
  // (with this key when it is new), so that opening many encrypted streams at
  // start costs no disk write each.
  key->next_nonce = entry->nonce_limit;
  key->nonce_limit = entry->nonce_limit;
  entries_ = std::move(entries);
  {
    std::lock_guard c(cache_mu_);
    plain_keys_[key->id] = key->key;
  }
  active_ = std::move(key);
  return Status::Ok();
}

Status EncryptedLog::LeaseNoncesLocked() {
  ActiveKey& key = *active_;
  if (key.next_nonce.load() < key.nonce_limit) return Status::Ok();
  if (key.next_nonce.load() > kMaxNonceLimit) {
    return Status::ResourceExhausted("the log's data key has used all its nonces");
  }
  std::vector<log_keys::StoredKey> entries = entries_;
  for (auto& e : entries) {
    if (e.id == key.id) e.nonce_limit = key.next_nonce.load() + kNonceLease;
  }
  HYDRANT_RETURN_IF_ERROR(WriteKeys(entries));
  entries_ = std::move(entries);
  for (const auto& e : entries_) {
    if (e.id == key.id) key.nonce_limit = e.nonce_limit;
  }
  return Status::Ok();
}

Result<std::shared_ptr<const EncryptedLog::CipherKey>> EncryptedLog::KeyFor(uint32_t id) const {
  {
    std::lock_guard c(cache_mu_);
    if (auto it = plain_keys_.find(id); it != plain_keys_.end()) return it->second;
  }
  std::string blob, arn;
  {
    std::shared_lock lk(key_mu_);
    for (const auto& e : entries_) {
      if (e.id == id) {
        blob = e.blob;
        arn = e.kms_key_arn;
      }
    }
  }
  if (blob.empty()) {
    return Status::Corruption("no data key " + std::to_string(id) + " in " + opts_.dir + "/" +
                              std::string(log_keys::kKeysName));
  }
  auto plain = opts_.keys->Unwrap(blob, opts_.context);
  if (!plain.ok()) return plain.status();
  if (plain->size() != kDataKeyBytes) return Status::Corruption("data key of the wrong size");
  auto k = std::make_shared<CipherKey>();
  k->bytes = std::move(plain).value();
  k->kms_key_arn = std::move(arn);
  std::lock_guard c(cache_mu_);
  plain_keys_[id] = k;
  return std::shared_ptr<const CipherKey>(std::move(k));
}

// ---------------------------------------------------------------------------
// Append

// The envelopes of one call (log_keys): the GCM stream is each record's
// 4-byte length then its bytes, record after record; record k's envelope holds
// its part of the ciphertext.
bool EncryptedLog::SealCall(const ActiveKey& key, uint64_t nonce, int64_t arrival_ms,
                            std::span<const std::string_view> payloads, std::string* buf,
                            std::vector<std::string_view>* views) {
  const size_t n = payloads.size();
  size_t data = 0;
  for (std::string_view p : payloads) data += p.size();
  buf->resize(log_keys::kHeadBytes + log_keys::kMemberBytes * (n - 1) + 4 * n + data);
  unsigned char iv[12];
  NonceIv(nonce, iv);
  GcmContext& gcm = ThreadGcm();
  if (!gcm.Begin(key.key->uid, key.key->bytes, true, iv) ||
      !gcm.Aad(CallAad(arrival_ms, key.id, nonce, static_cast<uint32_t>(n)))) {
    return false;
  }
  // Where record k's piece goes, after its envelope header.
  auto header = [&](size_t k, char* at) -> char* {
    if (k == 0) {
      at[0] = static_cast<char>(kHeadKind);
      coding::EncodeFixed32(at + 1, key.id);
      coding::EncodeFixed64(at + 5, nonce);
      coding::EncodeFixed32(at + 13, static_cast<uint32_t>(n));
      return at + log_keys::kHeadBytes;  // the tag is written at the end
    }
    at[0] = static_cast<char>(kMemberKind);
    coding::EncodeFixed32(at + 1, static_cast<uint32_t>(k));
    return at + log_keys::kMemberBytes;
  };
  views->clear();
  char* out = buf->data();
  bool ok = true;
  if (data < kStageBelowBytes * n) {
    // Small records: the whole stream in one update, then cut into envelopes.
    thread_local std::string plain, sealed;
    if (plain.capacity() > kKeepBufferBytes) plain = std::string(), sealed = std::string();
    plain.clear();
    for (std::string_view p : payloads) {
      coding::PutFixed32(&plain, static_cast<uint32_t>(p.size()));
      plain.append(p);
    }
    sealed.resize(plain.size());
    ok = gcm.Update(plain.data(), plain.size(), sealed.data());
    size_t at = 0;
    for (size_t k = 0; ok && k < n; ++k) {
      char* start = out;
      out = header(k, out);
      std::memcpy(out, sealed.data() + at, 4 + payloads[k].size());
      out += 4 + payloads[k].size();
      at += 4 + payloads[k].size();
      views->emplace_back(start, static_cast<size_t>(out - start));
    }
  } else {
    for (size_t k = 0; ok && k < n; ++k) {
      char* start = out;
      out = header(k, out);
      char len[4];
      coding::EncodeFixed32(len, static_cast<uint32_t>(payloads[k].size()));
      ok = gcm.Update(len, 4, out) &&
           gcm.Update(payloads[k].data(), payloads[k].size(), out + 4);
      out += 4 + payloads[k].size();
      views->emplace_back(start, static_cast<size_t>(out - start));
    }
  }
  return ok && gcm.FinishEncrypt(buf->data() + 17);
}

Result<uint64_t> EncryptedLog::Append(int64_t arrival_ms,
                                      std::span<const std::string_view> payloads, uint32_t flags) {
  if (flags != 0) return Status::InvalidArgument("EncryptedLog sets the record flags itself");
  for (;;) {
    std::shared_ptr<ActiveKey> key;
    uint64_t nonce = 0;
    {
      std::shared_lock lk(key_mu_);
      if (!want_) return inner_->Append(arrival_ms, payloads, 0);
      key = active_;
      if (key) {
        HYDRANT_RETURN_IF_ERROR(opts_.keys->CheckUsable(key->kms_key_arn));
        nonce = key->next_nonce.fetch_add(1);
        if (nonce < key->nonce_limit) {
          if (payloads.empty()) return inner_->Append(arrival_ms, payloads, 0);
          if (payloads.size() > log_keys::kMaxCallRecords) {
            return Status::InvalidArgument("too many records in one call");
          }
          thread_local std::string buf;
          thread_local std::vector<std::string_view> views;
          if (!SealCall(*key, nonce, arrival_ms, payloads, &buf, &views)) {
            return Status::Internal("AES-256-GCM encryption failed");
          }
          auto r = inner_->Append(arrival_ms, views, kRecordEncrypted);
          if (buf.capacity() > kKeepBufferBytes) buf = std::string();  // a rare large call
          return r;
        }
      }
    }
    std::unique_lock lk(key_mu_);
    if (!want_) continue;
    if (active_ && active_ == key) {
      HYDRANT_RETURN_IF_ERROR(LeaseNoncesLocked());
      continue;
    }
    if (active_) continue;  // changed meanwhile
    // Encryption is asked for but its key is not usable: retry it, at most once a second.
    const int64_t now = SteadyMs();
    if (now - last_attempt_ms_ < kRetryInterval.count() * 1000 && !last_error_.ok()) {
      return last_error_;
    }
    last_attempt_ms_ = now;
    last_error_ = ActivateLocked();
    HYDRANT_RETURN_IF_ERROR(last_error_);
  }
}

// ---------------------------------------------------------------------------
// Read

namespace {

// An encrypted call being read by a Reader. At namespace scope: clang cannot
// use the default member initializers of a class nested in the class that holds
// it in a std::optional.
struct ReadGroup {
  uint64_t first_seq = 0;
  int64_t arrival_ms = 0;
  uint32_t count = 0;
  uint32_t taken = 0;
  std::string tag;
  std::vector<uint32_t> sizes;  // each record's piece (its length field included)
};

}  // namespace

// One Read: decrypts each encrypted call's records as they come (gathering
// small ones), verifies the call's tag at its last record, and only then passes
// its records on.
class EncryptedLog::Reader {
 public:
  Reader(const EncryptedLog& log, uint64_t from, uint64_t max_bytes,
         const std::function<bool(const LogRecord&)>& fn)
      : log_(log), from_(from), max_bytes_(max_bytes), fn_(fn) {
    // The buffers of the thread's outermost Read are kept for its next one
    // (a call can be 4 MiB: fresh pages each time cost more than decrypting).
    thread_local Buffers kept;
    thread_local bool kept_in_use = false;
    if (!kept_in_use) {
      kept_in_use = true;
      buffers_ = &kept;
      release_ = &kept_in_use;
    } else {
      buffers_ = &own_;
    }
  }
  ~Reader() {
    if (release_) *release_ = false;
    if (buffers_->plain.capacity() > kKeepBufferBytes) buffers_->plain = std::string();
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  Status Run() {
    uint64_t next = from_;
    while (!stop_) {
      bool got = false;
      restart_ = UINT64_MAX;
      Status st = log_.inner_->Read(next, max_bytes_, [&](const LogRecord& r) {
        got = true;
        next = r.seq + 1;
        return Take(r);
      });
      if (!st.ok()) return st;
      if (!error_.ok()) return error_;
      if (restart_ != UINT64_MAX) {
        next = restart_;
        continue;
      }
      if (!got) break;  // the end of the log
    }
    if (!stop_ && group_) Drop("its last records are missing");
    return Status::Ok();
  }

 private:
  struct Buffers {
    std::string plain;    // the call's stream, decrypted: per record, length then bytes
    std::string pending;  // small pieces not yet decrypted
  };
  using Group = ReadGroup;

  // One record of the inner log; false stops the inner read.
  bool Take(const LogRecord& r) {
    if ((r.flags & kRecordEncrypted) == 0) {
      if (group_) Drop("a plain record follows its first records");
      skipping_ = false;
      return Emit(r.seq, r.arrival_ms, r.data);
    }
    log_keys::Envelope e;
    if (std::string why = log_keys::DecodeEnvelope(r.data, &e); !why.empty()) {
      if (group_) Drop("a damaged record follows its first records");
      Lost(r.seq, 1, why);
      return true;
    }
    if (e.head) {
      if (group_) Drop("a new call starts before its last record");
      skipping_ = false;
      if (!Start(r, e)) return false;
    } else if (group_ && r.seq == group_->first_seq + group_->taken &&
               e.index == group_->taken && r.arrival_ms == group_->arrival_ms) {
      // the next record of the call
    } else if (!group_ && !skipping_ && !backed_up_ && r.seq == from_ && e.index <= r.seq) {
      // The read starts in the middle of a call: read it from its first record.
      backed_up_ = true;
      restart_ = r.seq - e.index;
      return false;
    } else {
      if (group_) Drop("its records are out of order");
      skipping_ = true;
      Lost(r.seq, 1, "a record whose call's first record is missing");
      return true;
    }
    Group& g = *group_;
    ++g.taken;
    g.sizes.push_back(static_cast<uint32_t>(e.ciphertext.size()));
    Buffers& b = *buffers_;
    if (e.ciphertext.size() < kGatherBelowBytes) {
      b.pending.append(e.ciphertext);
      if (b.pending.size() >= (256u << 10)) Flush();
    } else {
      Flush();
      const size_t at = b.plain.size();
      b.plain.resize(at + e.ciphertext.size());
      ok_ = ok_ && gcm_.Update(e.ciphertext.data(), e.ciphertext.size(), b.plain.data() + at);
    }
    if (g.taken < g.count) return true;
    return Finish();
  }

  // A call's first record: its key, and the GCM message started.
  bool Start(const LogRecord& r, const log_keys::Envelope& e) {
    auto key = log_.KeyFor(e.key_id);
    if (!key.ok()) {
      error_ = key.status();
      return false;
    }
    // A disabled or deleted KMS key stops reading until it is usable again.
    if (checked_.insert(e.key_id).second) {
      error_ = log_.opts_.keys->CheckUsable((*key)->kms_key_arn);
      if (!error_.ok()) return false;
    }
    group_.emplace();
    Group& g = *group_;
    g.first_seq = r.seq;
    g.arrival_ms = r.arrival_ms;
    g.count = e.count;
    g.tag = std::string(e.tag);
    g.sizes.reserve(std::min<uint32_t>(e.count, 4096));
    buffers_->plain.clear();
    buffers_->pending.clear();
    unsigned char iv[12];
    NonceIv(e.nonce, iv);
    ok_ = gcm_.Begin((*key)->uid, (*key)->bytes, false, iv) &&
          gcm_.Aad(CallAad(r.arrival_ms, e.key_id, e.nonce, e.count));
    return true;
  }

  void Flush() {
    Buffers& b = *buffers_;
    if (b.pending.empty()) return;
    const size_t at = b.plain.size();
    b.plain.resize(at + b.pending.size());
    ok_ = ok_ && gcm_.Update(b.pending.data(), b.pending.size(), b.plain.data() + at);
    b.pending.clear();
  }

  // The call is complete: verifies its tag and lengths, then passes its records on.
  bool Finish() {
    Flush();
    Group g = std::move(*group_);
    group_.reset();
    const std::string& plain = buffers_->plain;
    bool ok = ok_ && gcm_.FinishDecrypt(g.tag);
    size_t at = 0;
    for (uint32_t i = 0; ok && i < g.count; ++i) {
      ok = coding::DecodeFixed32(plain.data() + at) == g.sizes[i] - 4;
      at += g.sizes[i];
    }
    if (!ok) {
      Lost(g.first_seq, g.count, "the call does not authenticate (damaged or changed bytes)");
      return true;
    }
    at = 0;
    for (uint32_t i = 0; i < g.count; ++i) {
      const std::string_view data(plain.data() + at + 4, g.sizes[i] - 4);
      at += g.sizes[i];
      if (!Emit(g.first_seq + i, g.arrival_ms, data)) return false;
    }
    return true;
  }

  bool Emit(uint64_t seq, int64_t arrival_ms, std::string_view data) {
    if (seq < from_) return true;  // read only to verify its call
    if (passed_any_ && passed_bytes_ + data.size() > max_bytes_) {
      stop_ = true;
      return false;
    }
    passed_any_ = true;
    passed_bytes_ += data.size();
    LogRecord rec;
    rec.seq = seq;
    rec.arrival_ms = arrival_ms;
    rec.data = data;
    if (!fn_(rec)) {
      stop_ = true;
      return false;
    }
    return true;
  }

  void Drop(std::string_view why) {
    Lost(group_->first_seq, group_->taken, std::string("a call is incomplete: ") + std::string(why));
    group_.reset();
  }

  // Records skipped: counted and logged once per place (every stage and retry
  // reads them again).
  void Lost(uint64_t first, uint64_t n, std::string_view why) {
    const uint64_t end = first + n;
    if (end <= from_) return;
    const uint64_t from = std::max(first, from_);
    if (!log_.FirstReport(from, end)) return;
    log_.unreadable_.fetch_add(end - from, std::memory_order_relaxed);
    spdlog::error("log={} event=log_decrypt_failed seqs={}..{} reason=\"{}\"", log_.opts_.dir,
                  from, end - 1, why);
  }

  const EncryptedLog& log_;
  const uint64_t from_;
  const uint64_t max_bytes_;
  const std::function<bool(const LogRecord&)>& fn_;
  std::optional<Group> group_;
  GcmContext gcm_;
  bool ok_ = true;  // every GCM step of the call so far worked
  Buffers own_;     // when the thread's kept buffers are in use (a Read inside a Read)
  Buffers* buffers_ = nullptr;
  bool* release_ = nullptr;
  std::set<uint32_t> checked_;  // data keys whose KMS key was found usable
  bool skipping_ = false;  // members of a call whose first record is missing
  bool backed_up_ = false;  // once, at the start
  uint64_t restart_ = UINT64_MAX;
  bool stop_ = false;
  bool passed_any_ = false;
  uint64_t passed_bytes_ = 0;
  Status error_;
};

Status EncryptedLog::Read(uint64_t from, uint64_t max_bytes,
                          const std::function<bool(const LogRecord&)>& fn) const {
  return Reader(*this, from, max_bytes, fn).Run();
}

bool EncryptedLog::FirstReport(uint64_t from, uint64_t end) const {
  std::lock_guard l(report_mu_);
  for (const auto& [a, b] : reported_) {
    if (from >= a && end <= b) return false;
  }
  if (reported_.size() >= kMaxReported) reported_.erase(reported_.begin());
  reported_.emplace_back(from, end);
  return true;
}

// ---------------------------------------------------------------------------
// Acknowledgement

Status EncryptedLog::MarkDelivered(uint64_t up_to) {
  HYDRANT_RETURN_IF_ERROR(inner_->MarkDelivered(up_to));
  {
    std::shared_lock lk(key_mu_);
    if (entries_.size() <= (active_ ? 1u : 0u)) return Status::Ok();
  }
  // Every record delivered: data keys other than the active one are no longer
  // needed (the bound on KEYS).
  std::unique_lock lk(key_mu_);
  if (inner_->first_undelivered() != inner_->next_seq()) return Status::Ok();
  std::vector<log_keys::StoredKey> keep;
  for (const auto& e : entries_) {
    if (active_ && e.id == active_->id) keep.push_back(e);
  }
  if (keep.size() == entries_.size()) return Status::Ok();
  HYDRANT_RETURN_IF_ERROR(WriteKeys(keep));
  entries_ = std::move(keep);
  std::lock_guard c(cache_mu_);
  std::erase_if(plain_keys_, [&](const auto& kv) { return !active_ || kv.first != active_->id; });
  return Status::Ok();
}

}  // namespace hydrant::buffer
