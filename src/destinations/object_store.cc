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
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>

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
constexpr size_t kWriteBuffer = 256 * 1024;

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

// --- in-memory index ---------------------------------------------------------

struct ObjectStore::Entry {
  uint64_t size = 0;
  int64_t last_modified_ms = 0;
  std::string md5;  // 16 raw bytes
  uint64_t data_id = 0;
  ObjectMeta meta;
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

std::string EncodeMeta(std::string_view key, uint64_t size, const std::string& md5,
                       int64_t mtime_ms, uint64_t data_id, const ObjectMeta& meta) {
  std::string s = kMetaMagic;
  s += '\n';
  auto field = [&](std::string_view name, std::string_view value) {
    s += name;
    s += ' ';
    s += value;
    s += '\n';
  };
  field("key", Escape(key));
  field("size", std::to_string(size));
  field("md5", Hex(reinterpret_cast<const unsigned char*>(md5.data()), md5.size()));
  field("mtime_ms", std::to_string(mtime_ms));
  field("data", IdHex(data_id));
  field("content_type", Escape(meta.content_type));
  field("content_encoding", Escape(meta.content_encoding));
  for (const auto& [k, v] : meta.user_meta) field("meta", Escape(k) + " " + Escape(v));
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
};

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
      auto d = Unhex(value);
      if (!d || d->size() != 8) return std::nullopt;
      uint64_t id = 0;
      for (unsigned char c : *d) id = (id << 8) | c;
      pm.data_id = id;
      have_data = true;
    } else if (name == "content_type") {
      auto v = Unescape(value);
      if (!v) return std::nullopt;
      pm.meta.content_type = *v;
    } else if (name == "content_encoding") {
      auto v = Unescape(value);
      if (!v) return std::nullopt;
      pm.meta.content_encoding = *v;
    } else if (name == "meta") {
      size_t sp = value.find(' ');
      if (sp == std::string::npos) return std::nullopt;
      auto k = Unescape(std::string_view(value).substr(0, sp));
      auto v = Unescape(std::string_view(value).substr(sp + 1));
      if (!k || !v) return std::nullopt;
      pm.meta.user_meta[*k] = *v;
    }  // unknown fields: written by a newer version; ignored
  }
  if (!have_key || !have_size || !have_md5 || !have_data) return std::nullopt;
  return pm;
}
}  // namespace

// --- writer ------------------------------------------------------------------

class ObjectStore::Writer final : public ObjectWriter {
 public:
  Writer(ObjectStore* store, std::string bucket, std::string key, ObjectMeta meta, int fd,
         std::string tmp_path)
      : store_(store),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        meta_(std::move(meta)),
        fd_(fd),
        tmp_path_(std::move(tmp_path)),
        md5_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(md5_, EVP_md5(), nullptr);
    buf_.reserve(kWriteBuffer);
  }

  ~Writer() override {
    if (fd_ >= 0) ::close(fd_);
    if (!published_) ::unlink(tmp_path_.c_str());
    EVP_MD_CTX_free(md5_);
  }

  Status Write(std::string_view bytes) override {
    if (done_) return Status::Internal("write after commit");
    if (!error_.ok()) return error_;
    EVP_DigestUpdate(md5_, bytes.data(), bytes.size());
    size_ += bytes.size();
    if (buf_.size() + bytes.size() <= kWriteBuffer) {
      buf_.append(bytes);
      return Status::Ok();
    }
    error_ = Flush();
    if (error_.ok()) {
      if (bytes.size() >= kWriteBuffer) {
        error_ = WriteAll(fd_, bytes, tmp_path_);
      } else {
        buf_.append(bytes);
      }
    }
    return error_;
  }

  Result<ObjectInfo> Commit() override {
    if (done_) return Status::Internal("commit called twice");
    done_ = true;
    if (!error_.ok()) return error_;
    HYDRANT_RETURN_IF_ERROR(Flush());
    if (::fsync(fd_) != 0) return Status::FromErrno("fsync " + tmp_path_, errno);
    ::close(fd_);
    fd_ = -1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md5_, md, &len);
    auto info = store_->Publish(bucket_, key_, tmp_path_, size_,
                                std::string(reinterpret_cast<char*>(md), len), meta_);
    if (info.ok()) published_ = true;
    return info;
  }

 private:
  Status Flush() {
    Status st = WriteAll(fd_, buf_, tmp_path_);
    buf_.clear();
    return st;
  }

  ObjectStore* store_;
  std::string bucket_, key_;
  ObjectMeta meta_;
  int fd_;
  std::string tmp_path_;
  EVP_MD_CTX* md5_;
  std::string buf_;
  uint64_t size_ = 0;
  bool done_ = false;
  bool published_ = false;
  Status error_;
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
  return Status::Ok();
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

Result<ObjectInfo> ObjectStore::Publish(const std::string& bucket, const std::string& key,
                                        const std::string& tmp_data, uint64_t size,
                                        const std::string& md5, const ObjectMeta& meta) {
  uint64_t id = NewId();
  int64_t mtime = NowMillis();
  // The metadata is written and synced before any lock is taken.
  std::string tmp_meta = NewTempPath(".meta");
  HYDRANT_RETURN_IF_ERROR(WriteFileSynced(tmp_meta, EncodeMeta(key, size, md5, mtime, id, meta)));

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
  info.etag = "\"" + Hex(reinterpret_cast<const unsigned char*>(e.md5.data()), e.md5.size()) + "\"";
  info.last_modified_ms = e.last_modified_ms;
  info.meta = e.meta;
  info.data_path = PathsFor(BucketDir(bucket), key).Data(e.data_id);
  return info;
}

Result<ObjectInfo> ObjectStore::HeadObject(std::string_view bucket, std::string_view key) const {
  std::shared_lock store_lock(mu_);
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) return Status::NotFound("The specified bucket does not exist");
  std::shared_lock lock(it->second->mu);
  auto obj = it->second->objects.find(key);
  if (obj == it->second->objects.end())
    return Status::NotFound("The specified key does not exist.");
  return MakeInfo(bucket, obj->first, obj->second);
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
    info.etag = "\"" +
                Hex(reinterpret_cast<const unsigned char*>(pos->second.md5.data()),
                    pos->second.md5.size()) +
                "\"";
    info.last_modified_ms = pos->second.last_modified_ms;
    out.objects.push_back(std::move(info));
    out.next_start_after = key;
    ++count;
    ++pos;
  }
  if (!out.truncated) out.next_start_after.clear();
  return out;
}

}  // namespace hydrant::store
