#pragma once
// Small string helpers every module needs: ASCII case, trimming, hex coding and
// whole-string integer parsing. One copy each (they were repeated per module).

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace hydrant {

// ASCII case-insensitive equality (header names, codings, hex digests).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// ASCII lower case (other bytes unchanged).
std::string AsciiLower(std::string_view s);
// Without leading and trailing spaces and tabs (HTTP header values).
std::string_view TrimSpaces(std::string_view s);

// Lower-case hex of the bytes.
std::string HexEncode(std::string_view bytes);
// The bytes of hex digits (either case); false on an odd length or any other
// character.
bool HexDecode(std::string_view hex, std::string* out);
// 0-15 for a hex digit of either case, else -1.
int HexDigitValue(char c);

// %XX (upper-case hex) for every byte `keep` refuses.
std::string PercentEncodeExcept(std::string_view s, bool (*keep)(unsigned char));
// URI encoding of RFC 3986 as AWS signs and S3 lists: every byte except
// A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash).
std::string PercentEncode(std::string_view s, bool keep_slash);

// The whole of `s` as a decimal integer: no sign for unsigned types, no spaces, no
// trailing characters, no overflow. false otherwise (*out unspecified).
template <typename Int>
bool ParseWhole(std::string_view s, Int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace hydrant
