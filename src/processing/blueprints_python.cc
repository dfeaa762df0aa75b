// The Python 3 behaviour the builtin blueprints rely on (see blueprints_python.h).

#include "processing/blueprints_python.h"

#include <zlib.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "common/base64.h"
#include "common/utf8.h"
#include "processing/blueprints.h"

namespace hydrant::processing::blueprints {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// Python exceptions: the type name and str(exception), as the Lambda Python
// runtime reports them in errorType / errorMessage.

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

namespace {

// Number of code points of a valid UTF-8 string (Python's len of a str).
size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

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

// ---------------------------------------------------------------------------
// base64.b64decode(s) without validate=True: characters outside the alphabet
// are skipped, decoding stops once a quantum's padding is complete, and a
// dangling quantum raises binascii.Error.


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
    const int val = base64::AlphabetValue(c);
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

namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// str(UnicodeDecodeError) for bytes [start, end) of `b`; returns false.
bool DecodeFailure(std::string_view codec, std::string_view b, size_t start, size_t end,
                   const char* reason, PyError* err) {
  char buf[160];
  const int codec_len = static_cast<int>(codec.size());
  if (end - start == 1) {
    std::snprintf(buf, sizeof(buf), "'%.*s' codec can't decode byte 0x%02x in position %zu: %s",
                  codec_len, codec.data(), static_cast<unsigned char>(b[start]), start, reason);
  } else {
    std::snprintf(buf, sizeof(buf), "'%.*s' codec can't decode bytes in position %zu-%zu: %s",
                  codec_len, codec.data(), start, end - 1, reason);
  }
  *err = {"UnicodeDecodeError", buf};
  return false;
}

}  // namespace

bool PyUtf8Check(std::string_view b, PyError* err) {
  const size_t n = b.size();
  auto fail = [&](size_t start, size_t end, const char* reason) {
    return DecodeFailure("utf-8", b, start, end, reason, err);
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

namespace {

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

}  // namespace

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

// json.detect_encoding(b), as Python 3.11's json module has it: a BOM, else the
// pattern of zero bytes among the first four (JSON text starts with ASCII).
std::string_view PyDetectJsonEncoding(std::string_view b) {
  using std::literals::operator""sv;
  if (b.starts_with("\x00\x00\xFE\xFF"sv) || b.starts_with("\xFF\xFE\x00\x00"sv)) {
    return "utf-32";
  }
  if (b.starts_with("\xFE\xFF"sv) || b.starts_with("\xFF\xFE"sv)) return "utf-16";
  if (b.starts_with("\xEF\xBB\xBF"sv)) return "utf-8-sig";
  auto zero = [&](size_t i) { return b[i] == '\0'; };
  if (b.size() >= 4) {
    if (zero(0)) return zero(1) ? "utf-32-be" : "utf-16-be";
    if (zero(1)) return zero(2) && zero(3) ? "utf-32-le" : "utf-16-le";
  } else if (b.size() == 2) {
    if (zero(0)) return "utf-16-be";
    if (zero(1)) return "utf-16-le";
  }
  return "utf-8";
}

namespace {

// bytes.decode(codec) for the UTF-16 and UTF-32 codecs json.loads picks, into
// UTF-8. "utf-16" / "utf-32" read the byte order from the BOM and drop it. A
// surrogate that is not half of a UTF-16 pair fails with the strict codec's
// error (json.loads passes it through, and the blueprint then fails encoding
// its output; docs/blueprints.md).
bool PyDecodeWide(std::string_view b, std::string_view codec, std::string* out, PyError* err) {
  const size_t unit = codec.starts_with("utf-16") ? 2 : 4;
  bool big = codec.ends_with("-be");
  size_t i = 0;
  if (codec == "utf-16" || codec == "utf-32") {
    big = static_cast<unsigned char>(b[0]) != 0xFF;
    i = unit;
  }
  auto read = [&](size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < unit; ++k) {
      const auto byte = static_cast<unsigned char>(b[at + (big ? k : unit - 1 - k)]);
      v = (v << 8) | byte;
    }
    return v;
  };
  out->reserve(b.size() / unit);
  const size_t n = b.size();
  while (i + unit <= n) {
    uint32_t cp = read(i);
    if (unit == 4) {
      if (cp > 0x10FFFF) {
        return DecodeFailure(codec, b, i, i + 4, "code point not in range(0x110000)", err);
      }
      if (cp >= 0xD800 && cp < 0xE000) {
        return DecodeFailure(codec, b, i, i + 4,
                             "code point in surrogate code point range(0xd800, 0xe000)", err);
      }
      i += 4;
    } else if (cp >= 0xDC00 && cp < 0xE000) {
      return DecodeFailure(codec, b, i, i + 2, "illegal encoding", err);
    } else if (cp >= 0xD800 && cp < 0xDC00) {
      if (i + 4 > n) return DecodeFailure(codec, b, i, n, "unexpected end of data", err);
      const uint32_t low = read(i + 2);
      if (low < 0xDC00 || low >= 0xE000) {
        return DecodeFailure(codec, b, i, i + 2, "illegal UTF-16 surrogate", err);
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i += 4;
    } else {
      i += 2;
    }
    utf8::Append(cp, out);
  }
  if (i < n) return DecodeFailure(codec, b, i, n, "truncated data", err);
  return true;
}

}  // namespace

// json.loads(bytes): the encoding json.detect_encoding names (a UTF-8 BOM is
// dropped), then the JSON text.
bool PyJsonLoads(std::string_view bytes, json::value* out, PyError* err) {
  const std::string_view codec = PyDetectJsonEncoding(bytes);
  std::string wide;
  if (codec == "utf-8-sig") {
    bytes.remove_prefix(3);
  } else if (codec != "utf-8") {
    if (!PyDecodeWide(bytes, codec, &wide, err)) return false;
    bytes = wide;
  }
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

namespace {

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

}  // namespace

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

std::string PythonJsonString(std::string_view utf8) {
  std::string out;
  AppendPyJsonString(utf8, &out);
  return out;
}

}  // namespace hydrant::processing::blueprints
