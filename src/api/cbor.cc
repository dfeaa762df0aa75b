#include "api/cbor.h"

#include <bit>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "common/base64.h"
#include "common/utf8.h"

namespace hydrant::api::cbor {

namespace {

namespace json = boost::json;

// RFC 8949 major types.
enum Major : uint8_t {
  kUnsigned = 0,
  kNegative = 1,
  kBytes = 2,
  kText = 3,
  kArray = 4,
  kMap = 5,
  kTag = 6,
  kSimple = 7,
};
constexpr uint8_t kIndefinite = 31;  // additional information: indefinite length / break
constexpr uint8_t kBreak = 0xff;
constexpr uint64_t kTagEpochTime = 1;
constexpr uint64_t kTagPositiveBignum = 2;
constexpr uint64_t kTagNegativeBignum = 3;

// Strict UTF-8, with a fast path over the ASCII that keys, partition keys and
// most text are made of.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  for (; i < s.size() && static_cast<unsigned char>(s[i]) < 0x80; ++i) {
  }
  return i == s.size() || utf8::IsValid(s.substr(i));
}

bool Contains(std::span<const std::string_view> names, std::string_view name) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

double HalfToDouble(uint16_t half) {
  const int exp = (half >> 10) & 0x1f;
  const int mant = half & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(mant, -24);
  } else if (exp != 31) {
    v = std::ldexp(mant + 1024, exp - 25);
  } else {
    v = mant == 0 ? std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::quiet_NaN();
  }
  return (half & 0x8000) ? -v : v;
}

// The half-precision bits of `f` when it is exactly representable (NaN excluded).
bool FloatToHalf(float f, uint16_t* half) {
  const uint32_t b = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000);
  const int exp = static_cast<int>((b >> 23) & 0xff) - 127;
  const uint32_t mant = b & 0x7fffff;
  if ((b & 0x7fffffff) == 0) {
    *half = sign;
    return true;
  }
  if (exp == 128) {  // infinity (NaN never reaches here)
    if (mant != 0) return false;
    *half = sign | 0x7c00;
    return true;
  }
  if (exp >= -14 && exp <= 15) {  // normal in half precision
    if (mant & 0x1fff) return false;
    *half = static_cast<uint16_t>(sign | ((exp + 15) << 10) | (mant >> 13));
    return true;
  }
  if (exp >= -24 && exp < -14) {  // subnormal in half precision: mant * 2^-24
    const uint32_t full = mant | 0x800000;
    const int shift = -exp - 1;
    if (full & ((uint32_t{1} << shift) - 1)) return false;
    *half = static_cast<uint16_t>(sign | (full >> shift));
    return true;
  }
  return false;
}

// How a value's numbers are read: as plain numbers, or as a timestamp in epoch
// milliseconds because the value is a timestamp member's (other kinds pass) or
// sits under tag 1 (other kinds are an error).
enum class Timestamp { kNo, kMember, kTag };

class Decoder {
 public:
  Decoder(std::string_view in, const Schema& schema, json::storage_ptr sp)
      : begin_(reinterpret_cast<const uint8_t*>(in.data())),
        p_(begin_),
        end_(begin_ + in.size()),
        schema_(schema),
        sp_(std::move(sp)) {}

  Result<json::value> Run() {
    if (p_ == end_) return Error("empty input", 0);
    json::value out(sp_);
    if (Status st = Item(&out, 0, Timestamp::kNo); !st.ok()) return st;
    if (p_ != end_) {
      return Error("trailing bytes after the data item (" + std::to_string(end_ - p_) + ")",
                   Offset());
    }
    return out;
  }

 private:
  struct Head {
    uint8_t major;
    uint8_t info;  // additional information (low 5 bits of the initial byte)
    bool indefinite;
    uint64_t arg;  // the argument; a float's bits for major 7 with info 25-27
    size_t offset;
  };

  static Status Error(std::string_view what, size_t offset) {
    return Status::InvalidArgument("CBOR: " + std::string(what) + " at byte " +
                                   std::to_string(offset));
  }
  size_t Offset() const { return static_cast<size_t>(p_ - begin_); }
  size_t Remaining() const { return static_cast<size_t>(end_ - p_); }

  Status ReadHead(Head* h) {
    h->offset = Offset();
    if (p_ == end_) return Error("truncated input: a data item expected", h->offset);
    const uint8_t initial = *p_++;
    h->major = initial >> 5;
    h->info = initial & 0x1f;
    h->indefinite = false;
    if (h->info < 24) {
      h->arg = h->info;
      return Status::Ok();
    }
    if (h->info == kIndefinite) {
      h->indefinite = true;
      h->arg = 0;
      return Status::Ok();
    }
    if (h->info > 27) {
      return Error("reserved additional information " + std::to_string(h->info), h->offset);
    }
    const size_t n = size_t{1} << (h->info - 24);
    if (Remaining() < n) return Error("truncated input: an item's argument is cut", h->offset);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | *p_++;
    h->arg = v;
    return Status::Ok();
  }

  // The items of an indefinite-length `what` (item() reads one) up to its break.
  template <typename ReadItem>
  Status UntilBreak(const Head& h, std::string_view what, ReadItem&& item) {
    for (;;) {
      if (p_ == end_) {
        return Error(
            "truncated input: an indefinite-length " + std::string(what) + " lacks its break",
            h.offset);
      }
      if (*p_ == kBreak) {
        ++p_;
        return Status::Ok();
      }
      if (Status st = item(); !st.ok()) return st;
    }
  }

  // A byte or text string (definite, or indefinite: definite chunks of its own
  // type up to a break) into *view, which points into the input or into *scratch.
  Status ReadString(const Head& h, std::string_view* view, std::string* scratch) {
    if (!h.indefinite) {
      if (h.arg > Remaining()) {
        return Error(
            "truncated input: a string of " + std::to_string(h.arg) + " bytes runs past the end",
            h.offset);
      }
      *view = std::string_view(reinterpret_cast<const char*>(p_), h.arg);
      p_ += h.arg;
      if (h.major == kText && !IsUtf8(*view)) {
        return Error("invalid UTF-8 in a text string", h.offset);
      }
      return Status::Ok();
    }
    scratch->clear();
    Status st = UntilBreak(h, "string", [&]() -> Status {
      Head chunk;
      if (Status st = ReadHead(&chunk); !st.ok()) return st;
      if (chunk.major != h.major || chunk.indefinite) {
        return Error("a chunk of an indefinite-length string is not a definite string of its type",
                     chunk.offset);
      }
      std::string_view part;
      if (Status st = ReadString(chunk, &part, nullptr); !st.ok()) return st;
      scratch->append(part);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    *view = *scratch;
    return Status::Ok();
  }

  Status SetTimestamp(int64_t millis, size_t offset, json::value* out) {
    if (millis < kMinTimestampMillis || millis > kMaxTimestampMillis) {
      return Error("timestamp out of range (years 1 to 9999 in epoch milliseconds)", offset);
    }
    if (millis % 1000 == 0) {
      *out = millis / 1000;
    } else {
      *out = static_cast<double>(millis) / 1000.0;
    }
    return Status::Ok();
  }

  Status Item(json::value* out, size_t depth, Timestamp ts) {
    Head h;
    if (Status st = ReadHead(&h); !st.ok()) return st;
    switch (h.major) {
      case kUnsigned:
      case kNegative: {
        if (h.indefinite) return Error("an integer with indefinite length", h.offset);
        if (h.major == kNegative && h.arg > static_cast<uint64_t>(INT64_MAX)) {
          return Error("a negative integer below -2^63", h.offset);
        }
        if (ts != Timestamp::kNo) {
          if (h.arg > static_cast<uint64_t>(INT64_MAX)) {
            return Error("timestamp out of range (years 1 to 9999 in epoch milliseconds)",
                         h.offset);
          }
          const auto a = static_cast<int64_t>(h.arg);
          return SetTimestamp(h.major == kUnsigned ? a : -1 - a, h.offset, out);
        }
        if (h.major == kNegative) {
          *out = -1 - static_cast<int64_t>(h.arg);
        } else if (h.arg > static_cast<uint64_t>(INT64_MAX)) {
          *out = h.arg;
        } else {
          *out = static_cast<int64_t>(h.arg);
        }
        return Status::Ok();
      }
      case kBytes:
      case kText: {
        if (ts == Timestamp::kTag) return Error("tag 1 (epoch time) over a string", h.offset);
        std::string_view s;
        if (Status st = ReadString(h, &s, &scratch_); !st.ok()) return st;
        if (h.major == kText) {
          out->emplace_string().assign(s.data(), s.size());
        } else {
          encoded_.clear();
          base64::EncodeAppend(s, &encoded_);
          out->emplace_string().assign(encoded_.data(), encoded_.size());
        }
        return Status::Ok();
      }
      case kArray: {
        if (ts == Timestamp::kTag) return Error("tag 1 (epoch time) over an array", h.offset);
        if (depth >= kMaxDepth) return DepthError(h.offset);
        json::array& arr = out->emplace_array();
        if (!h.indefinite) {
          // Every item takes a byte at least: a count past the input cannot be true.
          if (h.arg > Remaining()) {
            return Error("truncated input: an array of " + std::to_string(h.arg) +
                             " items runs past the end",
                         h.offset);
          }
          arr.reserve(h.arg);
          for (uint64_t i = 0; i < h.arg; ++i) {
            arr.emplace_back(nullptr);
            if (Status st = Item(&arr.back(), depth + 1, Timestamp::kNo); !st.ok()) return st;
          }
          return Status::Ok();
        }
        return UntilBreak(h, "array", [&] {
          arr.emplace_back(nullptr);
          return Item(&arr.back(), depth + 1, Timestamp::kNo);
        });
      }
      case kMap: {
        if (ts == Timestamp::kTag) return Error("tag 1 (epoch time) over a map", h.offset);
        if (depth >= kMaxDepth) return DepthError(h.offset);
        json::object& obj = out->emplace_object();
        if (!h.indefinite) {
          if (h.arg > Remaining() / 2) {
            return Error(
                "truncated input: a map of " + std::to_string(h.arg) + " entries runs past the end",
                h.offset);
          }
          obj.reserve(h.arg);
          for (uint64_t i = 0; i < h.arg; ++i) {
            if (Status st = Entry(&obj, depth); !st.ok()) return st;
          }
          return Status::Ok();
        }
        return UntilBreak(h, "map", [&] { return Entry(&obj, depth); });
      }
      case kTag: {
        if (h.indefinite) return Error("a tag with indefinite length", h.offset);
        if (depth >= kMaxDepth) return DepthError(h.offset);
        if (h.arg == kTagPositiveBignum || h.arg == kTagNegativeBignum) {
          return Error("bignums (tags 2 and 3) are not supported", h.offset);
        }
        return Item(out, depth + 1, h.arg == kTagEpochTime ? Timestamp::kTag : ts);
      }
      default:  // kSimple
        return Simple(h, out, ts);
    }
  }

  Status Simple(const Head& h, json::value* out, Timestamp ts) {
    if (h.info >= 25 && h.info <= 27) {
      double d;
      if (h.info == 25) {
        d = HalfToDouble(static_cast<uint16_t>(h.arg));
      } else if (h.info == 26) {
        d = std::bit_cast<float>(static_cast<uint32_t>(h.arg));
      } else {
        d = std::bit_cast<double>(h.arg);
      }
      if (!std::isfinite(d)) return Error("a NaN or infinite float (JSON has none)", h.offset);
      if (ts != Timestamp::kNo) {
        if (d < static_cast<double>(kMinTimestampMillis) ||
            d > static_cast<double>(kMaxTimestampMillis)) {
          return Error("timestamp out of range (years 1 to 9999 in epoch milliseconds)", h.offset);
        }
        return SetTimestamp(std::llround(d), h.offset, out);
      }
      *out = d;
      return Status::Ok();
    }
    if (h.indefinite) return Error("unexpected break", h.offset);
    const bool is_bool = h.info == 20 || h.info == 21;
    const bool is_null = h.info == 22 || h.info == 23;
    if (!is_bool && !is_null) {
      return Error("unsupported simple value " + std::to_string(h.arg), h.offset);
    }
    if (ts == Timestamp::kTag) return Error("tag 1 (epoch time) over a simple value", h.offset);
    if (is_bool) {
      *out = h.info == 21;
    } else {
      *out = nullptr;
    }
    return Status::Ok();
  }

  // One key (a text string) and its value, into *obj.
  Status Entry(json::object* obj, size_t depth) {
    Head kh;
    if (Status st = ReadHead(&kh); !st.ok()) return st;
    if (kh.major != kText) return Error("a map key that is not a text string", kh.offset);
    std::string_view key;
    if (Status st = ReadString(kh, &key, &key_scratch_); !st.ok()) return st;
    auto [it, inserted] = obj->emplace(key, nullptr);
    if (!inserted) {
      return Error("duplicate map key \"" + utf8::Sanitize(key, 64) + "\"", kh.offset);
    }
    const Timestamp ts =
        Contains(schema_.timestamp_members, key) ? Timestamp::kMember : Timestamp::kNo;
    return Item(&it->value(), depth + 1, ts);
  }

  static Status DepthError(size_t offset) {
    return Error("nesting deeper than " + std::to_string(kMaxDepth), offset);
  }

  const uint8_t* const begin_;
  const uint8_t* p_;
  const uint8_t* const end_;
  const Schema& schema_;
  const json::storage_ptr sp_;
  std::string scratch_;      // indefinite-length value strings
  std::string key_scratch_;  // indefinite-length keys
  std::string encoded_;      // base64 of a byte string
};

// base64 that decodes and re-encodes to itself (padded, zero trailing bits), so
// ToJson(FromJson(v)) gives v back.
bool DecodeCanonicalBase64(std::string_view s, std::string* out) {
  const size_t n = s.size();
  if (n % 4 != 0) return false;
  if (n >= 4 && s[n - 1] == '=') {
    const bool two = s[n - 2] == '=';
    const int last = base64::AlphabetValue(s[n - (two ? 3 : 2)]);
    if (last < 0 || (last & (two ? 0x0f : 0x03)) != 0) return false;
  }
  return base64::DecodeInto(s, out);
}

class Encoder {
 public:
  explicit Encoder(const Schema& schema) : schema_(schema) {}

  std::string Run(const json::value& v) {
    Value(v, Member::kPlain);
    return std::move(out_);
  }

 private:
  enum class Member { kPlain, kBlob, kTimestamp };

  void Head(uint8_t major, uint64_t arg) {
    const auto m = static_cast<uint8_t>(major << 5);
    if (arg < 24) {
      out_.push_back(static_cast<char>(m | arg));
    } else if (arg <= 0xff) {
      out_.push_back(static_cast<char>(m | 24));
      Big(arg, 1);
    } else if (arg <= 0xffff) {
      out_.push_back(static_cast<char>(m | 25));
      Big(arg, 2);
    } else if (arg <= 0xffffffff) {
      out_.push_back(static_cast<char>(m | 26));
      Big(arg, 4);
    } else {
      out_.push_back(static_cast<char>(m | 27));
      Big(arg, 8);
    }
  }
  void Big(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void Bytes(uint8_t major, std::string_view s) {
    Head(major, s.size());
    out_.append(s);
  }
  void Int(int64_t i) {
    if (i >= 0) {
      Head(kUnsigned, static_cast<uint64_t>(i));
    } else {
      Head(kNegative, static_cast<uint64_t>(-(i + 1)));
    }
  }
  // The shortest of half, single and double that holds d exactly.
  void Double(double d) {
    if (std::isnan(d)) {
      out_.append("\xf9\x7e\x00", 3);
      return;
    }
    if (std::isinf(d) || std::fabs(d) <= FLT_MAX) {
      const auto f = static_cast<float>(d);
      if (static_cast<double>(f) == d) {
        uint16_t half;
        if (FloatToHalf(f, &half)) {
          out_.push_back(static_cast<char>(0xf9));
          Big(half, 2);
        } else {
          out_.push_back(static_cast<char>(0xfa));
          Big(std::bit_cast<uint32_t>(f), 4);
        }
        return;
      }
    }
    out_.push_back(static_cast<char>(0xfb));
    Big(std::bit_cast<uint64_t>(d), 8);
  }
  void TimestampMillis(int64_t millis) {
    Head(kTag, kTagEpochTime);
    Int(millis);
  }
  // A timestamp member's number of epoch seconds as tag 1 over milliseconds;
  // false when it is out of range (written as a plain number then).
  bool Timestamp(const json::value& v) {
    if (v.is_int64()) {
      const int64_t s = v.get_int64();
      if (s < kMinTimestampMillis / 1000 || s > kMaxTimestampMillis / 1000) return false;
      TimestampMillis(s * 1000);
      return true;
    }
    if (v.is_uint64()) {
      const uint64_t s = v.get_uint64();
      if (s > static_cast<uint64_t>(kMaxTimestampMillis / 1000)) return false;
      TimestampMillis(static_cast<int64_t>(s) * 1000);
      return true;
    }
    const double d = v.get_double();
    if (!std::isfinite(d)) return false;
    const double ms = d * 1000.0;
    if (ms < static_cast<double>(kMinTimestampMillis) ||
        ms > static_cast<double>(kMaxTimestampMillis)) {
      return false;
    }
    TimestampMillis(std::llround(ms));
    return true;
  }

  void Value(const json::value& v, Member member) {
    switch (v.kind()) {
      case json::kind::null:
        out_.push_back(static_cast<char>(0xf6));
        return;
      case json::kind::bool_:
        out_.push_back(static_cast<char>(v.get_bool() ? 0xf5 : 0xf4));
        return;
      case json::kind::int64:
      case json::kind::uint64:
      case json::kind::double_:
        if (member == Member::kTimestamp && Timestamp(v)) return;
        if (v.is_int64()) {
          Int(v.get_int64());
        } else if (v.is_uint64()) {
          Head(kUnsigned, v.get_uint64());
        } else {
          Double(v.get_double());
        }
        return;
      case json::kind::string: {
        const std::string_view s = v.get_string();
        if (member == Member::kBlob && DecodeCanonicalBase64(s, &decoded_)) {
          Bytes(kBytes, decoded_);
        } else {
          Bytes(kText, s);
        }
        return;
      }
      case json::kind::array:
        Head(kArray, v.get_array().size());
        for (const json::value& e : v.get_array()) Value(e, Member::kPlain);
        return;
      case json::kind::object:
        Head(kMap, v.get_object().size());
        for (const json::key_value_pair& kv : v.get_object()) {
          const std::string_view key = kv.key();
          Bytes(kText, key);
          Member m = Member::kPlain;
          if (Contains(schema_.blob_members, key)) {
            m = Member::kBlob;
          } else if (Contains(schema_.timestamp_members, key)) {
            m = Member::kTimestamp;
          }
          Value(kv.value(), m);
        }
        return;
    }
  }

  const Schema& schema_;
  std::string out_;
  std::string decoded_;
};

}  // namespace

Result<boost::json::value> ToJson(std::string_view cbor, const Schema& schema,
                                  boost::json::storage_ptr sp) {
  return Decoder(cbor, schema, std::move(sp)).Run();
}

std::string FromJson(const boost::json::value& v, const Schema& schema) {
  return Encoder(schema).Run(v);
}

}  // namespace hydrant::api::cbor
