// Server-side encryption in the S3 API (s3_sse.h) and the bucket encryption
// operations: GetBucketEncryption, PutBucketEncryption, DeleteBucketEncryption
// (GET/PUT/DELETE /BUCKET?encryption).
#include "server/s3_sse.h"

#include "common/base64.h"
#include "common/strings.h"
#include "destinations/object_store.h"
#include "kms/key_service.h"
#include "server/s3_handlers.h"
#include "server/s3_strings.h"
#include "server/xml_reader.h"

namespace hydrant::server::s3 {

namespace {

constexpr char kSseHeader[] = "x-amz-server-side-encryption";
constexpr char kKeyIdHeader[] = "x-amz-server-side-encryption-aws-kms-key-id";
constexpr char kContextHeader[] = "x-amz-server-side-encryption-context";

// The bucket default as kept in <bucket>/.encryption: "<algorithm> <key or -> <bucket key 0|1>".
struct BucketDefault {
  std::string algorithm;
  std::string key;
  bool bucket_key = false;
};

std::string EncodeDefault(const BucketDefault& d) {
  return d.algorithm + " " + (d.key.empty() ? "-" : d.key) + " " + (d.bucket_key ? "1" : "0");
}

std::optional<BucketDefault> DecodeDefault(const std::string& text) {
  size_t a = text.find(' ');
  size_t b = a == std::string::npos ? a : text.find(' ', a + 1);
  if (b == std::string::npos) return std::nullopt;
  BucketDefault d;
  d.algorithm = text.substr(0, a);
  d.key = text.substr(a + 1, b - a - 1);
  if (d.key == "-") d.key.clear();
  d.bucket_key = text.substr(b + 1) == "1";
  return d;
}

void NotImplemented(Context& c, std::string_view what) {
  Error(c, 501, "NotImplemented",
        "A header or query you provided implies functionality that is not implemented: " +
            std::string(what));
}

// A KeyService failure as S3 answers it: AccessDenied (403) with KMS's message;
// KMS.<KMS exception> (400) for a missing, disabled or pending-deletion key.
void KmsError(Context& c, const Status& st) {
  std::string_view code = st.error_code();
  if (code == kms::kAccessDeniedException) return AccessDenied(c, st.message());
  if (code == kms::kNotFoundException || code == kms::kDisabledException ||
      code == kms::kInvalidStateException || code == kms::kIncorrectKeyException) {
    return Error(c, 400, "KMS." + std::string(code), st.message());
  }
  // A damaged record or blob, the KMS's own failure.
  return InternalError(c, st);
}

sse::KeyRequest BaseRequest(const Context& c, const std::string& key) {
  sse::KeyRequest r;
  r.bucket = c.bucket;
  r.object_key = key;
  r.principal = c.req.principal.get();
  r.via_service = c.via_service;
  return r;
}

}  // namespace

bool WantedEncryption(Context& c, store::ObjectStore* store,
                      std::optional<sse::KeyRequest>* wanted) {
  wanted->reset();
  if (c.req.HasHeader("x-amz-server-side-encryption-customer-algorithm")) {
    NotImplemented(c, "hydrant's embedded S3 does not support SSE-C (customer-provided keys).");
    return false;
  }
  std::string alg = std::string(TrimSpaces(c.req.Header(kSseHeader)));
  const bool has_key = c.req.HasHeader(kKeyIdHeader);
  const bool has_ctx = c.req.HasHeader(kContextHeader);
  if (alg.empty() && !has_key && !has_ctx) {
    sse::KeyRequest r = BaseRequest(c, c.key);
    if (!ApplyBucketDefault(store, c.bucket, &r)) return true;  // plaintext
    if (!c.keys) {
      NotImplemented(c, "server-side encryption needs hydrant's KMS.");
      return false;
    }
    *wanted = std::move(r);
    return true;
  }
  if (alg != sse::kAes256 && alg != sse::kAwsKms) {
    Error(c, 400, "InvalidArgument", "The encryption method specified is not supported",
          {{"ArgumentName", kSseHeader}, {"ArgumentValue", alg}});
    return false;
  }
  if ((has_key || has_ctx) && alg != sse::kAwsKms) {
    Error(c, 400, "InvalidArgument",
          "Server Side Encryption with AWS KMS managed key requires HTTP header "
          "x-amz-server-side-encryption : aws:kms",
          {{"ArgumentName", kSseHeader}, {"ArgumentValue", alg}});
    return false;
  }
  if (!c.keys) {
    NotImplemented(c, "server-side encryption needs hydrant's KMS.");
    return false;
  }
  sse::KeyRequest r = BaseRequest(c, c.key);
  r.algorithm = alg;
  r.key = std::string(TrimSpaces(c.req.Header(kKeyIdHeader)));
  r.context_b64 = std::string(TrimSpaces(c.req.Header(kContextHeader)));
  if (!r.context_b64.empty() && !sse::WrapContext(c.bucket, c.key, r.context_b64)) {
    Error(c, 400, "InvalidArgument",
          "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 "
          "string holding JSON which represents a string-string map",
          {{"ArgumentName", kContextHeader}});
    return false;
  }
  *wanted = std::move(r);
  return true;
}

bool ApplyBucketDefault(const store::ObjectStore* store, std::string_view bucket, sse::KeyRequest* req) {
  auto def = store->BucketEncryption(bucket);
  if (!def.ok() || !*def) return false;
  auto d = DecodeDefault(**def);
  if (!d) return false;
  req->algorithm = d->algorithm;
  req->key = d->key;
  return true;
}

bool NewObjectKey(Context& c, const sse::KeyRequest& wanted, sse::NewDataKey* out) {
  auto made = sse::MakeDataKey(c.keys, wanted);
  if (!made.ok()) {
    KmsError(c, made.status());
    return false;
  }
  *out = std::move(made).value();
  return true;
}

bool EncryptNewObject(Context& c, store::ObjectStore* store, store::ObjectMeta* meta,
                      std::optional<sse::NewDataKey>* key) {
  key->reset();
  meta->encryption.clear();
  std::optional<sse::KeyRequest> wanted;
  if (!WantedEncryption(c, store, &wanted)) return false;
  if (!wanted) return true;
  if (!NewObjectKey(c, *wanted, &key->emplace())) return false;
  meta->encryption = sse::EncodeRecord((*key)->record);
  return true;
}

bool StoredRecord(Context& c, const std::string& encryption, std::optional<sse::Record>* out) {
  out->reset();
  if (encryption.empty()) return true;
  auto r = sse::DecodeRecord(encryption);
  if (!r) {
    InternalError(c, Status::Corruption("encrypted object: unreadable encryption record"));
    return false;
  }
  if (!c.keys) {
    NotImplemented(c, "reading an encrypted object needs hydrant's KMS.");
    return false;
  }
  *out = std::move(*r);
  return true;
}

bool ObjectDataKey(Context& c, const sse::Record& record, const std::string& key,
                   std::string* data_key) {
  auto dk = sse::OpenDataKey(c.keys, record, BaseRequest(c, key));
  if (!dk.ok()) {
    KmsError(c, dk.status());
    return false;
  }
  *data_key = std::move(dk).value();
  return true;
}

void SseHeaders(Context& c, const sse::Record& record) {
  c.resp->SetHeader(kSseHeader, record.algorithm);
  if (record.algorithm == sse::kAwsKms) {
    c.resp->SetHeader(kKeyIdHeader, record.key_arn);
    if (!record.context_b64.empty()) c.resp->SetHeader(kContextHeader, record.context_b64);
  }
}

void GetBucketEncryption(Context& c, store::ObjectStore* store) {
  auto doc = store->BucketEncryption(c.bucket);
  if (!doc.ok()) return NoSuchBucket(c);
  std::optional<BucketDefault> d;
  if (*doc) d = DecodeDefault(**doc);
  if (!d) {
    return Error(c, 404, "ServerSideEncryptionConfigurationNotFoundError",
                 "The server side encryption configuration was not found",
                 {{"BucketName", c.bucket}});
  }
  XmlWriter w = StartXmlReply("ServerSideEncryptionConfiguration");
  w.Open("Rule");
  w.Open("ApplyServerSideEncryptionByDefault");
  w.Element("SSEAlgorithm", d->algorithm);
  if (!d->key.empty()) w.Element("KMSMasterKeyID", d->key);
  w.Close();
  w.Element("BucketKeyEnabled", d->bucket_key ? "true" : "false");
  w.Close();
  w.Close();
  ReplyXml(c, w);
}

void PutBucketEncryption(Context& c, store::ObjectStore* store) {
  if (!store->BucketExists(c.bucket)) return NoSuchBucket(c);
  auto roots = XmlElements(c.req.body, "ServerSideEncryptionConfiguration");
  if (roots.size() != 1) return MalformedXml(c);
  auto rules = XmlElements(roots[0], "Rule");
  if (rules.size() != 1) return MalformedXml(c);
  auto by_default = XmlElements(rules[0], "ApplyServerSideEncryptionByDefault");
  if (by_default.size() != 1) return MalformedXml(c);
  auto text = [](std::string_view parent, std::string_view name) -> std::optional<std::string> {
    auto e = XmlElements(parent, name);
    if (e.size() != 1) return std::nullopt;
    return XmlUnescape(TrimSpaces(e[0]));
  };
  BucketDefault d;
  auto alg = text(by_default[0], "SSEAlgorithm");
  if (!alg || (*alg != sse::kAes256 && *alg != sse::kAwsKms)) return MalformedXml(c);
  d.algorithm = *alg;
  if (!XmlElements(by_default[0], "KMSMasterKeyID").empty()) {
    auto key = text(by_default[0], "KMSMasterKeyID");
    if (!key || key->find(' ') != std::string::npos) return MalformedXml(c);
    if (d.algorithm != sse::kAwsKms && !key->empty()) {
      return Error(c, 400, "InvalidArgument",
                   "a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                   "aws:kms or aws:kms:dsse");
    }
    d.key = *key;
  }
  if (auto bk = text(rules[0], "BucketKeyEnabled")) d.bucket_key = *bk == "true";
  if (!c.keys) return NotImplemented(c, "server-side encryption needs hydrant's KMS.");
  if (Status st = store->SetBucketEncryption(c.bucket, EncodeDefault(d)); !st.ok()) {
    return StoreError(c, st);
  }
  c.resp->status = 200;
}

void DeleteBucketEncryption(Context& c, store::ObjectStore* store) {
  if (Status st = store->SetBucketEncryption(c.bucket, ""); !st.ok()) {
    if (st.code() == StatusCode::kNotFound) return NoSuchBucket(c);
    return StoreError(c, st);
  }
  c.resp->status = 204;
}

}  // namespace hydrant::server::s3
