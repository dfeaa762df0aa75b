#pragma once
// What every S3 operation shares: the request's Context (bucket, key, query,
// request id), the replies (an XML document, S3's error documents), the checks
// of parameters that several operations take, and the constants of the wire.
// Used by the handlers in s3_bucket_ops.cc, s3_object_ops.cc and
// s3_multipart_ops.cc; S3Api::Handle (s3_api.cc) builds the Context.
//
// The functions that reply return nothing or false after writing the whole
// reply into c.resp; the handler then returns at once.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/http_types.h"
#include "server/xml_writer.h"

namespace hydrant::server {
class Authorizer;
}
namespace hydrant::kms {
class KeyService;
}

namespace hydrant::server::s3 {

constexpr char kNs[] = "http://s3.amazonaws.com/doc/2006-03-01/";
// The single owner of everything in the embedded store.
constexpr char kOwnerId[] = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
constexpr char kOwnerName[] = "hydrant";
// The most keys, parts or uploads one listing returns.
constexpr int kMaxKeys = 1000;

// The decoded query parameters, in order.
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

// One request and its reply. `req` and `resp` outlive the Context.
struct Context {
  const http::Request& req;
  http::Response* resp;
  std::string request_id;
  std::string resource;  // decoded "/bucket/key", for error replies
  bool head = false;
  Query query;
  std::string bucket;
  std::string key;
  std::atomic<uint64_t>* disk_full = nullptr;  // counts 507 answers; may be null
  // Authorizes what a handler decides per item (DeleteObjects' keys); may be null.
  const Authorizer* authz = nullptr;
  // Server-side encryption (s3_sse.cc): the KMS, null = SSE refused as not
  // implemented; kms:ViaService for the requests S3 makes to KMS on the caller's behalf.
  kms::KeyService* keys = nullptr;
  std::string via_service = {};
};

// AWS's AccessDenied reply (403) with the authorizer's message.
void AccessDenied(Context& c, std::string_view message);

// A writer holding the XML declaration and the opened root element, in S3's
// namespace: the start of every successful XML reply.
XmlWriter StartXmlReply(std::string_view root);
// Answers 200 with the document (every element closed).
void ReplyXml(Context& c, XmlWriter& w);

// An S3 error reply. `extra` adds elements such as <BucketName>. HEAD replies
// carry the status only.
void Error(Context& c, int status, std::string_view code, std::string_view message,
           const std::vector<std::pair<std::string, std::string>>& extra = {});
void NoSuchBucket(Context& c);
void NoSuchKey(Context& c);
void InternalError(Context& c, const Status& st);
void MethodNotAllowed(Context& c);
void MalformedXml(Context& c);
// Maps a store failure on bucket `c.bucket` to the S3 error. (Missing keys are
// told apart by the callers; a NotFound here is the bucket.) A full disk
// (ENOSPC, EDQUOT) is 507 InsufficientStorage, logged as event=disk_full.
void StoreError(Context& c, const Status& st);

// False after an error reply when c.key is too long or not a valid key.
bool ValidKeyOrError(Context& c);

// A non-negative decimal integer that fits in an int32, as S3's integer parameters.
std::optional<int> ParseCount(std::string_view s);
// Sets *value from query parameter `name` when present. False after an error
// reply when it is not a count.
bool CountParam(Context& c, std::string_view name, int* value);
// The partNumber query parameter (1 to 10000); nullopt after an error reply.
std::optional<int> PartNumberParam(Context& c);
// Sets *url from the encoding-type query parameter (absent, or "url"). False
// after an error reply for any other value.
bool EncodingTypeParam(Context& c, bool* url);

// encoding-type=url: S3 percent-encodes keys (keeping '/'); clients decode with
// unquote_plus, so '+' and ' ' must both be escaped, which PercentEncode does.
std::string MaybeEncode(std::string_view s, bool url);

// One <CommonPrefixes><Prefix>...</Prefix></CommonPrefixes> per prefix.
void WriteCommonPrefixes(XmlWriter& w, const std::vector<std::string>& prefixes, bool url);

// <Owner> and <Initiator>: both the store's single owner.
void WriteOwner(XmlWriter& w);
void WriteInitiator(XmlWriter& w);

}  // namespace hydrant::server::s3
