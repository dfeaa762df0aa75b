#include "server/sse_format.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "common/base64.h"
#include "kms/crypto.h"

namespace hydrant::server::sse {

namespace {

std::string ChunkAad(uint64_t index, bool last) {
  std::string aad(9, '\0');
  for (int i = 0; i < 8; ++i) aad[i] = static_cast<char>((index >> (56 - 8 * i)) & 0xff);
  aad[8] = last ? 1 : 0;
  return aad;
}

uint64_t ChunkCount(uint64_t plain) {
  return std::max<uint64_t>(1, plain / kChunkBytes + (plain % kChunkBytes != 0 ? 1 : 0));
}

}  // namespace

std::string EncodeRecord(const Record& r) {
  return std::string(kRecordMagic) + " " + r.algorithm + " " + r.key_arn + " " +
         base64::Encode(r.wrapped_key) + " " + (r.context_b64.empty() ? "-" : r.context_b64);
}

std::optional<Record> DecodeRecord(std::string_view text) {
  std::vector<std::string_view> f;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t sp = text.find(' ', pos);
    f.push_back(text.substr(pos, sp == std::string_view::npos ? text.npos : sp - pos));
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  if (f.size() != 5 || f[0] != kRecordMagic) return std::nullopt;
  if (f[1] != kAes256 && f[1] != kAwsKms) return std::nullopt;
  if (f[2].empty()) return std::nullopt;
  auto blob = base64::Decode(f[3]);
  if (!blob || blob->empty()) return std::nullopt;
  Record r{std::string(f[1]), std::string(f[2]), std::move(*blob),
           f[4] == "-" ? std::string() : std::string(f[4])};
  return r;
}

std::optional<kms::EncryptionContext> WrapContext(std::string_view bucket, std::string_view key,
                                                  std::string_view context_b64) {
  kms::EncryptionContext ctx;
  if (!context_b64.empty()) {
    auto json_text = base64::Decode(context_b64);
    if (!json_text) return std::nullopt;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(*json_text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    for (const auto& [k, val] : v.as_object()) {
      if (!val.is_string()) return std::nullopt;
      ctx[std::string(k)] = std::string(val.as_string());
    }
  }
  // S3's own pair; a caller's aws:s3:arn must agree with it (S3 rejects others).
  const std::string arn = "arn:aws:s3:::" + std::string(bucket) + "/" + std::string(key);
  if (auto it = ctx.find("aws:s3:arn"); it != ctx.end() && it->second != arn) return std::nullopt;
  ctx["aws:s3:arn"] = arn;
  return ctx;
}

uint64_t CipherSize(uint64_t plain) { return plain + kChunkOverhead * ChunkCount(plain); }

std::optional<uint64_t> PlainSize(uint64_t cipher) {
  const uint64_t full = kChunkBytes + kChunkOverhead;
  const uint64_t n = cipher / full + (cipher % full != 0 ? 1 : 0);
  if (n == 0) return std::nullopt;
  // The last chunk holds at least its overhead, and is empty only when it is the
  // segment's one chunk: ChunkEncryptor marks a full chunk last rather than
  // follow it with an empty one.
  const uint64_t last = cipher - (n - 1) * full;
  if (last < kChunkOverhead || (last == kChunkOverhead && n > 1)) return std::nullopt;
  return cipher - n * kChunkOverhead;
}

std::optional<std::vector<uint64_t>> PlainSizes(const std::vector<uint64_t>& cipher_segments) {
  std::vector<uint64_t> out;
  out.reserve(cipher_segments.size());
  for (uint64_t s : cipher_segments) {
    auto p = PlainSize(s);
    if (!p) return std::nullopt;
    out.push_back(*p);
  }
  return out;
}

std::vector<uint64_t> Segments(uint64_t stored_size, const std::vector<uint64_t>& part_sizes) {
  return part_sizes.empty() ? std::vector<uint64_t>{stored_size} : part_sizes;
}

std::optional<uint64_t> PlainTotal(uint64_t stored_size, const std::vector<uint64_t>& part_sizes) {
  auto plain = PlainSizes(Segments(stored_size, part_sizes));
  if (!plain) return std::nullopt;
  uint64_t total = 0;
  for (uint64_t p : *plain) total += p;
  return total;
}

ChunkEncryptor::ChunkEncryptor(std::string data_key, ByteSink* out)
    : key_(std::move(data_key)), out_(out) {}

ChunkEncryptor::~ChunkEncryptor() {
  // The plaintext of the unfinished chunk does not outlive the encryptor.
  std::fill(buf_.begin(), buf_.end(), '\0');
  std::fill(key_.begin(), key_.end(), '\0');
}

Status ChunkEncryptor::Emit(std::string_view plain, bool last) {
  const std::string nonce = kms::RandomBytes(kNonceBytes);
  std::string sealed = kms::GcmSeal(key_, nonce, ChunkAad(index_++, last), plain);
  HYDRANT_RETURN_IF_ERROR(out_->Write(nonce));
  return out_->Write(sealed);
}

Status ChunkEncryptor::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    // A full chunk is written only once more bytes follow it: the last chunk
    // must be marked as such.
    if (buf_.size() == kChunkBytes) {
      HYDRANT_RETURN_IF_ERROR(Emit(buf_, false));
      buf_.clear();
    }
    size_t take = std::min(bytes.size(), kChunkBytes - buf_.size());
    buf_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
  return Status::Ok();
}

Status ChunkEncryptor::Finish() {
  Status st = Emit(buf_, true);
  std::fill(buf_.begin(), buf_.end(), '\0');
  buf_.clear();
  return st;
}

Result<std::string> ReadPlain(int fd, std::string_view data_key,
                              const std::vector<uint64_t>& cipher_segments, uint64_t first,
                              uint64_t length) {
  auto plain_sizes = PlainSizes(cipher_segments);
  if (!plain_sizes) return Status::Corruption("encrypted object: impossible stored size");
  // The sizes come from the object's metadata: a damaged row may claim more
  // than the file holds, so the buffer grows with what is read, from at most
  // the file's size, and a range past 2^64 ends there.
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    out.reserve(std::min<uint64_t>(length, static_cast<uint64_t>(st.st_size)));
  }
  const uint64_t end = first + std::min(length, UINT64_MAX - first);
  uint64_t seg_cipher = 0, seg_plain = 0;
  std::string chunk;
  for (size_t s = 0; s < cipher_segments.size() && seg_plain < end; ++s) {
    const uint64_t ps = (*plain_sizes)[s];
    if (seg_plain + ps > first) {  // the segment holds part of the range
      const uint64_t lo = first > seg_plain ? first - seg_plain : 0;
      const uint64_t hi = std::min(ps, end - seg_plain);  // exclusive, within the segment
      const uint64_t n = ChunkCount(ps);
      for (uint64_t i = lo / kChunkBytes; i < n && i * kChunkBytes < hi; ++i) {
        const uint64_t chunk_plain = std::min<uint64_t>(kChunkBytes, ps - i * kChunkBytes);
        const uint64_t off = seg_cipher + i * (kChunkBytes + kChunkOverhead);
        chunk.resize(chunk_plain + kChunkOverhead);
        size_t got = 0;
        while (got < chunk.size()) {
          ssize_t r =
              ::pread(fd, chunk.data() + got, chunk.size() - got, static_cast<off_t>(off + got));
          if (r < 0 && errno == EINTR) continue;
          if (r < 0) return Status::FromErrno("read encrypted object", errno);
          if (r == 0) return Status::Corruption("encrypted object: data file cut short");
          got += static_cast<size_t>(r);
        }
        auto plain =
            kms::GcmOpen(data_key, std::string_view(chunk).substr(0, kNonceBytes),
                         ChunkAad(i, i + 1 == n), std::string_view(chunk).substr(kNonceBytes));
        if (!plain) {
          return Status::Corruption("encrypted object: chunk " + std::to_string(i) +
                                    " does not authenticate (damaged data or wrong key)");
        }
        const uint64_t c0 = i * kChunkBytes;
        const uint64_t from = std::max(lo, c0) - c0;
        const uint64_t to = std::min(hi, c0 + chunk_plain) - c0;
        if (to > from) out.append(*plain, from, to - from);
        std::fill(plain->begin(), plain->end(), '\0');
      }
    }
    seg_cipher += cipher_segments[s];
    seg_plain += ps;
  }
  return out;
}

}  // namespace hydrant::server::sse
