// The service and bucket operations of the S3 API: ListBuckets, CreateBucket,
// DeleteBucket, HeadBucket, GetBucketLocation, ListObjects (V1 and V2) and
// DeleteObjects (see s3_handlers.h).
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/base64.h"
#include "destinations/object_store.h"
#include "server/authorization.h"
#include "server/s3_checksum.h"
#include "server/s3_handlers.h"
#include "server/sse_format.h"
#include "server/s3_strings.h"
#include "server/xml_reader.h"

namespace hydrant::server::s3 {
namespace {

constexpr size_t kMaxDeleteObjects = 1000;
// Continuation tokens are base64 of this and the last key returned.
constexpr char kTokenMagic[] = "hydrant1:";

void Contents(XmlWriter& w, const store::ObjectInfo& o, bool url, bool owner) {
  w.Open("Contents");
  w.Element("Key", MaybeEncode(o.key, url));
  w.Element("LastModified", Iso8601(o.last_modified_ms));
  w.Element("ETag", o.etag);
  // An encrypted object lists its plaintext size (server/sse_format.h).
  uint64_t size = o.size;
  if (!o.meta.encryption.empty()) size = sse::PlainTotal(o.size, o.part_sizes).value_or(o.size);
  w.Element("Size", std::to_string(size));
  if (owner) WriteOwner(w);
  w.Element("StorageClass", "STANDARD");
  w.Close();
}

// Common to both list versions: max-keys and encoding-type. False after an error reply.
bool ListParams(Context& c, store::ListRequest* lr, bool* url) {
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
  return EncodingTypeParam(c, url);
}

}  // namespace

void ListBuckets(Context& c, store::ObjectStore* store, const std::string& region) {
  std::string prefix = c.query.Get("prefix");
  XmlWriter w = StartXmlReply("ListAllMyBucketsResult");
  WriteOwner(w);
  w.Open("Buckets");
  for (const auto& bucket : store->ListBuckets()) {
    if (!std::string_view(bucket.name).starts_with(prefix)) continue;
    w.Open("Bucket");
    w.Element("Name", bucket.name);
    w.Element("CreationDate", Iso8601(bucket.creation_ms));
    w.Element("BucketRegion", region);
    w.Close();
  }
  w.Close();
  if (!prefix.empty()) w.Element("Prefix", prefix);
  w.Close();
  ReplyXml(c, w);
}

void CreateBucket(Context& c, store::ObjectStore* store) {
  if (!store::IsValidBucketName(c.bucket)) {
    return Error(c, 400, "InvalidBucketName", "The specified bucket is not valid.",
                 {{"BucketName", c.bucket}});
  }
  // The body, when present, is a CreateBucketConfiguration (LocationConstraint).
  // Every bucket lives in this server's one region, so its value is not checked.
  std::string_view body = TrimSpaces(c.req.body);
  if (!body.empty() && body.find("CreateBucketConfiguration") == std::string_view::npos) {
    return MalformedXml(c);
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

void DeleteBucket(Context& c, store::ObjectStore* store) {
  Status st = store->DeleteBucket(c.bucket);
  if (st.code() == StatusCode::kNotFound) return NoSuchBucket(c);
  if (st.code() == StatusCode::kInvalidArgument) {
    return Error(c, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty",
                 {{"BucketName", c.bucket}});
  }
  if (!st.ok()) return InternalError(c, st);
  c.resp->status = 204;
}

void HeadBucket(Context& c, store::ObjectStore* store, const std::string& region) {
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  c.resp->status = 200;
  c.resp->SetHeader("x-amz-bucket-region", region);
  c.resp->content_length_override = 0;
}

void GetBucketLocation(Context& c, store::ObjectStore* store, const std::string& region) {
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  XmlWriter w = StartXmlReply("LocationConstraint");
  // us-east-1 is reported as an empty constraint, as S3 does.
  if (region != "us-east-1") w.Text(region);
  w.Close();
  ReplyXml(c, w);
}

// --- listing -----------------------------------------------------------------------

void ListObjectsV2(Context& c, store::ObjectStore* store) {
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
    if (!raw || !std::string_view(*raw).starts_with(kTokenMagic)) {
      Error(c, 400, "InvalidArgument", "The continuation token provided is incorrect",
            {{"ArgumentName", "continuation-token"}, {"ArgumentValue", token}});
      return;
    }
    lr.start_after = raw->substr(strlen(kTokenMagic));
  }
  auto r = store->List(c.bucket, lr);
  if (!r.ok()) return StoreError(c, r.status());
  XmlWriter w = StartXmlReply("ListBucketResult");
  w.Element("Name", c.bucket);
  w.Element("Prefix", MaybeEncode(lr.prefix, url));
  if (has_token) w.Element("ContinuationToken", token);
  if (r->truncated) {
    w.Element("NextContinuationToken", base64::Encode(kTokenMagic + r->next_start_after));
  }
  w.Element("KeyCount", std::to_string(r->objects.size() + r->common_prefixes.size()));
  w.Element("MaxKeys", std::to_string(lr.max_keys));
  if (!lr.delimiter.empty()) w.Element("Delimiter", MaybeEncode(lr.delimiter, url));
  w.Element("IsTruncated", r->truncated ? "true" : "false");
  if (!start_after.empty()) w.Element("StartAfter", MaybeEncode(start_after, url));
  if (url) w.Element("EncodingType", "url");
  for (const auto& o : r->objects) Contents(w, o, url, fetch_owner);
  WriteCommonPrefixes(w, r->common_prefixes, url);
  w.Close();
  ReplyXml(c, w);
}

void ListObjectsV1(Context& c, store::ObjectStore* store) {
  store::ListRequest lr;
  bool url;
  if (!ListParams(c, &lr, &url)) return;
  std::string marker = c.query.Get("marker");
  lr.start_after = marker;
  auto r = store->List(c.bucket, lr);
  if (!r.ok()) return StoreError(c, r.status());
  XmlWriter w = StartXmlReply("ListBucketResult");
  w.Element("Name", c.bucket);
  w.Element("Prefix", MaybeEncode(lr.prefix, url));
  w.Element("Marker", MaybeEncode(marker, url));
  // S3 documents NextMarker only with a delimiter; sending it always is
  // harmless and saves clients from deriving it.
  if (r->truncated) w.Element("NextMarker", MaybeEncode(r->next_start_after, url));
  w.Element("MaxKeys", std::to_string(lr.max_keys));
  if (!lr.delimiter.empty()) w.Element("Delimiter", MaybeEncode(lr.delimiter, url));
  w.Element("IsTruncated", r->truncated ? "true" : "false");
  if (url) w.Element("EncodingType", "url");
  for (const auto& o : r->objects) Contents(w, o, url, /*owner=*/true);
  WriteCommonPrefixes(w, r->common_prefixes, url);
  w.Close();
  ReplyXml(c, w);
}

void DeleteObjects(Context& c, store::ObjectStore* store) {
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  std::string_view body = c.req.body;
  if (c.req.HasHeader("Content-MD5")) {
    if (auto err = CheckContentMd5(c.req.Header("Content-MD5"), body)) {
      return Error(c, 400, err->code, err->message);
    }
  }
  auto roots = XmlElements(body, "Delete");
  if (roots.size() != 1) return MalformedXml(c);
  bool quiet = false;
  for (auto q : XmlElements(roots[0], "Quiet")) quiet = TrimSpaces(q) == "true";
  auto objects = XmlElements(roots[0], "Object");
  if (objects.empty() || objects.size() > kMaxDeleteObjects) return MalformedXml(c);
  std::vector<std::string> keys;
  for (auto obj : objects) {
    auto k = XmlElements(obj, "Key");
    if (k.size() != 1) return MalformedXml(c);
    auto key = XmlUnescape(k[0]);
    if (!key) return MalformedXml(c);
    keys.push_back(std::move(*key));
  }
  XmlWriter w = StartXmlReply("DeleteResult");
  for (const auto& key : keys) {
    // As S3: each key is authorized on its own (s3:DeleteObject on bucket/key).
    if (c.authz) {
      Access a{"s3:DeleteObject", "arn:aws:s3:::" + c.bucket + "/" + key, {}, c.bucket};
      if (auto denied = c.authz->Check(c.req, a)) {
        w.Open("Error");
        w.Element("Key", key);
        w.Element("Code", "AccessDenied");
        w.Element("Message", "Access Denied");
        w.Close();
        continue;
      }
    }
    std::optional<std::string> err = store::ValidateKey(key);
    Status st = err ? Status::InvalidArgument(*err) : store->DeleteObject(c.bucket, key);
    if (st.ok()) {
      if (quiet) continue;
      w.Open("Deleted");
      w.Element("Key", key);
      w.Close();
    } else {
      w.Open("Error");
      w.Element("Key", key);
      if (st.code() == StatusCode::kInvalidArgument) {
        w.Element("Code", key.size() > 1024 ? "KeyTooLongError" : "InvalidArgument");
      } else if (st.code() == StatusCode::kNotFound) {
        w.Element("Code", "NoSuchBucket");
      } else {
        w.Element("Code", "InternalError");
      }
      w.Element("Message", st.message());
      w.Close();
    }
  }
  w.Close();
  ReplyXml(c, w);
}

}  // namespace hydrant::server::s3
