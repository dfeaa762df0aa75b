#include "server/s3_api.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <random>

#include "common/base64.h"
#include "common/crc32c.h"
#include "destinations/object_store.h"

namespace hydrant::server {
namespace {

constexpr char kXmlHeader[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr char kNs[] = "http://s3.amazonaws.com/doc/2006-03-01/";
// The single owner of everything in the embedded store.
constexpr char kOwnerId[] = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
constexpr char kOwnerName[] = "hydrant";
constexpr int kMaxKeys = 1000;
constexpr size_t kMaxDeleteObjects = 1000;
constexpr char kTokenMagic[] = "hydrant1:";

// Subresources of S3 this server does not implement: answered 501 rather than
// being mistaken for a plain GET/PUT of the bucket or object.
constexpr const char* kUnsupported[] = {"versioning",
                                        "acl",
                                        "policy",
                                        "tagging",
                                        "cors",
                                        "lifecycle",
                                        "website",
                                        "logging",
                                        "notification",
                                        "replication",
                                        "encryption",
                                        "object-lock",
                                        "versions",
                                        "accelerate",
                                        "requestPayment",
                                        "analytics",
                                        "inventory",
                                        "metrics",
                                        "intelligent-tiering",
                                        "ownershipControls",
                                        "publicAccessBlock",
                                        "retention",
                                        "legal-hold",
                                        "torrent",
                                        "restore",
                                        "select",
                                        "attributes",
                                        "policyStatus",
                                        "session",
                                        "renameObject"};

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          // As S3 does; parsers would otherwise drop or normalise them (\r).
          out += "&#x";
          if (c >= 16) out += kHex[c >> 4];
          out += kHex[c & 15];
          out += ';';
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

// Decodes the five named entities and numeric references; nullopt on a bad one.
std::optional<std::string> XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) return std::nullopt;
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out += '&';
    else if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      uint32_t cp = 0;
      bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      std::string_view digits = ent.substr(hex ? 2 : 1);
      if (digits.empty()) return std::nullopt;
      for (char c : digits) {
        int v;
        if (c >= '0' && c <= '9')
          v = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
          v = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F')
          v = c - 'A' + 10;
        else
          return std::nullopt;
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) return std::nullopt;
      }
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      return std::nullopt;
    }
    i = semi;
  }
  return out;
}

// Appends <name>escaped value</name>.
void Tag(std::string* out, std::string_view name, std::string_view value) {
  *out += '<';
  *out += name;
  *out += '>';
  *out += XmlEscape(value);
  *out += "</";
  *out += name;
  *out += '>';
}

std::string Iso8601(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           static_cast<int>(ms % 1000));
  return buf;
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string HttpDate(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
           kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// Parses an RFC 1123 date ("Sun, 06 Nov 1994 08:49:37 GMT") into epoch seconds.
std::optional<int64_t> ParseHttpDate(std::string_view s) {
  s = Trim(s);
  size_t comma = s.find(',');
  if (comma != std::string_view::npos) s = Trim(s.substr(comma + 1));
  int day, year, hh, mm, ss;
  char mon[4] = {0};
  std::string str(s);
  if (sscanf(str.c_str(), "%d %3s %d %d:%d:%d", &day, mon, &year, &hh, &mm, &ss) != 6) {
    return std::nullopt;
  }
  int month = -1;
  for (int i = 0; i < 12; ++i)
    if (strcmp(mon, kMonths[i]) == 0) month = i;
  if (month < 0) return std::nullopt;
  struct tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  return static_cast<int64_t>(timegm(&tm));
}

std::string NewRequestId() {
  static const uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  static std::atomic<uint64_t> counter{0};
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (++counter);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llX", static_cast<unsigned long long>(z));
  return buf;
}

// --- digests -------------------------------------------------------------------

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string BigEndian(uint64_t v, int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
  return out;
}

uint64_t Crc64Nvme(std::string_view data) {
  static const auto table = [] {
    std::array<uint64_t, 256> t{};
    constexpr uint64_t kPoly = 0x9a6c9329ac4bc9b5ull;  // reflected 0xad93d23594c93659
    for (uint64_t i = 0; i < 256; ++i) {
      uint64_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint64_t crc = ~0ull;
  for (unsigned char c : data) crc = table[(crc ^ c) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// The raw digest for an x-amz-checksum-<algorithm>, or nullopt for an unknown one.
std::optional<std::string> Checksum(std::string_view algorithm, std::string_view data) {
  if (algorithm == "crc32") {
    uLong c = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), 0);
    // zlib takes uInt lengths: feed in pieces.
    for (size_t off = 0; off < data.size(); off += 1u << 30) {
      size_t n = std::min<size_t>(data.size() - off, 1u << 30);
      c = crc32(c, reinterpret_cast<const Bytef*>(data.data() + off), static_cast<uInt>(n));
    }
    return BigEndian(c, 4);
  }
  if (algorithm == "crc32c") return BigEndian(crc32c::Value(data.data(), data.size()), 4);
  if (algorithm == "crc64nvme") return BigEndian(Crc64Nvme(data), 8);
  if (algorithm == "sha1") return Digest(EVP_sha1(), data);
  if (algorithm == "sha256") return Digest(EVP_sha256(), data);
  return std::nullopt;
}

std::string AlgorithmDisplay(std::string_view algorithm) {
  if (algorithm == "crc64nvme") return "CRC64NVME";
  std::string out;
  for (char c : algorithm)
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// --- request context -------------------------------------------------------------

struct Query {
  std::vector<std::pair<std::string, std::string>> items;
  bool Has(std::string_view k) const {
    for (const auto& [n, v] : items)
      if (n == k) return true;
    return false;
  }
  std::string Get(std::string_view k) const {
    for (const auto& [n, v] : items)
      if (n == k) return v;
    return {};
  }
};

struct Ctx {
  const http::Request& req;
  http::Response* resp;
  std::string request_id;
  std::string resource;  // decoded "/bucket/key", for error replies
  bool head = false;
  Query query;
  std::string bucket;
  std::string key;
};

void Xml(Ctx& c, int status, std::string body) {
  c.resp->status = status;
  c.resp->SetHeader("Content-Type", "application/xml");
  c.resp->body = std::move(body);
}

// An S3 error reply. `extra` adds elements such as <BucketName>.
void Error(Ctx& c, int status, std::string_view code, std::string_view message,
           const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  c.resp->status = status;
  c.resp->file.Reset();
  c.resp->content_length_override.reset();
  if (c.head) {  // HEAD answers carry no body; the status says it all
    c.resp->body.clear();
    return;
  }
  std::string b = kXmlHeader;
  b += "<Error>";
  Tag(&b, "Code", code);
  Tag(&b, "Message", message);
  for (const auto& [k, v] : extra) Tag(&b, k, v);
  Tag(&b, "Resource", c.resource);
  Tag(&b, "RequestId", c.request_id);
  b += "</Error>";
  c.resp->SetHeader("Content-Type", "application/xml");
  c.resp->body = std::move(b);
}

void NoSuchBucket(Ctx& c) {
  Error(c, 404, "NoSuchBucket", "The specified bucket does not exist", {{"BucketName", c.bucket}});
}
void NoSuchKey(Ctx& c) {
  Error(c, 404, "NoSuchKey", "The specified key does not exist.", {{"Key", c.key}});
}
void InternalError(Ctx& c, const Status& st) {
  Error(c, 500, "InternalError",
        "We encountered an internal error. Please try again. (" + st.ToString() + ")");
}
void MethodNotAllowed(Ctx& c) {
  Error(c, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
        {{"Method", c.req.method},
         {"ResourceType", c.key.empty() ? (c.bucket.empty() ? "SERVICE" : "BUCKET") : "OBJECT"}});
}

// Maps a store failure on bucket `c.bucket` to the S3 error. (Missing keys are
// told apart by the callers; a NotFound here is the bucket.)
void StoreError(Ctx& c, const Status& st) {
  if (st.code() == StatusCode::kNotFound) {
    NoSuchBucket(c);
  } else if (st.code() == StatusCode::kInvalidArgument) {
    Error(c, 400, "InvalidArgument", st.message());
  } else {
    InternalError(c, st);
  }
}

bool ValidKeyOrError(Ctx& c) {
  if (c.key.size() > 1024) {
    Error(c, 400, "KeyTooLongError", "Your key is too long",
          {{"MaxSizeAllowed", "1024"}, {"Size", std::to_string(c.key.size())}});
    return false;
  }
  if (auto err = store::ValidateKey(c.key)) {
    Error(c, 400, "InvalidArgument", *err);
    return false;
  }
  return true;
}

// --- listing -----------------------------------------------------------------------

// encoding-type=url: S3 percent-encodes keys (keeping '/'); clients decode with
// unquote_plus, so '+' and ' ' must both be escaped, which PercentEncode does.
std::string MaybeEncode(std::string_view s, bool url) {
  return url ? http::PercentEncode(s, /*keep_slash=*/true) : std::string(s);
}

void Owner(std::string* b) {
  *b += "<Owner>";
  Tag(b, "ID", kOwnerId);
  Tag(b, "DisplayName", kOwnerName);
  *b += "</Owner>";
}

void Contents(std::string* b, const store::ObjectInfo& o, bool url, bool owner) {
  *b += "<Contents>";
  Tag(b, "Key", MaybeEncode(o.key, url));
  Tag(b, "LastModified", Iso8601(o.last_modified_ms));
  Tag(b, "ETag", o.etag);
  Tag(b, "Size", std::to_string(o.size));
  if (owner) Owner(b);
  Tag(b, "StorageClass", "STANDARD");
  *b += "</Contents>";
}

// A non-negative decimal integer that fits in an int32, as S3's integer parameters.
std::optional<int> ParseCount(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  long v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  if (v > 2147483647L) return std::nullopt;
  return static_cast<int>(v);
}

// Common to both list versions: max-keys and encoding-type. False after an error reply.
bool ListParams(Ctx& c, store::ListRequest* lr, bool* url) {
  lr->prefix = c.query.Get("prefix");
  lr->delimiter = c.query.Get("delimiter");
  lr->max_keys = kMaxKeys;
  if (c.query.Has("max-keys")) {
    std::string mk = c.query.Get("max-keys");
    long v = -1;
    char* end = nullptr;
    if (!mk.empty() && mk.size() <= 10 && std::isdigit(static_cast<unsigned char>(mk[0]))) {
      v = std::strtol(mk.c_str(), &end, 10);
      if (*end != '\0') v = -1;
    }
    if (v < 0 || v > 2147483647L) {
      Error(c, 400, "InvalidArgument", "Provided max-keys not an integer or within integer range",
            {{"ArgumentName", "max-keys"}, {"ArgumentValue", mk}});
      return false;
    }
    lr->max_keys = static_cast<int>(std::min<long>(v, kMaxKeys));
  }
  *url = false;
  if (c.query.Has("encoding-type")) {
    std::string et = c.query.Get("encoding-type");
    if (et != "url") {
      Error(c, 400, "InvalidArgument", "Invalid Encoding Method specified in Request",
            {{"ArgumentName", "encoding-type"}, {"ArgumentValue", et}});
      return false;
    }
    *url = true;
  }
  return true;
}

void ListObjectsV2(Ctx& c, store::ObjectStore* store) {
  store::ListRequest lr;
  bool url;
  if (!ListParams(c, &lr, &url)) return;
  bool fetch_owner = c.query.Get("fetch-owner") == "true";
  std::string start_after = c.query.Get("start-after");
  bool has_token = c.query.Has("continuation-token");
  std::string token = c.query.Get("continuation-token");
  lr.start_after = start_after;
  if (has_token) {
    // The token is opaque to clients: base64 of a marker and the last key returned.
    auto raw = base64::Decode(token);
    if (!raw || !StartsWith(*raw, kTokenMagic)) {
      Error(c, 400, "InvalidArgument", "The continuation token provided is incorrect",
            {{"ArgumentName", "continuation-token"}, {"ArgumentValue", token}});
      return;
    }
    lr.start_after = raw->substr(strlen(kTokenMagic));
  }
  auto r = store->List(c.bucket, lr);
  if (!r.ok()) return StoreError(c, r.status());
  std::string b = kXmlHeader;
  b += "<ListBucketResult xmlns=\"";
  b += kNs;
  b += "\">";
  Tag(&b, "Name", c.bucket);
  Tag(&b, "Prefix", MaybeEncode(lr.prefix, url));
  if (has_token) Tag(&b, "ContinuationToken", token);
  if (r->truncated) {
    Tag(&b, "NextContinuationToken", base64::Encode(kTokenMagic + r->next_start_after));
  }
  Tag(&b, "KeyCount", std::to_string(r->objects.size() + r->common_prefixes.size()));
  Tag(&b, "MaxKeys", std::to_string(lr.max_keys));
  if (!lr.delimiter.empty()) Tag(&b, "Delimiter", MaybeEncode(lr.delimiter, url));
  Tag(&b, "IsTruncated", r->truncated ? "true" : "false");
  if (!start_after.empty()) Tag(&b, "StartAfter", MaybeEncode(start_after, url));
  if (url) Tag(&b, "EncodingType", "url");
  for (const auto& o : r->objects) Contents(&b, o, url, fetch_owner);
  for (const auto& p : r->common_prefixes) {
    b += "<CommonPrefixes>";
    Tag(&b, "Prefix", MaybeEncode(p, url));
    b += "</CommonPrefixes>";
  }
  b += "</ListBucketResult>";
  Xml(c, 200, std::move(b));
}

void ListObjectsV1(Ctx& c, store::ObjectStore* store) {
  store::ListRequest lr;
  bool url;
  if (!ListParams(c, &lr, &url)) return;
  std::string marker = c.query.Get("marker");
  lr.start_after = marker;
  auto r = store->List(c.bucket, lr);
  if (!r.ok()) return StoreError(c, r.status());
  std::string b = kXmlHeader;
  b += "<ListBucketResult xmlns=\"";
  b += kNs;
  b += "\">";
  Tag(&b, "Name", c.bucket);
  Tag(&b, "Prefix", MaybeEncode(lr.prefix, url));
  Tag(&b, "Marker", MaybeEncode(marker, url));
  // S3 documents NextMarker only with a delimiter; sending it always is
  // harmless and saves clients from deriving it.
  if (r->truncated) Tag(&b, "NextMarker", MaybeEncode(r->next_start_after, url));
  Tag(&b, "MaxKeys", std::to_string(lr.max_keys));
  if (!lr.delimiter.empty()) Tag(&b, "Delimiter", MaybeEncode(lr.delimiter, url));
  Tag(&b, "IsTruncated", r->truncated ? "true" : "false");
  if (url) Tag(&b, "EncodingType", "url");
  for (const auto& o : r->objects) Contents(&b, o, url, /*owner=*/true);
  for (const auto& p : r->common_prefixes) {
    b += "<CommonPrefixes>";
    Tag(&b, "Prefix", MaybeEncode(p, url));
    b += "</CommonPrefixes>";
  }
  b += "</ListBucketResult>";
  Xml(c, 200, std::move(b));
}

// --- service and bucket operations --------------------------------------------------

void ListBuckets(Ctx& c, store::ObjectStore* store, const std::string& region) {
  std::string prefix = c.query.Get("prefix");
  std::string b = kXmlHeader;
  b += "<ListAllMyBucketsResult xmlns=\"";
  b += kNs;
  b += "\">";
  Owner(&b);
  b += "<Buckets>";
  for (const auto& bucket : store->ListBuckets()) {
    if (!StartsWith(bucket.name, prefix)) continue;
    b += "<Bucket>";
    Tag(&b, "Name", bucket.name);
    Tag(&b, "CreationDate", Iso8601(bucket.creation_ms));
    Tag(&b, "BucketRegion", region);
    b += "</Bucket>";
  }
  b += "</Buckets>";
  if (!prefix.empty()) Tag(&b, "Prefix", prefix);
  b += "</ListAllMyBucketsResult>";
  Xml(c, 200, std::move(b));
}

void CreateBucket(Ctx& c, store::ObjectStore* store) {
  if (!store::IsValidBucketName(c.bucket)) {
    return Error(c, 400, "InvalidBucketName", "The specified bucket is not valid.",
                 {{"BucketName", c.bucket}});
  }
  // The body, when present, is a CreateBucketConfiguration (LocationConstraint).
  // Every bucket lives in this server's one region, so its value is not checked.
  std::string_view body = Trim(c.req.body);
  if (!body.empty() && body.find("CreateBucketConfiguration") == std::string_view::npos) {
    return Error(c, 400, "MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
  }
  Status st = store->CreateBucket(c.bucket);
  if (st.code() == StatusCode::kAlreadyExists) {
    return Error(c, 409, "BucketAlreadyOwnedByYou",
                 "Your previous request to create the named bucket succeeded and you already "
                 "own it.",
                 {{"BucketName", c.bucket}});
  }
  if (st.code() == StatusCode::kInvalidArgument) {
    return Error(c, 400, "InvalidBucketName", st.message(), {{"BucketName", c.bucket}});
  }
  if (!st.ok()) return InternalError(c, st);
  c.resp->status = 200;
  c.resp->SetHeader("Location", "/" + c.bucket);
}

void DeleteBucket(Ctx& c, store::ObjectStore* store) {
  Status st = store->DeleteBucket(c.bucket);
  if (st.code() == StatusCode::kNotFound) return NoSuchBucket(c);
  if (st.code() == StatusCode::kInvalidArgument) {
    return Error(c, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty",
                 {{"BucketName", c.bucket}});
  }
  if (!st.ok()) return InternalError(c, st);
  c.resp->status = 204;
}

void HeadBucket(Ctx& c, store::ObjectStore* store, const std::string& region) {
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  c.resp->status = 200;
  c.resp->SetHeader("x-amz-bucket-region", region);
  c.resp->content_length_override = 0;
}

void GetBucketLocation(Ctx& c, store::ObjectStore* store, const std::string& region) {
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  std::string b = kXmlHeader;
  b += "<LocationConstraint xmlns=\"";
  b += kNs;
  b += "\">";
  // us-east-1 is reported as an empty constraint, as S3 does.
  if (region != "us-east-1") b += XmlEscape(region);
  b += "</LocationConstraint>";
  Xml(c, 200, std::move(b));
}

// Finds the text of each <name>...</name> in `xml` (no nesting of `name`).
std::vector<std::string_view> Elements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> out;
  std::string open = "<" + std::string(name);
  std::string close = "</" + std::string(name) + ">";
  size_t pos = 0;
  while (true) {
    size_t start = xml.find(open, pos);
    if (start == std::string_view::npos) break;
    size_t gt = xml.find('>', start);
    if (gt == std::string_view::npos) break;
    char after = xml[start + open.size()];
    if (after != '>' && after != ' ' && after != '/') {  // e.g. <ObjectX>
      pos = start + 1;
      continue;
    }
    if (xml[gt - 1] == '/') {  // <name/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

void DeleteObjects(Ctx& c, store::ObjectStore* store) {
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  auto malformed = [&] {
    Error(c, 400, "MalformedXML",
          "The XML you provided was not well-formed or did not validate against our published "
          "schema");
  };
  std::string_view body = c.req.body;
  if (c.req.HasHeader("Content-MD5")) {
    auto want = base64::Decode(Trim(c.req.Header("Content-MD5")));
    if (!want || want->size() != 16) {
      return Error(c, 400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
    if (*want != Digest(EVP_md5(), body)) {
      return Error(c, 400, "BadDigest",
                   "The Content-MD5 you specified did not match what we received.");
    }
  }
  auto roots = Elements(body, "Delete");
  if (roots.size() != 1) return malformed();
  bool quiet = false;
  for (auto q : Elements(roots[0], "Quiet")) quiet = Trim(q) == "true";
  auto objects = Elements(roots[0], "Object");
  if (objects.empty() || objects.size() > kMaxDeleteObjects) return malformed();
  std::vector<std::string> keys;
  for (auto obj : objects) {
    auto k = Elements(obj, "Key");
    if (k.size() != 1) return malformed();
    auto key = XmlUnescape(k[0]);
    if (!key) return malformed();
    keys.push_back(std::move(*key));
  }
  std::string b = kXmlHeader;
  b += "<DeleteResult xmlns=\"";
  b += kNs;
  b += "\">";
  for (const auto& key : keys) {
    std::optional<std::string> err = store::ValidateKey(key);
    Status st = err ? Status::InvalidArgument(*err) : store->DeleteObject(c.bucket, key);
    if (st.ok()) {
      if (quiet) continue;
      b += "<Deleted>";
      Tag(&b, "Key", key);
      b += "</Deleted>";
    } else {
      b += "<Error>";
      Tag(&b, "Key", key);
      if (st.code() == StatusCode::kInvalidArgument) {
        Tag(&b, "Code", key.size() > 1024 ? "KeyTooLongError" : "InvalidArgument");
      } else if (st.code() == StatusCode::kNotFound) {
        Tag(&b, "Code", "NoSuchBucket");
      } else {
        Tag(&b, "Code", "InternalError");
      }
      Tag(&b, "Message", st.message());
      b += "</Error>";
    }
  }
  b += "</DeleteResult>";
  Xml(c, 200, std::move(b));
}

// --- object operations ----------------------------------------------------------------

// S3's rules for If-Match / If-None-Match lists: "*", or comma-separated
// (possibly weak) entity tags, quoted or not.
bool EtagMatches(std::string_view header, std::string_view etag) {
  std::string_view bare = etag;
  if (bare.size() >= 2 && bare.front() == '"') bare = bare.substr(1, bare.size() - 2);
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item =
        Trim(header.substr(pos, comma == std::string_view::npos ? header.npos : comma - pos));
    if (StartsWith(item, "W/")) item.remove_prefix(2);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
      item = item.substr(1, item.size() - 2);
    }
    if (item == "*" || item == bare) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

// Parses "bytes=a-b" | "bytes=a-" | "bytes=-n" against `size`.
// Returns {ok, satisfiable, first, last}; ok=false means "ignore the header".
struct RangeSpec {
  bool valid = false;
  bool satisfiable = false;
  uint64_t first = 0, last = 0;
};

RangeSpec ParseRange(std::string_view h, uint64_t size) {
  RangeSpec r;
  h = Trim(h);
  if (!StartsWith(h, "bytes=")) return r;
  h.remove_prefix(6);
  h = Trim(h);
  if (h.find(',') != std::string_view::npos) return r;  // multiple ranges: S3 ignores them
  size_t dash = h.find('-');
  if (dash == std::string_view::npos) return r;
  auto num = [](std::string_view s, uint64_t* out) {
    s = Trim(s);
    if (s.empty() || s.size() > 19) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = v;
    return true;
  };
  std::string_view a = Trim(h.substr(0, dash)), b = Trim(h.substr(dash + 1));
  if (a.empty()) {  // suffix: the last n bytes
    uint64_t n;
    if (!num(b, &n)) return r;
    r.valid = true;
    if (n == 0 || size == 0) return r;
    r.satisfiable = true;
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return r;
  }
  uint64_t first, last = UINT64_MAX;
  if (!num(a, &first)) return r;
  if (!b.empty() && !num(b, &last)) return r;
  if (last < first) return r;  // syntactically invalid: ignored, as RFC 9110 says
  r.valid = true;
  if (first >= size) return r;
  r.satisfiable = true;
  r.first = first;
  r.last = std::min(last, size - 1);
  return r;
}

void ObjectHeaders(Ctx& c, const store::ObjectInfo& info) {
  auto override_or = [&](std::string_view param, std::string_view value) {
    return c.query.Has(param) ? c.query.Get(param) : std::string(value);
  };
  c.resp->SetHeader("ETag", info.etag);
  c.resp->SetHeader("Last-Modified", HttpDate(info.last_modified_ms));
  c.resp->SetHeader("Accept-Ranges", "bytes");
  c.resp->SetHeader("Content-Type", override_or("response-content-type", info.meta.content_type));
  std::string enc = override_or("response-content-encoding", info.meta.content_encoding);
  if (!enc.empty()) c.resp->SetHeader("Content-Encoding", enc);
  for (const auto& [param, header] :
       {std::pair{"response-content-disposition", "Content-Disposition"},
        std::pair{"response-content-language", "Content-Language"},
        std::pair{"response-cache-control", "Cache-Control"},
        std::pair{"response-expires", "Expires"}}) {
    if (c.query.Has(param)) c.resp->SetHeader(header, c.query.Get(param));
  }
  for (const auto& [k, v] : info.meta.user_meta) c.resp->SetHeader("x-amz-meta-" + k, v);
}

void GetObject(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  // GET opens the data with the description, so that an overwrite or a delete
  // meanwhile can neither fail the read nor mix two versions; HEAD needs no data.
  store::OpenedObject obj;
  Status found;
  if (c.head) {
    auto head = store->HeadObject(c.bucket, c.key);
    if (head.ok()) obj.info = std::move(*head);
    found = head.status();
  } else {
    auto opened = store->OpenObject(c.bucket, c.key);
    if (opened.ok()) obj = std::move(*opened);
    found = opened.status();
  }
  if (!found.ok()) {
    if (found.code() == StatusCode::kNotFound) {
      return store->BucketExists(c.bucket) ? NoSuchKey(c) : NoSuchBucket(c);
    }
    return InternalError(c, found);
  }
  const store::ObjectInfo* info = &obj.info;
  if (c.query.Has("versionId") && c.query.Get("versionId") != "null") {
    return Error(c, 400, "InvalidArgument", "Invalid version id specified",
                 {{"ArgumentName", "versionId"}, {"ArgumentValue", c.query.Get("versionId")}});
  }
  // Conditional requests, in the order RFC 9110 section 13.2.2 gives.
  int64_t mtime_s = info->last_modified_ms / 1000;
  std::string_view if_match = c.req.Header("If-Match");
  std::string_view if_none = c.req.Header("If-None-Match");
  auto precondition_failed = [&] {
    Error(c, 412, "PreconditionFailed",
          "At least one of the pre-conditions you specified did not hold",
          {{"Condition", if_match.empty() ? "If-Unmodified-Since" : "If-Match"}});
  };
  auto not_modified = [&] {
    c.resp->status = 304;
    c.resp->SetHeader("ETag", info->etag);
    c.resp->SetHeader("Last-Modified", HttpDate(info->last_modified_ms));
  };
  if (!if_match.empty()) {
    if (!EtagMatches(if_match, info->etag)) return precondition_failed();
  } else if (auto since = ParseHttpDate(c.req.Header("If-Unmodified-Since"));
             since && c.req.HasHeader("If-Unmodified-Since") && mtime_s > *since) {
    return precondition_failed();
  }
  if (!if_none.empty()) {
    if (EtagMatches(if_none, info->etag)) return not_modified();
  } else if (auto since = ParseHttpDate(c.req.Header("If-Modified-Since"));
             since && c.req.HasHeader("If-Modified-Since") && mtime_s <= *since) {
    return not_modified();
  }

  uint64_t size = info->size;
  uint64_t first = 0, length = size;
  bool partial = false;
  if (c.query.Has("partNumber")) {
    // A multipart object answers with the bytes of that part (206, as S3); any
    // other object has one part, the whole object.
    const auto& parts = info->part_sizes;
    size_t count = parts.empty() ? 1 : parts.size();
    auto n = ParseCount(c.query.Get("partNumber"));
    if (!n || *n < 1 || *n > store::kMaxPartNumber) {
      return Error(c, 400, "InvalidArgument",
                   "Part number must be an integer between 1 and 10000, inclusive",
                   {{"ArgumentName", "partNumber"}, {"ArgumentValue", c.query.Get("partNumber")}});
    }
    if (static_cast<size_t>(*n) > count) {
      return Error(c, 416, "InvalidPartNumber", "The requested partnumber is not satisfiable",
                   {{"PartNumberRequested", c.query.Get("partNumber")},
                    {"ActualPartCount", std::to_string(count)}});
    }
    c.resp->SetHeader("x-amz-mp-parts-count", std::to_string(count));
    if (!parts.empty()) {
      for (int i = 0; i + 1 < *n; ++i) first += parts[i];
      length = parts[*n - 1];
      partial = length > 0;
    }
  } else if (c.req.HasHeader("Range")) {
    RangeSpec r = ParseRange(c.req.Header("Range"), size);
    if (r.valid && !r.satisfiable) {
      c.resp->SetHeader("Content-Range", "bytes */" + std::to_string(size));
      return Error(c, 416, "InvalidRange", "The requested range is not satisfiable",
                   {{"RangeRequested", std::string(c.req.Header("Range"))},
                    {"ActualObjectSize", std::to_string(size)}});
    }
    if (r.valid) {
      partial = true;
      first = r.first;
      length = r.last - r.first + 1;
    }
  }
  ObjectHeaders(c, *info);
  if (partial) {
    c.resp->status = 206;
    c.resp->SetHeader("Content-Range", "bytes " + std::to_string(first) + "-" +
                                           std::to_string(first + length - 1) + "/" +
                                           std::to_string(size));
  } else {
    c.resp->status = 200;
  }
  if (c.head) {
    c.resp->content_length_override = length;
    return;
  }
  if (length > 0) {
    c.resp->file = std::move(obj.data);
    c.resp->file_offset = first;
    c.resp->file_length = length;
  }
}

// Strips the "aws-chunked" coding, which describes the upload and not the object.
std::string StoredContentEncoding(std::string_view header) {
  std::string out;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item =
        Trim(header.substr(pos, comma == std::string_view::npos ? header.npos : comma - pos));
    if (!item.empty() && !IEquals(item, "aws-chunked")) {
      if (!out.empty()) out += ",";
      out += item;
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

bool IsAwsChunked(const http::Request& req) {
  if (StartsWith(req.Header("x-amz-content-sha256"), "STREAMING-")) return true;
  std::string_view enc = req.Header("Content-Encoding");
  return Lower(enc).find("aws-chunked") != std::string::npos;
}

store::ObjectMeta MetaFromRequest(const http::Request& req) {
  store::ObjectMeta meta;
  std::string_view ct = Trim(req.Header("Content-Type"));
  // S3's default when a client sends none.
  meta.content_type = ct.empty() ? "binary/octet-stream" : std::string(ct);
  meta.content_encoding = StoredContentEncoding(req.Header("Content-Encoding"));
  for (const auto& [name, value] : req.headers) {
    if (name.size() > 11 && IEquals(std::string_view(name).substr(0, 11), "x-amz-meta-")) {
      meta.user_meta[Lower(std::string_view(name).substr(11))] = std::string(Trim(value));
    }
  }
  return meta;
}

// The bytes a PutObject or UploadPart carries: the body, aws-chunked decoded,
// checked against Content-MD5 and every x-amz-checksum-*. Not movable: `data`
// may point into `decoded`.
struct Payload {
  Payload() = default;
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;
  std::string_view data;
  AwsChunkedBody decoded;
  // Checksums from headers and, for aws-chunked bodies, from trailers.
  std::vector<std::pair<std::string, std::string>> checksums;
};

// False after an error reply.
bool ReadPayload(Ctx& c, Payload* p) {
  std::string_view& data = p->data;
  AwsChunkedBody& decoded = p->decoded;
  auto& checksums = p->checksums;
  data = c.req.body;
  for (const auto& [name, value] : c.req.headers) {
    std::string n = Lower(name);
    if (StartsWith(n, "x-amz-checksum-") && n != "x-amz-checksum-algorithm" &&
        n != "x-amz-checksum-type") {
      checksums.emplace_back(n, std::string(Trim(value)));
    }
  }
  if (IsAwsChunked(c.req)) {
    auto d = DecodeAwsChunked(c.req.body);
    if (!d.ok()) {
      Error(c, 400, "IncompleteBody",
            "The request body is not valid aws-chunked encoding: " + d.status().message());
      return false;
    }
    decoded = std::move(d).value();
    data = decoded.data;
    for (const auto& [n, v] : decoded.trailers) {
      if (StartsWith(n, "x-amz-checksum-")) checksums.emplace_back(n, v);
    }
    std::string_view dcl = Trim(c.req.Header("x-amz-decoded-content-length"));
    if (!dcl.empty() && dcl != std::to_string(data.size())) {
      Error(c, 400, "IncompleteBody",
            "You did not provide the number of bytes specified by the "
            "x-amz-decoded-content-length HTTP header");
      return false;
    }
  }
  if (c.req.HasHeader("Content-MD5")) {
    auto want = base64::Decode(Trim(c.req.Header("Content-MD5")));
    if (!want || want->size() != 16) {
      Error(c, 400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
      return false;
    }
    if (*want != Digest(EVP_md5(), data)) {
      Error(c, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
      return false;
    }
  }
  for (const auto& [name, value] : checksums) {
    std::string alg = name.substr(strlen("x-amz-checksum-"));
    auto got = Checksum(alg, data);
    if (!got) {
      Error(c, 400, "InvalidRequest",
            "The algorithm type you specified in " + name + " header is invalid.");
      return false;
    }
    auto want = base64::Decode(value);
    if (!want || want->size() != got->size()) {
      Error(c, 400, "InvalidRequest", "Value for " + name + " header is invalid.");
      return false;
    }
    if (*want != *got) {
      Error(
          c, 400, "BadDigest",
          "The " + AlgorithmDisplay(alg) + " you specified did not match the calculated checksum.");
      return false;
    }
  }
  return true;
}

void PutObject(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  Payload p;
  if (!ReadPayload(c, &p)) return;
  auto info = store->PutObject(c.bucket, c.key, p.data, MetaFromRequest(c.req));
  if (!info.ok()) return StoreError(c, info.status());
  c.resp->status = 200;
  c.resp->SetHeader("ETag", info->etag);
  for (const auto& [name, value] : p.checksums) c.resp->SetHeader(name, value);
}

void CopyObject(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  std::string_view src = c.req.Header("x-amz-copy-source");
  size_t q = src.find('?');  // "?versionId=..." (keys have '?' percent-encoded)
  std::string version = q == std::string_view::npos ? "" : std::string(src.substr(q + 1));
  auto decoded = http::PercentDecode(src.substr(0, q));
  if (decoded && !decoded->empty() && decoded->front() == '/') decoded->erase(0, 1);
  size_t slash = decoded ? decoded->find('/') : std::string::npos;
  if (!decoded || slash == std::string::npos || slash == 0 || slash + 1 == decoded->size()) {
    return Error(c, 400, "InvalidArgument",
                 "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                 {{"ArgumentName", "x-amz-copy-source"}, {"ArgumentValue", std::string(src)}});
  }
  if (!version.empty() && version != "versionId=null") {
    return Error(c, 400, "InvalidArgument", "Invalid version id specified");
  }
  std::string src_bucket = decoded->substr(0, slash), src_key = decoded->substr(slash + 1);
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  auto source = store->OpenObject(src_bucket, src_key);
  if (!source.ok()) {
    if (source.status().code() != StatusCode::kNotFound) return InternalError(c, source.status());
    if (!store->BucketExists(src_bucket)) {
      return Error(c, 404, "NoSuchBucket", "The specified bucket does not exist",
                   {{"BucketName", src_bucket}});
    }
    return Error(c, 404, "NoSuchKey", "The specified key does not exist.", {{"Key", src_key}});
  }
  std::string directive = std::string(Trim(c.req.Header("x-amz-metadata-directive")));
  if (directive.empty()) directive = "COPY";
  if (directive != "COPY" && directive != "REPLACE") {
    return Error(c, 400, "InvalidArgument", "Unknown metadata directive.",
                 {{"ArgumentName", "x-amz-metadata-directive"}, {"ArgumentValue", directive}});
  }
  if (directive == "COPY" && src_bucket == c.bucket && src_key == c.key) {
    return Error(c, 400, "InvalidRequest",
                 "This copy request is illegal because it is trying to copy an object to itself "
                 "without changing the object's metadata, storage class, website redirect "
                 "location or encryption attributes.");
  }
  store::ObjectMeta meta = directive == "COPY" ? source->info.meta : MetaFromRequest(c.req);
  const int fd = source->data.get();  // the source as it was when opened
  auto writer = store->BeginPut(c.bucket, c.key, meta);
  if (!writer.ok()) return StoreError(c, writer.status());
  std::string buf(1 << 20, '\0');
  Status st;
  while (st.ok()) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Status::FromErrno("read " + source->info.data_path, errno);
      break;
    }
    if (n == 0) break;
    st = (*writer)->Write(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  if (!st.ok()) return InternalError(c, st);
  auto done = (*writer)->Commit();
  if (!done.ok()) return StoreError(c, done.status());
  std::string b = kXmlHeader;
  b += "<CopyObjectResult xmlns=\"";
  b += kNs;
  b += "\">";
  Tag(&b, "LastModified", Iso8601(done->last_modified_ms));
  Tag(&b, "ETag", done->etag);
  b += "</CopyObjectResult>";
  Xml(c, 200, std::move(b));
}

void DeleteObject(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  Status st = store->DeleteObject(c.bucket, c.key);
  if (!st.ok()) return StoreError(c, st);
  c.resp->status = 204;
}

// --- multipart uploads -------------------------------------------------------------------

// Store failures of the multipart calls, which carry S3's codes (SplitErrorCode).
void MultipartError(Ctx& c, const Status& st) {
  auto [code, text] = store::SplitErrorCode(st);
  if (code == store::kNoSuchUpload) {
    return Error(c, 404, code, text, {{"UploadId", c.query.Get("uploadId")}});
  }
  if (!code.empty()) return Error(c, 400, code, text);
  StoreError(c, st);
}

void Initiator(std::string* b) {
  *b += "<Initiator>";
  Tag(b, "ID", kOwnerId);
  Tag(b, "DisplayName", kOwnerName);
  *b += "</Initiator>";
}

void CreateMultipartUpload(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  auto up = store->CreateMultipartUpload(c.bucket, c.key, MetaFromRequest(c.req));
  if (!up.ok()) return MultipartError(c, up.status());
  std::string b = kXmlHeader;
  b += "<InitiateMultipartUploadResult xmlns=\"";
  b += kNs;
  b += "\">";
  Tag(&b, "Bucket", c.bucket);
  Tag(&b, "Key", c.key);
  Tag(&b, "UploadId", up->upload_id);
  b += "</InitiateMultipartUploadResult>";
  Xml(c, 200, std::move(b));
}

void UploadPart(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  auto n = ParseCount(c.query.Get("partNumber"));
  if (!n || *n < 1 || *n > store::kMaxPartNumber) {
    return Error(c, 400, "InvalidArgument",
                 "Part number must be an integer between 1 and 10000, inclusive",
                 {{"ArgumentName", "partNumber"}, {"ArgumentValue", c.query.Get("partNumber")}});
  }
  Payload p;
  if (!ReadPayload(c, &p)) return;
  auto part = store->UploadPart(c.bucket, c.key, c.query.Get("uploadId"), *n, p.data);
  if (!part.ok()) return MultipartError(c, part.status());
  c.resp->status = 200;
  c.resp->SetHeader("ETag", part->etag);
  for (const auto& [name, value] : p.checksums) c.resp->SetHeader(name, value);
}

void CompleteMultipartUpload(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  auto malformed = [&] {
    Error(c, 400, "MalformedXML",
          "The XML you provided was not well-formed or did not validate against our published "
          "schema");
  };
  auto roots = Elements(c.req.body, "CompleteMultipartUpload");
  if (roots.size() != 1) return malformed();
  auto items = Elements(roots[0], "Part");
  if (items.empty() || items.size() > static_cast<size_t>(store::kMaxPartNumber)) {
    return malformed();
  }
  std::vector<store::CompletedPart> parts;
  parts.reserve(items.size());
  for (auto item : items) {
    auto num = Elements(item, "PartNumber");
    auto etag = Elements(item, "ETag");
    if (num.size() != 1 || etag.size() != 1) return malformed();
    auto n = ParseCount(Trim(num[0]));
    auto e = XmlUnescape(Trim(etag[0]));
    if (!n || !e) return malformed();
    parts.push_back({*n, std::move(*e)});
  }
  auto info = store->CompleteMultipartUpload(c.bucket, c.key, c.query.Get("uploadId"), parts);
  if (!info.ok()) return MultipartError(c, info.status());
  std::string host(Trim(c.req.Header("Host")));
  std::string b = kXmlHeader;
  b += "<CompleteMultipartUploadResult xmlns=\"";
  b += kNs;
  b += "\">";
  Tag(&b, "Location",
      (host.empty() ? "" : "http://" + host) + "/" + c.bucket + "/" +
          http::PercentEncode(c.key, /*keep_slash=*/true));
  Tag(&b, "Bucket", c.bucket);
  Tag(&b, "Key", c.key);
  Tag(&b, "ETag", info->etag);
  b += "</CompleteMultipartUploadResult>";
  Xml(c, 200, std::move(b));
}

void AbortMultipartUpload(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  Status st = store->AbortMultipartUpload(c.bucket, c.key, c.query.Get("uploadId"));
  if (!st.ok()) return MultipartError(c, st);
  c.resp->status = 204;
}

void ListParts(Ctx& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  store::ListPartsRequest lr;
  lr.max_parts = kMaxKeys;
  if (c.query.Has("max-parts")) {
    auto v = ParseCount(c.query.Get("max-parts"));
    if (!v) {
      return Error(c, 400, "InvalidArgument",
                   "Provided max-parts not an integer or within integer range",
                   {{"ArgumentName", "max-parts"}, {"ArgumentValue", c.query.Get("max-parts")}});
    }
    lr.max_parts = std::min(*v, kMaxKeys);
  }
  if (c.query.Has("part-number-marker")) {
    auto v = ParseCount(c.query.Get("part-number-marker"));
    if (!v) {
      return Error(c, 400, "InvalidArgument",
                   "Provided part-number-marker not an integer or within integer range",
                   {{"ArgumentName", "part-number-marker"},
                    {"ArgumentValue", c.query.Get("part-number-marker")}});
    }
    lr.part_number_marker = *v;
  }
  auto r = store->ListParts(c.bucket, c.key, c.query.Get("uploadId"), lr);
  if (!r.ok()) return MultipartError(c, r.status());
  std::string b = kXmlHeader;
  b += "<ListPartsResult xmlns=\"";
  b += kNs;
  b += "\">";
  Tag(&b, "Bucket", c.bucket);
  Tag(&b, "Key", c.key);
  Tag(&b, "UploadId", r->upload.upload_id);
  Initiator(&b);
  Owner(&b);
  Tag(&b, "StorageClass", "STANDARD");
  Tag(&b, "PartNumberMarker", std::to_string(lr.part_number_marker));
  if (r->truncated) Tag(&b, "NextPartNumberMarker", std::to_string(r->next_part_number_marker));
  Tag(&b, "MaxParts", std::to_string(lr.max_parts));
  Tag(&b, "IsTruncated", r->truncated ? "true" : "false");
  for (const auto& p : r->parts) {
    b += "<Part>";
    Tag(&b, "PartNumber", std::to_string(p.part_number));
    Tag(&b, "LastModified", Iso8601(p.last_modified_ms));
    Tag(&b, "ETag", p.etag);
    Tag(&b, "Size", std::to_string(p.size));
    b += "</Part>";
  }
  b += "</ListPartsResult>";
  Xml(c, 200, std::move(b));
}

void ListMultipartUploads(Ctx& c, store::ObjectStore* store) {
  store::ListUploadsRequest lr;
  lr.prefix = c.query.Get("prefix");
  lr.delimiter = c.query.Get("delimiter");
  lr.key_marker = c.query.Get("key-marker");
  // S3 ignores upload-id-marker without key-marker.
  if (!lr.key_marker.empty()) lr.upload_id_marker = c.query.Get("upload-id-marker");
  lr.max_uploads = kMaxKeys;
  if (c.query.Has("max-uploads")) {
    auto v = ParseCount(c.query.Get("max-uploads"));
    if (!v) {
      return Error(
          c, 400, "InvalidArgument", "Provided max-uploads not an integer or within integer range",
          {{"ArgumentName", "max-uploads"}, {"ArgumentValue", c.query.Get("max-uploads")}});
    }
    lr.max_uploads = std::min(*v, kMaxKeys);
  }
  bool url = false;
  if (c.query.Has("encoding-type")) {
    if (c.query.Get("encoding-type") != "url") {
      return Error(
          c, 400, "InvalidArgument", "Invalid Encoding Method specified in Request",
          {{"ArgumentName", "encoding-type"}, {"ArgumentValue", c.query.Get("encoding-type")}});
    }
    url = true;
  }
  auto r = store->ListMultipartUploads(c.bucket, lr);
  if (!r.ok()) return MultipartError(c, r.status());
  std::string b = kXmlHeader;
  b += "<ListMultipartUploadsResult xmlns=\"";
  b += kNs;
  b += "\">";
  Tag(&b, "Bucket", c.bucket);
  Tag(&b, "KeyMarker", MaybeEncode(lr.key_marker, url));
  Tag(&b, "UploadIdMarker", lr.upload_id_marker);
  Tag(&b, "NextKeyMarker", MaybeEncode(r->next_key_marker, url));
  Tag(&b, "NextUploadIdMarker", r->next_upload_id_marker);
  if (!lr.delimiter.empty()) Tag(&b, "Delimiter", MaybeEncode(lr.delimiter, url));
  Tag(&b, "Prefix", MaybeEncode(lr.prefix, url));
  Tag(&b, "MaxUploads", std::to_string(lr.max_uploads));
  Tag(&b, "IsTruncated", r->truncated ? "true" : "false");
  if (url) Tag(&b, "EncodingType", "url");
  for (const auto& u : r->uploads) {
    b += "<Upload>";
    Tag(&b, "Key", MaybeEncode(u.key, url));
    Tag(&b, "UploadId", u.upload_id);
    Initiator(&b);
    Owner(&b);
    Tag(&b, "StorageClass", "STANDARD");
    Tag(&b, "Initiated", Iso8601(u.initiated_ms));
    b += "</Upload>";
  }
  for (const auto& p : r->common_prefixes) {
    b += "<CommonPrefixes>";
    Tag(&b, "Prefix", MaybeEncode(p, url));
    b += "</CommonPrefixes>";
  }
  b += "</ListMultipartUploadsResult>";
  Xml(c, 200, std::move(b));
}

}  // namespace

// --- aws-chunked ---------------------------------------------------------------------

Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body) {
  AwsChunkedBody out;
  size_t pos = 0;
  while (true) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string_view::npos) return Status::InvalidArgument("truncated chunk header");
    std::string_view header = body.substr(pos, eol - pos);
    pos = eol + 2;
    std::string_view size_hex = Trim(header.substr(0, header.find(';')));
    if (size_hex.empty() || size_hex.size() > 15) {
      return Status::InvalidArgument("bad chunk size '" + std::string(size_hex) + "'");
    }
    uint64_t size = 0;
    for (char ch : size_hex) {
      int v;
      if (ch >= '0' && ch <= '9')
        v = ch - '0';
      else if (ch >= 'a' && ch <= 'f')
        v = ch - 'a' + 10;
      else if (ch >= 'A' && ch <= 'F')
        v = ch - 'A' + 10;
      else
        return Status::InvalidArgument("bad chunk size '" + std::string(size_hex) + "'");
      size = size * 16 + static_cast<uint64_t>(v);
    }
    if (size == 0) break;
    if (size > body.size() - pos || body.size() - pos - size < 2) {
      return Status::InvalidArgument("truncated chunk");
    }
    out.data.append(body.substr(pos, size));
    pos += size;
    if (body.substr(pos, 2) != "\r\n") return Status::InvalidArgument("chunk not followed by CRLF");
    pos += 2;
  }
  // Trailing headers, then an empty line. Some clients end without the final
  // CRLF; that is accepted.
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    std::string_view line = body.substr(pos, eol == std::string_view::npos ? body.npos : eol - pos);
    pos = eol == std::string_view::npos ? body.size() : eol + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Status::InvalidArgument("bad trailer line");
    std::string name = Lower(Trim(line.substr(0, colon)));
    if (name == "x-amz-trailer-signature") continue;
    out.trailers.emplace_back(std::move(name), std::string(Trim(line.substr(colon + 1))));
  }
  return out;
}

// --- S3Api -----------------------------------------------------------------------------

S3Api::S3Api(store::ObjectStore* store, std::string region)
    : store_(store), region_(std::move(region)) {}

bool S3Api::IsS3Request(const http::Request& req) { return !req.HasHeader("X-Amz-Target"); }

void S3Api::Handle(const http::Request& req, http::Response* resp) {
  Ctx c{req, resp, NewRequestId(), std::string(req.Path()), req.method == "HEAD", {}, {}, {}};
  resp->SetHeader("x-amz-request-id", c.request_id);
  resp->SetHeader("x-amz-id-2", c.request_id);
  c.query.items = http::ParseQuery(req.Query());

  std::string_view path = req.Path();
  if (path.empty() || path.front() != '/') {
    return Error(c, 400, "InvalidURI", "Couldn't parse the specified URI.");
  }
  path.remove_prefix(1);
  size_t slash = path.find('/');
  auto bucket = http::PercentDecode(path.substr(0, slash));
  std::optional<std::string> key = std::string();
  if (slash != std::string_view::npos) key = http::PercentDecode(path.substr(slash + 1));
  if (!bucket || !key) return Error(c, 400, "InvalidURI", "Couldn't parse the specified URI.");
  c.bucket = *bucket;
  c.key = *key;
  c.resource = "/" + c.bucket + (c.key.empty() ? "" : "/" + c.key);

  for (const char* sub : kUnsupported) {
    if (c.query.Has(sub)) {
      return Error(c, 501, "NotImplemented",
                   "A header or query you provided implies functionality that is not "
                   "implemented: hydrant's embedded S3 does not support the ?" +
                       std::string(sub) + " subresource.");
    }
  }

  const std::string& m = req.method;
  if (c.bucket.empty()) {
    if (m == "GET") return ListBuckets(c, store_, region_);
    return MethodNotAllowed(c);
  }
  if (c.key.empty()) {
    if (c.query.Has("uploads")) {
      if (m == "GET") return ListMultipartUploads(c, store_);
      return MethodNotAllowed(c);
    }
    if (m == "GET") {
      if (c.query.Has("location")) return GetBucketLocation(c, store_, region_);
      if (c.query.Has("list-type")) {
        if (c.query.Get("list-type") != "2") {
          return Error(
              c, 400, "InvalidArgument", "Invalid List Type specified in Request",
              {{"ArgumentName", "list-type"}, {"ArgumentValue", c.query.Get("list-type")}});
        }
        return ListObjectsV2(c, store_);
      }
      return ListObjectsV1(c, store_);
    }
    if (m == "PUT") return CreateBucket(c, store_);
    if (m == "DELETE") return DeleteBucket(c, store_);
    if (m == "HEAD") return HeadBucket(c, store_, region_);
    if (m == "POST" && c.query.Has("delete")) return DeleteObjects(c, store_);
    return MethodNotAllowed(c);
  }
  if (c.query.Has("uploadId")) {  // an operation on one multipart upload
    if (m == "PUT") {
      if (req.HasHeader("x-amz-copy-source")) {
        return Error(c, 501, "NotImplemented",
                     "A header or query you provided implies functionality that is not "
                     "implemented: hydrant's embedded S3 does not support UploadPartCopy.");
      }
      return UploadPart(c, store_);
    }
    if (m == "POST") return CompleteMultipartUpload(c, store_);
    if (m == "GET") return ListParts(c, store_);
    if (m == "DELETE") return AbortMultipartUpload(c, store_);
    return MethodNotAllowed(c);
  }
  if (c.query.Has("uploads")) {
    if (m == "POST") return CreateMultipartUpload(c, store_);
    return MethodNotAllowed(c);
  }
  if (m == "GET" || m == "HEAD") return GetObject(c, store_);
  if (m == "PUT") {
    if (req.HasHeader("x-amz-copy-source")) return CopyObject(c, store_);
    return PutObject(c, store_);
  }
  if (m == "DELETE") return DeleteObject(c, store_);
  return MethodNotAllowed(c);
}

}  // namespace hydrant::server
