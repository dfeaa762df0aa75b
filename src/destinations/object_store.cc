#include "destinations/object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>

#include "destinations/md5_stream.h"
#include "destinations/sink_errors.h"

namespace hydrant::store {

// On-disk layout (docs/object-store.md):
//   <root>/.lock                          flock'ed while a store has the root open
//   <root>/.tmp/                          temp files; emptied at Open
//   <root>/<bucket>/.bucket               bucket metadata (creation time)
//   <root>/<bucket>/<hh>/<sha>.meta       object metadata, names the data file
//   <root>/<bucket>/<hh>/<sha>.<id>.data  object bytes
// where <sha> is the lower-case hex SHA-256 of the key and <hh> its first two
// characters. Bucket names never start with '.', so the store's own names
// cannot collide with a bucket; hashed names cannot collide with anything.
namespace {

constexpr char kTmpDir[] = ".tmp";
constexpr char kLockFile[] = ".lock";
constexpr char kBucketFile[] = ".bucket";
constexpr char kMetaMagic[] = "hydrant-object-meta 1";
constexpr char kBucketMagic[] = "hydrant-bucket 1";
constexpr char kUploadsDir[] = ".uploads";
constexpr char kUploadFile[] = "upload";
constexpr char kUploadMagic[] = "hydrant-upload 1";
constexpr char kPartMagic[] = "hydrant-part 1";
constexpr size_t kWriteBuffer = 256 * 1024;
// An object's data is written back in steps of this size: each step's writeback is
// started, and the step before it waited for, before more is written (TempFile), so
// at most two steps of the object are dirty at any time (docs/architecture.md,
// "Object writes and the log's fdatasync").
constexpr uint64_t kWritebackStep = 1 << 20;
constexpr size_t kCopyChunk = 1 << 20;  // read/write fallback of the part concatenation
constexpr size_t kUploadIdLen = 32;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> Unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::string out(s.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexVal(s[2 * i]), lo = HexVal(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

// Metadata values hold arbitrary bytes (keys, user metadata); escape everything
// outside printable ASCII, and '%' and ' ', so each field stays on one line.
std::string Escape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c > 0x20 && c < 0x7f && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
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
    int hi = HexVal(s[i + 1]), lo = HexVal(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno("fsync " + path, err);
  return Status::Ok();
}

// Writes `data` to `path` (a new file) and fsyncs it.
Status WriteFileSynced(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + path, errno);
  Status st = WriteAll(fd, data, path);
  if (st.ok() && ::fsync(fd) != 0) st = Status::FromErrno("fsync " + path, errno);
  ::close(fd);
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) break;  // metadata is small; refuse runaway files
  }
  ::close(fd);
  return out;
}

// Lists the names in a directory (without "." and "..").
std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
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

// Decodes one code point; returns its length, or 0 when invalid.
size_t Utf8Len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// The smallest string greater than every string starting with `p`, or "" when
// none exists (p is all 0xFF bytes).
std::string PrefixEnd(std::string p) {
  while (!p.empty()) {
    unsigned char c = static_cast<unsigned char>(p.back());
    if (c != 0xFF) {
      p.back() = static_cast<char>(c + 1);
      return p;
    }
    p.pop_back();
  }
  return p;
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

bool IsIpv4Like(std::string_view n) {
  int parts = 0;
  size_t pos = 0;
  while (true) {
    size_t dot = n.find('.', pos);
    std::string_view part = n.substr(pos, dot == std::string_view::npos ? n.npos : dot - pos);
    if (part.empty() || part.size() > 3) return false;
    for (char c : part)
      if (c < '0' || c > '9') return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return parts == 4;
}

std::string IdHex(uint64_t id) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(id >> (56 - 8 * i));
  return Hex(b, 8);
}

}  // namespace

bool IsValidBucketName(std::string_view n) {
  if (n.size() < 3 || n.size() > 63) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(n.front()) || !alnum(n.back())) return false;
  if (n.find("..") != std::string_view::npos) return false;
  if (IsIpv4Like(n)) return false;
  for (std::string_view p : {"xn--", "sthree-", "amzn-s3-demo-"})
    if (StartsWith(n, p)) return false;
  for (std::string_view s : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
    if (n.size() >= s.size() && n.substr(n.size() - s.size()) == s) return false;
  }
  return true;
}

std::optional<std::string> ValidateKey(std::string_view key) {
  if (key.empty()) return "The object key must not be empty.";
  if (key.size() > 1024) return "Your key is too long (the limit is 1024 bytes).";
  for (size_t i = 0; i < key.size();) {
    if (key[i] == '\0') return "The object key must not contain NUL characters.";
    size_t len = Utf8Len(key, i);
    if (len == 0) return "The object key is not valid UTF-8.";
    i += len;
  }
  return std::nullopt;
}

std::pair<std::string, std::string> SplitErrorCode(const Status& st) {
  const std::string& m = st.message();
  for (const char* code :
       {kNoSuchUpload, kInvalidPart, kInvalidPartOrder, kEntityTooSmall, kMalformedXml}) {
    std::string_view c = code;
    if (m.size() >= c.size() + 2 && m.compare(0, c.size(), c) == 0 &&
        m.compare(c.size(), 2, ": ") == 0) {
      return {std::string(c), m.substr(c.size() + 2)};
    }
  }
  return {"", m};
}

// --- in-memory index ---------------------------------------------------------

struct ObjectStore::Entry {
  uint64_t size = 0;
  int64_t last_modified_ms = 0;
  std::string md5;  // 16 raw bytes (for multipart objects: MD5 of the parts' MD5s)
  uint64_t data_id = 0;
  ObjectMeta meta;
  std::vector<uint64_t> part_sizes;  // multipart objects only
};

struct ObjectStore::Upload {
  struct Part {
    uint64_t size = 0;
    std::string md5;  // 16 raw bytes
    uint64_t data_id = 0;
    int64_t mtime_ms = 0;
  };
  // Set at creation, never changed: readable without `mu`.
  std::string id, bucket, key;
  int64_t initiated_ms = 0;
  ObjectMeta meta;
  // Held while a part is published and through Complete/Abort, so parts do not
  // change under a completion and nothing is added after the upload is gone.
  std::mutex mu;
  std::atomic<bool> gone{false};  // completed, aborted or its bucket deleted
  std::map<int, Part> parts;      // guarded by mu
};

struct ObjectStore::Bucket {
  int64_t creation_ms = 0;
  mutable std::shared_mutex mu;  // guards objects; held exclusively while publishing
  std::map<std::string, Entry, std::less<>> objects;
};

namespace {

struct KeyPaths {
  std::string shard_dir;  // <bucket>/<hh>
  std::string stem;       // <bucket>/<hh>/<sha>
  std::string Meta() const { return stem + ".meta"; }
  std::string Data(uint64_t id) const { return stem + "." + IdHex(id) + ".data"; }
};

KeyPaths PathsFor(const std::string& bucket_dir, std::string_view key) {
  std::string sha = Sha256Hex(key);
  KeyPaths p;
  p.shard_dir = bucket_dir + "/" + sha.substr(0, 2);
  p.stem = p.shard_dir + "/" + sha;
  return p;
}

std::string HexOf(const std::string& raw) {
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

// S3's ETag: the MD5, or for a multipart object the MD5 of the parts' MD5s
// followed by "-<part count>"; quoted.
std::string EtagOf(const std::string& md5, size_t parts) {
  std::string e = "\"" + HexOf(md5);
  if (parts > 0) e += "-" + std::to_string(parts);
  return e + "\"";
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
  } else {
    *known = false;
  }
  return true;
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
  if (!part_sizes.empty()) {
    std::string sizes;
    for (uint64_t p : part_sizes) {
      if (!sizes.empty()) sizes += ',';
      sizes += std::to_string(p);
    }
    Field(&s, "part_sizes", sizes);
  }
  s += "end\n";
  return s;
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

struct ParsedMeta {
  std::string key;
  uint64_t size = 0;
  std::string md5;
  int64_t mtime_ms = 0;
  uint64_t data_id = 0;
  ObjectMeta meta;
  std::vector<uint64_t> part_sizes;
};

bool ParseDataId(std::string_view value, uint64_t* out) {
  auto d = Unhex(value);
  if (!d || d->size() != 8) return false;
  uint64_t id = 0;
  for (unsigned char c : *d) id = (id << 8) | c;
  *out = id;
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
      auto m = Unhex(value);
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
      size_t pos = 0;
      while (pos <= value.size()) {
        size_t comma = value.find(',', pos);
        uint64_t v;
        if (!ParseU64(std::string_view(value).substr(
                          pos, comma == std::string::npos ? std::string::npos : comma - pos),
                      &v)) {
          return std::nullopt;
        }
        pm.part_sizes.push_back(v);
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      if (pm.part_sizes.size() > static_cast<size_t>(kMaxPartNumber)) return std::nullopt;
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

// --- multipart upload files ----------------------------------------------------

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

struct ParsedUpload {
  std::string bucket, key;
  int64_t initiated_ms = 0;
  ObjectMeta meta;
};

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

struct ParsedPart {
  uint64_t number = 0;
  uint64_t size = 0;
  std::string md5;
  uint64_t mtime_ms = 0;
  uint64_t data_id = 0;
};

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
      auto m = Unhex(value);
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

Status CodedError(StatusCode code, std::string_view s3_code, std::string_view text) {
  return Status(code, std::string(s3_code) + ": " + std::string(text));
}

Status NoSuchUploadError() {
  return CodedError(StatusCode::kNotFound, kNoSuchUpload,
                    "The specified upload does not exist. The upload ID may be invalid, or the "
                    "upload may have been aborted or completed.");
}

// Appends `size` bytes of the file `src` to `out_fd`: copy_file_range (the kernel
// copies, nothing passes through user space), else read/write in 1 MiB chunks.
Status AppendFile(int out_fd, const std::string& src, uint64_t size, const std::string& out_path) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::FromErrno("open " + src, errno);
  uint64_t left = size;
  bool kernel_copy = true;
  std::string buf;
  Status st;
  while (left > 0 && st.ok()) {
    if (kernel_copy) {
      ssize_t n = ::copy_file_range(in, nullptr, out_fd, nullptr,
                                    static_cast<size_t>(std::min<uint64_t>(left, 1u << 30)), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
                    errno == EPERM)) {
        kernel_copy = false;  // file offsets are where they were: go on by hand
        continue;
      }
      if (n < 0) {
        st = Status::FromErrno("copy " + src + " to " + out_path, errno);
      } else if (n == 0) {
        st = Status::IoError(src + " is shorter than recorded");
      } else {
        left -= static_cast<uint64_t>(n);
      }
      continue;
    }
    if (buf.empty()) buf.resize(kCopyChunk);
    ssize_t n = ::read(in, buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Status::FromErrno("read " + src, errno);
    } else if (n == 0) {
      st = Status::IoError(src + " is shorter than recorded");
    } else {
      st = WriteAll(out_fd, std::string_view(buf.data(), static_cast<size_t>(n)), out_path);
      left -= static_cast<uint64_t>(n);
    }
  }
  ::close(in);
  return st;
}
}  // namespace

// --- writers -----------------------------------------------------------------

namespace {

// A new file (in .tmp) written through a 256 KiB buffer, its MD5 computed on
// the way (beside the writes, on a helper thread, for large files: Md5Stream).
// Unlinked on destruction unless Keep() says it was moved elsewhere.
//
// Bounded writeback: every kWritebackStep bytes, the step just written is handed
// to the disk (sync_file_range WRITE) and the step before it is waited for
// (WAIT_BEFORE|WRITE|WAIT_AFTER) before more is written. Without it the kernel writes a large object back in big bursts
// and the final fsync flushes the rest at once; either fills the device queue, and
// a stream log's fdatasync issued meanwhile waits behind up to the whole object
// (tens of ms; measured in docs/architecture.md). sync_file_range makes nothing
// durable by itself (no metadata, no cache flush): Finish() still fsyncs, with
// almost nothing left to write. Where sync_file_range is not supported the file
// is simply written and fsynced as before.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    buf_.reserve(kWriteBuffer);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(path_.c_str());
  }

  Status Write(std::string_view bytes) {
    if (done_) return Status::Internal("write after commit");
    if (!error_.ok()) return error_;
    size_ += bytes.size();
    if (buf_.size() + bytes.size() <= kWriteBuffer) {
      buf_.append(bytes);
      return Status::Ok();
    }
    error_ = Flush();
    if (error_.ok()) {
      if (bytes.size() >= kWriteBuffer) {
        error_ = WriteOut(bytes);
      } else {
        buf_.append(bytes);
      }
    }
    return error_;
  }

  // Flushes, fsyncs and closes the file; returns the raw MD5 of what was written.
  Result<std::string> Finish() {
    if (done_) return Status::Internal("commit called twice");
    done_ = true;
    if (!error_.ok()) return error_;
    HYDRANT_RETURN_IF_ERROR(Flush());
    if (::fsync(fd_) != 0) return Status::FromErrno("fsync " + path_, errno);
    ::close(fd_);
    fd_ = -1;
    return md5_.Finish();
  }

  void Keep() { kept_ = true; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  Status Flush() {
    Status st = WriteOut(buf_);
    buf_.clear();
    return st;
  }

  // Hashes, then writes at the end of the file, a writeback step at a time.
  Status WriteOut(std::string_view data) {
    md5_.Add(data);
    while (!data.empty()) {
      const uint64_t room = kWritebackStep - (written_ - synced_);
      const size_t n = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
      HYDRANT_RETURN_IF_ERROR(WriteAll(fd_, data.substr(0, n), path_));
      written_ += n;
      data.remove_prefix(n);
      if (written_ - synced_ >= kWritebackStep) HYDRANT_RETURN_IF_ERROR(WriteBackStep());
    }
    return Status::Ok();
  }

  // Starts the writeback of the step just written, then waits for the one before
  // (so the disk always has the next step queued: full write speed, with at most
  // two steps in flight).
  Status WriteBackStep() {
    const auto start = static_cast<off64_t>(synced_);
    const auto len = static_cast<off64_t>(written_ - synced_);
    synced_ = written_;
    if (!step_writeback_) return Status::Ok();
    bool ok = ::sync_file_range(fd_, start, len, SYNC_FILE_RANGE_WRITE) == 0;
    if (ok && start > 0) {
      const auto prev = static_cast<off64_t>(std::min<uint64_t>(kWritebackStep, start));
      ok = ::sync_file_range(fd_, start - prev, prev,
                             SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                 SYNC_FILE_RANGE_WAIT_AFTER) == 0;
    }
    if (ok) return Status::Ok();
    const int err = errno;
    if (err == ENOSYS || err == EINVAL || err == ESPIPE || err == EOPNOTSUPP) {
      step_writeback_ = false;  // unsupported here: write the rest as before
      return Status::Ok();
    }
    // A write-back error: the waiting sync_file_range has consumed it for this file
    // description, so the final fsync would not report it. The object fails here.
    return Status::FromErrno("write back " + path_, err);
  }

  int fd_;
  std::string path_;
  Md5Stream md5_;
  std::string buf_;
  uint64_t size_ = 0;
  uint64_t written_ = 0;  // bytes written to the file
  uint64_t synced_ = 0;   // bytes whose writeback was started and waited for
  bool step_writeback_ = true;
  bool done_ = false;
  bool kept_ = false;
  Status error_;
};

}  // namespace

class ObjectStore::Writer final : public ObjectWriter {
 public:
  Writer(ObjectStore* store, std::string bucket, std::string key, ObjectMeta meta, int fd,
         std::string tmp_path)
      : store_(store),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        meta_(std::move(meta)),
        file_(fd, std::move(tmp_path)) {}

  Status Write(std::string_view bytes) override { return file_.Write(bytes); }

  Result<ObjectInfo> Commit() override {
    auto md5 = file_.Finish();
    if (!md5.ok()) return md5.status();
    auto info = store_->Publish(bucket_, key_, file_.path(), file_.size(), *md5, meta_);
    if (info.ok()) file_.Keep();
    return info;
  }

 private:
  ObjectStore* store_;
  std::string bucket_, key_;
  ObjectMeta meta_;
  TempFile file_;
};

class ObjectStore::PartWriterImpl final : public PartWriter {
 public:
  PartWriterImpl(ObjectStore* store, std::shared_ptr<Upload> upload, int number, int fd,
                 std::string tmp_path)
      : store_(store),
        upload_(std::move(upload)),
        number_(number),
        file_(fd, std::move(tmp_path)) {}

  Status Write(std::string_view bytes) override { return file_.Write(bytes); }

  Result<PartInfo> Commit() override {
    auto md5 = file_.Finish();  // durable before the part is acknowledged
    if (!md5.ok()) return md5.status();
    auto info = store_->PublishPart(upload_, number_, file_.path(), file_.size(), *md5);
    if (info.ok()) file_.Keep();
    return info;
  }

 private:
  ObjectStore* store_;
  std::shared_ptr<Upload> upload_;
  int number_;
  TempFile file_;
};

// --- store -------------------------------------------------------------------

ObjectStore::ObjectStore(std::string root, int lock_fd)
    : root_(std::move(root)), lock_fd_(lock_fd) {}

ObjectStore::~ObjectStore() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<ObjectStore>> ObjectStore::Open(const std::string& root_in) {
  std::string root = root_in;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return Status::IoError("create " + root + ": " + ec.message());
  std::string lock_path = root + "/" + kLockFile;
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("open " + lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Unavailable("object store " + root + " is in use by another process");
    }
    return Status::FromErrno("flock " + lock_path, err);
  }
  std::unique_ptr<ObjectStore> store(new ObjectStore(root, fd));
  HYDRANT_RETURN_IF_ERROR(store->Load());
  return store;
}

std::string ObjectStore::BucketDir(std::string_view bucket) const {
  return root_ + "/" + std::string(bucket);
}

uint64_t ObjectStore::NewId() {
  // splitmix64 over a per-process random seed plus a counter: distinct within
  // the process, and unlikely to meet an id left by an earlier process.
  static const uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
           static_cast<uint64_t>(NowMillis()) * 0x9E3779B97F4A7C15ull;
  }();
  static std::atomic<uint64_t> counter{0};
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (++counter);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string ObjectStore::NewTempPath(std::string_view suffix) {
  return root_ + "/" + kTmpDir + "/" + IdHex(NewId()) + std::string(suffix);
}

Status ObjectStore::Load() {
  std::string tmp = root_ + "/" + kTmpDir;
  std::error_code ec;
  // Whatever is in tmp belongs to writers that never committed, or to buckets
  // being deleted: none of it is visible, all of it can go.
  std::filesystem::remove_all(tmp, ec);
  if (ec) return Status::IoError("clean " + tmp + ": " + ec.message());
  if (::mkdir(tmp.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno("mkdir " + tmp, errno);
  }
  for (const std::string& name : ListDir(root_)) {
    if (!IsValidBucketName(name) || !IsDir(BucketDir(name))) continue;
    auto bucket = std::make_unique<Bucket>();
    HYDRANT_RETURN_IF_ERROR(LoadBucket(name, bucket.get()));
    buckets_.emplace(name, std::move(bucket));
  }
  return LoadUploads();
}

Status ObjectStore::LoadBucket(const std::string& name, Bucket* bucket) {
  std::string dir = BucketDir(name);
  auto text = ReadSmallFile(dir + "/" + kBucketFile);
  bool have_ctime = false;
  if (text) {
    MetaFields mf = ParseLines(*text, kBucketMagic);
    for (const auto& [k, v] : mf.fields) {
      uint64_t ms;
      if (mf.complete && k == "creation_ms" && ParseU64(v, &ms)) {
        bucket->creation_ms = static_cast<int64_t>(ms);
        have_ctime = true;
      }
    }
  }
  if (!have_ctime) {
    // A bucket folder made by hand: take its modification time.
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) bucket->creation_ms = int64_t{st.st_mtime} * 1000;
  }
  size_t dropped = 0;
  for (const std::string& shard : ListDir(dir)) {
    if (shard.size() != 2 || HexVal(shard[0]) < 0 || HexVal(shard[1]) < 0) continue;
    std::string shard_dir = dir + "/" + shard;
    if (!IsDir(shard_dir)) continue;
    std::vector<std::string> names = ListDir(shard_dir);
    std::vector<std::string> keep;  // data files referenced by a valid meta
    for (const std::string& f : names) {
      if (f.size() != 64 + 5 || f.compare(64, 5, ".meta") != 0) continue;
      std::string meta_path = shard_dir + "/" + f;
      auto content = ReadSmallFile(meta_path);
      std::optional<ParsedMeta> pm;
      if (content) pm = DecodeMeta(*content);
      bool ok = pm.has_value();
      KeyPaths kp;
      if (ok) {
        kp = PathsFor(dir, pm->key);
        ok = kp.Meta() == meta_path;
      }
      if (ok) {
        struct stat st;
        std::string data = kp.Data(pm->data_id);
        ok = ::stat(data.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == pm->size;
        if (ok) keep.push_back(data.substr(shard_dir.size() + 1));
      }
      if (!ok) {
        // Cannot come from a crash (metadata is fsynced before it is renamed into
        // place, after its data); only from damage. Such an object cannot be served.
        spdlog::warn("object store: dropping unreadable object metadata {}", meta_path);
        ::unlink(meta_path.c_str());
        ++dropped;
        continue;
      }
      Entry e;
      e.size = pm->size;
      e.last_modified_ms = pm->mtime_ms;
      e.md5 = std::move(pm->md5);
      e.data_id = pm->data_id;
      e.meta = std::move(pm->meta);
      e.part_sizes = std::move(pm->part_sizes);
      bucket->objects[pm->key] = std::move(e);
    }
    // Data files no metadata points at: a put that crashed before its commit
    // point, or the previous version of an overwritten/deleted object.
    for (const std::string& f : names) {
      if (f.size() < 5 || f.compare(f.size() - 5, 5, ".data") != 0) continue;
      if (std::find(keep.begin(), keep.end(), f) != keep.end()) continue;
      ::unlink((shard_dir + "/" + f).c_str());
    }
  }
  if (dropped) spdlog::warn("object store: bucket {}: dropped {} damaged objects", name, dropped);
  return Status::Ok();
}

Status ObjectStore::CreateBucket(std::string_view name) {
  if (!IsValidBucketName(name)) {
    return Status::InvalidArgument("The specified bucket is not valid.");
  }
  std::unique_lock lock(mu_);
  if (buckets_.count(name)) return Status::AlreadyExists("bucket " + std::string(name) + " exists");
  // Build the bucket folder in tmp and rename it into place: a bucket appears
  // with its metadata or not at all.
  std::string tmp_dir = NewTempPath(".bucket");
  if (::mkdir(tmp_dir.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + tmp_dir, errno);
  int64_t now = NowMillis();
  std::string text = std::string(kBucketMagic) + "\ncreation_ms " + std::to_string(now) + "\nend\n";
  Status st = WriteFileSynced(tmp_dir + "/" + kBucketFile, text);
  if (st.ok()) st = FsyncPath(tmp_dir);
  std::string dir = BucketDir(name);
  if (st.ok() && ::rename(tmp_dir.c_str(), dir.c_str()) != 0) {
    st = Status::FromErrno("rename " + tmp_dir + " to " + dir, errno);
  }
  if (!st.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_dir, ec);
    return st;
  }
  HYDRANT_RETURN_IF_ERROR(FsyncPath(root_));
  auto b = std::make_unique<Bucket>();
  b->creation_ms = now;
  buckets_.emplace(std::string(name), std::move(b));
  return Status::Ok();
}

Status ObjectStore::DeleteBucket(std::string_view name) {
  std::unique_lock lock(mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  {
    std::unique_lock block(it->second->mu);
    if (!it->second->objects.empty()) return Status::InvalidArgument("BucketNotEmpty");
  }
  std::string dir = BucketDir(name);
  std::string tmp_dir = NewTempPath(".deleted");
  if (::rename(dir.c_str(), tmp_dir.c_str()) != 0) {
    return Status::FromErrno("rename " + dir + " to " + tmp_dir, errno);
  }
  HYDRANT_RETURN_IF_ERROR(FsyncPath(root_));
  buckets_.erase(it);
  std::error_code ec;
  std::filesystem::remove_all(tmp_dir, ec);  // leftovers are removed at next Open
  // As S3: in-progress multipart uploads do not keep a bucket alive; they go
  // with it. (A crash here leaves them to Open, which drops uploads whose
  // bucket is gone.) No Upload::mu is taken: a completion holding it waits for
  // mu_ in Publish, and then finds no bucket.
  std::vector<std::shared_ptr<Upload>> doomed;
  {
    std::lock_guard ulock(uploads_mu_);
    for (const auto& [id, up] : uploads_)
      if (up->bucket == name) doomed.push_back(up);
  }
  for (const auto& up : doomed) DropUpload(up.get());
  return Status::Ok();
}

bool ObjectStore::BucketExists(std::string_view name) const {
  std::shared_lock lock(mu_);
  return buckets_.count(name) > 0;
}

std::vector<BucketInfo> ObjectStore::ListBuckets() const {
  std::shared_lock lock(mu_);
  std::vector<BucketInfo> out;
  out.reserve(buckets_.size());
  for (const auto& [name, b] : buckets_) out.push_back({name, b->creation_ms});
  return out;
}

Result<std::unique_ptr<ObjectWriter>> ObjectStore::BeginPut(std::string_view bucket,
                                                            std::string_view key,
                                                            const ObjectMeta& meta) {
  if (auto err = ValidateKey(key)) return Status::InvalidArgument(*err);
  if (!BucketExists(bucket)) return Status::NotFound("The specified bucket does not exist");
  std::string tmp = NewTempPath(".data");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + tmp, errno);
  return std::unique_ptr<ObjectWriter>(
      new Writer(this, std::string(bucket), std::string(key), meta, fd, std::move(tmp)));
}

Status ObjectStore::CheckAccess(std::string_view bucket, const ObjectMeta& meta) {
  auto where = [&](std::string_view step) {
    return std::string(step) + " in bucket " + std::string(bucket) + " (embedded store): ";
  };
  if (!BucketExists(bucket)) {
    return SinkError(kS3NoSuchBucket,
                     "bucket " + std::string(bucket) + " does not exist in the embedded store");
  }
  ListRequest lr;
  lr.max_keys = 1;
  if (auto l = List(bucket, lr); !l.ok()) {
    return SinkError(FirehoseErrorCode(l.status()), where("list") + l.status().message());
  }
  char suffix[17];
  std::snprintf(suffix, sizeof(suffix), "%016llx", static_cast<unsigned long long>(NewId()));
  std::string key = std::string(kProbeKeyPrefix) + suffix;
  ObjectMeta pm;
  pm.content_type = "text/plain";
  if (auto p = PutObject(bucket, key, "hydrant access probe\n", pm); !p.ok()) {
    return SinkError(FirehoseErrorCode(p.status()), where("put " + key) + p.status().message());
  }
  if (Status d = DeleteObject(bucket, key); !d.ok()) {
    return SinkError(FirehoseErrorCode(d), where("delete " + key) + d.message());
  }
  return Status::Ok();
}

Result<ObjectInfo> ObjectStore::Publish(const std::string& bucket, const std::string& key,
                                        const std::string& tmp_data, uint64_t size,
                                        const std::string& md5, const ObjectMeta& meta,
                                        std::vector<uint64_t> part_sizes) {
  uint64_t id = NewId();
  int64_t mtime = NowMillis();
  // The metadata is written and synced before any lock is taken.
  std::string tmp_meta = NewTempPath(".meta");
  HYDRANT_RETURN_IF_ERROR(
      WriteFileSynced(tmp_meta, EncodeMeta(key, size, md5, mtime, id, meta, part_sizes)));

  std::shared_lock store_lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) {
    ::unlink(tmp_meta.c_str());
    return Status::NotFound("The specified bucket does not exist");
  }
  Bucket* b = it->second.get();
  std::unique_lock lock(b->mu);
  KeyPaths kp = PathsFor(BucketDir(bucket), key);
  auto fail = [&](Status st) {
    ::unlink(tmp_meta.c_str());
    return st;
  };
  if (::mkdir(kp.shard_dir.c_str(), 0755) == 0) {
    if (Status st = FsyncPath(BucketDir(bucket)); !st.ok()) return fail(st);
  } else if (errno != EEXIST) {
    return fail(Status::FromErrno("mkdir " + kp.shard_dir, errno));
  }
  // 1. data under its unique name: not yet referenced, so invisible (an orphan
  //    that Open removes if we crash now).
  std::string data = kp.Data(id);
  if (::rename(tmp_data.c_str(), data.c_str()) != 0) {
    return fail(Status::FromErrno("rename " + tmp_data, errno));
  }
  if (Status st = FsyncPath(kp.shard_dir); !st.ok()) {
    ::unlink(data.c_str());
    return fail(st);
  }
  // 2. the commit point: the metadata naming that data file replaces the old one.
  if (::rename(tmp_meta.c_str(), kp.Meta().c_str()) != 0) {
    Status st = Status::FromErrno("rename " + tmp_meta, errno);
    ::unlink(data.c_str());
    return fail(st);
  }
  Status synced = FsyncPath(kp.shard_dir);
  Entry e;
  e.size = size;
  e.last_modified_ms = mtime;
  e.md5 = md5;
  e.data_id = id;
  e.meta = meta;
  e.part_sizes = std::move(part_sizes);
  std::optional<uint64_t> old_id;
  auto [pos, inserted] = b->objects.try_emplace(key);
  if (!inserted) old_id = pos->second.data_id;
  pos->second = std::move(e);
  ObjectInfo info = MakeInfo(bucket, key, pos->second);
  // 3. the previous version's data (readers that already opened it keep reading).
  if (old_id && *old_id != id) ::unlink(kp.Data(*old_id).c_str());
  if (!synced.ok()) return synced;  // visible now, but may not survive a crash
  return info;
}

Result<ObjectInfo> ObjectStore::PutObject(std::string_view bucket, std::string_view key,
                                          std::string_view data, const ObjectMeta& meta) {
  auto w = BeginPut(bucket, key, meta);
  if (!w.ok()) return w.status();
  HYDRANT_RETURN_IF_ERROR((*w)->Write(data));
  return (*w)->Commit();
}

ObjectInfo ObjectStore::MakeInfo(std::string_view bucket, const std::string& key,
                                 const Entry& e) const {
  ObjectInfo info;
  info.key = key;
  info.size = e.size;
  info.etag = EtagOf(e.md5, e.part_sizes.size());
  info.last_modified_ms = e.last_modified_ms;
  info.meta = e.meta;
  info.data_path = PathsFor(BucketDir(bucket), key).Data(e.data_id);
  info.part_sizes = e.part_sizes;
  return info;
}

Result<OpenedObject> ObjectStore::Find(std::string_view bucket, std::string_view key,
                                       bool open_data) const {
  std::shared_lock store_lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  // Publish and DeleteObject unlink a data file only under the exclusive lock, so
  // the file opened here is the one this description names.
  std::shared_lock lock(it->second->mu);
  auto obj = it->second->objects.find(key);
  if (obj == it->second->objects.end())
    return Status::NotFound("The specified key does not exist.");
  OpenedObject out;
  out.info = MakeInfo(bucket, obj->first, obj->second);
  if (open_data) {
    out.data = UniqueFd(::open(out.info.data_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!out.data) return Status::FromErrno("open " + out.info.data_path, errno);
  }
  return out;
}

Result<ObjectInfo> ObjectStore::HeadObject(std::string_view bucket, std::string_view key) const {
  auto found = Find(bucket, key, /*open_data=*/false);
  if (!found.ok()) return found.status();
  return std::move(found->info);
}

Result<OpenedObject> ObjectStore::OpenObject(std::string_view bucket,
                                             std::string_view key) const {
  return Find(bucket, key, /*open_data=*/true);
}

Status ObjectStore::DeleteObject(std::string_view bucket, std::string_view key) {
  std::shared_lock store_lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  Bucket* b = it->second.get();
  std::unique_lock lock(b->mu);
  auto obj = b->objects.find(key);
  if (obj == b->objects.end()) return Status::Ok();
  KeyPaths kp = PathsFor(BucketDir(bucket), key);
  // The metadata goes first (the object disappears), then its data.
  if (::unlink(kp.Meta().c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno("unlink " + kp.Meta(), errno);
  }
  Status st = FsyncPath(kp.shard_dir);
  uint64_t id = obj->second.data_id;
  b->objects.erase(obj);
  ::unlink(kp.Data(id).c_str());
  return st;
}

Result<ListResult> ObjectStore::List(std::string_view bucket, const ListRequest& req) const {
  std::shared_lock store_lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  const Bucket* b = it->second.get();
  std::shared_lock lock(b->mu);
  const auto& objs = b->objects;
  ListResult out;
  if (req.max_keys <= 0) return out;
  const std::string& prefix = req.prefix;
  auto pos = objs.lower_bound(prefix);
  if (!req.start_after.empty() && req.start_after >= prefix)
    pos = objs.upper_bound(req.start_after);
  int count = 0;
  while (pos != objs.end() && StartsWith(pos->first, prefix)) {
    const std::string& key = pos->first;
    if (!req.delimiter.empty()) {
      size_t d = key.find(req.delimiter, prefix.size());
      if (d != std::string::npos) {
        std::string cp = key.substr(0, d + req.delimiter.size());
        // Every key under this prefix rolls up into it: jump past them all.
        std::string end = PrefixEnd(cp);
        auto next = end.empty() ? objs.end() : objs.lower_bound(end);
        if (cp <= req.start_after) {  // returned on an earlier page
          pos = next;
          continue;
        }
        if (count == req.max_keys) {
          out.truncated = true;
          break;
        }
        out.common_prefixes.push_back(cp);
        out.next_start_after = cp;
        ++count;
        pos = next;
        continue;
      }
    }
    if (count == req.max_keys) {
      out.truncated = true;
      break;
    }
    ObjectInfo info;
    info.key = key;
    info.size = pos->second.size;
    info.etag = EtagOf(pos->second.md5, pos->second.part_sizes.size());
    info.last_modified_ms = pos->second.last_modified_ms;
    out.objects.push_back(std::move(info));
    out.next_start_after = key;
    ++count;
    ++pos;
  }
  if (!out.truncated) out.next_start_after.clear();
  return out;
}

// --- multipart uploads ----------------------------------------------------------
// <root>/.uploads/<id>/upload                 the upload: bucket, key, time, metadata
// <root>/.uploads/<id>/<nnnnn>.meta           part nnnnn: size, md5, its data file
// <root>/.uploads/<id>/<nnnnn>.<did>.data     part bytes
// Parts are committed as objects are (data renamed in under a fresh name, then
// the .meta renamed over the old one); an upload folder is created in .tmp and
// renamed into place, and removed by renaming it back into .tmp.

std::string ObjectStore::UploadDir(std::string_view id) const {
  return root_ + "/" + kUploadsDir + "/" + std::string(id);
}

Status ObjectStore::LoadUploads() {
  std::string dir = root_ + "/" + kUploadsDir;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno("mkdir " + dir, errno);
  }
  for (const std::string& id : ListDir(dir)) {
    std::string up_dir = dir + "/" + id;
    if (!IsUploadId(id) || !IsDir(up_dir)) {
      spdlog::warn("object store: ignoring {} (not an upload)", up_dir);
      continue;
    }
    auto text = ReadSmallFile(up_dir + "/" + kUploadFile);
    std::optional<ParsedUpload> pu;
    if (text) pu = DecodeUpload(*text);
    if (!pu || !buckets_.count(pu->bucket)) {
      // No bucket: deleted while the upload was open (its removal did not finish
      // before a crash). No valid upload file: damage (it is synced before the
      // folder is renamed into place). Either way nothing can complete it.
      if (!pu) spdlog::warn("object store: dropping damaged multipart upload {}", up_dir);
      std::error_code ec;
      std::filesystem::remove_all(up_dir, ec);
      continue;
    }
    auto up = std::make_shared<Upload>();
    up->id = id;
    up->bucket = std::move(pu->bucket);
    up->key = std::move(pu->key);
    up->initiated_ms = pu->initiated_ms;
    up->meta = std::move(pu->meta);
    std::vector<std::string> names = ListDir(up_dir);
    std::vector<std::string> keep;
    for (const std::string& f : names) {
      if (f.size() != 5 + 5 || f.compare(5, 5, ".meta") != 0) continue;
      std::string meta_path = up_dir + "/" + f;
      auto content = ReadSmallFile(meta_path);
      std::optional<ParsedPart> pp;
      if (content) pp = DecodePart(*content);
      bool ok = pp && PartStem(static_cast<int>(pp->number)) == f.substr(0, 5);
      std::string data;
      if (ok) {
        data = PartStem(static_cast<int>(pp->number)) + "." + IdHex(pp->data_id) + ".data";
        struct stat st;
        ok = ::stat((up_dir + "/" + data).c_str(), &st) == 0 &&
             static_cast<uint64_t>(st.st_size) == pp->size;
      }
      if (!ok) {
        spdlog::warn("object store: dropping unreadable part {}", meta_path);
        ::unlink(meta_path.c_str());
        continue;
      }
      keep.push_back(data);
      Upload::Part& part = up->parts[static_cast<int>(pp->number)];
      part.size = pp->size;
      part.md5 = std::move(pp->md5);
      part.data_id = pp->data_id;
      part.mtime_ms = static_cast<int64_t>(pp->mtime_ms);
    }
    // Part data no .meta points at: an upload that crashed before its commit
    // point, or a part that was uploaded again.
    for (const std::string& f : names) {
      if (f.size() < 5 || f.compare(f.size() - 5, 5, ".data") != 0) continue;
      if (std::find(keep.begin(), keep.end(), f) != keep.end()) continue;
      ::unlink((up_dir + "/" + f).c_str());
    }
    uploads_.emplace(id, std::move(up));
  }
  return Status::Ok();
}

Result<UploadInfo> ObjectStore::CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                      const ObjectMeta& meta) {
  if (auto err = ValidateKey(key)) return Status::InvalidArgument(*err);
  if (!BucketExists(bucket)) return Status::NotFound("The specified bucket does not exist");
  // Ids sort in initiation order (ListMultipartUploads): 14 hex digits of
  // (ms << 12) made strictly increasing within the process (4096 per ms before
  // they run ahead of the clock), then 18 random ones.
  int64_t now = NowMillis();
  static std::atomic<uint64_t> last_stamp{0};
  uint64_t stamp = static_cast<uint64_t>(now) << 12;
  uint64_t prev = last_stamp.load();
  while (!last_stamp.compare_exchange_weak(prev, std::max(stamp, prev + 1))) {
  }
  stamp = std::max(stamp, prev + 1);
  std::string id = IdHex(stamp).substr(2) + IdHex(NewId()) + IdHex(NewId()).substr(0, 2);
  // Built in tmp and renamed into place: an upload appears whole or not at all.
  std::string tmp_dir = NewTempPath(".upload");
  if (::mkdir(tmp_dir.c_str(), 0755) != 0) return Status::FromErrno("mkdir " + tmp_dir, errno);
  auto cleanup = [&](Status st) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_dir, ec);
    return st;
  };
  Status st = WriteFileSynced(tmp_dir + "/" + kUploadFile, EncodeUpload(bucket, key, now, meta));
  if (st.ok()) st = FsyncPath(tmp_dir);
  if (!st.ok()) return cleanup(st);
  std::shared_lock store_lock(mu_);  // keeps the bucket from being deleted meanwhile
  if (!buckets_.count(bucket)) {
    return cleanup(Status::NotFound("The specified bucket does not exist"));
  }
  std::string dir = UploadDir(id);
  if (::rename(tmp_dir.c_str(), dir.c_str()) != 0) {
    return cleanup(Status::FromErrno("rename " + tmp_dir + " to " + dir, errno));
  }
  HYDRANT_RETURN_IF_ERROR(FsyncPath(root_ + "/" + kUploadsDir));
  auto up = std::make_shared<Upload>();
  up->id = id;
  up->bucket = std::string(bucket);
  up->key = std::string(key);
  up->initiated_ms = now;
  up->meta = meta;
  UploadInfo info{id, up->key, now, meta};
  std::lock_guard lock(uploads_mu_);
  uploads_.emplace(id, std::move(up));
  return info;
}

Result<std::shared_ptr<ObjectStore::Upload>> ObjectStore::FindUpload(std::string_view bucket,
                                                                     std::string_view key,
                                                                     std::string_view id) const {
  if (!BucketExists(bucket)) return Status::NotFound("The specified bucket does not exist");
  if (!IsUploadId(id)) return NoSuchUploadError();  // also: ids never become foreign paths
  std::lock_guard lock(uploads_mu_);
  auto it = uploads_.find(id);
  if (it == uploads_.end() || it->second->bucket != bucket || it->second->key != key) {
    return NoSuchUploadError();
  }
  return it->second;
}

Result<std::unique_ptr<PartWriter>> ObjectStore::BeginUploadPart(std::string_view bucket,
                                                                 std::string_view key,
                                                                 std::string_view upload_id,
                                                                 int part_number) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return Status::InvalidArgument("Part number must be an integer between 1 and 10000, inclusive");
  }
  auto up = FindUpload(bucket, key, upload_id);
  if (!up.ok()) return up.status();
  std::string tmp = NewTempPath(".part");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + tmp, errno);
  return std::unique_ptr<PartWriter>(
      new PartWriterImpl(this, std::move(up).value(), part_number, fd, std::move(tmp)));
}

Result<PartInfo> ObjectStore::UploadPart(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id, int part_number,
                                         std::string_view data) {
  auto w = BeginUploadPart(bucket, key, upload_id, part_number);
  if (!w.ok()) return w.status();
  HYDRANT_RETURN_IF_ERROR((*w)->Write(data));
  return (*w)->Commit();
}

Result<PartInfo> ObjectStore::PublishPart(const std::shared_ptr<Upload>& up, int number,
                                          const std::string& tmp_data, uint64_t size,
                                          const std::string& md5) {
  uint64_t id = NewId();
  int64_t mtime = NowMillis();
  std::string tmp_meta = NewTempPath(".meta");
  HYDRANT_RETURN_IF_ERROR(WriteFileSynced(tmp_meta, EncodePart(number, size, md5, mtime, id)));
  auto fail = [&](Status st) {
    ::unlink(tmp_meta.c_str());
    return st;
  };
  std::lock_guard lock(up->mu);
  if (up->gone) return fail(NoSuchUploadError());
  std::string dir = UploadDir(up->id);
  std::string stem = dir + "/" + PartStem(number);
  // As Publish: the data under a fresh name (an orphan until referenced), then
  // the part's .meta over the previous one (the commit point).
  std::string data = stem + "." + IdHex(id) + ".data";
  if (::rename(tmp_data.c_str(), data.c_str()) != 0) {
    return fail(Status::FromErrno("rename " + tmp_data, errno));
  }
  if (Status st = FsyncPath(dir); !st.ok()) {
    ::unlink(data.c_str());
    return fail(st);
  }
  if (::rename(tmp_meta.c_str(), (stem + ".meta").c_str()) != 0) {
    Status st = Status::FromErrno("rename " + tmp_meta, errno);
    ::unlink(data.c_str());
    return fail(st);
  }
  Status synced = FsyncPath(dir);
  auto [pos, inserted] = up->parts.try_emplace(number);
  std::optional<uint64_t> old_id;
  if (!inserted) old_id = pos->second.data_id;
  pos->second = Upload::Part{size, md5, id, mtime};
  if (old_id && *old_id != id) ::unlink((stem + "." + IdHex(*old_id) + ".data").c_str());
  if (!synced.ok()) return synced;  // in place, but not acknowledged: may not survive a crash
  return PartInfo{number, size, EtagOf(md5, 0), mtime};
}

void ObjectStore::DropUpload(Upload* up) {
  up->gone = true;
  {
    std::lock_guard lock(uploads_mu_);
    uploads_.erase(up->id);
  }
  std::string dir = UploadDir(up->id);
  std::string tmp = NewTempPath(".upload-gone");
  std::error_code ec;
  if (::rename(dir.c_str(), tmp.c_str()) == 0) {
    // Gone for good once this rename is durable; leftovers in .tmp go at Open.
    if (Status st = FsyncPath(root_ + "/" + kUploadsDir); !st.ok()) {
      spdlog::warn("object store: {}", st.ToString());
    }
    std::filesystem::remove_all(tmp, ec);
  } else {
    std::filesystem::remove_all(dir, ec);
  }
}

namespace {
std::string_view Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return etag;
}

bool HexEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}
}  // namespace

Result<ObjectInfo> ObjectStore::CompleteMultipartUpload(std::string_view bucket,
                                                        std::string_view key,
                                                        std::string_view upload_id,
                                                        const std::vector<CompletedPart>& parts) {
  auto found = FindUpload(bucket, key, upload_id);
  if (!found.ok()) return found.status();
  std::shared_ptr<Upload> up = std::move(found).value();
  // Held throughout: a part uploaded again meanwhile waits, then finds the upload gone.
  std::lock_guard lock(up->mu);
  if (up->gone) return NoSuchUploadError();
  if (parts.empty()) {
    return CodedError(StatusCode::kInvalidArgument, kMalformedXml,
                      "The XML you provided was not well-formed or did not validate against our "
                      "published schema");
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].part_number <= parts[i - 1].part_number) {
      return CodedError(StatusCode::kInvalidArgument, kInvalidPartOrder,
                        "The list of parts was not in ascending order. The parts list must be "
                        "specified in order by part number.");
    }
  }
  std::vector<const Upload::Part*> chosen;
  for (const CompletedPart& p : parts) {
    auto it = up->parts.find(p.part_number);
    if (it == up->parts.end() || !HexEquals(Unquote(p.etag), HexOf(it->second.md5))) {
      return CodedError(StatusCode::kInvalidArgument, kInvalidPart,
                        "One or more of the specified parts could not be found. The part may not "
                        "have been uploaded, or the specified entity tag may not match the "
                        "part's entity tag. (part " +
                            std::to_string(p.part_number) + ")");
    }
    chosen.push_back(&it->second);
  }
  for (size_t i = 0; i + 1 < chosen.size(); ++i) {
    if (chosen[i]->size < kMinPartSize) {
      return CodedError(StatusCode::kInvalidArgument, kEntityTooSmall,
                        "Your proposed upload is smaller than the minimum allowed size (part " +
                            std::to_string(parts[i].part_number) + " has " +
                            std::to_string(chosen[i]->size) + " bytes; every part but the last " +
                            "needs " + std::to_string(kMinPartSize) + ")");
    }
  }
  // Concatenate file to file into a temp file, then publish it as a put is.
  std::string tmp = NewTempPath(".data");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create " + tmp, errno);
  std::string dir = UploadDir(up->id);
  uint64_t total = 0;
  std::vector<uint64_t> sizes;
  std::string md5s;
  Status st;
  for (size_t i = 0; i < chosen.size() && st.ok(); ++i) {
    std::string src =
        dir + "/" + PartStem(parts[i].part_number) + "." + IdHex(chosen[i]->data_id) + ".data";
    st = AppendFile(fd, src, chosen[i]->size, tmp);
    total += chosen[i]->size;
    sizes.push_back(chosen[i]->size);
    md5s += chosen[i]->md5;
  }
  if (st.ok() && ::fsync(fd) != 0) st = Status::FromErrno("fsync " + tmp, errno);
  ::close(fd);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    if (up->gone) return NoSuchUploadError();  // its bucket was deleted meanwhile
    return st;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(md5s.data(), md5s.size(), md, &len, EVP_md5(), nullptr);
  auto info = Publish(std::string(bucket), std::string(key), tmp, total,
                      std::string(reinterpret_cast<char*>(md), len), up->meta, std::move(sizes));
  if (!info.ok()) {
    ::unlink(tmp.c_str());
    return info;
  }
  // A crash before this leaves the upload beside its object (see docs).
  DropUpload(up.get());
  return info;
}

Status ObjectStore::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id) {
  auto found = FindUpload(bucket, key, upload_id);
  if (!found.ok()) return found.status();
  std::lock_guard lock((*found)->mu);
  if ((*found)->gone) return NoSuchUploadError();
  DropUpload(found->get());
  return Status::Ok();
}

Result<ListPartsResult> ObjectStore::ListParts(std::string_view bucket, std::string_view key,
                                               std::string_view upload_id,
                                               const ListPartsRequest& req) const {
  auto found = FindUpload(bucket, key, upload_id);
  if (!found.ok()) return found.status();
  const Upload& up = **found;
  std::lock_guard lock((*found)->mu);
  if (up.gone) return NoSuchUploadError();
  ListPartsResult out;
  out.upload = UploadInfo{up.id, up.key, up.initiated_ms, up.meta};
  for (auto it = up.parts.upper_bound(req.part_number_marker); it != up.parts.end(); ++it) {
    if (static_cast<int>(out.parts.size()) >= req.max_parts) {
      out.truncated = true;
      break;
    }
    out.parts.push_back(
        PartInfo{it->first, it->second.size, EtagOf(it->second.md5, 0), it->second.mtime_ms});
  }
  if (out.truncated && !out.parts.empty())
    out.next_part_number_marker = out.parts.back().part_number;
  return out;
}

Result<ListUploadsResult> ObjectStore::ListMultipartUploads(std::string_view bucket,
                                                            const ListUploadsRequest& req) const {
  if (!BucketExists(bucket)) return Status::NotFound("The specified bucket does not exist");
  // The uploads in progress are few: gather and sort them per call.
  std::vector<std::shared_ptr<Upload>> all;
  {
    std::lock_guard lock(uploads_mu_);
    for (const auto& [id, up] : uploads_) {
      if (up->bucket == bucket && StartsWith(up->key, req.prefix)) all.push_back(up);
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a->key != b->key ? a->key < b->key : a->id < b->id;
  });
  ListUploadsResult out;
  if (req.max_uploads <= 0) return out;
  int count = 0;
  for (size_t i = 0; i < all.size();) {
    const Upload& up = *all[i];
    if (!req.key_marker.empty()) {
      bool after =
          up.key > req.key_marker || (up.key == req.key_marker && !req.upload_id_marker.empty() &&
                                      up.id > req.upload_id_marker);
      if (!after) {
        ++i;
        continue;
      }
    }
    if (!req.delimiter.empty()) {
      size_t d = up.key.find(req.delimiter, req.prefix.size());
      if (d != std::string::npos) {
        std::string cp = up.key.substr(0, d + req.delimiter.size());
        size_t next = i;
        while (next < all.size() && StartsWith(all[next]->key, cp)) ++next;
        if (!req.key_marker.empty() && cp <= req.key_marker) {  // on an earlier page
          i = next;
          continue;
        }
        if (count == req.max_uploads) {
          out.truncated = true;
          break;
        }
        out.common_prefixes.push_back(cp);
        out.next_key_marker = cp;
        out.next_upload_id_marker.clear();
        ++count;
        i = next;
        continue;
      }
    }
    if (count == req.max_uploads) {
      out.truncated = true;
      break;
    }
    out.uploads.push_back(UploadInfo{up.id, up.key, up.initiated_ms, up.meta});
    out.next_key_marker = up.key;
    out.next_upload_id_marker = up.id;
    ++count;
    ++i;
  }
  if (!out.truncated) {
    out.next_key_marker.clear();
    out.next_upload_id_marker.clear();
  }
  return out;
}

}  // namespace hydrant::store
