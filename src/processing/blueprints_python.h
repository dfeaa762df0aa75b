#pragma once
// The pieces of Python 3 behaviour the builtin blueprints (blueprints.h) rely on,
// each written to give the same result, or raise the same exception with the same
// message, as CPython 3.11 on the same input: base64.b64decode (lenient),
// bytes.decode('utf-8') (strict, with CPython's messages), subscripting, iteration
// and len() on what json.loads produced, json.dumps defaults, json.loads,
// gzip.decompress / gzip.compress.
//
// Contract: a function that can raise returns false and fills *err with the
// exception's type name and str(exception), as the Lambda Python runtime reports
// them in errorType / errorMessage; on success *err is untouched. Everything here
// is pure (no state) and safe to call from any thread.
//
// Internal to the blueprints (src/processing/blueprints*.cc).

#include <boost/json.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hydrant::processing::blueprints {

// A Python exception: the type name and str(exception).
struct PyError {
  std::string type;
  std::string message;
};

// type(v).__name__ for what json.loads produced ("dict", "list", "NoneType", ...).
std::string PyTypeName(const boost::json::value& v);

// v[key], as Python evaluates it on what json.loads produced.
const boost::json::value* Subscript(const boost::json::value& v, std::string_view key,
                                    PyError* err);

// `for x in v`: lists yield their items, dicts their keys, strs their
// characters; anything else raises. `fn` returns false to stop (an error).
template <typename Fn>
bool PyIterate(const boost::json::value& v, PyError* err, Fn&& fn) {
  namespace json = boost::json;
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

// Python's len() on a JSON value.
bool PyLen(const boost::json::value& v, size_t* n, PyError* err);

// str.split(sep) with a one-character separator.
std::vector<std::string> PySplit(std::string_view s, char sep);

// base64.b64decode(s) without validate=True.
bool PyB64Decode(const boost::json::value& v, std::string* out, PyError* err);

// bytes.decode('utf-8'), for its exception only: true when `b` is strict UTF-8.
bool PyUtf8Check(std::string_view b, PyError* err);

// Decodes the code point starting at b[i] of valid UTF-8; *len gets its size.
char32_t DecodeAt(std::string_view b, size_t i, size_t* len);

// Where the code point before b[i] of valid UTF-8 starts (i > 0).
size_t PrevStart(std::string_view b, size_t i);

// json.dumps(s) / json.dumps(v) with the defaults, appended to *out. `utf8` and
// every string in `v` must be valid UTF-8.
void AppendPyJsonString(std::string_view utf8, std::string* out);
void AppendPyJsonValue(const boost::json::value& v, std::string* out);

// json.detect_encoding(b): "utf-8", "utf-8-sig", "utf-16", "utf-16-le",
// "utf-16-be", "utf-32", "utf-32-le" or "utf-32-be".
std::string_view PyDetectJsonEncoding(std::string_view b);
// json.loads(bytes): UTF-8, UTF-16 or UTF-32 as detected above.
bool PyJsonLoads(std::string_view bytes, boost::json::value* out, PyError* err);

// gzip.decompress(data) / gzip.compress(data).
bool PyGzipDecompress(std::string_view data, std::string* out, PyError* err);
std::string PyGzipCompress(std::string_view data);

}  // namespace hydrant::processing::blueprints
