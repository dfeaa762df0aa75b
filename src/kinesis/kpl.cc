#include "kinesis/kpl.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <unordered_map>

namespace hydrant::kinesis {
namespace {

// Protobuf wire types.
enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// How deep messages and (unknown) groups may nest, as protobuf's parsers allow.
constexpr int kMaxDepth = 100;

// A protobuf varint is at most 10 bytes.
constexpr int kMaxVarintBytes = 10;

// Reads the protobuf wire format from [pos, end), as protobuf's own parsers
// do (Java, which the KCL uses, and C++): a varint of more than 10 bytes is an
// error, bits past the 64th are dropped; tags and lengths are varints truncated
// to 32 bits; a length past INT32_MAX or past the end is an error; a tag of
// field 0 or of wire type 6 or 7 is an error.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : pos_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool AtEnd() const { return pos_ == end_; }

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int i = 0; i < kMaxVarintBytes; ++i) {
      if (pos_ == end_) return false;
      const auto b = static_cast<uint8_t>(*pos_++);
      result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);  // i == 9: only bit 63 stays
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }

  bool Tag(uint32_t* field, uint32_t* wire) {
    uint64_t v = 0;
    if (!Varint(&v)) return false;
    const auto tag = static_cast<uint32_t>(v);
    *field = tag >> 3;
    *wire = tag & 7;
    return *field != 0 && *wire <= kFixed32;
  }

  bool LengthDelimited(std::string_view* out) {
    uint64_t v = 0;
    if (!Varint(&v)) return false;
    const auto len = static_cast<uint32_t>(v);
    if (len > static_cast<uint32_t>(INT32_MAX) || len > static_cast<size_t>(end_ - pos_)) return false;
    *out = std::string_view(pos_, len);
    pos_ += len;
    return true;
  }

  bool Fixed(size_t n) {
    if (static_cast<size_t>(end_ - pos_) < n) return false;
    pos_ += n;
    return true;
  }

  // Skips the value of a field this parser does not know (or knows with another
  // wire type, which protobuf also treats as unknown). A group must end with an
  // end-group tag of its own field number; an end-group tag anywhere else is an
  // error.
  bool Skip(uint32_t field, uint32_t wire, int depth) {
    switch (wire) {
      case kVarint: {
        uint64_t v = 0;
        return Varint(&v);
      }
      case kFixed64:
        return Fixed(8);
      case kLengthDelimited: {
        std::string_view v;
        return LengthDelimited(&v);
      }
      case kStartGroup: {
        if (depth + 1 > kMaxDepth) return false;
        while (true) {
          uint32_t f = 0, w = 0;
          if (!Tag(&f, &w)) return false;
          if (w == kEndGroup) return f == field;
          if (!Skip(f, w, depth + 1)) return false;
        }
      }
      case kFixed32:
        return Fixed(4);
      default:  // kEndGroup outside its group
        return false;
    }
  }

 private:
  const char* pos_;
  const char* end_;
};

bool ParseTag(std::string_view bytes, int depth) {
  WireReader r(bytes);
  bool has_key = false;
  while (!r.AtEnd()) {
    uint32_t field = 0, wire = 0;
    if (!r.Tag(&field, &wire)) return false;
    std::string_view s;
    if (field == 1 && wire == kLengthDelimited) {
      if (!r.LengthDelimited(&s)) return false;
      has_key = true;
    } else if (field == 2 && wire == kLengthDelimited) {
      if (!r.LengthDelimited(&s)) return false;
    } else if (!r.Skip(field, wire, depth)) {
      return false;
    }
  }
  return has_key;
}

// A Record with its indexes not yet looked up (the tables may come after it).
struct PendingRecord {
  uint64_t partition_key_index = 0;
  std::optional<uint64_t> explicit_hash_key_index;
  std::string_view data;
};

bool ParseRecord(std::string_view bytes, int depth, PendingRecord* out) {
  WireReader r(bytes);
  bool has_pk = false, has_data = false;
  while (!r.AtEnd()) {
    uint32_t field = 0, wire = 0;
    if (!r.Tag(&field, &wire)) return false;
    if (field == 1 && wire == kVarint) {
      if (!r.Varint(&out->partition_key_index)) return false;
      has_pk = true;
    } else if (field == 2 && wire == kVarint) {
      uint64_t v = 0;
      if (!r.Varint(&v)) return false;
      out->explicit_hash_key_index = v;
    } else if (field == 3 && wire == kLengthDelimited) {
      if (!r.LengthDelimited(&out->data)) return false;
      has_data = true;
    } else if (field == 4 && wire == kLengthDelimited) {
      std::string_view tag;
      if (!r.LengthDelimited(&tag) || !ParseTag(tag, depth + 1)) return false;
    } else if (!r.Skip(field, wire, depth)) {
      return false;
    }
  }
  return has_pk && has_data;
}

bool Md5Matches(std::string_view bytes, std::string_view digest) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_md5(), nullptr) != 1) return false;
  return len == digest.size() && std::memcmp(md, digest.data(), len) == 0;
}

bool DeaggregateInto(std::string_view record, std::vector<UserRecord>* out) {
  // Like the KCL: the protobuf must be at least one byte (a record of just the
  // magic and an MD5 is passed on whole).
  if (record.size() <= kKplMagic.size() + kKplDigestBytes || !record.starts_with(kKplMagic)) return false;
  const std::string_view message =
      record.substr(kKplMagic.size(), record.size() - kKplMagic.size() - kKplDigestBytes);

  std::vector<std::string_view> partition_keys, explicit_hash_keys;
  std::vector<PendingRecord> pending;
  WireReader r(message);
  while (!r.AtEnd()) {
    uint32_t field = 0, wire = 0;
    if (!r.Tag(&field, &wire)) return false;
    std::string_view v;
    if (field == 1 && wire == kLengthDelimited) {
      if (!r.LengthDelimited(&v)) return false;
      partition_keys.push_back(v);
    } else if (field == 2 && wire == kLengthDelimited) {
      if (!r.LengthDelimited(&v)) return false;
      explicit_hash_keys.push_back(v);
    } else if (field == 3 && wire == kLengthDelimited) {
      if (!r.LengthDelimited(&v) || !ParseRecord(v, 1, &pending.emplace_back())) return false;
    } else if (!r.Skip(field, wire, 0)) {
      return false;
    }
  }

  out->reserve(pending.size());
  for (const PendingRecord& p : pending) {
    if (p.partition_key_index >= partition_keys.size()) return false;
    UserRecord u{partition_keys[p.partition_key_index], std::nullopt, p.data};
    if (p.explicit_hash_key_index) {
      if (*p.explicit_hash_key_index >= explicit_hash_keys.size()) return false;
      u.explicit_hash_key = explicit_hash_keys[*p.explicit_hash_key_index];
    }
    out->push_back(u);
  }
  return Md5Matches(message, record.substr(record.size() - kKplDigestBytes));
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutBytesField(uint32_t field, std::string_view bytes, std::string* out) {
  out->push_back(static_cast<char>(field << 3 | kLengthDelimited));
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

}  // namespace

bool Deaggregate(std::string_view record, std::vector<UserRecord>* out) {
  out->clear();
  if (DeaggregateInto(record, out)) return true;
  out->clear();
  return false;
}

std::string Aggregate(std::span<const UserRecord> records) {
  // Tables in order of first use, as the KPL and aws-kinesis-agg build them.
  std::unordered_map<std::string_view, uint64_t> pk_index, ehk_index;
  std::vector<std::string_view> pk_table, ehk_table;
  std::vector<std::pair<uint64_t, std::optional<uint64_t>>> indexes;
  indexes.reserve(records.size());
  size_t estimate = kKplMagic.size() + kKplDigestBytes;
  for (const UserRecord& u : records) {
    auto [pk, pk_new] = pk_index.try_emplace(u.partition_key, pk_table.size());
    if (pk_new) pk_table.push_back(u.partition_key);
    std::optional<uint64_t> ehk;
    if (u.explicit_hash_key) {
      auto [it, ehk_new] = ehk_index.try_emplace(*u.explicit_hash_key, ehk_table.size());
      if (ehk_new) ehk_table.push_back(*u.explicit_hash_key);
      ehk = it->second;
    }
    indexes.emplace_back(pk->second, ehk);
    estimate += u.data.size() + 32;
  }
  for (std::string_view k : pk_table) estimate += k.size() + 8;
  for (std::string_view k : ehk_table) estimate += k.size() + 8;

  std::string out;
  out.reserve(estimate);
  out.append(kKplMagic);
  for (std::string_view k : pk_table) PutBytesField(1, k, &out);
  for (std::string_view k : ehk_table) PutBytesField(2, k, &out);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& [pk, ehk] = indexes[i];
    const std::string_view data = records[i].data;
    size_t inner = 1 + VarintSize(pk) + 1 + VarintSize(data.size()) + data.size();
    if (ehk) inner += 1 + VarintSize(*ehk);
    out.push_back(static_cast<char>(3 << 3 | kLengthDelimited));
    PutVarint(inner, &out);
    out.push_back(static_cast<char>(1 << 3 | kVarint));
    PutVarint(pk, &out);
    if (ehk) {
      out.push_back(static_cast<char>(2 << 3 | kVarint));
      PutVarint(*ehk, &out);
    }
    PutBytesField(3, data, &out);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(out.data() + kKplMagic.size(), out.size() - kKplMagic.size(), md, &len, EVP_md5(), nullptr);
  out.append(reinterpret_cast<const char*>(md), len);
  return out;
}

}  // namespace hydrant::kinesis
