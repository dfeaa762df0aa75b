#include "kinesis/shard_iterator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/base64.h"
#include "common/coding.h"
#include "common/file_util.h"

namespace hydrant::kinesis {

namespace {

constexpr char kVersion = 1;
constexpr size_t kMacBytes = 16;
constexpr size_t kFixedBytes = 1 + 8 + 4 + 8 + 8 + 2;  // version, epoch, shard, seq, issued, name length
constexpr size_t kKeyBytes = 32;

std::string Mac(const std::string& key, std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), kMacBytes);
}

}  // namespace

std::string IteratorCodec::Encode(const IteratorState& s) const {
  std::string raw;
  raw.reserve(kFixedBytes + s.stream_name.size() + kMacBytes);
  raw.push_back(kVersion);
  coding::PutFixed64(&raw, static_cast<uint64_t>(s.stream_epoch_ms));
  coding::PutFixed32(&raw, s.shard);
  coding::PutFixed64(&raw, s.seq);
  coding::PutFixed64(&raw, static_cast<uint64_t>(s.issued_ms));
  coding::PutFixed16(&raw, static_cast<uint16_t>(s.stream_name.size()));
  raw.append(s.stream_name);
  raw.append(Mac(key_, raw));
  return base64::Encode(raw);
}

std::optional<IteratorState> IteratorCodec::Decode(std::string_view token) const {
  if (token.size() > 1024) return std::nullopt;
  auto raw = base64::Decode(token);
  if (!raw || raw->size() < kFixedBytes + kMacBytes || (*raw)[0] != kVersion) return std::nullopt;
  const char* p = raw->data();
  const size_t name_len = coding::DecodeFixed16(p + kFixedBytes - 2);
  if (raw->size() != kFixedBytes + name_len + kMacBytes) return std::nullopt;
  const std::string_view body(raw->data(), kFixedBytes + name_len);
  const std::string want = Mac(key_, body);
  if (CRYPTO_memcmp(want.data(), raw->data() + body.size(), kMacBytes) != 0) return std::nullopt;
  IteratorState s;
  s.stream_epoch_ms = static_cast<int64_t>(coding::DecodeFixed64(p + 1));
  s.shard = coding::DecodeFixed32(p + 9);
  s.seq = coding::DecodeFixed64(p + 13);
  s.issued_ms = static_cast<int64_t>(coding::DecodeFixed64(p + 21));
  s.stream_name.assign(p + kFixedBytes, name_len);
  return s;
}

Result<std::string> LoadOrCreateIteratorKey(const std::string& path) {
  if (fs::Exists(path)) {
    auto key = fs::ReadFile(path, 4096);
    if (!key.ok()) return key.status();
    if (key->size() != kKeyBytes) {
      return Status::Corruption("the shard iterator key " + path + " is damaged (" +
                              std::to_string(key->size()) + " bytes, expected 32)");
    }
    return key;
  }
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return Status::Internal("no random bytes for the shard iterator key");
  }
  HYDRANT_RETURN_IF_ERROR(fs::WriteFileAtomic(path, key, 0600));
  return key;
}

}  // namespace hydrant::kinesis
