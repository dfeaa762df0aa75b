// BuiltinInvoker: the Firehose Lambda blueprints, reimplemented from their
// published Python source (read, not copied) with Python 3 semantics. Every piece
// of Python behaviour the blueprints rely on has a small helper here, so that
// outputs and failures match the Python code: base64.b64decode (lenient),
// bytes.decode('utf-8') (strict, with CPython's messages), `re` with Unicode
// classes, json.dumps defaults, gzip.decompress / gzip.compress.
// docs/blueprints.md describes each blueprint and every known divergence.

#include "processing/blueprints.h"

#include <spdlog/spdlog.h>
#include <zlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <type_traits>
#include <utility>

#include "common/base64.h"

namespace hydrant::processing {
namespace {

namespace json = boost::json;

// What Firehose records for any function error (spec section 5).
constexpr std::string_view kFunctionErrorMessage =
    "The Lambda function was successfully invoked but it returned an error result.";
// Lambda's synchronous response limit, as its error message states it.
constexpr size_t kLambdaMaxResponseBytes = 6291556;
// The CloudWatch Logs processor's own budget (below Lambda's limit, for headroom).
constexpr size_t kCwlMaxResponseChars = 6000000;
constexpr size_t kCwlReingestBatch = 500;
constexpr int kCwlReingestAttempts = 20;

// ---------------------------------------------------------------------------
// Python exceptions: the type name and str(exception), as the Lambda Python
// runtime reports them in errorType / errorMessage.

struct PyError {
  std::string type;
  std::string message;
};

std::string PyTypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "NoneType";
    case json::kind::bool_:
      return "bool";
    case json::kind::int64:
    case json::kind::uint64:
      return "int";
    case json::kind::double_:
      return "float";
    case json::kind::string:
      return "str";
    case json::kind::array:
      return "list";
    case json::kind::object:
      return "dict";
  }
  return "object";
}

// v[key], as Python evaluates it on what json.loads produced.
const json::value* Subscript(const json::value& v, std::string_view key, PyError* err) {
  if (const json::object* o = v.if_object()) {
    auto it = o->find(key);
    if (it == o->end()) {
      *err = {"KeyError", "'" + std::string(key) + "'"};
      return nullptr;
    }
    return &it->value();
  }
  if (v.is_array()) {
    *err = {"TypeError", "list indices must be integers or slices, not str"};
  } else if (v.is_string()) {
    *err = {"TypeError", "string indices must be integers, not 'str'"};
  } else {
    *err = {"TypeError", "'" + PyTypeName(v) + "' object is not subscriptable"};
  }
  return nullptr;
}

// Number of code points of a valid UTF-8 string (Python's len of a str).
size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// `for x in v`: lists yield their items, dicts their keys, strs their
// characters; anything else raises. `fn` returns false to stop (an error).
template <typename Fn>
bool PyIterate(const json::value& v, PyError* err, Fn&& fn) {
  if (const json::array* a = v.if_array()) {
    for (const json::value& item : *a) {
      if (!fn(item)) return false;
    }
    return true;
  }
  if (const json::object* o = v.if_object()) {
    for (const auto& kv : *o) {
      if (!fn(json::value(kv.key()))) return false;
    }
    return true;
  }
  if (const json::string* s = v.if_string()) {
    const std::string_view sv(s->data(), s->size());
    for (size_t i = 0; i < sv.size();) {
      size_t len = 1;
      while (i + len < sv.size() && (static_cast<unsigned char>(sv[i + len]) & 0xC0) == 0x80) ++len;
      if (!fn(json::value(sv.substr(i, len)))) return false;
      i += len;
    }
    return true;
  }
  *err = {"TypeError", "'" + PyTypeName(v) + "' object is not iterable"};
  return false;
}

// ---------------------------------------------------------------------------
// base64.b64decode(s) without validate=True: characters outside the alphabet
// are skipped, decoding stops once a quantum's padding is complete, and a
// dangling quantum raises binascii.Error.

int B64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool PyB64Decode(const json::value& v, std::string* out, PyError* err) {
  const json::string* s = v.if_string();
  if (s == nullptr) {
    *err = {"TypeError",
            "argument should be a bytes-like object or ASCII string, not '" + PyTypeName(v) + "'"};
    return false;
  }
  // Fast path: canonical base64, which is what Firehose always sends.
  const std::string_view text(s->data(), s->size());
  if (text.size() % 4 == 0 && base64::DecodeInto(text, out) && base64::Encode(*out) == text) {
    return true;
  }
  for (unsigned char c : text) {
    if (c >= 0x80) {
      *err = {"ValueError", "string argument should contain only ASCII characters"};
      return false;
    }
  }
  out->clear();
  out->reserve(text.size() / 4 * 3 + 3);
  int quad_pos = 0;
  int pads = 0;
  unsigned left = 0;
  for (unsigned char c : text) {
    if (c == '=') {
      if (quad_pos >= 2 && quad_pos + ++pads >= 4) return true;  // the rest is ignored
      continue;
    }
    const int val = B64Value(c);
    if (val < 0) continue;
    pads = 0;
    switch (quad_pos) {
      case 0:
        left = val;
        quad_pos = 1;
        break;
      case 1:
        out->push_back(static_cast<char>((left << 2) | (val >> 4)));
        left = val & 0x0f;
        quad_pos = 2;
        break;
      case 2:
        out->push_back(static_cast<char>((left << 4) | (val >> 2)));
        left = val & 0x03;
        quad_pos = 3;
        break;
      default:
        out->push_back(static_cast<char>((left << 6) | val));
        left = 0;
        quad_pos = 0;
    }
  }
  if (quad_pos == 1) {
    *err = {"Error", "Invalid base64-encoded string: number of data characters (" +
                         std::to_string(out->size() / 3 * 4 + 1) +
                         ") cannot be 1 more than a multiple of 4"};
    return false;
  }
  if (quad_pos != 0) {
    *err = {"Error", "Incorrect padding"};
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// bytes.decode('utf-8'): strict UTF-8 (no surrogates, no overlongs, nothing
// above U+10FFFF) with CPython's error positions and reasons.

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

bool PyUtf8Check(std::string_view b, PyError* err) {
  const size_t n = b.size();
  auto fail = [&](size_t start, size_t end, const char* reason) {
    char buf[160];
    if (end - start == 1) {
      std::snprintf(buf, sizeof(buf), "'utf-8' codec can't decode byte 0x%02x in position %zu: %s",
                    static_cast<unsigned char>(b[start]), start, reason);
    } else {
      std::snprintf(buf, sizeof(buf), "'utf-8' codec can't decode bytes in position %zu-%zu: %s",
                    start, end - 1, reason);
    }
    *err = {"UnicodeDecodeError", buf};
    return false;
  };
  constexpr const char* kStart = "invalid start byte";
  constexpr const char* kCont = "invalid continuation byte";
  constexpr const char* kEnd = "unexpected end of data";
  size_t i = 0;
  while (i < n) {
    const unsigned char c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    const size_t left = n - i;
    if (c < 0xC2) return fail(i, i + 1, kStart);
    if (c < 0xE0) {
      if (left < 2) return fail(i, n, kEnd);
      if (!IsContinuation(b[i + 1])) return fail(i, i + 1, kCont);
      i += 2;
      continue;
    }
    if (c < 0xF0) {
      // E0 needs A0..BF next (no overlongs), ED needs 80..9F (no surrogates).
      auto bad2 = [&](unsigned char c2) {
        return !IsContinuation(c2) || (c2 < 0xA0 ? c == 0xE0 : c == 0xED);
      };
      if (left < 2) return fail(i, n, kEnd);
      if (bad2(b[i + 1])) return fail(i, i + 1, kCont);
      if (left < 3) return fail(i, n, kEnd);
      if (!IsContinuation(b[i + 2])) return fail(i, i + 2, kCont);
      i += 3;
      continue;
    }
    if (c < 0xF5) {
      // F0 needs 90..BF next (no overlongs), F4 needs 80..8F (<= U+10FFFF).
      auto bad2 = [&](unsigned char c2) {
        return !IsContinuation(c2) || (c2 < 0x90 ? c == 0xF0 : c == 0xF4);
      };
      if (left < 2) return fail(i, n, kEnd);
      if (bad2(b[i + 1])) return fail(i, i + 1, kCont);
      if (left < 3) return fail(i, n, kEnd);
      if (!IsContinuation(b[i + 2])) return fail(i, i + 2, kCont);
      if (left < 4) return fail(i, n, kEnd);
      if (!IsContinuation(b[i + 3])) return fail(i, i + 3, kCont);
      i += 4;
      continue;
    }
    return fail(i, i + 1, kStart);
  }
  return true;
}

// Decodes the code point starting at b[i] of valid UTF-8; *len gets its size.
char32_t DecodeAt(std::string_view b, size_t i, size_t* len) {
  const unsigned char c = b[i];
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  if (c < 0xE0) {
    *len = 2;
    return ((c & 0x1F) << 6) | (b[i + 1] & 0x3F);
  }
  if (c < 0xF0) {
    *len = 3;
    return ((c & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F);
  }
  *len = 4;
  return ((c & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) |
         (b[i + 3] & 0x3F);
}

size_t PrevStart(std::string_view b, size_t i) {
  do {
    --i;
  } while (i > 0 && IsContinuation(b[i]));
  return i;
}

// ---------------------------------------------------------------------------
// Python 3 `re` character classes for str patterns. \w is str.isalnum() or '_'
// and \s is str.isspace(); the table of non-ASCII \w ranges was generated from
// Python 3.11 (Unicode 14.0.0) by testing re.match(r'\w', chr(c)) for every
// code point.

struct CodeRange {
  char32_t lo, hi;
};
constexpr CodeRange kNonAsciiWord[] = {
    {0xAA, 0xAA},       {0xB2, 0xB3},       {0xB5, 0xB5},       {0xB9, 0xBA},
    {0xBC, 0xBE},       {0xC0, 0xD6},       {0xD8, 0xF6},       {0xF8, 0x2C1},
    {0x2C6, 0x2D1},     {0x2E0, 0x2E4},     {0x2EC, 0x2EC},     {0x2EE, 0x2EE},
    {0x370, 0x374},     {0x376, 0x377},     {0x37A, 0x37D},     {0x37F, 0x37F},
    {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},     {0x38E, 0x3A1},
    {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},     {0x531, 0x556},
    {0x559, 0x559},     {0x560, 0x588},     {0x5D0, 0x5EA},     {0x5EF, 0x5F2},
    {0x620, 0x64A},     {0x660, 0x669},     {0x66E, 0x66F},     {0x671, 0x6D3},
    {0x6D5, 0x6D5},     {0x6E5, 0x6E6},     {0x6EE, 0x6FC},     {0x6FF, 0x6FF},
    {0x710, 0x710},     {0x712, 0x72F},     {0x74D, 0x7A5},     {0x7B1, 0x7B1},
    {0x7C0, 0x7EA},     {0x7F4, 0x7F5},     {0x7FA, 0x7FA},     {0x800, 0x815},
    {0x81A, 0x81A},     {0x824, 0x824},     {0x828, 0x828},     {0x840, 0x858},
    {0x860, 0x86A},     {0x870, 0x887},     {0x889, 0x88E},     {0x8A0, 0x8C9},
    {0x904, 0x939},     {0x93D, 0x93D},     {0x950, 0x950},     {0x958, 0x961},
    {0x966, 0x96F},     {0x971, 0x980},     {0x985, 0x98C},     {0x98F, 0x990},
    {0x993, 0x9A8},     {0x9AA, 0x9B0},     {0x9B2, 0x9B2},     {0x9B6, 0x9B9},
    {0x9BD, 0x9BD},     {0x9CE, 0x9CE},     {0x9DC, 0x9DD},     {0x9DF, 0x9E1},
    {0x9E6, 0x9F1},     {0x9F4, 0x9F9},     {0x9FC, 0x9FC},     {0xA05, 0xA0A},
    {0xA0F, 0xA10},     {0xA13, 0xA28},     {0xA2A, 0xA30},     {0xA32, 0xA33},
    {0xA35, 0xA36},     {0xA38, 0xA39},     {0xA59, 0xA5C},     {0xA5E, 0xA5E},
    {0xA66, 0xA6F},     {0xA72, 0xA74},     {0xA85, 0xA8D},     {0xA8F, 0xA91},
    {0xA93, 0xAA8},     {0xAAA, 0xAB0},     {0xAB2, 0xAB3},     {0xAB5, 0xAB9},
    {0xABD, 0xABD},     {0xAD0, 0xAD0},     {0xAE0, 0xAE1},     {0xAE6, 0xAEF},
    {0xAF9, 0xAF9},     {0xB05, 0xB0C},     {0xB0F, 0xB10},     {0xB13, 0xB28},
    {0xB2A, 0xB30},     {0xB32, 0xB33},     {0xB35, 0xB39},     {0xB3D, 0xB3D},
    {0xB5C, 0xB5D},     {0xB5F, 0xB61},     {0xB66, 0xB6F},     {0xB71, 0xB77},
    {0xB83, 0xB83},     {0xB85, 0xB8A},     {0xB8E, 0xB90},     {0xB92, 0xB95},
    {0xB99, 0xB9A},     {0xB9C, 0xB9C},     {0xB9E, 0xB9F},     {0xBA3, 0xBA4},
    {0xBA8, 0xBAA},     {0xBAE, 0xBB9},     {0xBD0, 0xBD0},     {0xBE6, 0xBF2},
    {0xC05, 0xC0C},     {0xC0E, 0xC10},     {0xC12, 0xC28},     {0xC2A, 0xC39},
    {0xC3D, 0xC3D},     {0xC58, 0xC5A},     {0xC5D, 0xC5D},     {0xC60, 0xC61},
    {0xC66, 0xC6F},     {0xC78, 0xC7E},     {0xC80, 0xC80},     {0xC85, 0xC8C},
    {0xC8E, 0xC90},     {0xC92, 0xCA8},     {0xCAA, 0xCB3},     {0xCB5, 0xCB9},
    {0xCBD, 0xCBD},     {0xCDD, 0xCDE},     {0xCE0, 0xCE1},     {0xCE6, 0xCEF},
    {0xCF1, 0xCF2},     {0xD04, 0xD0C},     {0xD0E, 0xD10},     {0xD12, 0xD3A},
    {0xD3D, 0xD3D},     {0xD4E, 0xD4E},     {0xD54, 0xD56},     {0xD58, 0xD61},
    {0xD66, 0xD78},     {0xD7A, 0xD7F},     {0xD85, 0xD96},     {0xD9A, 0xDB1},
    {0xDB3, 0xDBB},     {0xDBD, 0xDBD},     {0xDC0, 0xDC6},     {0xDE6, 0xDEF},
    {0xE01, 0xE30},     {0xE32, 0xE33},     {0xE40, 0xE46},     {0xE50, 0xE59},
    {0xE81, 0xE82},     {0xE84, 0xE84},     {0xE86, 0xE8A},     {0xE8C, 0xEA3},
    {0xEA5, 0xEA5},     {0xEA7, 0xEB0},     {0xEB2, 0xEB3},     {0xEBD, 0xEBD},
    {0xEC0, 0xEC4},     {0xEC6, 0xEC6},     {0xED0, 0xED9},     {0xEDC, 0xEDF},
    {0xF00, 0xF00},     {0xF20, 0xF33},     {0xF40, 0xF47},     {0xF49, 0xF6C},
    {0xF88, 0xF8C},     {0x1000, 0x102A},   {0x103F, 0x1049},   {0x1050, 0x1055},
    {0x105A, 0x105D},   {0x1061, 0x1061},   {0x1065, 0x1066},   {0x106E, 0x1070},
    {0x1075, 0x1081},   {0x108E, 0x108E},   {0x1090, 0x1099},   {0x10A0, 0x10C5},
    {0x10C7, 0x10C7},   {0x10CD, 0x10CD},   {0x10D0, 0x10FA},   {0x10FC, 0x1248},
    {0x124A, 0x124D},   {0x1250, 0x1256},   {0x1258, 0x1258},   {0x125A, 0x125D},
    {0x1260, 0x1288},   {0x128A, 0x128D},   {0x1290, 0x12B0},   {0x12B2, 0x12B5},
    {0x12B8, 0x12BE},   {0x12C0, 0x12C0},   {0x12C2, 0x12C5},   {0x12C8, 0x12D6},
    {0x12D8, 0x1310},   {0x1312, 0x1315},   {0x1318, 0x135A},   {0x1369, 0x137C},
    {0x1380, 0x138F},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},   {0x1401, 0x166C},
    {0x166F, 0x167F},   {0x1681, 0x169A},   {0x16A0, 0x16EA},   {0x16EE, 0x16F8},
    {0x1700, 0x1711},   {0x171F, 0x1731},   {0x1740, 0x1751},   {0x1760, 0x176C},
    {0x176E, 0x1770},   {0x1780, 0x17B3},   {0x17D7, 0x17D7},   {0x17DC, 0x17DC},
    {0x17E0, 0x17E9},   {0x17F0, 0x17F9},   {0x1810, 0x1819},   {0x1820, 0x1878},
    {0x1880, 0x1884},   {0x1887, 0x18A8},   {0x18AA, 0x18AA},   {0x18B0, 0x18F5},
    {0x1900, 0x191E},   {0x1946, 0x196D},   {0x1970, 0x1974},   {0x1980, 0x19AB},
    {0x19B0, 0x19C9},   {0x19D0, 0x19DA},   {0x1A00, 0x1A16},   {0x1A20, 0x1A54},
    {0x1A80, 0x1A89},   {0x1A90, 0x1A99},   {0x1AA7, 0x1AA7},   {0x1B05, 0x1B33},
    {0x1B45, 0x1B4C},   {0x1B50, 0x1B59},   {0x1B83, 0x1BA0},   {0x1BAE, 0x1BE5},
    {0x1C00, 0x1C23},   {0x1C40, 0x1C49},   {0x1C4D, 0x1C7D},   {0x1C80, 0x1C88},
    {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},   {0x1CE9, 0x1CEC},   {0x1CEE, 0x1CF3},
    {0x1CF5, 0x1CF6},   {0x1CFA, 0x1CFA},   {0x1D00, 0x1DBF},   {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},   {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},
    {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},   {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},
    {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},   {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},
    {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},   {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},   {0x2070, 0x2071},   {0x2074, 0x2079},
    {0x207F, 0x2089},   {0x2090, 0x209C},   {0x2102, 0x2102},   {0x2107, 0x2107},
    {0x210A, 0x2113},   {0x2115, 0x2115},   {0x2119, 0x211D},   {0x2124, 0x2124},
    {0x2126, 0x2126},   {0x2128, 0x2128},   {0x212A, 0x212D},   {0x212F, 0x2139},
    {0x213C, 0x213F},   {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2150, 0x2189},
    {0x2460, 0x249B},   {0x24EA, 0x24FF},   {0x2776, 0x2793},   {0x2C00, 0x2CE4},
    {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0x2CFD, 0x2CFD},   {0x2D00, 0x2D25},
    {0x2D27, 0x2D27},   {0x2D2D, 0x2D2D},   {0x2D30, 0x2D67},   {0x2D6F, 0x2D6F},
    {0x2D80, 0x2D96},   {0x2DA0, 0x2DA6},   {0x2DA8, 0x2DAE},   {0x2DB0, 0x2DB6},
    {0x2DB8, 0x2DBE},   {0x2DC0, 0x2DC6},   {0x2DC8, 0x2DCE},   {0x2DD0, 0x2DD6},
    {0x2DD8, 0x2DDE},   {0x2E2F, 0x2E2F},   {0x3005, 0x3007},   {0x3021, 0x3029},
    {0x3031, 0x3035},   {0x3038, 0x303C},   {0x3041, 0x3096},   {0x309D, 0x309F},
    {0x30A1, 0x30FA},   {0x30FC, 0x30FF},   {0x3105, 0x312F},   {0x3131, 0x318E},
    {0x3192, 0x3195},   {0x31A0, 0x31BF},   {0x31F0, 0x31FF},   {0x3220, 0x3229},
    {0x3248, 0x324F},   {0x3251, 0x325F},   {0x3280, 0x3289},   {0x32B1, 0x32BF},
    {0x3400, 0x4DBF},   {0x4E00, 0xA48C},   {0xA4D0, 0xA4FD},   {0xA500, 0xA60C},
    {0xA610, 0xA62B},   {0xA640, 0xA66E},   {0xA67F, 0xA69D},   {0xA6A0, 0xA6EF},
    {0xA717, 0xA71F},   {0xA722, 0xA788},   {0xA78B, 0xA7CA},   {0xA7D0, 0xA7D1},
    {0xA7D3, 0xA7D3},   {0xA7D5, 0xA7D9},   {0xA7F2, 0xA801},   {0xA803, 0xA805},
    {0xA807, 0xA80A},   {0xA80C, 0xA822},   {0xA830, 0xA835},   {0xA840, 0xA873},
    {0xA882, 0xA8B3},   {0xA8D0, 0xA8D9},   {0xA8F2, 0xA8F7},   {0xA8FB, 0xA8FB},
    {0xA8FD, 0xA8FE},   {0xA900, 0xA925},   {0xA930, 0xA946},   {0xA960, 0xA97C},
    {0xA984, 0xA9B2},   {0xA9CF, 0xA9D9},   {0xA9E0, 0xA9E4},   {0xA9E6, 0xA9FE},
    {0xAA00, 0xAA28},   {0xAA40, 0xAA42},   {0xAA44, 0xAA4B},   {0xAA50, 0xAA59},
    {0xAA60, 0xAA76},   {0xAA7A, 0xAA7A},   {0xAA7E, 0xAAAF},   {0xAAB1, 0xAAB1},
    {0xAAB5, 0xAAB6},   {0xAAB9, 0xAABD},   {0xAAC0, 0xAAC0},   {0xAAC2, 0xAAC2},
    {0xAADB, 0xAADD},   {0xAAE0, 0xAAEA},   {0xAAF2, 0xAAF4},   {0xAB01, 0xAB06},
    {0xAB09, 0xAB0E},   {0xAB11, 0xAB16},   {0xAB20, 0xAB26},   {0xAB28, 0xAB2E},
    {0xAB30, 0xAB5A},   {0xAB5C, 0xAB69},   {0xAB70, 0xABE2},   {0xABF0, 0xABF9},
    {0xAC00, 0xD7A3},   {0xD7B0, 0xD7C6},   {0xD7CB, 0xD7FB},   {0xF900, 0xFA6D},
    {0xFA70, 0xFAD9},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFB1D, 0xFB1D},
    {0xFB1F, 0xFB28},   {0xFB2A, 0xFB36},   {0xFB38, 0xFB3C},   {0xFB3E, 0xFB3E},
    {0xFB40, 0xFB41},   {0xFB43, 0xFB44},   {0xFB46, 0xFBB1},   {0xFBD3, 0xFD3D},
    {0xFD50, 0xFD8F},   {0xFD92, 0xFDC7},   {0xFDF0, 0xFDFB},   {0xFE70, 0xFE74},
    {0xFE76, 0xFEFC},   {0xFF10, 0xFF19},   {0xFF21, 0xFF3A},   {0xFF41, 0xFF5A},
    {0xFF66, 0xFFBE},   {0xFFC2, 0xFFC7},   {0xFFCA, 0xFFCF},   {0xFFD2, 0xFFD7},
    {0xFFDA, 0xFFDC},   {0x10000, 0x1000B}, {0x1000D, 0x10026}, {0x10028, 0x1003A},
    {0x1003C, 0x1003D}, {0x1003F, 0x1004D}, {0x10050, 0x1005D}, {0x10080, 0x100FA},
    {0x10107, 0x10133}, {0x10140, 0x10178}, {0x1018A, 0x1018B}, {0x10280, 0x1029C},
    {0x102A0, 0x102D0}, {0x102E1, 0x102FB}, {0x10300, 0x10323}, {0x1032D, 0x1034A},
    {0x10350, 0x10375}, {0x10380, 0x1039D}, {0x103A0, 0x103C3}, {0x103C8, 0x103CF},
    {0x103D1, 0x103D5}, {0x10400, 0x1049D}, {0x104A0, 0x104A9}, {0x104B0, 0x104D3},
    {0x104D8, 0x104FB}, {0x10500, 0x10527}, {0x10530, 0x10563}, {0x10570, 0x1057A},
    {0x1057C, 0x1058A}, {0x1058C, 0x10592}, {0x10594, 0x10595}, {0x10597, 0x105A1},
    {0x105A3, 0x105B1}, {0x105B3, 0x105B9}, {0x105BB, 0x105BC}, {0x10600, 0x10736},
    {0x10740, 0x10755}, {0x10760, 0x10767}, {0x10780, 0x10785}, {0x10787, 0x107B0},
    {0x107B2, 0x107BA}, {0x10800, 0x10805}, {0x10808, 0x10808}, {0x1080A, 0x10835},
    {0x10837, 0x10838}, {0x1083C, 0x1083C}, {0x1083F, 0x10855}, {0x10858, 0x10876},
    {0x10879, 0x1089E}, {0x108A7, 0x108AF}, {0x108E0, 0x108F2}, {0x108F4, 0x108F5},
    {0x108FB, 0x1091B}, {0x10920, 0x10939}, {0x10980, 0x109B7}, {0x109BC, 0x109CF},
    {0x109D2, 0x10A00}, {0x10A10, 0x10A13}, {0x10A15, 0x10A17}, {0x10A19, 0x10A35},
    {0x10A40, 0x10A48}, {0x10A60, 0x10A7E}, {0x10A80, 0x10A9F}, {0x10AC0, 0x10AC7},
    {0x10AC9, 0x10AE4}, {0x10AEB, 0x10AEF}, {0x10B00, 0x10B35}, {0x10B40, 0x10B55},
    {0x10B58, 0x10B72}, {0x10B78, 0x10B91}, {0x10BA9, 0x10BAF}, {0x10C00, 0x10C48},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x10CFA, 0x10D23}, {0x10D30, 0x10D39},
    {0x10E60, 0x10E7E}, {0x10E80, 0x10EA9}, {0x10EB0, 0x10EB1}, {0x10F00, 0x10F27},
    {0x10F30, 0x10F45}, {0x10F51, 0x10F54}, {0x10F70, 0x10F81}, {0x10FB0, 0x10FCB},
    {0x10FE0, 0x10FF6}, {0x11003, 0x11037}, {0x11052, 0x1106F}, {0x11071, 0x11072},
    {0x11075, 0x11075}, {0x11083, 0x110AF}, {0x110D0, 0x110E8}, {0x110F0, 0x110F9},
    {0x11103, 0x11126}, {0x11136, 0x1113F}, {0x11144, 0x11144}, {0x11147, 0x11147},
    {0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111B2}, {0x111C1, 0x111C4},
    {0x111D0, 0x111DA}, {0x111DC, 0x111DC}, {0x111E1, 0x111F4}, {0x11200, 0x11211},
    {0x11213, 0x1122B}, {0x11280, 0x11286}, {0x11288, 0x11288}, {0x1128A, 0x1128D},
    {0x1128F, 0x1129D}, {0x1129F, 0x112A8}, {0x112B0, 0x112DE}, {0x112F0, 0x112F9},
    {0x11305, 0x1130C}, {0x1130F, 0x11310}, {0x11313, 0x11328}, {0x1132A, 0x11330},
    {0x11332, 0x11333}, {0x11335, 0x11339}, {0x1133D, 0x1133D}, {0x11350, 0x11350},
    {0x1135D, 0x11361}, {0x11400, 0x11434}, {0x11447, 0x1144A}, {0x11450, 0x11459},
    {0x1145F, 0x11461}, {0x11480, 0x114AF}, {0x114C4, 0x114C5}, {0x114C7, 0x114C7},
    {0x114D0, 0x114D9}, {0x11580, 0x115AE}, {0x115D8, 0x115DB}, {0x11600, 0x1162F},
    {0x11644, 0x11644}, {0x11650, 0x11659}, {0x11680, 0x116AA}, {0x116B8, 0x116B8},
    {0x116C0, 0x116C9}, {0x11700, 0x1171A}, {0x11730, 0x1173B}, {0x11740, 0x11746},
    {0x11800, 0x1182B}, {0x118A0, 0x118F2}, {0x118FF, 0x11906}, {0x11909, 0x11909},
    {0x1190C, 0x11913}, {0x11915, 0x11916}, {0x11918, 0x1192F}, {0x1193F, 0x1193F},
    {0x11941, 0x11941}, {0x11950, 0x11959}, {0x119A0, 0x119A7}, {0x119AA, 0x119D0},
    {0x119E1, 0x119E1}, {0x119E3, 0x119E3}, {0x11A00, 0x11A00}, {0x11A0B, 0x11A32},
    {0x11A3A, 0x11A3A}, {0x11A50, 0x11A50}, {0x11A5C, 0x11A89}, {0x11A9D, 0x11A9D},
    {0x11AB0, 0x11AF8}, {0x11C00, 0x11C08}, {0x11C0A, 0x11C2E}, {0x11C40, 0x11C40},
    {0x11C50, 0x11C6C}, {0x11C72, 0x11C8F}, {0x11D00, 0x11D06}, {0x11D08, 0x11D09},
    {0x11D0B, 0x11D30}, {0x11D46, 0x11D46}, {0x11D50, 0x11D59}, {0x11D60, 0x11D65},
    {0x11D67, 0x11D68}, {0x11D6A, 0x11D89}, {0x11D98, 0x11D98}, {0x11DA0, 0x11DA9},
    {0x11EE0, 0x11EF2}, {0x11FB0, 0x11FB0}, {0x11FC0, 0x11FD4}, {0x12000, 0x12399},
    {0x12400, 0x1246E}, {0x12480, 0x12543}, {0x12F90, 0x12FF0}, {0x13000, 0x1342E},
    {0x14400, 0x14646}, {0x16800, 0x16A38}, {0x16A40, 0x16A5E}, {0x16A60, 0x16A69},
    {0x16A70, 0x16ABE}, {0x16AC0, 0x16AC9}, {0x16AD0, 0x16AED}, {0x16B00, 0x16B2F},
    {0x16B40, 0x16B43}, {0x16B50, 0x16B59}, {0x16B5B, 0x16B61}, {0x16B63, 0x16B77},
    {0x16B7D, 0x16B8F}, {0x16E40, 0x16E96}, {0x16F00, 0x16F4A}, {0x16F50, 0x16F50},
    {0x16F93, 0x16F9F}, {0x16FE0, 0x16FE1}, {0x16FE3, 0x16FE3}, {0x17000, 0x187F7},
    {0x18800, 0x18CD5}, {0x18D00, 0x18D08}, {0x1AFF0, 0x1AFF3}, {0x1AFF5, 0x1AFFB},
    {0x1AFFD, 0x1AFFE}, {0x1B000, 0x1B122}, {0x1B150, 0x1B152}, {0x1B164, 0x1B167},
    {0x1B170, 0x1B2FB}, {0x1BC00, 0x1BC6A}, {0x1BC70, 0x1BC7C}, {0x1BC80, 0x1BC88},
    {0x1BC90, 0x1BC99}, {0x1D2E0, 0x1D2F3}, {0x1D360, 0x1D378}, {0x1D400, 0x1D454},
    {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F}, {0x1D4A2, 0x1D4A2}, {0x1D4A5, 0x1D4A6},
    {0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9}, {0x1D4BB, 0x1D4BB}, {0x1D4BD, 0x1D4C3},
    {0x1D4C5, 0x1D505}, {0x1D507, 0x1D50A}, {0x1D50D, 0x1D514}, {0x1D516, 0x1D51C},
    {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E}, {0x1D540, 0x1D544}, {0x1D546, 0x1D546},
    {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A5}, {0x1D6A8, 0x1D6C0}, {0x1D6C2, 0x1D6DA},
    {0x1D6DC, 0x1D6FA}, {0x1D6FC, 0x1D714}, {0x1D716, 0x1D734}, {0x1D736, 0x1D74E},
    {0x1D750, 0x1D76E}, {0x1D770, 0x1D788}, {0x1D78A, 0x1D7A8}, {0x1D7AA, 0x1D7C2},
    {0x1D7C4, 0x1D7CB}, {0x1D7CE, 0x1D7FF}, {0x1DF00, 0x1DF1E}, {0x1E100, 0x1E12C},
    {0x1E137, 0x1E13D}, {0x1E140, 0x1E149}, {0x1E14E, 0x1E14E}, {0x1E290, 0x1E2AD},
    {0x1E2C0, 0x1E2EB}, {0x1E2F0, 0x1E2F9}, {0x1E7E0, 0x1E7E6}, {0x1E7E8, 0x1E7EB},
    {0x1E7ED, 0x1E7EE}, {0x1E7F0, 0x1E7FE}, {0x1E800, 0x1E8C4}, {0x1E8C7, 0x1E8CF},
    {0x1E900, 0x1E943}, {0x1E94B, 0x1E94B}, {0x1E950, 0x1E959}, {0x1EC71, 0x1ECAB},
    {0x1ECAD, 0x1ECAF}, {0x1ECB1, 0x1ECB4}, {0x1ED01, 0x1ED2D}, {0x1ED2F, 0x1ED3D},
    {0x1EE00, 0x1EE03}, {0x1EE05, 0x1EE1F}, {0x1EE21, 0x1EE22}, {0x1EE24, 0x1EE24},
    {0x1EE27, 0x1EE27}, {0x1EE29, 0x1EE32}, {0x1EE34, 0x1EE37}, {0x1EE39, 0x1EE39},
    {0x1EE3B, 0x1EE3B}, {0x1EE42, 0x1EE42}, {0x1EE47, 0x1EE47}, {0x1EE49, 0x1EE49},
    {0x1EE4B, 0x1EE4B}, {0x1EE4D, 0x1EE4F}, {0x1EE51, 0x1EE52}, {0x1EE54, 0x1EE54},
    {0x1EE57, 0x1EE57}, {0x1EE59, 0x1EE59}, {0x1EE5B, 0x1EE5B}, {0x1EE5D, 0x1EE5D},
    {0x1EE5F, 0x1EE5F}, {0x1EE61, 0x1EE62}, {0x1EE64, 0x1EE64}, {0x1EE67, 0x1EE6A},
    {0x1EE6C, 0x1EE72}, {0x1EE74, 0x1EE77}, {0x1EE79, 0x1EE7C}, {0x1EE7E, 0x1EE7E},
    {0x1EE80, 0x1EE89}, {0x1EE8B, 0x1EE9B}, {0x1EEA1, 0x1EEA3}, {0x1EEA5, 0x1EEA9},
    {0x1EEAB, 0x1EEBB}, {0x1F100, 0x1F10C}, {0x1FBF0, 0x1FBF9}, {0x20000, 0x2A6DF},
    {0x2A700, 0x2B738}, {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0},
    {0x2F800, 0x2FA1D}, {0x30000, 0x3134A},
};

bool IsPyWord(char32_t c) {
  if (c < 0x80) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  auto it = std::upper_bound(std::begin(kNonAsciiWord), std::end(kNonAsciiWord), c,
                             [](char32_t v, const CodeRange& r) { return v < r.lo; });
  if (it == std::begin(kNonAsciiWord)) return false;
  --it;
  return c <= it->hi;
}

bool IsPySpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// ---------------------------------------------------------------------------
// A backtracking matcher for the syslog pattern. The pattern is written below as
// a tree mirroring the regex token by token; matching explores alternatives and
// repetition counts in the order Python's engine does (greedy, left alternative
// first), so the first success yields the same groups as re.match. Repetitions
// only repeat single-character classes and are iterative, so long messages do
// not deepen the recursion.

template <typename Sig>
class FnRef;
template <typename R, typename... A>
class FnRef<R(A...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FnRef>>>
  FnRef(F&& f)  // NOLINT: implicit by design, like std::function
      : obj_(const_cast<void*>(static_cast<const void*>(&f))), call_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

using CharPred = bool (*)(char32_t);

struct Node {
  enum class Kind {
    kLiteral,
    kRepeat,
    kSequence,
    kAlternation,
    kGroup,
    kWordBoundary,
    kPriority,  // (?:<(?:[0-9]+).(?:[0-9]+)> )?, see Matcher::PriorityEnd
  };
  Kind kind = Kind::kSequence;
  std::string literal;      // kLiteral (ASCII)
  CharPred pred = nullptr;  // kRepeat: one code point matching pred ...
  size_t min = 0, max = 0;  // ... repeated min..max times (max 0 = unbounded)
  int group = 0;            // kGroup
  std::vector<Node> children;
};

Node Lit(std::string s) {
  Node n;
  n.kind = Node::Kind::kLiteral;
  n.literal = std::move(s);
  return n;
}
Node Rep(CharPred pred, size_t min = 1, size_t max = 1) {
  Node n;
  n.kind = Node::Kind::kRepeat;
  n.pred = pred;
  n.min = min;
  n.max = max;
  return n;
}
Node Plus(CharPred pred) { return Rep(pred, 1, 0); }
Node Star(CharPred pred) { return Rep(pred, 0, 0); }
Node Seq(std::vector<Node> children) {
  Node n;
  n.kind = Node::Kind::kSequence;
  n.children = std::move(children);
  return n;
}
Node Alt(std::vector<Node> children) {
  Node n;
  n.kind = Node::Kind::kAlternation;
  n.children = std::move(children);
  return n;
}
Node Opt(Node child) { return Alt({std::move(child), Seq({})}); }  // greedy '?'
Node Group(int index, Node child) {
  Node n;
  n.kind = Node::Kind::kGroup;
  n.group = index;
  n.children.push_back(std::move(child));
  return n;
}
Node WordBoundary() {
  Node n;
  n.kind = Node::Kind::kWordBoundary;
  return n;
}
Node Priority() {
  Node n;
  n.kind = Node::Kind::kPriority;
  return n;
}

bool Digit(char32_t c) { return c >= '0' && c <= '9'; }
bool Digit1To9(char32_t c) { return c >= '1' && c <= '9'; }
bool Digit0To5(char32_t c) { return c >= '0' && c <= '5'; }
bool Digit0To3(char32_t c) { return c >= '0' && c <= '3'; }
bool Digit0Or1(char32_t c) { return c == '0' || c == '1'; }
bool Digit1Or2(char32_t c) { return c == '1' || c == '2'; }
bool NotNewline(char32_t c) { return c != '\n'; }
bool SecondsSeparator(char32_t c) { return c == ':' || c == '.' || c == ','; }
bool HostnameChar(char32_t c) {  // [a-zA-Z0-9._-]
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || Digit(c) || c == '.' || c == '_' ||
         c == '-';
}
bool ProgramChar(char32_t c) {  // [\w\._/%-]
  return IsPyWord(c) || c == '.' || c == '_' || c == '/' || c == '%' || c == '-';
}

// The blueprint's pattern (spec section 7), token by token:
// ^((?:\b(?:Jan(?:uary)?|...|Dec(?:ember)?)\b\s+(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])\s+
//  (?:(?:2[0123]|[01]?[0-9]):(?:[0-5][0-9]):(?:(?:[0-5]?[0-9]|60)(?:[:\.,][0-9]+)?))))
//  (?:<(?:[0-9]+).(?:[0-9]+)> )?((?:[a-zA-Z0-9._-]+)) ([\w\._/%-]+)(?:\[((?:[1-9][0-9]*))\])?: (.*)
const Node& SyslogPattern() {
  static const Node pattern = [] {
    auto month = [](const char* abbr, const char* rest) {
      return Seq({Lit(abbr), Opt(Lit(rest))});
    };
    Node months = Alt({month("Jan", "uary"), month("Feb", "ruary"), month("Mar", "ch"),
                       month("Apr", "il"), Lit("May"), month("Jun", "e"), month("Jul", "y"),
                       month("Aug", "ust"), month("Sep", "tember"), month("Oct", "ober"),
                       month("Nov", "ember"), month("Dec", "ember")});
    Node day = Alt({Seq({Lit("0"), Rep(Digit1To9)}), Seq({Rep(Digit1Or2), Rep(Digit)}),
                    Seq({Lit("3"), Rep(Digit0Or1)}), Rep(Digit1To9)});
    Node hour = Alt({Seq({Lit("2"), Rep(Digit0To3)}), Seq({Rep(Digit0Or1, 0, 1), Rep(Digit)})});
    Node minute = Seq({Rep(Digit0To5), Rep(Digit)});
    Node second = Seq({Alt({Seq({Rep(Digit0To5, 0, 1), Rep(Digit)}), Lit("60")}),
                       Opt(Seq({Rep(SecondsSeparator), Plus(Digit)}))});
    Node timestamp =
        Group(1, Seq({WordBoundary(), std::move(months), WordBoundary(), Plus(IsPySpace),
                      std::move(day), Plus(IsPySpace), std::move(hour), Lit(":"), std::move(minute),
                      Lit(":"), std::move(second)}));
    // Equivalent to Opt(Seq({Lit("<"), Plus(Digit), Rep(NotNewline), Plus(Digit), Lit("> ")})),
    // which backtracking explores in quadratic time on a long run of digits.
    Node priority = Priority();
    Node pid = Opt(Seq({Lit("["), Group(4, Seq({Rep(Digit1To9), Star(Digit)})), Lit("]")}));
    return Seq({std::move(timestamp), Lit(" "), std::move(priority), Group(2, Plus(HostnameChar)),
                Lit(" "), Group(3, Plus(ProgramChar)), std::move(pid), Lit(": "),
                Group(5, Star(NotNewline))});
  }();
  return pattern;
}

class Matcher {
 public:
  struct Span {
    size_t begin = std::string_view::npos, end = std::string_view::npos;
    bool set() const { return begin != std::string_view::npos; }
  };
  using Cont = FnRef<bool(size_t)>;

  explicit Matcher(std::string_view s) : s_(s) {}

  bool Match(const Node& n, size_t pos, Cont k) {
    switch (n.kind) {
      case Node::Kind::kLiteral:
        if (s_.substr(pos).starts_with(n.literal)) return k(pos + n.literal.size());
        return false;
      case Node::Kind::kRepeat:
        return MatchRepeat(n, pos, k);
      case Node::Kind::kSequence:
        return MatchSequence(n, 0, pos, k);
      case Node::Kind::kAlternation:
        for (const Node& child : n.children) {
          if (Match(child, pos, k)) return true;
        }
        return false;
      case Node::Kind::kGroup: {
        auto close = [&](size_t end) {
          const Span saved = groups_[n.group];
          groups_[n.group] = {pos, end};
          if (k(end)) return true;
          groups_[n.group] = saved;
          return false;
        };
        return Match(n.children[0], pos, close);
      }
      case Node::Kind::kWordBoundary: {
        size_t len;
        const bool before = pos > 0 && IsPyWord(DecodeAt(s_, PrevStart(s_, pos), &len));
        const bool after = pos < s_.size() && IsPyWord(DecodeAt(s_, pos, &len));
        return before != after && k(pos);
      }
      case Node::Kind::kPriority: {
        size_t end;
        if (PriorityEnd(pos, &end) && k(end)) return true;
        return k(pos);  // the group is optional
      }
    }
    return false;
  }

  const Span& group(int i) const { return groups_[i]; }

 private:
  bool MatchSequence(const Node& n, size_t i, size_t pos, Cont k) {
    if (i == n.children.size()) return k(pos);
    auto next = [&](size_t p) { return MatchSequence(n, i + 1, p, k); };
    return Match(n.children[i], pos, next);
  }

  // Greedy: take as many code points as allowed, then give back one at a time.
  bool MatchRepeat(const Node& n, size_t pos, Cont k) {
    size_t count = 0;
    size_t p = pos;
    while (p < s_.size() && (n.max == 0 || count < n.max)) {
      size_t len;
      if (!n.pred(DecodeAt(s_, p, &len))) break;
      p += len;
      ++count;
    }
    while (true) {
      if (count < n.min) return false;
      if (k(p)) return true;
      if (count == 0) return false;
      p = PrevStart(s_, p);
      --count;
    }
  }

  // Where `<[0-9]+.[0-9]+> ` starting at pos ends, if it matches. At most one
  // end exists: the text between '<' and "> " has at most one non-digit, and a
  // longer candidate would contain both the '>' and the ' ' of a shorter one.
  // So the group matches either with '.' on the first non-digit after the
  // leading digits (then digits, then "> "), or with '.' on a digit of a run of
  // three or more digits followed by "> ".
  bool PriorityEnd(size_t pos, size_t* end) const {
    const size_t n = s_.size();
    if (pos >= n || s_[pos] != '<') return false;
    const size_t first = pos + 1;
    size_t run_end = first;
    while (run_end < n && Digit(static_cast<unsigned char>(s_[run_end]))) ++run_end;
    if (run_end == first) return false;
    if (run_end < n && s_[run_end] != '\n') {
      size_t len;
      DecodeAt(s_, run_end, &len);
      const size_t second = run_end + len;
      size_t second_end = second;
      while (second_end < n && Digit(static_cast<unsigned char>(s_[second_end]))) ++second_end;
      if (second_end > second && s_.substr(second_end).starts_with("> ")) {
        *end = second_end + 2;
        return true;
      }
    }
    if (run_end - first >= 3 && s_.substr(run_end).starts_with("> ")) {
      *end = run_end + 2;
      return true;
    }
    return false;
  }

  std::string_view s_;
  Span groups_[6];
};

// ---------------------------------------------------------------------------
// json.dumps with its defaults: ensure_ascii=True, separators ", " and ": ",
// dicts in insertion order, floats as repr().

void AppendPyJsonString(std::string_view utf8, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto u_escape = [&](unsigned v) {
    out->append("\\u");
    for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(v >> shift) & 0xF]);
  };
  out->push_back('"');
  for (size_t i = 0; i < utf8.size();) {
    size_t len;
    const char32_t c = DecodeAt(utf8, i, &len);
    i += len;
    switch (c) {
      case '"':
        out->append("\\\"");
        continue;
      case '\\':
        out->append("\\\\");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\b':
        out->append("\\b");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      default:
        break;
    }
    if (c >= 0x20 && c <= 0x7E) {
      out->push_back(static_cast<char>(c));
    } else if (c < 0x10000) {
      u_escape(c);
    } else {
      const char32_t v = c - 0x10000;
      u_escape(0xD800 | (v >> 10));
      u_escape(0xDC00 | (v & 0x3FF));
    }
  }
  out->push_back('"');
}

// repr(float): the shortest round-trip digits, positional when the decimal
// exponent is in [-4, 16), scientific ("1e+16", "1.5e-05") otherwise.
std::string PyFloatRepr(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int exp = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  const int decpt = exp + 1;  // value = 0.DIGITS * 10^decpt
  const int ndigits = static_cast<int>(digits.size());
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(-decpt, '0') + digits;
    } else if (decpt >= ndigits) {
      out += digits + std::string(decpt - ndigits, '0') + ".0";
    } else {
      out += digits.substr(0, decpt) + "." + digits.substr(decpt);
    }
    return out;
  }
  out.push_back(digits[0]);
  if (ndigits > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  out += exp_buf;
  return out;
}

void AppendPyJsonValue(const json::value& v, std::string* out) {
  switch (v.kind()) {
    case json::kind::null:
      out->append("null");
      return;
    case json::kind::bool_:
      out->append(v.get_bool() ? "true" : "false");
      return;
    case json::kind::int64:
      out->append(std::to_string(v.get_int64()));
      return;
    case json::kind::uint64:
      out->append(std::to_string(v.get_uint64()));
      return;
    case json::kind::double_:
      out->append(PyFloatRepr(v.get_double()));
      return;
    case json::kind::string:
      AppendPyJsonString(std::string_view(v.get_string().data(), v.get_string().size()), out);
      return;
    case json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const json::value& item : v.get_array()) {
        if (!first) out->append(", ");
        first = false;
        AppendPyJsonValue(item, out);
      }
      out->push_back(']');
      return;
    }
    case json::kind::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out->append(", ");
        first = false;
        AppendPyJsonString(std::string_view(kv.key().data(), kv.key().size()), out);
        out->append(": ");
        AppendPyJsonValue(kv.value(), out);
      }
      out->push_back('}');
      return;
    }
  }
}

// json.loads(bytes): UTF-8 (a leading BOM is dropped, as the utf-8-sig
// detection does), then the JSON text.
bool PyJsonLoads(std::string_view bytes, json::value* out, PyError* err) {
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  if (!PyUtf8Check(bytes, err)) return false;
  boost::system::error_code ec;
  *out = json::parse(bytes, ec);
  if (ec) {
    *err = {"JSONDecodeError", "Invalid JSON document: " + ec.message()};
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// gzip.decompress (Python 3.11): any number of members, zero padding between
// and after them, and Python's exceptions for everything else.

std::string PyBytesRepr(std::string_view b) {
  const bool has_single = b.find('\'') != std::string_view::npos;
  const bool has_double = b.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out = "b";
  out.push_back(quote);
  for (unsigned char c : b) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back(quote);
  return out;
}

bool PyGzipDecompress(std::string_view data, std::string* out, PyError* err) {
  out->clear();
  const PyError eof{"EOFError",
                    "Compressed file ended before the end-of-stream marker was reached"};
  while (true) {
    if (data.empty()) return true;
    if (!data.starts_with("\x1F\x8B")) {
      *err = {"BadGzipFile", "Not a gzipped file (" + PyBytesRepr(data.substr(0, 2)) + ")"};
      return false;
    }
    if (data.size() < 10) {
      *err = eof;
      return false;
    }
    if (static_cast<unsigned char>(data[2]) != 8) {
      *err = {"BadGzipFile", "Unknown compression method"};
      return false;
    }
    const unsigned flags = static_cast<unsigned char>(data[3]);
    size_t p = 10;
    if (flags & 4) {  // FEXTRA
      if (data.size() < p + 2) {
        *err = eof;
        return false;
      }
      const size_t xlen = static_cast<unsigned char>(data[p]) |
                          (static_cast<size_t>(static_cast<unsigned char>(data[p + 1])) << 8);
      p += 2;
      if (data.size() < p + xlen) {
        *err = eof;
        return false;
      }
      p += xlen;
    }
    for (unsigned flag : {8u, 16u}) {  // FNAME, FCOMMENT: zero-terminated
      if (!(flags & flag)) continue;
      while (p < data.size() && data[p++] != '\0') {
      }
    }
    if (flags & 2) {  // FHCRC
      if (data.size() < p + 2) {
        *err = eof;
        return false;
      }
      p += 2;
    }
    // One raw deflate stream; what follows it is the trailer and the rest.
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
      *err = {"error", "Error while initializing zlib"};
      return false;
    }
    std::string member;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + p));
    zs.avail_in = static_cast<uInt>(data.size() - p);
    int rc = Z_OK;
    char buf[64 * 1024];
    while (rc == Z_OK) {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      rc = inflate(&zs, Z_NO_FLUSH);
      member.append(buf, sizeof(buf) - zs.avail_out);
    }
    // Z_BUF_ERROR: the input ended before the stream did (EOFError below).
    const bool eof_reached = rc == Z_STREAM_END;
    if (!eof_reached && rc != Z_BUF_ERROR) {
      *err = {"error", "Error " + std::to_string(rc) + " while decompressing data: " +
                           (zs.msg != nullptr ? zs.msg : "unknown error")};
      inflateEnd(&zs);
      return false;
    }
    const size_t unused_at = data.size() - zs.avail_in;
    inflateEnd(&zs);
    if (!eof_reached || data.size() - unused_at < 8) {
      *err = eof;
      return false;
    }
    auto le32 = [&](size_t at) {
      uint32_t v = 0;
      for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(data[at + i]);
      return v;
    };
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(member.data()), static_cast<uInt>(member.size())));
    if (le32(unused_at) != crc) {
      *err = {"BadGzipFile", "CRC check failed"};
      return false;
    }
    if (le32(unused_at + 4) != static_cast<uint32_t>(member.size())) {
      *err = {"BadGzipFile", "Incorrect length of data produced"};
      return false;
    }
    out->append(member);
    data.remove_prefix(unused_at + 8);
    while (!data.empty() && data.front() == '\0') data.remove_prefix(1);
  }
}

// gzip.compress(data) (Python 3.11, compresslevel 9, mtime now): a 10-byte
// header with XFL 2 and OS 255, a raw deflate stream, CRC-32 and size.
std::string PyGzipCompress(std::string_view data) {
  std::string out;
  const uint32_t mtime = static_cast<uint32_t>(std::time(nullptr));
  out += "\x1F\x8B\x08";
  out.push_back('\0');
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((mtime >> (8 * i)) & 0xFF));
  out += "\x02\xFF";
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  const size_t header = out.size();
  out.resize(header + deflateBound(&zs, data.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data() + header);
  zs.avail_out = static_cast<uInt>(out.size() - header);
  deflate(&zs, Z_FINISH);
  out.resize(header + zs.total_out);
  deflateEnd(&zs);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  const uint32_t size = static_cast<uint32_t>(data.size());
  for (uint32_t v : {crc, size}) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  return out;
}

// ---------------------------------------------------------------------------
// The blueprints. Each takes the parsed event and fills the handler's return
// value, or sets *err where the Python code raises.

// The fields every blueprint reads first: print(record['recordId']), then
// base64.b64decode(record['data']).
struct RecordInput {
  const json::value* record_id = nullptr;
  const json::value* data = nullptr;
  std::string payload;
};

bool ReadRecord(const json::value& record, RecordInput* in, PyError* err) {
  if ((in->record_id = Subscript(record, "recordId", err)) == nullptr) return false;
  if ((in->data = Subscript(record, "data", err)) == nullptr) return false;
  return PyB64Decode(*in->data, &in->payload, err);
}

json::object OutputRecord(const json::value& record_id, std::string_view result, json::value data) {
  json::object o;
  o["recordId"] = record_id;
  o["result"] = result;
  o["data"] = std::move(data);
  return o;
}

// General processing and Kinesis-streams processing: identity.
bool RunIdentity(const json::value& event, bool kinesis_source, json::array* out, PyError* err) {
  const json::value* records = Subscript(event, "records", err);
  if (records == nullptr) return false;
  return PyIterate(*records, err, [&](const json::value& record) {
    RecordInput in;
    if (!ReadRecord(record, &in, err)) return false;
    if (kinesis_source) {
      // The blueprint prints these; a Direct PUT event has none and raises KeyError.
      const json::value* meta = Subscript(record, "kinesisRecordMetadata", err);
      if (meta == nullptr) return false;
      for (const char* key : {"sequenceNumber", "subsequenceNumber", "partitionKey", "shardId",
                              "approximateArrivalTimestamp"}) {
        if (Subscript(*meta, key, err) == nullptr) return false;
      }
    }
    out->push_back(OutputRecord(*in.record_id, "Ok", json::string(base64::Encode(in.payload))));
    return true;
  });
}

enum class SyslogFormat { kJson, kCsv };

std::string FormatSyslog(const blueprints::SyslogFields& f, SyslogFormat format) {
  std::string out;
  if (format == SyslogFormat::kCsv) {
    // m[1] + ',' + ... + (m[4] or 'null') + ',' + m[5] + '\n', no quoting.
    out.reserve(f.timestamp.size() + f.hostname.size() + f.program.size() + f.message.size() + 16);
    out.append(f.timestamp).append(",").append(f.hostname).append(",").append(f.program);
    out.append(",").append(f.pid ? *f.pid : "null").append(",").append(f.message).append("\n");
    return out;
  }
  out.append("{\"timestamp\": ");
  AppendPyJsonString(f.timestamp, &out);
  out.append(", \"hostname\": ");
  AppendPyJsonString(f.hostname, &out);
  out.append(", \"program\": ");
  AppendPyJsonString(f.program, &out);
  out.append(", \"processid\": ");
  if (f.pid) {
    AppendPyJsonString(*f.pid, &out);
  } else {
    out.append("null");
  }
  out.append(", \"message\": ");
  AppendPyJsonString(f.message, &out);
  out.append("}");
  return out;
}

bool RunSyslog(const json::value& event, SyslogFormat format, json::array* out, PyError* err) {
  const json::value* records = Subscript(event, "records", err);
  if (records == nullptr) return false;
  return PyIterate(*records, err, [&](const json::value& record) {
    RecordInput in;
    if (!ReadRecord(record, &in, err)) return false;
    if (!PyUtf8Check(in.payload, err)) return false;  // .decode('utf-8')
    std::optional<blueprints::SyslogFields> fields = blueprints::MatchSyslog(in.payload);
    if (!fields) {
      out->push_back(OutputRecord(*in.record_id, "ProcessingFailed", *in.data));
      return true;
    }
    out->push_back(OutputRecord(*in.record_id, "Ok",
                                json::string(base64::Encode(FormatSyslog(*fields, format)))));
    return true;
  });
}

// loadJsonGzipBase64: json.loads(gzip.decompress(base64.b64decode(data))).
bool LoadJsonGzipBase64(const json::value& data, json::value* out, PyError* err) {
  std::string compressed;
  if (!PyB64Decode(data, &compressed, err)) return false;
  std::string text;
  if (!PyGzipDecompress(compressed, &text, err)) return false;
  return PyJsonLoads(text, out, err);
}

// One record of the CloudWatch Logs processor's answer.
struct CwlRecord {
  const json::value* record_id = nullptr;
  std::string result;
  std::optional<std::string> data;  // base64
};

// processRecords: gunzip and parse each record; CONTROL_MESSAGE -> Dropped,
// DATA_MESSAGE -> Ok with every logEvent's message + '\n', anything else ->
// ProcessingFailed.
bool ProcessCwlRecord(const json::value& record, CwlRecord* rec, PyError* err) {
  const json::value* data = Subscript(record, "data", err);
  if (data == nullptr) return false;
  json::value envelope;
  if (!LoadJsonGzipBase64(*data, &envelope, err)) return false;
  if ((rec->record_id = Subscript(record, "recordId", err)) == nullptr) return false;
  const json::value* type = Subscript(envelope, "messageType", err);
  if (type == nullptr) return false;
  if (type->is_string() && type->get_string() == "CONTROL_MESSAGE") {
    rec->result = "Dropped";
    return true;
  }
  if (!type->is_string() || type->get_string() != "DATA_MESSAGE") {
    rec->result = "ProcessingFailed";
    return true;
  }
  const json::value* events = Subscript(envelope, "logEvents", err);
  if (events == nullptr) return false;
  std::string joined;
  const bool ok = PyIterate(*events, err, [&](const json::value& log_event) {
    const json::value* message = Subscript(log_event, "message", err);
    if (message == nullptr) return false;
    // transformLogEvent: log_event['message'] + '\n'
    if (const json::string* s = message->if_string()) {
      joined.append(s->data(), s->size());
      joined.push_back('\n');
      return true;
    }
    if (message->is_array()) {
      *err = {"TypeError", "can only concatenate list (not \"str\") to list"};
    } else {
      *err = {"TypeError",
              "unsupported operand type(s) for +: '" + PyTypeName(*message) + "' and 'str'"};
    }
    return false;
  });
  if (!ok) return false;
  rec->result = "Ok";
  rec->data = base64::Encode(joined);
  return true;
}

// splitCWLRecord: the same envelope twice, with the first and the second half
// of logEvents, each serialized with json.dumps and gzip-compressed.
std::vector<std::string> SplitCwlEnvelope(const json::value& envelope) {
  const json::array& events = envelope.at("logEvents").as_array();
  const size_t mid = events.size() / 2;
  std::vector<std::string> halves;
  for (int half = 0; half < 2; ++half) {
    json::value copy = envelope;
    json::array part(half == 0 ? events.begin() : events.begin() + mid,
                     half == 0 ? events.begin() + mid : events.end());
    copy.as_object()["logEvents"] = std::move(part);  // keeps the key's position
    std::string text;
    AppendPyJsonValue(copy, &text);
    halves.push_back(PyGzipCompress(text));
  }
  return halves;
}

// Python's len() on a JSON value.
bool PyLen(const json::value& v, size_t* n, PyError* err) {
  if (const json::string* s = v.if_string()) {
    *n = CodePointCount(std::string_view(s->data(), s->size()));
  } else if (const json::array* a = v.if_array()) {
    *n = a->size();
  } else if (const json::object* o = v.if_object()) {
    *n = o->size();
  } else {
    *err = {"TypeError", "object of type '" + PyTypeName(v) + "' has no len()"};
    return false;
  }
  return true;
}

std::vector<std::string> PySplit(std::string_view s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    parts.emplace_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

}  // namespace

// ---------------------------------------------------------------------------

namespace blueprints {

std::optional<SyslogFields> MatchSyslog(std::string_view line) {
  Matcher m(line);
  if (!m.Match(SyslogPattern(), 0, [](size_t) { return true; })) return std::nullopt;
  auto text = [&](int i) {
    const Matcher::Span& g = m.group(i);
    return std::string(line.substr(g.begin, g.end - g.begin));
  };
  SyslogFields f;
  f.timestamp = text(1);
  f.hostname = text(2);
  f.program = text(3);
  if (m.group(4).set()) f.pid = text(4);
  f.message = text(5);
  return f;
}

std::string PythonJsonString(std::string_view utf8) {
  std::string out;
  AppendPyJsonString(utf8, &out);
  return out;
}

}  // namespace blueprints

BuiltinInvoker::BuiltinInvoker(ReingestFn reingest) : reingest_(std::move(reingest)) {}

std::vector<std::string> BuiltinInvoker::Names() {
  return {std::string(kGeneralProcessing), std::string(kSyslogToJson), std::string(kSyslogToCsv),
          std::string(kKinesisStreamsProcessing), std::string(kCloudWatchLogsProcessor)};
}

bool BuiltinInvoker::Has(std::string_view name) {
  for (const std::string& n : Names()) {
    if (n == name) return true;
  }
  return false;
}

namespace {

// The CloudWatch Logs processor's lambda_handler (spec section 7, steps 1-3).
bool RunCloudWatchLogs(const json::value& event, const ReingestFn& reingest, json::array* out,
                       PyError* err) {
  const bool is_sas = event.is_object() && event.as_object().contains("sourceKinesisStreamArn");
  const json::value* arn =
      Subscript(event, is_sas ? "sourceKinesisStreamArn" : "deliveryStreamArn", err);
  if (arn == nullptr) return false;
  if (!arn->is_string()) {
    *err = {"AttributeError", "'" + PyTypeName(*arn) + "' object has no attribute 'split'"};
    return false;
  }
  const std::string_view arn_text(arn->get_string().data(), arn->get_string().size());
  const std::vector<std::string> colon_parts = PySplit(arn_text, ':');
  const std::vector<std::string> slash_parts = PySplit(arn_text, '/');
  if (colon_parts.size() < 4 || slash_parts.size() < 2) {
    *err = {"IndexError", "list index out of range"};
    return false;
  }
  const std::string& stream_name = slash_parts[1];

  const json::value* records = Subscript(event, "records", err);
  if (records == nullptr) return false;
  std::vector<CwlRecord> results;
  std::vector<const json::value*> originals;
  if (!PyIterate(*records, err, [&](const json::value& record) {
        CwlRecord rec;
        if (!ProcessCwlRecord(record, &rec, err)) return false;
        results.push_back(std::move(rec));
        return true;
      })) {
    return false;
  }
  // Only a list can get here with records: iterating a non-empty dict or str
  // yields strs, which raised TypeError above.
  if (const json::array* list = records->if_array()) {
    for (const json::value& record : *list) originals.push_back(&record);
  }

  // Without a way to put records back (no callback, or a Kinesis stream as the
  // source), what the blueprint would re-ingest is returned as ProcessingFailed.
  const bool can_reingest = reingest != nullptr && !is_sas;
  auto not_reingested = [&](CwlRecord& rec, const char* why) {
    rec.result = "ProcessingFailed";
    spdlog::warn(
        "stream={} errorCode=Lambda.ProcessingFailedStatus builtin=cloudwatch-logs-processor "
        "record={} event=not_reingested reason=\"{}\" detail=\"{}\"",
        slash_parts[1], json::serialize(*rec.record_id), why,
        is_sas ? "re-ingestion into a Kinesis data stream is not supported"
               : "no re-ingestion callback configured");
  };

  size_t projected_size = 0;
  std::vector<std::string> to_reingest;
  for (size_t i = 0; i < results.size(); ++i) {
    CwlRecord& rec = results[i];
    if (rec.result != "Ok") continue;
    if (rec.data->size() > kCwlMaxResponseChars) {
      // Too large alone: split the original envelope in two and re-ingest both
      // halves, or fail it when it holds a single log event.
      json::value envelope;
      if (!LoadJsonGzipBase64(originals[i]->at("data"), &envelope, err)) return false;
      size_t events = 0;
      if (!PyLen(envelope.at("logEvents"), &events, err)) return false;
      if (events > 1 && envelope.at("logEvents").is_array()) {
        if (can_reingest) {
          rec.result = "Dropped";
          for (std::string& half : SplitCwlEnvelope(envelope))
            to_reingest.push_back(std::move(half));
        } else {
          not_reingested(rec, "record too large, would be split and re-ingested");
        }
      } else {
        rec.result = "ProcessingFailed";
        spdlog::warn(
            "stream={} errorCode=Lambda.ProcessingFailedStatus builtin=cloudwatch-logs-processor "
            "record={} event=too_large bytes={} "
            "detail=\"a single log event is still too large after processing\"",
            slash_parts[1], json::serialize(*rec.record_id), rec.data->size());
      }
      rec.data.reset();
      continue;
    }
    size_t id_len = 0;
    if (!PyLen(*rec.record_id, &id_len, err)) return false;
    projected_size += rec.data->size() + id_len;
    if (projected_size > kCwlMaxResponseChars) {
      if (can_reingest) {
        std::string original;
        if (!PyB64Decode(originals[i]->at("data"), &original, err)) return false;
        to_reingest.push_back(std::move(original));
        rec.result = "Dropped";
      } else {
        not_reingested(rec, "response would exceed 6000000 characters");
      }
      rec.data.reset();
    }
  }

  for (size_t i = 0; i < to_reingest.size(); i += kCwlReingestBatch) {
    const size_t end = std::min(to_reingest.size(), i + kCwlReingestBatch);
    Status st;
    for (int attempt = 0; attempt < kCwlReingestAttempts; ++attempt) {
      st = reingest(stream_name,
                    std::vector<std::string>(to_reingest.begin() + i, to_reingest.begin() + end));
      if (st.ok()) break;
    }
    if (!st.ok()) {
      *err = {"RuntimeError", "Could not put records after " +
                                  std::to_string(kCwlReingestAttempts) + " attempts. " +
                                  st.message()};
      return false;
    }
  }

  for (const CwlRecord& rec : results) {
    json::object o;
    o["recordId"] = *rec.record_id;
    o["result"] = rec.result;
    if (rec.data) o["data"] = *rec.data;
    out->push_back(std::move(o));
  }
  return true;
}

std::string ErrorDocument(std::string_view type, std::string_view message) {
  json::object doc;
  doc["errorMessage"] = message;
  doc["errorType"] = type;
  return json::serialize(doc);
}

}  // namespace

InvokeResult BuiltinInvoker::Invoke(const FunctionRef& fn, const std::string& event_json,
                                    std::chrono::milliseconds /*timeout*/) {
  const auto started = std::chrono::steady_clock::now();
  InvokeResult result;
  auto finish = [&]() -> InvokeResult {
    result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    return std::move(result);
  };
  if (!Has(fn.name)) {
    result.kind = InvokeResult::Kind::kFatal;
    result.error_code = "Lambda.ResourceNotFound";
    result.error_message = "Function not found: " + fn.arn + " (builtin blueprints: " + [] {
      std::string all;
      for (const std::string& n : Names()) all += (all.empty() ? "" : ", ") + n;
      return all;
    }() + ")";
    json::object doc;
    doc["Type"] = "User";
    doc["Message"] = "Function not found: " + fn.arn;
    result.payload = json::serialize(doc);
    return finish();
  }

  boost::system::error_code ec;
  const json::value event = json::parse(event_json, ec);
  if (ec) {
    // What Lambda's Invoke API answers for a payload that is not JSON.
    result.kind = InvokeResult::Kind::kFatal;
    result.error_code = "Lambda.InvalidRequestContent";
    result.error_message = "Could not parse request body into json: " + ec.message();
    json::object doc;
    doc["Type"] = "User";
    doc["message"] = result.error_message;
    result.payload = json::serialize(doc);
    return finish();
  }

  json::array records;
  PyError err;
  bool ok = false;
  const std::string_view name = fn.name;
  if (name == kGeneralProcessing) {
    ok = RunIdentity(event, /*kinesis_source=*/false, &records, &err);
  } else if (name == kKinesisStreamsProcessing) {
    ok = RunIdentity(event, /*kinesis_source=*/true, &records, &err);
  } else if (name == kSyslogToJson) {
    ok = RunSyslog(event, SyslogFormat::kJson, &records, &err);
  } else if (name == kSyslogToCsv) {
    ok = RunSyslog(event, SyslogFormat::kCsv, &records, &err);
  } else {
    ok = RunCloudWatchLogs(event, reingest_, &records, &err);
  }

  if (ok) {
    json::object response;
    response["records"] = std::move(records);
    result.payload = json::serialize(response);
    if (result.payload.size() > kLambdaMaxResponseBytes) {
      err = {"Function.ResponseSizeTooLarge",
             "Response payload size exceeded maximum allowed payload size (" +
                 std::to_string(kLambdaMaxResponseBytes) + " bytes)."};
      ok = false;
    }
  }
  if (!ok) {
    result.kind = InvokeResult::Kind::kFunctionError;
    result.payload = ErrorDocument(err.type, err.message);
    result.error_code = "Lambda.FunctionError";
    result.error_message = std::string(kFunctionErrorMessage);
    return finish();
  }
  result.kind = InvokeResult::Kind::kOk;
  return finish();
}

}  // namespace hydrant::processing
