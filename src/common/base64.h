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

}  // namespace hydrant::base64
