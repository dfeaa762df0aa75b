#include "common/base64.h"

#include <modp_b64.h>

namespace hydrant::base64 {

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
  // modp accepts unpadded input; AWS requires a multiple of 4.
  if (encoded.size() % 4 != 0) return false;
  out->resize(modp_b64_decode_len(encoded.size()));
  size_t n = modp_b64_decode(out->data(), encoded.data(), encoded.size());
  if (n == static_cast<size_t>(-1)) return false;
  out->resize(n);
  return true;
}

std::optional<size_t> DecodeToBuffer(std::string_view encoded, char* out) {
  if (encoded.size() % 4 != 0) return std::nullopt;
  size_t n = modp_b64_decode(out, encoded.data(), encoded.size());
  if (n == static_cast<size_t>(-1)) return std::nullopt;
  return n;
}

std::optional<std::string> Decode(std::string_view encoded) {
  std::string out;
  if (!DecodeInto(encoded, &out)) return std::nullopt;
  return out;
}

}  // namespace hydrant::base64
