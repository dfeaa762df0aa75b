// The bucket policy operations of the embedded store: GetBucketPolicy,
// PutBucketPolicy, DeleteBucketPolicy (GET/PUT/DELETE /BUCKET?policy). The
// document is validated as a resource policy (iam/policy.h) and must name only
// this bucket and its objects, as S3 requires.

#include <boost/json.hpp>

#include "destinations/object_store.h"
#include "iam/policy.h"
#include "server/s3_handlers.h"

namespace hydrant::server::s3 {

namespace json = boost::json;

namespace {

// S3's limit on a bucket policy document.
constexpr size_t kMaxPolicyBytes = 20 * 1024;

void MalformedPolicy(Context& c, std::string_view message) {
  Error(c, 400, "MalformedPolicy", message);
}

// Every Resource/NotResource of the statements must be the bucket or inside it
// ("arn:aws:s3:::BUCKET" or "arn:aws:s3:::BUCKET/..."), else S3 answers
// "Policy has invalid resource".
bool ResourcesInBucket(const json::value& doc, const std::string& bucket) {
  const std::string arn = "arn:aws:s3:::" + bucket;
  auto inside = [&](const json::value& v) {
    if (!v.is_string()) return false;
    std::string_view r = v.as_string();
    return r == arn || (r.size() > arn.size() && r.starts_with(arn) && r[arn.size()] == '/');
  };
  auto all_inside = [&](const json::value& v) {
    if (v.is_array()) {
      for (const auto& x : v.as_array()) {
        if (!inside(x)) return false;
      }
      return true;
    }
    return inside(v);
  };
  const json::object* o = doc.if_object();
  if (!o) return false;
  const json::value* st = o->if_contains("Statement");
  if (!st) return false;
  auto check = [&](const json::value& s) {
    const json::object* so = s.if_object();
    if (!so) return false;
    for (const char* k : {"Resource", "NotResource"}) {
      if (const json::value* r = so->if_contains(k); r && !all_inside(*r)) return false;
    }
    return true;
  };
  if (st->is_array()) {
    for (const auto& s : st->as_array()) {
      if (!check(s)) return false;
    }
    return true;
  }
  return check(*st);
}

}  // namespace

void GetBucketPolicy(Context& c, store::ObjectStore* store) {
  auto policy = store->BucketPolicy(c.bucket);
  if (!policy.ok()) return NoSuchBucket(c);
  if (!*policy) {
    return Error(c, 404, "NoSuchBucketPolicy", "The bucket policy does not exist",
                 {{"BucketName", c.bucket}});
  }
  c.resp->status = 200;
  c.resp->SetHeader("Content-Type", "application/json");
  c.resp->body = **policy;
}

void PutBucketPolicy(Context& c, store::ObjectStore* store) {
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  const std::string& body = c.req.body;
  if (body.size() > kMaxPolicyBytes) {
    return MalformedPolicy(c, "Policy exceeds the maximum allowed document size.");
  }
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || body[first] != '{') {
    return MalformedPolicy(c, "Policies must be valid JSON and the first byte must be '{'");
  }
  auto parsed = iam::ParsePolicy(body, iam::PolicyKind::kResource);
  if (!parsed.ok()) return MalformedPolicy(c, parsed.status().message());
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !ResourcesInBucket(doc, c.bucket)) {
    return MalformedPolicy(c, "Policy has invalid resource");
  }
  if (Status st = store->SetBucketPolicy(c.bucket, body); !st.ok()) return StoreError(c, st);
  c.resp->status = 204;
}

void DeleteBucketPolicy(Context& c, store::ObjectStore* store) {
  if (Status st = store->SetBucketPolicy(c.bucket, ""); !st.ok()) {
    if (st.code() == StatusCode::kNotFound) return NoSuchBucket(c);
    return StoreError(c, st);
  }
  c.resp->status = 204;
}

}  // namespace hydrant::server::s3
