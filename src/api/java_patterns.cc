// The service model's Java patterns, each matched by hand (api/java_patterns.h).

#include "api/java_patterns.h"

#include <algorithm>
#include <cstdint>

namespace hydrant::api {
namespace {

// Java's '.' matches anything but a line terminator: \n \r U+0085 U+2028 U+2029.
bool HasJavaLineTerminator(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n' || c == '\r') return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) return true;
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
         static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      return true;
    }
  }
  return false;
}

// Java's \s without UNICODE_CHARACTER_CLASS: [ \t\n\x0B\f\r].
bool IsJavaSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\x0B' || c == '\f' || c == '\r';
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

template <typename Pred>
bool AllOf(std::string_view s, Pred pred) {
  return std::all_of(s.begin(), s.end(), pred);
}

bool MatchStreamName(std::string_view s) {  // [a-zA-Z0-9_.-]+
  return !s.empty() &&
         AllOf(s, [](char c) { return IsAsciiAlnum(c) || c == '_' || c == '.' || c == '-'; });
}
bool MatchDestinationId(std::string_view s) {  // [a-zA-Z0-9-]+
  return !s.empty() && AllOf(s, [](char c) { return IsAsciiAlnum(c) || c == '-'; });
}
bool MatchDigits(std::string_view s) {  // [0-9]+
  return !s.empty() && AllOf(s, [](char c) { return c >= '0' && c <= '9'; });
}
bool MatchAnyLine(std::string_view s) { return !HasJavaLineTerminator(s); }  // .*
bool MatchLogGroupName(std::string_view s) {                                 // [\.\-_/#A-Za-z0-9]*
  return AllOf(s, [](char c) {
    return IsAsciiAlnum(c) || c == '.' || c == '-' || c == '_' || c == '/' || c == '#';
  });
}
bool MatchLogStreamName(std::string_view s) {  // [^:*]*
  return AllOf(s, [](char c) { return c != ':' && c != '*'; });
}
bool MatchNotBlank(std::string_view s) {  // ^(?!\s*$).+
  // '.+' excludes line terminators, so what is left to be blank is [ \t\x0B\f].
  return !s.empty() && !HasJavaLineTerminator(s) && !AllOf(s, IsJavaSpace);
}
bool MatchNoWhitespace(std::string_view s) {  // ^\S+$
  return !s.empty() && std::none_of(s.begin(), s.end(), IsJavaSpace);
}
bool MatchFileExtension(std::string_view s) {  // ^$|\.[0-9a-z!\-_.*'()]+
  if (s.empty()) return true;
  if (s.size() < 2 || s[0] != '.') return false;
  return AllOf(s.substr(1), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '!' || c == '-' || c == '_' ||
           c == '.' || c == '*' || c == '\'' || c == '(' || c == ')';
  });
}
bool MatchTimeZone(std::string_view s) {  // ^$|[a-zA-Z/_]+
  return AllOf(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '_';
  });
}

// The ARN patterns are "arn:" .* MARKER REST. Java's '.' cannot match a line
// terminator (and no other part of them can either), so after that check the value
// matches when REST matches after some occurrence of MARKER at index >= 4, which is
// what the backtracking regex engine would find. Hand-written rather than std::regex,
// whose recursive matcher can exhaust the stack on long inputs.
template <typename Rest>
bool MatchArn(std::string_view s, std::string_view marker, Rest rest) {
  if (s.substr(0, 4) != "arn:" || HasJavaLineTerminator(s)) return false;
  for (size_t p = s.find(marker, 4); p != std::string_view::npos; p = s.find(marker, p + 1)) {
    if (rest(s.substr(p + marker.size()))) return true;
  }
  return false;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// [a-zA-Z_0-9+=,.@\-_/]
bool IsArnResourceChar(char c) {
  return IsAsciiAlnum(c) || std::string_view("_+=,.@-/").find(c) != std::string_view::npos;
}
// \d{12}: at the start of *s; consumes it.
bool ConsumeAccount(std::string_view* s) {
  if (s->size() < 13 || !std::all_of(s->begin(), s->begin() + 12, IsDigit) || (*s)[12] != ':') {
    return false;
  }
  s->remove_prefix(13);
  return true;
}
// [a-zA-Z0-9\-]+: at the start of *s; consumes it.
bool ConsumeRegion(std::string_view* s) {
  size_t colon = s->find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  if (!std::all_of(s->begin(), s->begin() + colon,
                   [](char c) { return IsAsciiAlnum(c) || c == '-'; })) {
    return false;
  }
  s->remove_prefix(colon + 1);
  return true;
}
bool ConsumeLiteral(std::string_view* s, std::string_view lit) {
  if (s->substr(0, lit.size()) != lit) return false;
  s->remove_prefix(lit.size());
  return true;
}
bool MatchRoleArn(std::string_view s) {  // arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+
  return MatchArn(s, ":iam::", [](std::string_view r) {
    return ConsumeAccount(&r) && ConsumeLiteral(&r, "role/") && !r.empty() &&
           AllOf(r, IsArnResourceChar);
  });
}
bool MatchBucketArn(std::string_view s) {  // arn:.*:s3:::[\w\.\-]{1,255}
  return MatchArn(s, ":s3:::", [](std::string_view r) {
    return !r.empty() && r.size() <= 255 &&
           AllOf(r, [](char c) { return IsAsciiAlnum(c) || c == '_' || c == '.' || c == '-'; });
  });
}
// arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+
bool MatchKmsArn(std::string_view s) {
  return MatchArn(s, ":kms:", [](std::string_view r) {
    return ConsumeRegion(&r) && ConsumeAccount(&r) &&
           (ConsumeLiteral(&r, "key/") || ConsumeLiteral(&r, "alias/")) && !r.empty() &&
           AllOf(r, IsArnResourceChar);
  });
}
// arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+
bool MatchKinesisArn(std::string_view s) {
  return MatchArn(s, ":kinesis:", [](std::string_view r) {
    return ConsumeRegion(&r) && ConsumeAccount(&r) && ConsumeLiteral(&r, "stream/") &&
           MatchStreamName(r);
  });
}

// --- Unicode general categories for the tag patterns -----------------------
// An approximation of Java's \p{L}, \p{N}, \p{Z}: the ranges of the scripts listed
// in docs/api.md (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari,
// Thai, CJK, Kana, Hangul, fullwidth forms, ...). Code points outside them count as
// neither letters nor numbers.

struct Range {
  char32_t lo, hi;
};

constexpr Range kLetters[] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xAA, 0xAA},       {0xB5, 0xB5},
    {0xBA, 0xBA},       {0xC0, 0xD6},       {0xD8, 0xF6},       {0xF8, 0x2C1},
    {0x2C6, 0x2D1},     {0x2E0, 0x2E4},     {0x2EC, 0x2EC},     {0x2EE, 0x2EE},
    {0x370, 0x374},     {0x376, 0x377},     {0x37A, 0x37D},     {0x37F, 0x37F},
    {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},     {0x38E, 0x3A1},
    {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},     {0x531, 0x556},
    {0x559, 0x559},     {0x560, 0x588},     {0x5D0, 0x5EA},     {0x5EF, 0x5F2},
    {0x620, 0x64A},     {0x66E, 0x66F},     {0x671, 0x6D3},     {0x6D5, 0x6D5},
    {0x6E5, 0x6E6},     {0x6EE, 0x6EF},     {0x6FA, 0x6FC},     {0x6FF, 0x6FF},
    {0x904, 0x939},     {0x93D, 0x93D},     {0x950, 0x950},     {0x958, 0x961},
    {0x971, 0x980},     {0xE01, 0xE30},     {0xE32, 0xE33},     {0xE40, 0xE46},
    {0x1100, 0x11FF},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2071, 0x2071},   {0x207F, 0x207F},   {0x2090, 0x209C},   {0x2102, 0x2102},
    {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},   {0x2119, 0x211D},
    {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},   {0x212A, 0x212D},
    {0x212F, 0x2139},   {0x213C, 0x213F},   {0x2145, 0x2149},   {0x214E, 0x214E},
    {0x2183, 0x2184},   {0x2C00, 0x2CE4},   {0x3005, 0x3006},   {0x3031, 0x3035},
    {0x303B, 0x303C},   {0x3041, 0x3096},   {0x309D, 0x309F},   {0x30A1, 0x30FA},
    {0x30FC, 0x30FF},   {0x3105, 0x312F},   {0x3131, 0x318E},   {0x31A0, 0x31BF},
    {0x31F0, 0x31FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA48C},
    {0xA640, 0xA66E},   {0xA67F, 0xA69D},   {0xA717, 0xA71F},   {0xA722, 0xA788},
    {0xAC00, 0xD7A3},   {0xD7B0, 0xD7C6},   {0xD7CB, 0xD7FB},   {0xF900, 0xFA6D},
    {0xFA70, 0xFAD9},   {0xFB00, 0xFB06},   {0xFF21, 0xFF3A},   {0xFF41, 0xFF5A},
    {0xFF66, 0xFFBE},   {0xFFC2, 0xFFC7},   {0xFFCA, 0xFFCF},   {0xFFD2, 0xFFD7},
    {0xFFDA, 0xFFDC},   {0x20000, 0x2A6DF}, {0x2A700, 0x2EBE0}, {0x2F800, 0x2FA1D},
    {0x30000, 0x3134A},
};

constexpr Range kNumbers[] = {
    {0x30, 0x39},     {0xB2, 0xB3},     {0xB9, 0xB9},     {0xBC, 0xBE},     {0x660, 0x669},
    {0x6F0, 0x6F9},   {0x966, 0x96F},   {0xE50, 0xE59},   {0x2070, 0x2070}, {0x2074, 0x2079},
    {0x2080, 0x2089}, {0x2150, 0x2182}, {0x2185, 0x2189}, {0x2460, 0x249B}, {0x24EA, 0x24FF},
    {0x2776, 0x2793}, {0x3007, 0x3007}, {0x3021, 0x3029}, {0x3038, 0x303A}, {0x3192, 0x3195},
    {0x3220, 0x3229}, {0x3248, 0x324F}, {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF},
    {0xFF10, 0xFF19},
};

constexpr Range kSeparators[] = {
    {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
    {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
};

template <size_t N>
bool InRanges(const Range (&ranges)[N], char32_t cp) {
  for (const Range& r : ranges) {
    if (cp < r.lo) return false;  // sorted
    if (cp <= r.hi) return true;
  }
  return false;
}

// Decodes one UTF-8 code point at s[*i] and advances *i; returns -1 on bad UTF-8.
int32_t NextCodePoint(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return -1;
  }
  int32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc >> 6) != 0x2) {
      ++*i;
      return -1;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  *i += len;
  return cp;
}

// [\p{L}\p{Z}\p{N}_.:\/=+\-@%]*
bool MatchTagChars(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    int32_t cp = NextCodePoint(s, &i);
    if (cp < 0) return false;
    char32_t c = static_cast<char32_t>(cp);
    if (c < 0x80 &&
        std::string_view("_.:/=+-@%").find(static_cast<char>(c)) != std::string_view::npos) {
      continue;
    }
    if (!InRanges(kLetters, c) && !InRanges(kNumbers, c) && !InRanges(kSeparators, c)) {
      return false;
    }
  }
  return true;
}

bool MatchTagKey(std::string_view s) {
  // (?!aws:) is case-sensitive: "AWS:x" passes the pattern.
  return s.substr(0, 4) != "aws:" && MatchTagChars(s);
}

}  // namespace

// Length as the model counts it: Unicode code points (see docs/api.md).
int64_t CodePointLength(std::string_view s) {
  int64_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

const Pattern kStreamNamePattern{"[a-zA-Z0-9_.-]+", MatchStreamName};
const Pattern kRoleArnPattern{R"(arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+)", MatchRoleArn};
const Pattern kBucketArnPattern{R"(arn:.*:s3:::[\w\.\-]{1,255})", MatchBucketArn};
const Pattern kKmsArnPattern{
    R"(arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+)", MatchKmsArn};
const Pattern kKinesisArnPattern{
    R"(arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+)", MatchKinesisArn};
const Pattern kAnyPattern{".*", MatchAnyLine};
const Pattern kLogGroupPattern{R"([\.\-_/#A-Za-z0-9]*)", MatchLogGroupName};
const Pattern kLogStreamPattern{"[^:*]*", MatchLogStreamName};
const Pattern kNotBlankPattern{R"(^(?!\s*$).+)", MatchNotBlank};
const Pattern kNoWhitespacePattern{R"(^\S+$)", MatchNoWhitespace};
const Pattern kFileExtensionPattern{R"(^$|\.[0-9a-z!\-_.*'()]+)", MatchFileExtension};
const Pattern kTimeZonePattern{"^$|[a-zA-Z/_]+", MatchTimeZone};
const Pattern kTagKeyPattern{R"(^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$)", MatchTagKey};
const Pattern kTagValuePattern{R"(^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$)", MatchTagChars};
const Pattern kDestinationIdPattern{"[a-zA-Z0-9-]+", MatchDestinationId};
const Pattern kVersionIdPattern{"[0-9]+", MatchDigits};

}  // namespace hydrant::api
