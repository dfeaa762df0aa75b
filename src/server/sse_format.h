#pragma once
// The on-disk format of a server-side encrypted object of the embedded store
// (SSE-S3 and SSE-KMS), fixed in one place and restated in prose in
// docs/object-store.md ("Server-side encryption"); change both together.
//
// The store keeps an encrypted object like any other (destinations/object_store.h):
// its data file holds the ciphertext below, and ObjectMeta::encryption holds the
// Record (the algorithm, the KMS key and the wrapped data key). Nothing else in
// the store knows about encryption: ObjectInfo::size and the part sizes are
// ciphertext sizes, which PlainSize converts.
//
// Data: the plaintext of one segment (the whole object of a put; each part of a
// multipart upload, concatenated in part order at completion) is cut into chunks
// of kChunkBytes (the last one shorter; an empty segment is one empty chunk). Each
// chunk is stored as
//   nonce (12 random bytes) || AES-256-GCM ciphertext (same length) || tag (16)
// under the object's data key, with associated data
//   be64(chunk index within its segment) || 0x01 for the segment's last chunk, else 0x00
// so that chunks cannot be reordered, dropped or cut off inside a segment. A
// segment of P plaintext bytes thus takes P + 28 * max(1, ceil(P / kChunkBytes))
// bytes, and a ranged read decrypts only the chunks it covers.
//
// Record (ObjectMeta::encryption, escaped by the store): one line
//   sse1 <algorithm> <key ARN> <base64 wrapped data key> <base64 context JSON or ->
// algorithm "AES256" (SSE-S3: the key is hydrant's own) or "aws:kms"; the context
// is the caller's x-amz-server-side-encryption-context as sent (base64 of JSON),
// "-" when none. The data key was made by KMS GenerateDataKey under the key with
// the encryption context {"aws:s3:arn": "arn:aws:s3:::BUCKET/KEY"} plus the
// caller's pairs (WrapContext).
//
// Thread-safety: pure functions; a ChunkEncryptor is used by one thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/byte_sink.h"
#include "common/status.h"
#include "kms/key_service.h"

namespace hydrant::server::sse {

inline constexpr size_t kChunkBytes = 64 << 10;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kChunkOverhead = kNonceBytes + kTagBytes;
inline constexpr size_t kDataKeyBytes = 32;
inline constexpr char kRecordMagic[] = "sse1";

inline constexpr char kAes256[] = "AES256";
inline constexpr char kAwsKms[] = "aws:kms";

struct Record {
  std::string algorithm;    // kAes256 or kAwsKms
  std::string key_arn;      // the KMS key that wraps the data key
  std::string wrapped_key;  // KMS's ciphertext blob of the data key (binary)
  std::string context_b64;  // the caller's encryption context header; "" = none
};
std::string EncodeRecord(const Record& r);
// nullopt unless a well-formed record.
std::optional<Record> DecodeRecord(std::string_view text);

// The encryption context the data key of BUCKET/KEY is bound to: aws:s3:arn plus
// the pairs of `context_b64` (base64 JSON object of strings). nullopt when
// context_b64 is not that.
std::optional<kms::EncryptionContext> WrapContext(std::string_view bucket, std::string_view key,
                                                  std::string_view context_b64);

// Stored size of a segment of `plain` bytes, and the inverse (nullopt when no
// segment has that stored size).
uint64_t CipherSize(uint64_t plain);
std::optional<uint64_t> PlainSize(uint64_t cipher);
// The plaintext sizes of stored segments; nullopt if one is impossible.
std::optional<std::vector<uint64_t>> PlainSizes(const std::vector<uint64_t>& cipher_segments);
// The segments of a stored object (its part sizes, or its size for a put).
std::vector<uint64_t> Segments(uint64_t stored_size, const std::vector<uint64_t>& part_sizes);
// The plaintext size of a stored object; nullopt if impossible.
std::optional<uint64_t> PlainTotal(uint64_t stored_size, const std::vector<uint64_t>& part_sizes);

// Encrypts a segment written in pieces into `out`. Finish() writes the last
// chunk and must be called once, after the last Write.
class ChunkEncryptor final : public ByteSink {
 public:
  // `data_key`: 32 bytes. `out` must outlive the encryptor.
  ChunkEncryptor(std::string data_key, ByteSink* out);
  ~ChunkEncryptor() override;
  Status Write(std::string_view bytes) override;
  Status Finish();

 private:
  Status Emit(std::string_view plain, bool last);
  std::string key_;
  ByteSink* out_;
  std::string buf_;
  uint64_t index_ = 0;
};

// Reads plaintext bytes [first, first + length) of an object whose data file is
// `fd`, stored as `cipher_segments` (stored sizes, in order; one for a put).
// Reads and decrypts only the chunks that hold the range. A chunk that does not
// authenticate (a damaged byte, a wrong key, a truncated file) is Corruption,
// never wrong data. The sizes may come from damaged metadata: memory follows the
// bytes actually read (never more than the file holds is reserved), and a range
// past 2^64 ends there.
Result<std::string> ReadPlain(int fd, std::string_view data_key,
                              const std::vector<uint64_t>& cipher_segments, uint64_t first,
                              uint64_t length);

}  // namespace hydrant::server::sse
