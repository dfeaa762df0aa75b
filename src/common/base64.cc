#include "common/base64.h"

#include <modp_b64.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hydrant::base64 {

namespace {

#if defined(__x86_64__)
// AVX2 decoding of 32 characters into 24 bytes per step (W. Mula and D. Lemire,
// "Faster Base64 Encoding and Decoding Using AVX2 Instructions", 2018; the same
// tables as aklomp/base64). Each step validates its 32 characters first (any byte
// outside A-Z a-z 0-9 + /, '=' included, stops the loop), so the vector part never
// writes a byte modp would not. Returns how many characters it decoded (a multiple
// of 32); the rest, with the padding, is left to modp. Each step's 32-byte store
// holds 24 bytes of output and 8 of garbage; the loop stops while fewer than 45
// characters remain, so at least 16 characters (10 bytes or more) follow each step
// and no store reaches past the decoded length.
__attribute__((target("avx2"))) size_t DecodeAvx2(const char* src, size_t len, char* out) {
  const __m256i lut_lo = _mm256_setr_epi8(
      0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A,
      0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  const __m256i lut_hi = _mm256_setr_epi8(
      0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
      0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  const __m256i lut_roll = _mm256_setr_epi8(
      0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i slash = _mm256_set1_epi8('/');
  const __m256i pack_lanes = _mm256_setr_epi8(
      2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
      2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i pack = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, -1, -1);
  size_t done = 0;
  for (; len - done >= 32 + 13; done += 32, out += 24) {
    __m256i in = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + done));
    const __m256i hi_nibbles = _mm256_and_si256(_mm256_srli_epi32(in, 4), nibble);
    const __m256i lo_nibbles = _mm256_and_si256(in, nibble);
    const __m256i hi = _mm256_shuffle_epi8(lut_hi, hi_nibbles);
    const __m256i lo = _mm256_shuffle_epi8(lut_lo, lo_nibbles);
    if (!_mm256_testz_si256(lo, hi)) break;  // a character outside the alphabet
    const __m256i eq_slash = _mm256_cmpeq_epi8(in, slash);
    const __m256i roll = _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(eq_slash, hi_nibbles));
    in = _mm256_add_epi8(in, roll);  // 6-bit values
    // Merge 4 x 6 bits into 3 bytes per 32-bit word, then pack 12 bytes per lane.
    const __m256i ab_bc = _mm256_maddubs_epi16(in, _mm256_set1_epi32(0x01400140));
    __m256i words = _mm256_madd_epi16(ab_bc, _mm256_set1_epi32(0x00011000));
    words = _mm256_shuffle_epi8(words, pack_lanes);
    words = _mm256_permutevar8x32_epi32(words, pack);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), words);
  }
  return done;
}

bool HaveAvx2() {
  static const bool have = [] {
    __builtin_cpu_init();  // may run before libgcc's own initializer
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return have;
}
#endif

}  // namespace

void EncodeAppend(std::string_view raw, std::string* out) {
  size_t old = out->size();
  out->resize(old + modp_b64_encode_len(raw.size()));
  size_t n = modp_b64_encode(out->data() + old, raw.data(), raw.size());
  out->resize(old + n);
}

std::string Encode(std::string_view raw) {
  std::string out;
  EncodeAppend(raw, &out);
  return out;
}

bool DecodeInto(std::string_view encoded, std::string* out) {
  out->resize(DecodedSizeUpperBound(encoded.size()));
  auto n = DecodeToBuffer(encoded, out->data());
  if (!n) return false;
  out->resize(*n);
  return true;
}

std::optional<size_t> DecodeToBuffer(std::string_view encoded, char* out) {
  // modp accepts unpadded input; AWS requires a multiple of 4.
  if (encoded.size() % 4 != 0) return std::nullopt;
  size_t head = 0;  // characters decoded by the vector loop: 3/4 as many bytes
#if defined(__x86_64__)
  if (HaveAvx2()) head = DecodeAvx2(encoded.data(), encoded.size(), out);
#endif
  size_t n = modp_b64_decode(out + head / 4 * 3, encoded.data() + head, encoded.size() - head);
  if (n == static_cast<size_t>(-1)) return std::nullopt;
  return head / 4 * 3 + n;
}

std::optional<std::string> Decode(std::string_view encoded) {
  std::string out;
  if (!DecodeInto(encoded, &out)) return std::nullopt;
  return out;
}

}  // namespace hydrant::base64
