// Fuzz target: the embedded store's server-side encryption format
// (server/sse_format.h, docs/object-store.md "Server-side encryption"): the
// record kept in an object's metadata, the caller's encryption context, the
// stored sizes, and the chunked AES-256-GCM data file read back from disk.
//
// Input parts (fuzz_util.h SplitParts): a record line; "bucket\nkey\ncontext"
// (the x-amz-server-side-encryption-context header as sent); a data file (read
// as stored ciphertext, and encrypted as plaintext); a plan, numbers separated
// by spaces: first, length, repeat, then the stored sizes of the data file's
// segments (at most 16).
//
// Invariants: a decoded record encodes to one that decodes the same; a wrap
// context always carries aws:s3:arn for the object; PlainSize and CipherSize are
// inverse wherever either answers; ReadPlain over any file and any segment sizes
// either fails (Corruption when a chunk does not authenticate) or returns at
// most `length` bytes, never crashes; a file written by ChunkEncryptor reads
// back exactly (any range, one or two segments), and with one byte flipped in a
// chunk the range covers, it is Corruption.

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "server/sse_format.h"

namespace sse = hydrant::server::sse;

namespace {

const std::string kDataKey(sse::kDataKeyBytes, '\x42');
constexpr size_t kMaxPlain = 300 << 10;  // a few chunks, fast enough per input

std::vector<uint64_t> Numbers(std::string_view text, size_t max) {
  std::vector<uint64_t> out;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end && out.size() < max) {
    while (p < end && (*p < '0' || *p > '9')) ++p;
    uint64_t v = 0;
    auto r = std::from_chars(p, end, v);
    if (r.ec == std::errc::result_out_of_range) v = UINT64_MAX;
    if (r.ptr == p) break;
    out.push_back(v);
    p = r.ptr;
  }
  return out;
}

// The data file at `path` holding `bytes`, opened for reading (-1 on failure).
int FileWith(const hydrant::fuzz::ScratchDir& scratch, const std::string& name,
             std::string_view bytes) {
  scratch.Write(name, bytes);
  return ::open(scratch.Sub(name).c_str(), O_RDONLY | O_CLOEXEC);
}

std::string Encrypt(std::string_view plain) {
  std::string out;
  hydrant::StringSink sink(&out);
  sse::ChunkEncryptor enc(kDataKey, &sink);
  // In uneven pieces, as uploads arrive.
  size_t at = 0, piece = 1;
  while (at < plain.size()) {
    size_t n = std::min(piece, plain.size() - at);
    FUZZ_CHECK(enc.Write(plain.substr(at, n)).ok(), "ChunkEncryptor::Write failed");
    at += n;
    piece = piece * 7 + 3;
  }
  FUZZ_CHECK(enc.Finish().ok(), "ChunkEncryptor::Finish failed");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hydrant::fuzz::ScratchDir scratch;
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 4);

  // 1. The record in the object's metadata.
  if (auto r = sse::DecodeRecord(parts[0])) {
    FUZZ_CHECK(r->algorithm == sse::kAes256 || r->algorithm == sse::kAwsKms, "a bad algorithm");
    FUZZ_CHECK(!r->key_arn.empty() && !r->wrapped_key.empty(), "an empty key");
    auto again = sse::DecodeRecord(sse::EncodeRecord(*r));
    FUZZ_CHECK(again.has_value(), "an encoded record does not decode");
    FUZZ_CHECK(again->algorithm == r->algorithm && again->key_arn == r->key_arn &&
                   again->wrapped_key == r->wrapped_key && again->context_b64 == r->context_b64,
               "a record does not round-trip");
  }

  // 2. The caller's encryption context.
  {
    std::string_view text = parts[1];
    size_t a = text.find('\n');
    size_t b = a == std::string_view::npos ? a : text.find('\n', a + 1);
    std::string_view bucket = text.substr(0, a);
    std::string_view key = a == std::string_view::npos ? "" : text.substr(a + 1, b - a - 1);
    std::string_view ctx_b64 = b == std::string_view::npos ? "" : text.substr(b + 1);
    if (auto ctx = sse::WrapContext(bucket, key, ctx_b64)) {
      auto it = ctx->find("aws:s3:arn");
      FUZZ_CHECK(it != ctx->end() &&
                     it->second == "arn:aws:s3:::" + std::string(bucket) + "/" + std::string(key),
                 "a wrap context without the object's aws:s3:arn");
    }
  }

  // 3. Stored sizes.
  const std::vector<uint64_t> plan = Numbers(parts[3], 19);
  for (uint64_t v : plan) {
    if (auto p = sse::PlainSize(v)) {
      FUZZ_CHECK(*p < v && sse::CipherSize(*p) == v, "PlainSize is not CipherSize's inverse");
    }
    if (v <= (uint64_t{1} << 62)) {
      auto back = sse::PlainSize(sse::CipherSize(v));
      FUZZ_CHECK(back.has_value() && *back == v, "CipherSize is not PlainSize's inverse");
    }
  }
  const uint64_t first = plan.size() > 0 ? plan[0] : 0;
  const uint64_t length = plan.size() > 1 ? plan[1] : UINT64_MAX;
  const uint64_t repeat = plan.size() > 2 ? plan[2] : 1;
  std::vector<uint64_t> segments(plan.begin() + std::min<size_t>(3, plan.size()), plan.end());

  // 4. Any file as stored ciphertext, with any segment sizes.
  scratch.Clear();
  {
    int fd = FileWith(scratch, "raw", parts[2]);
    FUZZ_CHECK(fd >= 0, "cannot open the scratch file");
    if (segments.empty()) segments.push_back(parts[2].size());
    auto got = sse::ReadPlain(fd, kDataKey, segments, first, length);
    if (got.ok()) {
      FUZZ_CHECK(got->size() <= length, "ReadPlain returned more than asked");
    } else {
      FUZZ_CHECK(!got.status().message().empty(), "a failed read without a message");
    }
    (void)sse::PlainSizes(segments);
    (void)sse::PlainTotal(parts[2].size(), segments);
    ::close(fd);
  }

  // 5. A file ChunkEncryptor wrote: the data part, repeated, as one or two
  // segments (cut at `repeat`'s remainder), read back in the plan's range.
  {
    std::string plain;
    const uint64_t times =
        parts[2].empty() ? 0 : std::min<uint64_t>(repeat, kMaxPlain / parts[2].size());
    for (uint64_t i = 0; i < times; ++i) plain.append(parts[2]);
    const size_t cut = plain.empty() ? 0 : static_cast<size_t>(repeat % (plain.size() + 1));
    const std::string seg1 = Encrypt(std::string_view(plain).substr(0, cut));
    const std::string seg2 = Encrypt(std::string_view(plain).substr(cut));
    std::vector<uint64_t> sizes = {seg1.size(), seg2.size()};
    FUZZ_CHECK(sizes[0] == sse::CipherSize(cut) && sizes[1] == sse::CipherSize(plain.size() - cut),
               "ChunkEncryptor's output is not CipherSize");
    auto total = sse::PlainTotal(seg1.size() + seg2.size(), sizes);
    FUZZ_CHECK(total.has_value() && *total == plain.size(), "PlainTotal of a written object");
    std::string file = seg1 + seg2;
    int fd = FileWith(scratch, "written", file);
    FUZZ_CHECK(fd >= 0, "cannot open the scratch file");
    const uint64_t from = plain.empty() ? 0 : first % (plain.size() + 1);
    const uint64_t n = std::min<uint64_t>(length, plain.size() - from);
    auto got = sse::ReadPlain(fd, kDataKey, sizes, from, n);
    FUZZ_CHECK(got.ok(), "a written object does not read: " + got.status().ToString());
    FUZZ_CHECK(*got == plain.substr(from, n), "a written object reads back different bytes");
    ::close(fd);

    // One byte flipped inside a chunk the range covers.
    if (n > 0) {
      const uint64_t at = from + (repeat % n);  // a plaintext offset in the range
      const bool in2 = at >= cut;
      const uint64_t seg_off = in2 ? at - cut : at;
      const uint64_t chunk = seg_off / sse::kChunkBytes;
      const uint64_t pos = (in2 ? seg1.size() : 0) +
                           chunk * (sse::kChunkBytes + sse::kChunkOverhead) + sse::kNonceBytes +
                           seg_off % sse::kChunkBytes;
      file[pos] ^= 0x01;
      fd = FileWith(scratch, "flipped", file);
      FUZZ_CHECK(fd >= 0, "cannot open the scratch file");
      auto bad = sse::ReadPlain(fd, kDataKey, sizes, from, n);
      FUZZ_CHECK(!bad.ok() && bad.status().code() == hydrant::StatusCode::kCorruption,
                 "a flipped byte went unnoticed");
      ::close(fd);
    }
  }
  return 0;
}
