#pragma once
// Standard base64 (RFC 4648, with padding), via libmodpbase64; decoding runs an
// AVX2 loop over the bulk of the input where the CPU has it (docs/put-path.md) and
// accepts exactly what modp accepts.

#include <optional>
#include <string>
#include <string_view>

namespace hydrant::base64 {

std::string Encode(std::string_view raw);
// Appends the encoding of `raw` to *out.
void EncodeAppend(std::string_view raw, std::string* out);
// Returns nullopt when `encoded` is not valid padded base64.
std::optional<std::string> Decode(std::string_view encoded);
// Decodes into *out (resized); false when invalid.
bool DecodeInto(std::string_view encoded, std::string* out);
// Decodes into out, which must have room for DecodedSizeUpperBound(encoded.size())
// bytes; writes nothing past the decoded length. Returns the decoded length, or
// nullopt when invalid (out's contents are then unspecified).
std::optional<size_t> DecodeToBuffer(std::string_view encoded, char* out);
inline size_t DecodedSizeUpperBound(size_t encoded_len) { return encoded_len / 4 * 3 + 3; }

// The 6-bit value of a character of the standard alphabet, or -1 (padding '='
// and every other character), for parsers with rules of their own.
inline int AlphabetValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace hydrant::base64
