#pragma once
// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), one copy for every module that checks or repairs text from outside.

#include <cstddef>
#include <string>
#include <string_view>

namespace hydrant::utf8 {

// The length (1-4) of the well-formed sequence starting at s[i], or 0 when the
// bytes there are not one. *cp (if given) gets the code point.
size_t SequenceLength(std::string_view s, size_t i, char32_t* cp = nullptr);
// Appends the UTF-8 encoding of `cp` (a Unicode scalar value: not a surrogate,
// at most U+10FFFF; the caller checks).
void Append(char32_t cp, std::string* out);
// Whether all of `s` is well-formed.
bool IsValid(std::string_view s);
// `in` with every byte that is not part of a well-formed sequence replaced by
// U+FFFD, cut to at most `max` bytes at a character boundary.
std::string Sanitize(std::string_view in, size_t max);

}  // namespace hydrant::utf8
