// The object operations of the S3 API: GetObject (and HEAD, with ranges,
// parts and conditions), PutObject, CopyObject and DeleteObject (see
// s3_handlers.h).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>

#include "destinations/object_store.h"
#include "server/s3_handlers.h"
#include "server/s3_payload.h"
#include "server/s3_sse.h"
#include "server/s3_strings.h"

namespace hydrant::server::s3 {
namespace {

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
  s = TrimSpaces(s);
  size_t comma = s.find(',');
  if (comma != std::string_view::npos) s = TrimSpaces(s.substr(comma + 1));
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

// S3's rules for If-Match / If-None-Match lists: "*", or comma-separated
// (possibly weak) entity tags, quoted or not.
bool EtagMatches(std::string_view header, std::string_view etag) {
  std::string_view bare = etag;
  if (bare.size() >= 2 && bare.front() == '"') bare = bare.substr(1, bare.size() - 2);
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item =
        TrimSpaces(header.substr(pos, comma == std::string_view::npos ? header.npos : comma - pos));
    if (std::string_view(item).starts_with("W/")) item.remove_prefix(2);
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
  h = TrimSpaces(h);
  if (!std::string_view(h).starts_with("bytes=")) return r;
  h.remove_prefix(6);
  h = TrimSpaces(h);
  if (h.find(',') != std::string_view::npos) return r;  // multiple ranges: S3 ignores them
  size_t dash = h.find('-');
  if (dash == std::string_view::npos) return r;
  // Any number of digits: a value past 2^64-1 saturates (it is past every
  // object's end all the same, so "bytes=18446744073709551616-" is unsatisfiable).
  auto num = [](std::string_view s, uint64_t* out) {
    s = TrimSpaces(s);
    if (s.empty()) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      const uint64_t d = static_cast<uint64_t>(c - '0');
      v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return true;
  };
  std::string_view a = TrimSpaces(h.substr(0, dash)), b = TrimSpaces(h.substr(dash + 1));
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

void ObjectHeaders(Context& c, const store::ObjectInfo& info) {
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

}  // namespace

void GetObject(Context& c, store::ObjectStore* store) {
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
  // An encrypted object: its sizes are the plaintext's, its data key opened
  // for the caller below (s3_sse.h).
  std::optional<sse::Record> record;
  if (!StoredRecord(c, info->meta.encryption, &record)) return;
  uint64_t size = info->size;
  std::vector<uint64_t> parts = info->part_sizes;
  std::vector<uint64_t> cipher_segments;
  if (record) {
    cipher_segments = sse::Segments(info->size, parts);
    auto plain = sse::PlainSizes(cipher_segments);
    if (!plain) return InternalError(c, Status::Corruption("encrypted object: impossible size"));
    size = 0;
    for (uint64_t p : *plain) size += p;
    if (!parts.empty()) parts = std::move(*plain);
  }
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

  uint64_t first = 0, length = size;
  bool partial = false;
  if (c.query.Has("partNumber")) {
    // A multipart object answers with the bytes of that part (206, as S3); any
    // other object has one part, the whole object.
    size_t count = parts.empty() ? 1 : parts.size();
    auto n = PartNumberParam(c);
    if (!n) return;
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
  std::string data_key;
  if (record) {
    if (!ObjectDataKey(c, *record, c.key, &data_key)) return;
    SseHeaders(c, *record);
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
  if (record && length > 0) {
    // Only the chunks that hold the range are read and decrypted.
    auto plain = sse::ReadPlain(obj.data.get(), data_key, cipher_segments, first, length);
    if (!plain.ok()) return InternalError(c, plain.status());
    c.resp->body = std::move(plain).value();
  } else if (length > 0) {
    c.resp->file = std::move(obj.data);
    c.resp->file_offset = first;
    c.resp->file_length = length;
  }
}

void PutObject(Context& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  store::ObjectMeta meta = MetaFromRequest(c.req);
  std::optional<sse::NewDataKey> key;
  if (!EncryptNewObject(c, store, &meta, &key)) return;
  // Streamed into the store's temp file (through the encryptor for SSE);
  // dropped uncommitted (nothing visible) when the body breaks off or a digest
  // does not hold.
  auto writer = store->BeginPut(c.bucket, c.key, meta);
  if (!writer.ok()) return StoreError(c, writer.status());
  ByteSink* sink = writer->get();
  std::optional<sse::ChunkEncryptor> encryptor;
  if (key) sink = &encryptor.emplace(key->data_key, sink);
  std::vector<std::pair<std::string, std::string>> checksums;
  if (!StreamPayload(c, sink, &checksums)) return;
  if (encryptor) {
    if (Status st = encryptor->Finish(); !st.ok()) return StoreError(c, st);
  }
  auto info = (*writer)->Commit();
  if (!info.ok()) return StoreError(c, info.status());
  c.resp->status = 200;
  c.resp->SetHeader("ETag", info->etag);
  if (key) SseHeaders(c, key->record);
  for (const auto& [name, value] : checksums) c.resp->SetHeader(name, value);
}

void CopyObject(Context& c, store::ObjectStore* store) {
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
  std::string directive = std::string(TrimSpaces(c.req.Header("x-amz-metadata-directive")));
  if (directive.empty()) directive = "COPY";
  if (directive != "COPY" && directive != "REPLACE") {
    return Error(c, 400, "InvalidArgument", "Unknown metadata directive.",
                 {{"ArgumentName", "x-amz-metadata-directive"}, {"ArgumentValue", directive}});
  }
  const bool sse_headers = c.req.HasHeader("x-amz-server-side-encryption");
  if (directive == "COPY" && src_bucket == c.bucket && src_key == c.key && !sse_headers) {
    return Error(c, 400, "InvalidRequest",
                 "This copy request is illegal because it is trying to copy an object to itself "
                 "without changing the object's metadata, storage class, website redirect "
                 "location or encryption attributes.");
  }
  store::ObjectMeta meta = directive == "COPY" ? source->info.meta : MetaFromRequest(c.req);
  // The copy is encrypted as the request (or the target bucket's default) says,
  // not as the source was: the source is decrypted (the caller needs
  // kms:Decrypt on its key) and the target gets a data key of its own.
  std::optional<sse::Record> src_record;
  if (!StoredRecord(c, source->info.meta.encryption, &src_record)) return;
  std::string src_data_key;
  if (src_record) {
    Context src_c = c;
    src_c.bucket = src_bucket;
    if (!ObjectDataKey(src_c, *src_record, src_key, &src_data_key)) return;
  }
  std::optional<sse::NewDataKey> key;
  if (!EncryptNewObject(c, store, &meta, &key)) return;
  const int fd = source->data.get();  // the source as it was when opened
  auto writer = store->BeginPut(c.bucket, c.key, meta);
  if (!writer.ok()) return StoreError(c, writer.status());
  ByteSink* sink = writer->get();
  std::optional<sse::ChunkEncryptor> encryptor;
  if (key) sink = &encryptor.emplace(key->data_key, sink);
  Status st;
  if (src_record) {
    const auto segments = sse::Segments(source->info.size, source->info.part_sizes);
    auto total = sse::PlainTotal(source->info.size, source->info.part_sizes);
    if (!total) st = Status::Corruption("encrypted object: impossible size");
    for (uint64_t at = 0; st.ok() && at < *total; at += 1 << 20) {
      auto bytes = sse::ReadPlain(fd, src_data_key, segments, at,
                                  std::min<uint64_t>(1 << 20, *total - at));
      st = bytes.ok() ? sink->Write(*bytes) : bytes.status();
    }
  } else {
    std::string buf(1 << 20, '\0');
    while (st.ok()) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        st = Status::FromErrno("read " + source->info.data_path, errno);
        break;
      }
      if (n == 0) break;
      st = sink->Write(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
  }
  if (st.ok() && encryptor) st = encryptor->Finish();
  if (!st.ok()) return IsDiskFull(st) ? StoreError(c, st) : InternalError(c, st);
  auto done = (*writer)->Commit();
  if (!done.ok()) return StoreError(c, done.status());
  if (key) SseHeaders(c, key->record);
  XmlWriter w = StartXmlReply("CopyObjectResult");
  w.Element("LastModified", Iso8601(done->last_modified_ms));
  w.Element("ETag", done->etag);
  w.Close();
  ReplyXml(c, w);
}

void DeleteObject(Context& c, store::ObjectStore* store) {
  if (!ValidKeyOrError(c)) return;
  Status st = store->DeleteObject(c.bucket, c.key);
  if (!st.ok()) return StoreError(c, st);
  c.resp->status = 204;
}

}  // namespace hydrant::server::s3
