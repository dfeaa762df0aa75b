#include "server/s3_context.h"


#include <spdlog/spdlog.h>

#include "common/log_fields.h"
#include "destinations/object_store.h"

namespace hydrant::server::s3 {

XmlWriter StartXmlReply(std::string_view root) {
  XmlWriter w;
  w.Declaration();
  w.Open(root, kNs);
  return w;
}

void ReplyXml(Context& c, XmlWriter& w) {
  c.resp->status = 200;
  c.resp->SetHeader("Content-Type", "application/xml");
  c.resp->body = w.Take();
}

void Error(Context& c, int status, std::string_view code, std::string_view message,
           const std::vector<std::pair<std::string, std::string>>& extra) {
  c.resp->status = status;
  c.resp->file.Reset();
  c.resp->content_length_override.reset();
  if (c.head) {  // HEAD answers carry no body; the status says it all
    c.resp->body.clear();
    return;
  }
  XmlWriter w;
  w.Declaration();
  w.Open("Error");
  w.Element("Code", code);
  w.Element("Message", message);
  for (const auto& [k, v] : extra) w.Element(k, v);
  w.Element("Resource", c.resource);
  w.Element("RequestId", c.request_id);
  w.Close();
  c.resp->SetHeader("Content-Type", "application/xml");
  c.resp->body = w.Take();
}

void NoSuchBucket(Context& c) {
  Error(c, 404, "NoSuchBucket", "The specified bucket does not exist", {{"BucketName", c.bucket}});
}
void NoSuchKey(Context& c) {
  Error(c, 404, "NoSuchKey", "The specified key does not exist.", {{"Key", c.key}});
}
void InternalError(Context& c, const Status& st) {
  Error(c, 500, "InternalError",
        "We encountered an internal error. Please try again. (" + st.ToString() + ")");
}
void MethodNotAllowed(Context& c) {
  Error(c, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
        {{"Method", c.req.method},
         {"ResourceType", c.key.empty() ? (c.bucket.empty() ? "SERVICE" : "BUCKET") : "OBJECT"}});
}
void AccessDenied(Context& c, std::string_view message) { Error(c, 403, "AccessDenied", message); }
void MalformedXml(Context& c) {
  Error(c, 400, "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema");
}

void StoreError(Context& c, const Status& st) {
  if (IsDiskFull(st)) {
    // S3 has no code for a full disk; S3-compatible stores answer 507 (MinIO's
    // XMinioStorageFull, Ceph's InsufficientCapacity). SDKs retry 5xx answers.
    if (c.disk_full) c.disk_full->fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("event=disk_full component=s3 bucket={} error={}", LogQuote(c.bucket),
                 LogQuote(st.message()));
    return Error(c, 507, "InsufficientStorage",
                 "Storage is full: no space is left to store this object. Free disk space or "
                 "delete objects, then retry.");
  }
  if (st.code() == StatusCode::kNotFound) {
    NoSuchBucket(c);
  } else if (st.code() == StatusCode::kInvalidArgument) {
    Error(c, 400, "InvalidArgument", st.message());
  } else {
    InternalError(c, st);
  }
}

bool ValidKeyOrError(Context& c) {
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

bool CountParam(Context& c, std::string_view name, int* value) {
  if (!c.query.Has(name)) return true;
  auto v = ParseCount(c.query.Get(name));
  if (!v) {
    Error(c, 400, "InvalidArgument",
          "Provided " + std::string(name) + " not an integer or within integer range",
          {{"ArgumentName", std::string(name)}, {"ArgumentValue", c.query.Get(name)}});
    return false;
  }
  *value = *v;
  return true;
}

std::optional<int> PartNumberParam(Context& c) {
  auto n = ParseCount(c.query.Get("partNumber"));
  if (!n || *n < 1 || *n > store::kMaxPartNumber) {
    Error(c, 400, "InvalidArgument",
          "Part number must be an integer between 1 and 10000, inclusive",
          {{"ArgumentName", "partNumber"}, {"ArgumentValue", c.query.Get("partNumber")}});
    return std::nullopt;
  }
  return n;
}

bool EncodingTypeParam(Context& c, bool* url) {
  *url = false;
  if (!c.query.Has("encoding-type")) return true;
  std::string et = c.query.Get("encoding-type");
  if (et != "url") {
    Error(c, 400, "InvalidArgument", "Invalid Encoding Method specified in Request",
          {{"ArgumentName", "encoding-type"}, {"ArgumentValue", et}});
    return false;
  }
  *url = true;
  return true;
}

std::string MaybeEncode(std::string_view s, bool url) {
  return url ? http::PercentEncode(s, /*keep_slash=*/true) : std::string(s);
}

void WriteCommonPrefixes(XmlWriter& w, const std::vector<std::string>& prefixes, bool url) {
  for (const auto& p : prefixes) {
    w.Open("CommonPrefixes");
    w.Element("Prefix", MaybeEncode(p, url));
    w.Close();
  }
}

namespace {
void WriteParty(XmlWriter& w, std::string_view element) {
  w.Open(element);
  w.Element("ID", kOwnerId);
  w.Element("DisplayName", kOwnerName);
  w.Close();
}
}  // namespace

void WriteOwner(XmlWriter& w) { WriteParty(w, "Owner"); }
void WriteInitiator(XmlWriter& w) { WriteParty(w, "Initiator"); }

}  // namespace hydrant::server::s3
