#include "destinations/store_format.h"

#include <cstdio>

#include "common/digest.h"
#include "common/strings.h"
#include "destinations/object_store.h"

namespace hydrant::store::store_format {
namespace {


// Metadata values hold arbitrary bytes (keys, user metadata); escape everything
// outside printable ASCII, and '%' and ' ', so each field stays on one line.
std::string Escape(std::string_view s) {
  return PercentEncodeExcept(s, [](unsigned char c) { return c > 0x20 && c < 0x7f && c != '%'; });
}

std::optional<std::string> Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexDigitValue(s[i + 1]), lo = HexDigitValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Splits "name value" lines; stops at "end".
struct MetaFields {
  std::vector<std::pair<std::string, std::string>> fields;
  bool complete = false;
};

MetaFields ParseLines(std::string_view text, std::string_view magic) {
  MetaFields out;
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) break;  // a line without '\n' is truncated
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (first) {
      if (line != magic) return out;
      first = false;
      continue;
    }
    if (line == "end") {
      out.complete = true;
      return out;
    }
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      out.fields.emplace_back(std::string(line), "");
    } else {
      out.fields.emplace_back(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
    }
  }
  return out;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool ParseDataId(std::string_view value, uint64_t* out) {
  std::optional<std::string> d;
  if (std::string v; HexDecode(value, &v)) d = std::move(v);
  if (!d || d->size() != 8) return false;
  uint64_t id = 0;
  for (unsigned char c : *d) id = (id << 8) | c;
  *out = id;
  return true;
}

// "<size>,<size>,..." (at most kMaxPartNumber sizes).
bool ParsePartSizes(std::string_view value, std::vector<uint64_t>* out) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    uint64_t v;
    if (!ParseU64(value.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos),
                  &v)) {
      return false;
    }
    out->push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out->size() <= static_cast<size_t>(kMaxPartNumber);
}

void EncodePartSizes(std::string* s, const std::vector<uint64_t>& part_sizes) {
  if (part_sizes.empty()) return;
  std::string sizes;
  for (uint64_t p : part_sizes) {
    if (!sizes.empty()) sizes += ',';
    sizes += std::to_string(p);
  }
  *s += "part_sizes " + sizes + "\n";
}

// Appends "name value\n".
void Field(std::string* s, std::string_view name, std::string_view value) {
  *s += name;
  *s += ' ';
  *s += value;
  *s += '\n';
}

void EncodeObjectMeta(std::string* s, const ObjectMeta& meta) {
  Field(s, "content_type", Escape(meta.content_type));
  Field(s, "content_encoding", Escape(meta.content_encoding));
  for (const auto& [k, v] : meta.user_meta) Field(s, "meta", Escape(k) + " " + Escape(v));
  if (!meta.encryption.empty()) Field(s, "sse", Escape(meta.encryption));
}

// Parses a content_type / content_encoding / meta field into `meta`. Returns
// false when the field is one of those but malformed; true otherwise.
bool DecodeObjectMetaField(const std::string& name, const std::string& value, ObjectMeta* meta,
                           bool* known) {
  *known = true;
  if (name == "content_type") {
    auto v = Unescape(value);
    if (!v) return false;
    meta->content_type = *v;
  } else if (name == "content_encoding") {
    auto v = Unescape(value);
    if (!v) return false;
    meta->content_encoding = *v;
  } else if (name == "meta") {
    size_t sp = value.find(' ');
    if (sp == std::string::npos) return false;
    auto k = Unescape(std::string_view(value).substr(0, sp));
    auto v = Unescape(std::string_view(value).substr(sp + 1));
    if (!k || !v) return false;
    meta->user_meta[*k] = *v;
  } else if (name == "sse") {
    auto v = Unescape(value);
    if (!v) return false;
    meta->encryption = *v;
  } else {
    *known = false;
  }
  return true;
}

}  // namespace

std::string IdHex(uint64_t id) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(id >> (56 - 8 * i));
  return HexEncode(std::string_view(reinterpret_cast<const char*>(b), 8));
}

std::string HexOf(const std::string& raw) {
  return HexEncode(raw);
}

bool IsShardName(std::string_view name) {
  return name.size() == 2 && HexDigitValue(name[0]) >= 0 && HexDigitValue(name[1]) >= 0;
}

bool IsObjectMetaName(std::string_view f) {
  return f.size() == 64 + 5 && f.compare(64, 5, ".meta") == 0;
}

bool IsDataName(std::string_view f) {
  return f.size() >= 5 && f.compare(f.size() - 5, 5, ".data") == 0;
}

KeyPaths PathsFor(const std::string& bucket_dir, std::string_view key) {
  std::string sha = Sha256Hex(key);
  KeyPaths p;
  p.shard_dir = bucket_dir + "/" + sha.substr(0, 2);
  p.stem = p.shard_dir + "/" + sha;
  return p;
}

std::string EncodeMeta(std::string_view key, uint64_t size, const std::string& md5,
                       int64_t mtime_ms, uint64_t data_id, const ObjectMeta& meta,
                       const std::vector<uint64_t>& part_sizes) {
  std::string s = kMetaMagic;
  s += '\n';
  Field(&s, "key", Escape(key));
  Field(&s, "size", std::to_string(size));
  Field(&s, "md5", HexOf(md5));
  Field(&s, "mtime_ms", std::to_string(mtime_ms));
  Field(&s, "data", IdHex(data_id));
  EncodeObjectMeta(&s, meta);
  EncodePartSizes(&s, part_sizes);
  s += "end\n";
  return s;
}

std::string EncodeAttrs(const ObjectMeta& meta, const std::vector<uint64_t>& part_sizes) {
  std::string s = kAttrsMagic;
  s += '\n';
  EncodeObjectMeta(&s, meta);
  EncodePartSizes(&s, part_sizes);
  s += "end\n";
  return s;
}

bool DecodeAttrs(std::string_view text, ObjectMeta* meta, std::vector<uint64_t>* part_sizes) {
  MetaFields mf = ParseLines(text, kAttrsMagic);
  if (!mf.complete) return false;
  for (const auto& [name, value] : mf.fields) {
    bool known;
    if (name == "part_sizes") {
      if (!ParsePartSizes(value, part_sizes)) return false;
    } else if (!DecodeObjectMetaField(name, value, meta, &known)) {
      return false;
    }
  }
  return true;
}

// Parses a metadata file; nullopt when it is not a complete, well-formed one.
std::optional<ParsedMeta> DecodeMeta(std::string_view text) {
  MetaFields mf = ParseLines(text, kMetaMagic);
  if (!mf.complete) return std::nullopt;
  ParsedMeta pm;
  bool have_key = false, have_size = false, have_md5 = false, have_data = false;
  for (const auto& [name, value] : mf.fields) {
    if (name == "key") {
      auto k = Unescape(value);
      if (!k) return std::nullopt;
      pm.key = *k;
      have_key = true;
    } else if (name == "size") {
      if (!ParseU64(value, &pm.size)) return std::nullopt;
      have_size = true;
    } else if (name == "md5") {
      std::optional<std::string> m;
      if (std::string v; HexDecode(value, &v)) m = std::move(v);
      if (!m || m->size() != 16) return std::nullopt;
      pm.md5 = *m;
      have_md5 = true;
    } else if (name == "mtime_ms") {
      uint64_t v;
      if (!ParseU64(value, &v)) return std::nullopt;
      pm.mtime_ms = static_cast<int64_t>(v);
    } else if (name == "data") {
      if (!ParseDataId(value, &pm.data_id)) return std::nullopt;
      have_data = true;
    } else if (name == "part_sizes") {
      if (!ParsePartSizes(value, &pm.part_sizes)) return std::nullopt;
    } else {
      bool known;
      if (!DecodeObjectMetaField(name, value, &pm.meta, &known)) return std::nullopt;
      // unknown fields: written by a newer version; ignored
    }
  }
  if (!have_key || !have_size || !have_md5 || !have_data) return std::nullopt;
  if (!pm.part_sizes.empty()) {
    uint64_t total = 0;
    for (uint64_t p : pm.part_sizes) total += p;
    if (total != pm.size) return std::nullopt;
  }
  return pm;
}

bool IsUploadId(std::string_view id) {
  if (id.size() != kUploadIdLen) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// "00042": part files sort by number.
std::string PartStem(int number) {
  char buf[16];
  snprintf(buf, sizeof(buf), "%05d", number);
  return buf;
}

bool IsPartMetaName(std::string_view f) {
  return f.size() == 5 + 5 && f.compare(5, 5, ".meta") == 0;
}

std::string PartMetaName(int number) { return PartStem(number) + ".meta"; }

std::string PartDataName(int number, uint64_t data_id) {
  return PartStem(number) + "." + IdHex(data_id) + ".data";
}

std::string EncodeBucket(int64_t creation_ms) {
  return std::string(kBucketMagic) + "\ncreation_ms " + std::to_string(creation_ms) + "\nend\n";
}

std::optional<int64_t> DecodeBucket(std::string_view text) {
  MetaFields mf = ParseLines(text, kBucketMagic);
  if (!mf.complete) return std::nullopt;
  std::optional<int64_t> creation_ms;
  for (const auto& [k, v] : mf.fields) {
    uint64_t ms;
    if (k == "creation_ms" && ParseU64(v, &ms)) creation_ms = static_cast<int64_t>(ms);
  }
  return creation_ms;
}

std::string EncodeUpload(std::string_view bucket, std::string_view key, int64_t initiated_ms,
                         const ObjectMeta& meta) {
  std::string s = kUploadMagic;
  s += '\n';
  Field(&s, "bucket", Escape(bucket));
  Field(&s, "key", Escape(key));
  Field(&s, "initiated_ms", std::to_string(initiated_ms));
  EncodeObjectMeta(&s, meta);
  s += "end\n";
  return s;
}

std::optional<ParsedUpload> DecodeUpload(std::string_view text) {
  MetaFields mf = ParseLines(text, kUploadMagic);
  if (!mf.complete) return std::nullopt;
  ParsedUpload pu;
  bool have_bucket = false, have_key = false;
  for (const auto& [name, value] : mf.fields) {
    if (name == "bucket" || name == "key") {
      auto v = Unescape(value);
      if (!v) return std::nullopt;
      (name == "bucket" ? pu.bucket : pu.key) = *v;
      (name == "bucket" ? have_bucket : have_key) = true;
    } else if (name == "initiated_ms") {
      uint64_t v;
      if (!ParseU64(value, &v)) return std::nullopt;
      pu.initiated_ms = static_cast<int64_t>(v);
    } else {
      bool known;
      if (!DecodeObjectMetaField(name, value, &pu.meta, &known)) return std::nullopt;
    }
  }
  if (!have_bucket || !have_key) return std::nullopt;
  return pu;
}

std::string EncodePart(int number, uint64_t size, const std::string& md5, int64_t mtime_ms,
                       uint64_t data_id) {
  std::string s = kPartMagic;
  s += '\n';
  Field(&s, "number", std::to_string(number));
  Field(&s, "size", std::to_string(size));
  Field(&s, "md5", HexOf(md5));
  Field(&s, "mtime_ms", std::to_string(mtime_ms));
  Field(&s, "data", IdHex(data_id));
  s += "end\n";
  return s;
}

std::optional<ParsedPart> DecodePart(std::string_view text) {
  MetaFields mf = ParseLines(text, kPartMagic);
  if (!mf.complete) return std::nullopt;
  ParsedPart pp;
  int have = 0;
  for (const auto& [name, value] : mf.fields) {
    if (name == "number") {
      if (!ParseU64(value, &pp.number)) return std::nullopt;
      have |= 1;
    } else if (name == "size") {
      if (!ParseU64(value, &pp.size)) return std::nullopt;
      have |= 2;
    } else if (name == "md5") {
      std::optional<std::string> m;
      if (std::string v; HexDecode(value, &v)) m = std::move(v);
      if (!m || m->size() != 16) return std::nullopt;
      pp.md5 = *m;
      have |= 4;
    } else if (name == "mtime_ms") {
      if (!ParseU64(value, &pp.mtime_ms)) return std::nullopt;
    } else if (name == "data") {
      if (!ParseDataId(value, &pp.data_id)) return std::nullopt;
      have |= 8;
    }
  }
  if (have != 15 || pp.number < 1 || pp.number > static_cast<uint64_t>(kMaxPartNumber)) {
    return std::nullopt;
  }
  return pp;
}

}  // namespace hydrant::store::store_format
