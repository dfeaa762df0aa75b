#pragma once
// Small string helpers every module needs: hex coding and whole-string integer
// parsing. One copy each (they were repeated per module).

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace hydrant {

// Lower-case hex of the bytes.
std::string HexEncode(std::string_view bytes);
// The bytes of lower-case hex (as HexEncode writes it); false on an odd length or
// any other character.
bool HexDecode(std::string_view hex, std::string* out);

// The whole of `s` as a decimal integer: no sign for unsigned types, no spaces, no
// trailing characters, no overflow. false otherwise (*out unspecified).
template <typename Int>
bool ParseWhole(std::string_view s, Int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace hydrant
