#include "api/validation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <boost/json.hpp>

namespace hydrant::api {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// Patterns. The model's patterns are Java regexes matched against the whole value
// (Matcher.matches()). Each is implemented here by hand; `text` is the model's
// pattern, printed verbatim in messages as AWS does.

struct Pattern {
  std::string_view text;
  bool (*matches)(std::string_view);
};

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

// Length as the model counts it: Unicode code points (see docs/api.md).
int64_t CodePointLength(std::string_view s) {
  int64_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

constexpr Pattern kStreamNamePattern{"[a-zA-Z0-9_.-]+", MatchStreamName};
constexpr Pattern kRoleArnPattern{R"(arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+)",
                                  MatchRoleArn};
constexpr Pattern kBucketArnPattern{R"(arn:.*:s3:::[\w\.\-]{1,255})", MatchBucketArn};
constexpr Pattern kKmsArnPattern{
    R"(arn:.*:kms:[a-zA-Z0-9\-]+:\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\-_/]+)", MatchKmsArn};
constexpr Pattern kKinesisArnPattern{
    R"(arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+)", MatchKinesisArn};
constexpr Pattern kAnyPattern{".*", MatchAnyLine};
constexpr Pattern kLogGroupPattern{R"([\.\-_/#A-Za-z0-9]*)", MatchLogGroupName};
constexpr Pattern kLogStreamPattern{"[^:*]*", MatchLogStreamName};
constexpr Pattern kNotBlankPattern{R"(^(?!\s*$).+)", MatchNotBlank};
constexpr Pattern kNoWhitespacePattern{R"(^\S+$)", MatchNoWhitespace};
constexpr Pattern kFileExtensionPattern{R"(^$|\.[0-9a-z!\-_.*'()]+)", MatchFileExtension};
constexpr Pattern kTimeZonePattern{"^$|[a-zA-Z/_]+", MatchTimeZone};
constexpr Pattern kTagKeyPattern{R"(^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$)", MatchTagKey};
constexpr Pattern kTagValuePattern{R"(^[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$)", MatchTagChars};
constexpr Pattern kDestinationIdPattern{"[a-zA-Z0-9-]+", MatchDestinationId};
constexpr Pattern kVersionIdPattern{"[0-9]+", MatchDigits};

// ---------------------------------------------------------------------------
// The schema: a compact, table-driven description of the input shapes hydrant
// accepts, written from the service model (not copied from it).

enum class Kind {
  kStructure,
  kOpaqueStructure,  // recognised (must be an object) but not described further
  kString,
  kInteger,
  kDouble,
  kBoolean,
  kBlob,
  kList,
  kMap,
};

struct Shape;

struct Member {
  std::string_view name;  // wire name, e.g. "DeliveryStreamName"
  const Shape* shape;
  bool required = false;
};

constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::min();

struct Shape {
  Kind kind;
  std::string_view name;   // model shape name; AWS prints it when rendering structures
  int64_t min = kNoLimit;  // length (strings, blobs, lists) or value (numbers)
  int64_t max = kNoLimit;
  const Pattern* pattern = nullptr;
  std::span<const std::string_view> enum_values = {};  // in the order AWS prints them
  std::span<const Member> members = {};
  const Shape* element = nullptr;  // list member, map value
  const Shape* key = nullptr;      // map key
};

constexpr Shape Str(std::string_view name, int64_t min, int64_t max, const Pattern* p) {
  return Shape{.kind = Kind::kString, .name = name, .min = min, .max = max, .pattern = p};
}
constexpr Shape Enum(std::string_view name, std::span<const std::string_view> values) {
  return Shape{.kind = Kind::kString, .name = name, .enum_values = values};
}
constexpr Shape Int(std::string_view name, int64_t min, int64_t max = kNoLimit) {
  return Shape{.kind = Kind::kInteger, .name = name, .min = min, .max = max};
}
constexpr Shape Struct(std::string_view name, std::span<const Member> members) {
  return Shape{.kind = Kind::kStructure, .name = name, .members = members};
}
constexpr Shape Opaque(std::string_view name) {
  return Shape{.kind = Kind::kOpaqueStructure, .name = name};
}
constexpr Shape List(std::string_view name, const Shape* element, int64_t min = kNoLimit,
                     int64_t max = kNoLimit) {
  return Shape{.kind = Kind::kList, .name = name, .min = min, .max = max, .element = element};
}

// Scalars.
constexpr Shape kDeliveryStreamName = Str("DeliveryStreamName", 1, 64, &kStreamNamePattern);
constexpr Shape kRoleArn = Str("RoleARN", 1, 512, &kRoleArnPattern);
constexpr Shape kBucketArn = Str("BucketARN", 1, 2048, &kBucketArnPattern);
constexpr Shape kKmsKeyArn = Str("AWSKMSKeyARN", 1, 512, &kKmsArnPattern);
constexpr Shape kKinesisStreamArn = Str("KinesisStreamARN", 1, 512, &kKinesisArnPattern);
constexpr Shape kPrefix = Str("Prefix", 0, 1024, &kAnyPattern);
constexpr Shape kErrorOutputPrefix = Str("ErrorOutputPrefix", 0, 1024, &kAnyPattern);
constexpr Shape kLogGroupName = Str("LogGroupName", 0, 512, &kLogGroupPattern);
constexpr Shape kLogStreamName = Str("LogStreamName", 0, 512, &kLogStreamPattern);
constexpr Shape kParameterValue = Str("ProcessorParameterValue", 1, 5120, &kNotBlankPattern);
constexpr Shape kNonEmptyStringWithoutWhitespace =
    Str("NonEmptyStringWithoutWhitespace", 1, 1024, &kNoWhitespacePattern);
constexpr Shape kNonEmptyString = Str("NonEmptyString", 1, 1024, &kNotBlankPattern);
constexpr Shape kFileExtension = Str("FileExtension", 0, 128, &kFileExtensionPattern);
constexpr Shape kCustomTimeZone = Str("CustomTimeZone", 0, 50, &kTimeZonePattern);
constexpr Shape kTagKey = Str("TagKey", 1, 128, &kTagKeyPattern);
constexpr Shape kTagValue = Str("TagValue", 0, 256, &kTagValuePattern);
constexpr Shape kDestinationId = Str("DestinationId", 1, 100, &kDestinationIdPattern);
constexpr Shape kVersionId = Str("DeliveryStreamVersionId", 1, 50, &kVersionIdPattern);

constexpr Shape kBoolean{.kind = Kind::kBoolean, .name = "BooleanObject"};
constexpr Shape kData{.kind = Kind::kBlob, .name = "Data", .min = 0, .max = 1024000};
constexpr Shape kProportion{.kind = Kind::kDouble, .name = "Proportion", .min = 0, .max = 1};

constexpr Shape kThroughputHint = Int("ThroughputHintInMBs", 1, 100);
constexpr Shape kSizeInMBs = Int("SizeInMBs", 1, 128);
constexpr Shape kIntervalInSeconds = Int("IntervalInSeconds", 0, 900);
constexpr Shape kRetryDuration = Int("RetryDurationInSeconds", 0, 7200);
constexpr Shape kDescribeLimit = Int("DescribeDeliveryStreamInputLimit", 1, 10000);
constexpr Shape kListLimit = Int("ListDeliveryStreamsInputLimit", 1, 10000);
constexpr Shape kListTagsLimit = Int("ListTagsForDeliveryStreamInputLimit", 1, 50);
constexpr Shape kBlockSizeBytes = Int("BlockSizeBytes", 67108864);
constexpr Shape kParquetPageSizeBytes = Int("ParquetPageSizeBytes", 65536);
constexpr Shape kNonNegativeInteger = Int("NonNegativeIntegerObject", 0);
constexpr Shape kOrcStripeSizeBytes = Int("OrcStripeSizeBytes", 8388608);
constexpr Shape kOrcRowIndexStride = Int("OrcRowIndexStride", 1000);

// Enums. Where AWS was observed to print a set in another order than the model's
// (floci-io/floci probes of real Firehose), that order is used; otherwise model order.
constexpr std::string_view kDeliveryStreamTypes[] = {"DirectPut", "KinesisStreamAsSource",
                                                     "MSKAsSource", "DatabaseAsSource"};
constexpr std::string_view kKeyTypes[] = {"AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"};
constexpr std::string_view kCompressionFormats[] = {"ZIP", "HADOOP_SNAPPY", "Snappy", "GZIP",
                                                    "UNCOMPRESSED"};
constexpr std::string_view kNoEncryptionValues[] = {"NoEncryption"};
constexpr std::string_view kS3BackupModes[] = {"Disabled", "Enabled"};
constexpr std::string_view kProcessorTypes[] = {
    "Decompression",           "Lambda",
    "RecordDeAggregation",     "MetadataExtraction",
    "AppendDelimiterToRecord", "CloudWatchLogProcessing"};
constexpr std::string_view kParameterNames[] = {"DataMessageExtraction",
                                                "NumberOfRetries",
                                                "Delimiter",
                                                "RoleArn",
                                                "JsonParsingEngine",
                                                "SubRecordType",
                                                "MetadataExtractionQuery",
                                                "BufferIntervalInSeconds",
                                                "LambdaArn",
                                                "BufferSizeInMBs",
                                                "CompressionFormat"};
constexpr std::string_view kParquetCompressions[] = {"SNAPPY", "GZIP", "UNCOMPRESSED"};
constexpr std::string_view kParquetWriterVersions[] = {"V1", "V2"};
constexpr std::string_view kOrcCompressions[] = {"ZLIB", "SNAPPY", "NONE"};
constexpr std::string_view kOrcFormatVersions[] = {"V0_11", "V0_12"};

constexpr Shape kDeliveryStreamType = Enum("DeliveryStreamType", kDeliveryStreamTypes);
constexpr Shape kKeyType = Enum("KeyType", kKeyTypes);
constexpr Shape kCompressionFormat = Enum("CompressionFormat", kCompressionFormats);
constexpr Shape kNoEncryptionConfig = Enum("NoEncryptionConfig", kNoEncryptionValues);
constexpr Shape kS3BackupMode = Enum("S3BackupMode", kS3BackupModes);
constexpr Shape kProcessorType = Enum("ProcessorType", kProcessorTypes);
constexpr Shape kParameterName = Enum("ProcessorParameterName", kParameterNames);
constexpr Shape kParquetCompression = Enum("ParquetCompression", kParquetCompressions);
constexpr Shape kParquetWriterVersion = Enum("ParquetWriterVersion", kParquetWriterVersions);
constexpr Shape kOrcCompression = Enum("OrcCompression", kOrcCompressions);
constexpr Shape kOrcFormatVersion = Enum("OrcFormatVersion", kOrcFormatVersions);

// Sources and stream encryption.
constexpr Member kDirectPutSourceMembers[] = {{"ThroughputHintInMBs", &kThroughputHint, true}};
constexpr Shape kDirectPutSource = Struct("DirectPutSourceConfiguration", kDirectPutSourceMembers);
constexpr Member kKinesisSourceMembers[] = {{"KinesisStreamARN", &kKinesisStreamArn, true},
                                            {"RoleARN", &kRoleArn, true}};
constexpr Shape kKinesisSource = Struct("KinesisStreamSourceConfiguration", kKinesisSourceMembers);
constexpr Member kStreamEncryptionMembers[] = {{"KeyARN", &kKmsKeyArn},
                                               {"KeyType", &kKeyType, true}};
constexpr Shape kStreamEncryptionInput =
    Struct("DeliveryStreamEncryptionConfigurationInput", kStreamEncryptionMembers);

// S3 destination.
constexpr Member kBufferingHintsMembers[] = {{"SizeInMBs", &kSizeInMBs},
                                             {"IntervalInSeconds", &kIntervalInSeconds}};
constexpr Shape kBufferingHints = Struct("BufferingHints", kBufferingHintsMembers);
constexpr Member kKmsEncryptionMembers[] = {{"AWSKMSKeyARN", &kKmsKeyArn, true}};
constexpr Shape kKmsEncryptionConfig = Struct("KMSEncryptionConfig", kKmsEncryptionMembers);
constexpr Member kEncryptionMembers[] = {{"NoEncryptionConfig", &kNoEncryptionConfig},
                                         {"KMSEncryptionConfig", &kKmsEncryptionConfig}};
constexpr Shape kEncryptionConfiguration = Struct("EncryptionConfiguration", kEncryptionMembers);
constexpr Member kLoggingMembers[] = {
    {"Enabled", &kBoolean}, {"LogGroupName", &kLogGroupName}, {"LogStreamName", &kLogStreamName}};
constexpr Shape kCloudWatchLogging = Struct("CloudWatchLoggingOptions", kLoggingMembers);

constexpr Member kS3ConfigurationMembers[] = {
    {"RoleARN", &kRoleArn, true},
    {"BucketARN", &kBucketArn, true},
    {"Prefix", &kPrefix},
    {"ErrorOutputPrefix", &kErrorOutputPrefix},
    {"BufferingHints", &kBufferingHints},
    {"CompressionFormat", &kCompressionFormat},
    {"EncryptionConfiguration", &kEncryptionConfiguration},
    {"CloudWatchLoggingOptions", &kCloudWatchLogging},
};
constexpr Shape kS3Configuration = Struct("S3DestinationConfiguration", kS3ConfigurationMembers);
constexpr Member kS3UpdateMembers[] = {
    {"RoleARN", &kRoleArn},
    {"BucketARN", &kBucketArn},
    {"Prefix", &kPrefix},
    {"ErrorOutputPrefix", &kErrorOutputPrefix},
    {"BufferingHints", &kBufferingHints},
    {"CompressionFormat", &kCompressionFormat},
    {"EncryptionConfiguration", &kEncryptionConfiguration},
    {"CloudWatchLoggingOptions", &kCloudWatchLogging},
};
constexpr Shape kS3Update = Struct("S3DestinationUpdate", kS3UpdateMembers);

// Processing.
constexpr Member kParameterMembers[] = {{"ParameterName", &kParameterName, true},
                                        {"ParameterValue", &kParameterValue, true}};
constexpr Shape kProcessorParameter = Struct("ProcessorParameter", kParameterMembers);
constexpr Shape kParameterList = List("ProcessorParameterList", &kProcessorParameter);
// Type before Parameters: the order AWS reports them in (probed by floci).
constexpr Member kProcessorMembers[] = {{"Type", &kProcessorType, true},
                                        {"Parameters", &kParameterList}};
constexpr Shape kProcessor = Struct("Processor", kProcessorMembers);
constexpr Shape kProcessorList = List("ProcessorList", &kProcessor);
constexpr Member kProcessingMembers[] = {{"Enabled", &kBoolean}, {"Processors", &kProcessorList}};
constexpr Shape kProcessingConfiguration = Struct("ProcessingConfiguration", kProcessingMembers);

// Data format conversion. Member orders below are the orders AWS reports
// violations in (floci probes), not the model's declaration order.
constexpr Member kSchemaMembers[] = {
    {"VersionId", &kNonEmptyStringWithoutWhitespace},
    {"CatalogId", &kNonEmptyStringWithoutWhitespace},
    {"DatabaseName", &kNonEmptyStringWithoutWhitespace},
    {"RoleARN", &kNonEmptyStringWithoutWhitespace},
    {"Region", &kNonEmptyStringWithoutWhitespace},
    {"TableName", &kNonEmptyStringWithoutWhitespace},
};
constexpr Shape kSchemaConfiguration = Struct("SchemaConfiguration", kSchemaMembers);
constexpr Shape kColumnToJsonKeyMappings{.kind = Kind::kMap,
                                         .name = "ColumnToJsonKeyMappings",
                                         .element = &kNonEmptyString,
                                         .key = &kNonEmptyStringWithoutWhitespace};
constexpr Member kOpenXMembers[] = {{"ConvertDotsInJsonKeysToUnderscores", &kBoolean},
                                    {"CaseInsensitive", &kBoolean},
                                    {"ColumnToJsonKeyMappings", &kColumnToJsonKeyMappings}};
constexpr Shape kOpenXJsonSerDe = Struct("OpenXJsonSerDe", kOpenXMembers);
constexpr Shape kListOfNonEmptyStrings = List("ListOfNonEmptyStrings", &kNonEmptyString);
constexpr Member kHiveMembers[] = {{"TimestampFormats", &kListOfNonEmptyStrings}};
constexpr Shape kHiveJsonSerDe = Struct("HiveJsonSerDe", kHiveMembers);
constexpr Member kDeserializerMembers[] = {{"OpenXJsonSerDe", &kOpenXJsonSerDe},
                                           {"HiveJsonSerDe", &kHiveJsonSerDe}};
constexpr Shape kDeserializer = Struct("Deserializer", kDeserializerMembers);
constexpr Member kInputFormatMembers[] = {{"Deserializer", &kDeserializer}};
constexpr Shape kInputFormat = Struct("InputFormatConfiguration", kInputFormatMembers);
constexpr Member kParquetMembers[] = {
    {"MaxPaddingBytes", &kNonNegativeInteger}, {"BlockSizeBytes", &kBlockSizeBytes},
    {"PageSizeBytes", &kParquetPageSizeBytes}, {"Compression", &kParquetCompression},
    {"WriterVersion", &kParquetWriterVersion}, {"EnableDictionaryCompression", &kBoolean},
};
constexpr Shape kParquetSerDe = Struct("ParquetSerDe", kParquetMembers);
constexpr Shape kNoWhitespaceList =
    List("ListOfNonEmptyStringsWithoutWhitespace", &kNonEmptyStringWithoutWhitespace);
constexpr Member kOrcMembers[] = {
    {"DictionaryKeyThreshold", &kProportion},
    {"BlockSizeBytes", &kBlockSizeBytes},
    {"RowIndexStride", &kOrcRowIndexStride},
    {"PaddingTolerance", &kProportion},
    {"StripeSizeBytes", &kOrcStripeSizeBytes},
    {"Compression", &kOrcCompression},
    {"FormatVersion", &kOrcFormatVersion},
    {"BloomFilterFalsePositiveProbability", &kProportion},
    {"EnablePadding", &kBoolean},
    {"BloomFilterColumns", &kNoWhitespaceList},
};
constexpr Shape kOrcSerDe = Struct("OrcSerDe", kOrcMembers);
constexpr Member kSerializerMembers[] = {{"ParquetSerDe", &kParquetSerDe},
                                         {"OrcSerDe", &kOrcSerDe}};
constexpr Shape kSerializer = Struct("Serializer", kSerializerMembers);
constexpr Member kOutputFormatMembers[] = {{"Serializer", &kSerializer}};
constexpr Shape kOutputFormat = Struct("OutputFormatConfiguration", kOutputFormatMembers);
constexpr Member kFormatConversionMembers[] = {
    {"OutputFormatConfiguration", &kOutputFormat},
    {"InputFormatConfiguration", &kInputFormat},
    {"SchemaConfiguration", &kSchemaConfiguration},
    {"Enabled", &kBoolean},
};
constexpr Shape kFormatConversion =
    Struct("DataFormatConversionConfiguration", kFormatConversionMembers);

constexpr Member kRetryOptionsMembers[] = {{"DurationInSeconds", &kRetryDuration}};
constexpr Shape kRetryOptions = Struct("RetryOptions", kRetryOptionsMembers);
constexpr Member kDynamicPartitioningMembers[] = {{"RetryOptions", &kRetryOptions},
                                                  {"Enabled", &kBoolean}};
constexpr Shape kDynamicPartitioning =
    Struct("DynamicPartitioningConfiguration", kDynamicPartitioningMembers);

constexpr Member kExtendedS3ConfigurationMembers[] = {
    {"RoleARN", &kRoleArn, true},
    {"BucketARN", &kBucketArn, true},
    {"Prefix", &kPrefix},
    {"ErrorOutputPrefix", &kErrorOutputPrefix},
    {"BufferingHints", &kBufferingHints},
    {"CompressionFormat", &kCompressionFormat},
    {"EncryptionConfiguration", &kEncryptionConfiguration},
    {"CloudWatchLoggingOptions", &kCloudWatchLogging},
    {"ProcessingConfiguration", &kProcessingConfiguration},
    {"S3BackupMode", &kS3BackupMode},
    {"S3BackupConfiguration", &kS3Configuration},
    {"DataFormatConversionConfiguration", &kFormatConversion},
    {"DynamicPartitioningConfiguration", &kDynamicPartitioning},
    {"FileExtension", &kFileExtension},
    {"CustomTimeZone", &kCustomTimeZone},
};
constexpr Shape kExtendedS3Configuration =
    Struct("ExtendedS3DestinationConfiguration", kExtendedS3ConfigurationMembers);
constexpr Member kExtendedS3UpdateMembers[] = {
    {"RoleARN", &kRoleArn},
    {"BucketARN", &kBucketArn},
    {"Prefix", &kPrefix},
    {"ErrorOutputPrefix", &kErrorOutputPrefix},
    {"BufferingHints", &kBufferingHints},
    {"CompressionFormat", &kCompressionFormat},
    {"EncryptionConfiguration", &kEncryptionConfiguration},
    {"CloudWatchLoggingOptions", &kCloudWatchLogging},
    {"ProcessingConfiguration", &kProcessingConfiguration},
    {"S3BackupMode", &kS3BackupMode},
    {"S3BackupUpdate", &kS3Update},
    {"DataFormatConversionConfiguration", &kFormatConversion},
    {"DynamicPartitioningConfiguration", &kDynamicPartitioning},
    {"FileExtension", &kFileExtension},
    {"CustomTimeZone", &kCustomTimeZone},
};
constexpr Shape kExtendedS3Update = Struct("ExtendedS3DestinationUpdate", kExtendedS3UpdateMembers);

// Destinations and sources hydrant only recognises.
constexpr Shape kRedshiftConfiguration = Opaque("RedshiftDestinationConfiguration");
constexpr Shape kElasticsearchConfiguration = Opaque("ElasticsearchDestinationConfiguration");
constexpr Shape kOpensearchConfiguration =
    Opaque("AmazonopensearchserviceDestinationConfiguration");
constexpr Shape kSplunkConfiguration = Opaque("SplunkDestinationConfiguration");
constexpr Shape kHttpEndpointConfiguration = Opaque("HttpEndpointDestinationConfiguration");
constexpr Shape kServerlessConfiguration =
    Opaque("AmazonOpenSearchServerlessDestinationConfiguration");
constexpr Shape kSnowflakeConfiguration = Opaque("SnowflakeDestinationConfiguration");
constexpr Shape kIcebergConfiguration = Opaque("IcebergDestinationConfiguration");
constexpr Shape kRedshiftUpdate = Opaque("RedshiftDestinationUpdate");
constexpr Shape kElasticsearchUpdate = Opaque("ElasticsearchDestinationUpdate");
constexpr Shape kOpensearchUpdate = Opaque("AmazonopensearchserviceDestinationUpdate");
constexpr Shape kSplunkUpdate = Opaque("SplunkDestinationUpdate");
constexpr Shape kHttpEndpointUpdate = Opaque("HttpEndpointDestinationUpdate");
constexpr Shape kServerlessUpdate = Opaque("AmazonOpenSearchServerlessDestinationUpdate");
constexpr Shape kSnowflakeUpdate = Opaque("SnowflakeDestinationUpdate");
constexpr Shape kIcebergUpdate = Opaque("IcebergDestinationUpdate");
constexpr Shape kMskSource = Opaque("MSKSourceConfiguration");
constexpr Shape kDatabaseSource = Opaque("DatabaseSourceConfiguration");

// Tags and records.
constexpr Member kTagMembers[] = {{"Key", &kTagKey, true}, {"Value", &kTagValue}};
constexpr Shape kTag = Struct("Tag", kTagMembers);
constexpr Shape kTagList = List("TagDeliveryStreamInputTagList", &kTag, 1, 50);
constexpr Shape kTagKeyList = List("TagKeyList", &kTagKey, 1, 50);
constexpr Member kRecordMembers[] = {{"Data", &kData, true}};
constexpr Shape kRecord = Struct("Record", kRecordMembers);
constexpr Shape kRecordList = List("PutRecordBatchRequestEntryList", &kRecord, 1, 500);

// Operation inputs.
constexpr Member kCreateMembers[] = {
    {"DeliveryStreamName", &kDeliveryStreamName, true},
    {"DeliveryStreamType", &kDeliveryStreamType},
    {"DirectPutSourceConfiguration", &kDirectPutSource},
    {"KinesisStreamSourceConfiguration", &kKinesisSource},
    {"DeliveryStreamEncryptionConfigurationInput", &kStreamEncryptionInput},
    {"S3DestinationConfiguration", &kS3Configuration},
    {"ExtendedS3DestinationConfiguration", &kExtendedS3Configuration},
    {"RedshiftDestinationConfiguration", &kRedshiftConfiguration},
    {"ElasticsearchDestinationConfiguration", &kElasticsearchConfiguration},
    {"AmazonopensearchserviceDestinationConfiguration", &kOpensearchConfiguration},
    {"SplunkDestinationConfiguration", &kSplunkConfiguration},
    {"HttpEndpointDestinationConfiguration", &kHttpEndpointConfiguration},
    {"Tags", &kTagList},
    {"AmazonOpenSearchServerlessDestinationConfiguration", &kServerlessConfiguration},
    {"MSKSourceConfiguration", &kMskSource},
    {"SnowflakeDestinationConfiguration", &kSnowflakeConfiguration},
    {"IcebergDestinationConfiguration", &kIcebergConfiguration},
    {"DatabaseSourceConfiguration", &kDatabaseSource},
};
constexpr Shape kCreateInput = Struct("CreateDeliveryStreamInput", kCreateMembers);

constexpr Member kDeleteMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                     {"AllowForceDelete", &kBoolean}};
constexpr Shape kDeleteInput = Struct("DeleteDeliveryStreamInput", kDeleteMembers);

constexpr Member kDescribeMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                       {"Limit", &kDescribeLimit},
                                       {"ExclusiveStartDestinationId", &kDestinationId}};
constexpr Shape kDescribeInput = Struct("DescribeDeliveryStreamInput", kDescribeMembers);

constexpr Member kListMembers[] = {{"Limit", &kListLimit},
                                   {"DeliveryStreamType", &kDeliveryStreamType},
                                   {"ExclusiveStartDeliveryStreamName", &kDeliveryStreamName}};
constexpr Shape kListInput = Struct("ListDeliveryStreamsInput", kListMembers);

constexpr Member kUpdateMembers[] = {
    {"DeliveryStreamName", &kDeliveryStreamName, true},
    {"CurrentDeliveryStreamVersionId", &kVersionId, true},
    {"DestinationId", &kDestinationId, true},
    {"S3DestinationUpdate", &kS3Update},
    {"ExtendedS3DestinationUpdate", &kExtendedS3Update},
    {"RedshiftDestinationUpdate", &kRedshiftUpdate},
    {"ElasticsearchDestinationUpdate", &kElasticsearchUpdate},
    {"AmazonopensearchserviceDestinationUpdate", &kOpensearchUpdate},
    {"SplunkDestinationUpdate", &kSplunkUpdate},
    {"HttpEndpointDestinationUpdate", &kHttpEndpointUpdate},
    {"AmazonOpenSearchServerlessDestinationUpdate", &kServerlessUpdate},
    {"SnowflakeDestinationUpdate", &kSnowflakeUpdate},
    {"IcebergDestinationUpdate", &kIcebergUpdate},
};
constexpr Shape kUpdateInput = Struct("UpdateDestinationInput", kUpdateMembers);

constexpr Member kTagStreamMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                        {"Tags", &kTagList, true}};
constexpr Shape kTagStreamInput = Struct("TagDeliveryStreamInput", kTagStreamMembers);
constexpr Member kUntagMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                    {"TagKeys", &kTagKeyList, true}};
constexpr Shape kUntagInput = Struct("UntagDeliveryStreamInput", kUntagMembers);
constexpr Member kListTagsMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                       {"ExclusiveStartTagKey", &kTagKey},
                                       {"Limit", &kListTagsLimit}};
constexpr Shape kListTagsInput = Struct("ListTagsForDeliveryStreamInput", kListTagsMembers);

constexpr Member kPutRecordMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                        {"Record", &kRecord, true}};
constexpr Shape kPutRecordInput = Struct("PutRecordInput", kPutRecordMembers);
constexpr Member kPutRecordBatchMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true},
                                             {"Records", &kRecordList, true}};
constexpr Shape kPutRecordBatchInput = Struct("PutRecordBatchInput", kPutRecordBatchMembers);

constexpr Member kStartEncryptionMembers[] = {
    {"DeliveryStreamName", &kDeliveryStreamName, true},
    {"DeliveryStreamEncryptionConfigurationInput", &kStreamEncryptionInput}};
constexpr Shape kStartEncryptionInput =
    Struct("StartDeliveryStreamEncryptionInput", kStartEncryptionMembers);
constexpr Member kStopEncryptionMembers[] = {{"DeliveryStreamName", &kDeliveryStreamName, true}};
constexpr Shape kStopEncryptionInput =
    Struct("StopDeliveryStreamEncryptionInput", kStopEncryptionMembers);

struct Operation {
  std::string_view name;
  const Shape* input;
};
constexpr Operation kOperations[] = {
    {"CreateDeliveryStream", &kCreateInput},
    {"DeleteDeliveryStream", &kDeleteInput},
    {"DescribeDeliveryStream", &kDescribeInput},
    {"ListDeliveryStreams", &kListInput},
    {"UpdateDestination", &kUpdateInput},
    {"TagDeliveryStream", &kTagStreamInput},
    {"UntagDeliveryStream", &kUntagInput},
    {"ListTagsForDeliveryStream", &kListTagsInput},
    {"PutRecord", &kPutRecordInput},
    {"PutRecordBatch", &kPutRecordBatchInput},
    {"StartDeliveryStreamEncryption", &kStartEncryptionInput},
    {"StopDeliveryStreamEncryption", &kStopEncryptionInput},
};

// ---------------------------------------------------------------------------
// Phase 1: JSON types, as AWS's deserializer reports them (SerializationException).

constexpr std::string_view kListNotExpected = "Start of list found where not expected";
constexpr std::string_view kStructNotExpected =
    "Start of structure or map found where not expected.";

std::string_view ScalarToken(const json::value& v) {
  if (v.is_string()) return "STRING_VALUE";
  if (v.is_bool()) return v.get_bool() ? "TRUE_VALUE" : "FALSE_VALUE";
  return "NUMBER_VALUE";
}

std::optional<ApiError> ContainerError(const json::value& v) {
  if (v.is_array()) return SerializationError(std::string(kListNotExpected));
  if (v.is_object()) return SerializationError(std::string(kStructNotExpected));
  return std::nullopt;
}

bool IsIntegral(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  if (!v.is_double()) return false;
  double d = v.get_double();
  return std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18;
}

std::optional<ApiError> CheckTypes(const Shape& shape, const json::value& v);

// Members in document order, as a streaming deserializer meets them.
std::optional<ApiError> CheckStructureTypes(const Shape& shape, const json::object& o) {
  for (const auto& kv : o) {
    if (kv.value().is_null()) continue;
    std::string_view key(kv.key().data(), kv.key().size());
    for (const Member& m : shape.members) {
      if (m.name == key) {
        if (auto err = CheckTypes(*m.shape, kv.value())) return err;
        break;
      }
    }
  }
  return std::nullopt;
}

std::optional<ApiError> CheckTypes(const Shape& shape, const json::value& v) {
  switch (shape.kind) {
    case Kind::kStructure:
    case Kind::kOpaqueStructure:
      if (v.is_array()) return SerializationError(std::string(kListNotExpected));
      if (!v.is_object()) return SerializationError("Expected null");
      if (shape.kind == Kind::kOpaqueStructure) return std::nullopt;
      return CheckStructureTypes(shape, v.get_object());
    case Kind::kString:
      if (v.is_string()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return SerializationError(std::string(ScalarToken(v)) + " can not be converted to a String");
    case Kind::kInteger:
      if (IsIntegral(v)) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return SerializationError(std::string(ScalarToken(v)) +
                                " can not be converted to an Integer");
    case Kind::kDouble:
      if (v.is_number()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      return SerializationError(std::string(ScalarToken(v)) + " can not be converted to a Double");
    case Kind::kBoolean:
      if (v.is_bool()) return std::nullopt;
      if (auto err = ContainerError(v)) return err;
      if (v.is_string())
        return SerializationError("STRING_VALUE can not be converted to an Boolean");
      return SerializationError("NUMBER_VALUE can not be converted to a Boolean");
    case Kind::kBlob:
      if (v.is_string()) return CheckBase64(v.get_string());
      if (auto err = ContainerError(v)) return err;
      return SerializationError(std::string(ScalarToken(v)) + " can not be converted to a Blob");
    case Kind::kList:
      if (v.is_object()) return SerializationError(std::string(kStructNotExpected));
      if (!v.is_array()) return SerializationError("Expected list or null");
      for (const json::value& e : v.get_array()) {
        if (e.is_null()) continue;
        if (auto err = CheckTypes(*shape.element, e)) return err;
      }
      return std::nullopt;
    case Kind::kMap:
      if (v.is_array()) return SerializationError(std::string(kListNotExpected));
      if (!v.is_object()) return SerializationError("Expected map or null");
      for (const auto& kv : v.get_object()) {
        if (kv.value().is_null()) continue;
        if (auto err = CheckTypes(*shape.element, kv.value())) return err;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Phase 2: constraints (ValidationException).

std::string LowerFirst(std::string_view name) {
  std::string s(name);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

std::string HeapByteBuffer(size_t size) {
  std::string n = std::to_string(size);
  return "java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "]";
}

std::string FormatDouble(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // Java prints 1.0
  return s;
}

std::string FormatInteger(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  return std::to_string(static_cast<int64_t>(v.get_double()));
}

// The value as AWS's Java service prints it in a violation (toString()).
std::string Render(const Shape& shape, const json::value& v) {
  switch (shape.kind) {
    case Kind::kString:
      return std::string(v.get_string());
    case Kind::kInteger:
      return FormatInteger(v);
    case Kind::kDouble:
      return FormatDouble(v.to_number<double>());
    case Kind::kBoolean:
      return v.get_bool() ? "true" : "false";
    case Kind::kBlob:
      return HeapByteBuffer(Base64DecodedSize(v.get_string()));
    case Kind::kList: {
      std::string out = "[";
      bool first = true;
      for (const json::value& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        out += e.is_null() ? "null" : Render(*shape.element, e);
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += std::string(kv.key()) + "=" +
               (kv.value().is_null() ? "null" : Render(*shape.element, kv.value()));
      }
      return out + "}";
    }
    case Kind::kStructure: {
      std::string out = std::string(shape.name) + "(";
      const json::object& o = v.get_object();
      bool first = true;
      for (const Member& m : shape.members) {
        if (!first) out += ", ";
        first = false;
        const json::value* child = o.if_contains(m.name);
        out += LowerFirst(m.name) + "=" +
               (child == nullptr || child->is_null() ? "null" : Render(*m.shape, *child));
      }
      return out + ")";
    }
    case Kind::kOpaqueStructure:
      return std::string(shape.name) + "()";
  }
  return {};
}

// rendered_value nullopt = the member is null/absent ("Value null at ...").
std::string Violation(std::optional<std::string_view> rendered_value, std::string_view path,
                      std::string_view constraint) {
  std::string out = "Value ";
  if (!rendered_value) {
    out += "null";
  } else {
    out += "'";
    out += *rendered_value;
    out += "'";
  }
  out += " at '";
  out += path;
  out += "' failed to satisfy constraint: ";
  out += constraint;
  return out;
}

std::string LengthMax(int64_t n) {
  return "Member must have length less than or equal to " + std::to_string(n);
}
std::string LengthMin(int64_t n) {
  return "Member must have length greater than or equal to " + std::to_string(n);
}
std::string ValueMax(int64_t n) {
  return "Member must have value less than or equal to " + std::to_string(n);
}
std::string ValueMin(int64_t n) {
  return "Member must have value greater than or equal to " + std::to_string(n);
}
std::string PatternConstraint(const Pattern& p) {
  return "Member must satisfy regular expression pattern: " + std::string(p.text);
}
std::string EnumConstraint(std::span<const std::string_view> values) {
  std::string out = "Member must satisfy enum value set: [";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += values[i];
  }
  return out + "]";
}

// Every constraint of a string shape that `s` breaks, in AWS's order: length, then
// pattern, then enum.
std::vector<std::string> StringConstraintsBroken(const Shape& shape, std::string_view s) {
  std::vector<std::string> broken;
  int64_t len = CodePointLength(s);
  if (shape.min != kNoLimit && len < shape.min) broken.push_back(LengthMin(shape.min));
  if (shape.max != kNoLimit && len > shape.max) broken.push_back(LengthMax(shape.max));
  if (shape.pattern != nullptr && !shape.pattern->matches(s)) {
    broken.push_back(PatternConstraint(*shape.pattern));
  }
  if (!shape.enum_values.empty() &&
      std::find(shape.enum_values.begin(), shape.enum_values.end(), s) == shape.enum_values.end()) {
    broken.push_back(EnumConstraint(shape.enum_values));
  }
  return broken;
}

void CheckValue(const Shape& shape, const json::value& v, const std::string& path, Violations* out);

void CheckStructure(const Shape& shape, const json::object& o, const std::string& prefix,
                    Violations* out) {
  for (const Member& m : shape.members) {
    std::string path = prefix.empty() ? LowerFirst(m.name) : prefix + "." + LowerFirst(m.name);
    const json::value* child = o.if_contains(m.name);
    if (child == nullptr || child->is_null()) {
      if (m.required) out->Add(NullViolation(path));
      continue;
    }
    CheckValue(*m.shape, *child, path, out);
  }
}

void CheckValue(const Shape& shape, const json::value& v, const std::string& path,
                Violations* out) {
  switch (shape.kind) {
    case Kind::kStructure:
      CheckStructure(shape, v.get_object(), path, out);
      return;
    case Kind::kOpaqueStructure:
      return;
    case Kind::kString: {
      std::string_view s = v.get_string();
      for (const std::string& c : StringConstraintsBroken(shape, s))
        out->Add(Violation(s, path, c));
      return;
    }
    case Kind::kInteger:
    case Kind::kDouble: {
      double d = v.to_number<double>();
      if (shape.min != kNoLimit && d < static_cast<double>(shape.min)) {
        out->Add(Violation(Render(shape, v), path, ValueMin(shape.min)));
      }
      if (shape.max != kNoLimit && d > static_cast<double>(shape.max)) {
        out->Add(Violation(Render(shape, v), path, ValueMax(shape.max)));
      }
      return;
    }
    case Kind::kBoolean:
      return;
    case Kind::kBlob: {
      size_t size = Base64DecodedSize(v.get_string());
      if (shape.max != kNoLimit && size > static_cast<size_t>(shape.max)) {
        out->Add(Violation(HeapByteBuffer(size), path, LengthMax(shape.max)));
      }
      return;
    }
    case Kind::kList: {
      const json::array& a = v.get_array();
      auto n = static_cast<int64_t>(a.size());
      if (shape.min != kNoLimit && n < shape.min) {
        out->Add(Violation(Render(shape, v), path, LengthMin(shape.min)));
      }
      if (shape.max != kNoLimit && n > shape.max) {
        out->Add(Violation(Render(shape, v), path, LengthMax(shape.max)));
      }
      for (size_t i = 0; i < a.size(); ++i) {
        std::string element_path = path + "." + std::to_string(i + 1) + ".member";
        // A null element would reach the service as a null member; AWS answers it
        // with an InternalFailure, hydrant with the model's "not null" wording.
        if (a[i].is_null()) {
          out->Add(NullViolation(element_path));
          continue;
        }
        CheckValue(*shape.element, a[i], element_path, out);
      }
      return;
    }
    case Kind::kMap: {
      // AWS reports a map's key and value constraints once each, listing every
      // constraint of the key (value) shape, whichever of them failed.
      const json::object& o = v.get_object();
      bool bad_key = false;
      bool bad_value = false;
      for (const auto& kv : o) {
        std::string_view key(kv.key().data(), kv.key().size());
        const json::value& child = kv.value();
        if (!StringConstraintsBroken(*shape.key, key).empty()) bad_key = true;
        if (child.is_null() ||
            (child.is_string() &&
             !StringConstraintsBroken(*shape.element, child.get_string()).empty())) {
          bad_value = true;
        }
      }
      auto all_constraints = [](const Shape& s) {
        std::string c = "[";
        c += LengthMax(s.max) + ", " + LengthMin(s.min);
        if (s.pattern != nullptr) c += ", " + PatternConstraint(*s.pattern);
        return c + "]";
      };
      if (bad_key) {
        out->Add(Violation(Render(shape, v), path,
                           "Map keys must satisfy constraint: " + all_constraints(*shape.key)));
      }
      if (bad_value) {
        out->Add(
            Violation(Render(shape, v), path,
                      "Map value must satisfy constraint: " + all_constraints(*shape.element)));
      }
      return;
    }
  }
}

const Shape* FindOperation(std::string_view op) {
  for (const Operation& o : kOperations) {
    if (o.name == op) return o.input;
  }
  return nullptr;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

// ---------------------------------------------------------------------------

void Violations::Add(std::string violation) {
  if (items_.size() < kMaxValidationErrors) items_.push_back(std::move(violation));
}

std::optional<ApiError> Violations::ToError() const {
  if (items_.empty()) return std::nullopt;
  std::string msg =
      std::to_string(items_.size()) +
      (items_.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (size_t i = 0; i < items_.size(); ++i) {
    if (i > 0) msg += "; ";
    msg += items_[i];
  }
  return Validation(std::move(msg));
}

std::string NullViolation(std::string_view path) {
  return Violation(std::nullopt, path, "Member must not be null");
}

void CheckStreamName(std::string_view name, Violations* out, std::string_view path) {
  for (const std::string& c : StringConstraintsBroken(kDeliveryStreamName, name)) {
    out->Add(Violation(name, path, c));
  }
}

std::optional<ApiError> CheckStreamName(std::string_view name, std::string_view path) {
  Violations v;
  CheckStreamName(name, &v, path);
  return v.ToError();
}

std::string RecordDataPath(size_t index) {
  if (index == kNoRecordIndex) return "record.data";
  return "records." + std::to_string(index + 1) + ".member.data";
}

void AddRecordTooLarge(size_t index, size_t size, Violations* out) {
  out->Add(Violation(HeapByteBuffer(size), RecordDataPath(index), LengthMax(kData.max)));
}

ApiError RecordTooLarge(size_t index, size_t size) {
  Violations v;
  AddRecordTooLarge(index, size, &v);
  return *v.ToError();
}

ApiError RecordDataMissing(size_t index) {
  Violations v;
  v.Add(NullViolation(RecordDataPath(index)));
  return *v.ToError();
}

void AddTooManyRecords(std::span<const size_t> decoded_sizes, Violations* out) {
  std::string list = "[";
  for (size_t i = 0; i < decoded_sizes.size(); ++i) {
    if (i > 0) list += ", ";
    list += "Record(data=" + HeapByteBuffer(decoded_sizes[i]) + ")";
  }
  list += "]";
  out->Add(Violation(list, "records", LengthMax(kRecordList.max)));
}

ApiError TooManyRecords(std::span<const size_t> decoded_sizes) {
  Violations v;
  AddTooManyRecords(decoded_sizes, &v);
  return *v.ToError();
}

ApiError NoRecords() {
  Violations v;
  v.Add(Violation("[]", "records", LengthMin(kRecordList.min)));
  return *v.ToError();
}

ApiError BatchTooLarge(size_t /*total_decoded_bytes*/) {
  return InvalidArgument("Records size exceeds 4 MB limit");
}

std::optional<ApiError> CheckBase64(std::string_view s) {
  auto fail = [&](std::string_view why) {
    std::string msg = "'";
    msg += s;
    msg += "' can not be converted to a Blob: ";
    msg += why;
    return SerializationError(std::move(msg));
  };
  if (s.size() % 4 != 0) {
    return fail("Base64 encoded length is expected a multiple of 4 bytes but found: " +
                std::to_string(s.size()));
  }
  size_t first_pad = s.find('=');
  size_t data_end = first_pad == std::string_view::npos ? s.size() : first_pad;
  for (size_t i = 0; i < data_end; ++i) {
    if (Base64Value(s[i]) < 0) return fail(std::string("Invalid Base64 character: '") + s[i] + "'");
  }
  // Padding only at the end ("=" followed by anything but "=" is an invalid '='),
  // at most two characters.
  size_t pad = s.size() - data_end;
  if (s.find_first_not_of('=', data_end) != std::string_view::npos || pad > 2) {
    return fail("Invalid Base64 character: '='");
  }
  if (pad > 0) {
    // The last data character must not carry bits beyond the encoded bytes.
    int last = Base64Value(s[s.size() - pad - 1]);
    int mask = pad == 1 ? 0x3 : 0xF;
    if ((last & mask) != 0) return fail("Invalid last non-pad Base64 character dectected");
  }
  return std::nullopt;
}

std::optional<ApiError> CheckBase64Shape(std::string_view s) {
  if (s.size() % 4 != 0) return CheckBase64(s);
  size_t pad = 0;
  while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    int last = s.size() > pad ? Base64Value(s[s.size() - pad - 1]) : -1;
    int mask = pad == 1 ? 0x3 : 0xF;
    if (last < 0 || (last & mask) != 0) return CheckBase64(s);
  }
  return std::nullopt;
}

size_t Base64DecodedSize(std::string_view s) {
  size_t pad = 0;
  while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  return s.size() / 4 * 3 - pad;
}

bool MatchesTagKeyPattern(std::string_view s) { return MatchTagKey(s); }
bool MatchesTagValuePattern(std::string_view s) { return MatchTagChars(s); }

std::optional<ApiError> ValidateRequest(std::string_view op, const boost::json::object& input) {
  const Shape* shape = FindOperation(op);
  if (shape == nullptr) {
    return ApiError{"UnknownOperationException",
                    "Operation " + std::string(op) + " is not supported."};
  }
  if (auto err = CheckStructureTypes(*shape, input)) return err;
  Violations v;
  CheckStructure(*shape, input, "", &v);
  if (auto err = v.ToError()) return err;
  // The request-size rule AWS checks after the model's constraints.
  if (op == "PutRecordBatch") {
    size_t total = 0;
    for (const json::value& r : input.at("Records").get_array()) {
      if (!r.is_object()) continue;
      if (const json::value* d = r.get_object().if_contains("Data"); d && d->is_string()) {
        total += Base64DecodedSize(d->get_string());
      }
    }
    if (total > kMaxBatchBytes) return BatchTooLarge(total);
  }
  return std::nullopt;
}

std::optional<ApiError> ValidateRequest(std::string_view op, const boost::json::value& body) {
  if (body.is_object()) return ValidateRequest(op, body.get_object());
  if (body.is_array()) return SerializationError(std::string(kListNotExpected));
  return SerializationError("Request body must be a JSON object.");
}

}  // namespace hydrant::api
