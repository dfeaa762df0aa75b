#include "remote/remote_s3_sink.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <utility>

#include "aws/sigv4.h"
#include "common/base64.h"
#include "destinations/sink_errors.h"
#include "remote/assume_role.h"
#include "remote/s3_errors.h"

namespace hydrant::remote {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Upper bound for the short requests (Create/Complete/Abort/List/Delete).
constexpr std::chrono::milliseconds kControlTimeout{30000};
constexpr std::chrono::milliseconds kAbortTimeout{10000};


std::string RandomHex(int bytes) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  char buf[17];
  while (static_cast<int>(out.size()) < bytes * 2) {
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
    out += buf;
  }
  out.resize(static_cast<size_t>(bytes) * 2);
  return out;
}

}  // namespace

std::string ContentMd5(std::string_view body) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), md, &len, EVP_md5(), nullptr);
  return base64::Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

Headers ObjectHeaders(const store::ObjectMeta& meta) {
  Headers h;
  h.emplace_back("Content-Type",
                 meta.content_type.empty() ? "application/octet-stream" : meta.content_type);
  if (!meta.content_encoding.empty()) h.emplace_back("Content-Encoding", meta.content_encoding);
  for (const auto& [k, v] : meta.user_meta) h.emplace_back("x-amz-meta-" + k, v);
  if (!meta.sse_kms_key_id.empty()) {
    h.emplace_back("x-amz-server-side-encryption", "aws:kms");
    h.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", meta.sse_kms_key_id);
  }
  return h;
}

// --- the writer ------------------------------------------------------------------

namespace {

class RemoteWriter final : public store::ObjectWriter {
 public:
  RemoteWriter(RemoteS3Sink* sink, std::string bucket, std::string key, store::ObjectMeta meta,
               aws::Credentials creds)
      : sink_(sink),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        meta_(std::move(meta)),
        creds_(std::move(creds)) {}

  ~RemoteWriter() override {
    if (!upload_id_.empty()) Abort();
  }

  Status Write(std::string_view bytes) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Status::Internal("write after commit");
    buf_.append(bytes);
    size_ += bytes.size();
    const auto& o = sink_->options();
    if (upload_id_.empty() && buf_.size() <= o.multipart_threshold) return Status::Ok();
    if (upload_id_.empty()) {
      if (Status st = CreateUpload(); !st.ok()) return Fail(st);
    }
    while (buf_.size() >= o.part_size) {
      if (Status st = UploadPart(std::string_view(buf_).substr(0, o.part_size)); !st.ok()) {
        return Fail(st);
      }
      buf_.erase(0, o.part_size);
    }
    return Status::Ok();
  }

  Result<store::ObjectInfo> Commit() override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Status::Internal("commit twice");
    store::ObjectInfo info;
    info.key = key_;
    info.size = size_;
    info.meta = meta_;
    if (upload_id_.empty()) {
      RemoteS3Sink::Call c{"PutObject", "PUT", bucket_, key_, "", ObjectHeaders(meta_),
                           std::move(buf_), true};
      auto r = sink_->Send(std::move(c), creds_, sink_->options().request_timeout);
      buf_.clear();
      if (!r.ok()) return Fail(r.status());
      if (const std::string* etag = r->Header("ETag")) info.etag = *etag;
    } else {
      if (!buf_.empty() || parts_.empty()) {
        if (Status st = UploadPart(buf_); !st.ok()) return Fail(st);
        buf_.clear();
      }
      std::string xml = "<CompleteMultipartUpload>";
      for (const auto& [n, etag] : parts_) {
        xml += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" + etag +
               "</ETag></Part>";
      }
      xml += "</CompleteMultipartUpload>";
      RemoteS3Sink::Call c{"CompleteMultipartUpload", "POST", bucket_, key_,
                           "uploadId=" + aws::UriEncode(upload_id_, false),
                           {{"Content-Type", "application/xml"}}, std::move(xml), true};
      auto r = sink_->Send(std::move(c), creds_, kControlTimeout);
      if (!r.ok()) return Fail(r.status());
      // S3 may answer 200 and report the failure in the body.
      if (r->body.find("<Error>") != std::string::npos) {
        return Fail(S3ResponseError(
            {"CompleteMultipartUpload", bucket_, key_, sink_->endpoint()}, *r));
      }
      info.etag = XmlElementText(r->body, "ETag");
      upload_id_.clear();
    }
    committed_ = true;
    return info;
  }

 private:
  Status CreateUpload() {
    RemoteS3Sink::Call c{"CreateMultipartUpload", "POST", bucket_, key_, "uploads",
                         ObjectHeaders(meta_), "", false};
    auto r = sink_->Send(std::move(c), creds_, kControlTimeout);
    if (!r.ok()) return r.status();
    upload_id_ = XmlElementText(r->body, "UploadId");
    if (upload_id_.empty()) {
      return store::SinkError(store::kInternalError,
                              "CreateMultipartUpload s3://" + bucket_ + "/" + key_ + " at " +
                                  sink_->endpoint() + ": no UploadId in the answer");
    }
    return Status::Ok();
  }

  Status UploadPart(std::string_view data) {
    int n = static_cast<int>(parts_.size()) + 1;
    if (n > store::kMaxPartNumber) {
      return store::SinkError(store::kInternalError, "object s3://" + bucket_ + "/" + key_ +
                                                         " needs more than 10000 parts");
    }
    RemoteS3Sink::Call c{"UploadPart", "PUT", bucket_, key_,
                         "partNumber=" + std::to_string(n) +
                             "&uploadId=" + aws::UriEncode(upload_id_, false),
                         {}, std::string(data), true};
    auto r = sink_->Send(std::move(c), creds_, sink_->options().request_timeout);
    if (!r.ok()) return r.status();
    const std::string* etag = r->Header("ETag");
    if (etag == nullptr || etag->empty()) {
      return store::SinkError(store::kInternalError, "UploadPart " + std::to_string(n) +
                                                         " of s3://" + bucket_ + "/" + key_ +
                                                         " at " + sink_->endpoint() +
                                                         ": no ETag in the answer");
    }
    parts_.emplace_back(n, *etag);
    return Status::Ok();
  }

  void Abort() {
    RemoteS3Sink::Call c{"AbortMultipartUpload", "DELETE", bucket_, key_,
                         "uploadId=" + aws::UriEncode(upload_id_, false), {}, "", false};
    auto r = sink_->Send(std::move(c), creds_, kAbortTimeout);
    if (!r.ok()) {
      // Left for the bucket's lifecycle rule (AbortIncompleteMultipartUpload); the
      // parts are never visible as an object.
      spdlog::warn("event=multipart_abort_failed bucket={} key={} upload_id={} error=\"{}\"",
                   bucket_, key_, upload_id_, r.status().message());
    }
    upload_id_.clear();
  }

  Status Fail(Status st) {
    if (!upload_id_.empty()) Abort();
    buf_.clear();
    buf_.shrink_to_fit();
    failed_ = st;
    return st;
  }

  RemoteS3Sink* sink_;
  std::string bucket_, key_;
  store::ObjectMeta meta_;
  aws::Credentials creds_;
  std::string buf_;
  uint64_t size_ = 0;
  std::string upload_id_;
  std::vector<std::pair<int, std::string>> parts_;
  Status failed_;
  bool committed_ = false;
};

}  // namespace

// --- the sink ----------------------------------------------------------------------

Result<std::unique_ptr<RemoteS3Sink>> RemoteS3Sink::Create(
    RemoteS3Options opts, std::shared_ptr<aws::HttpClient> http,
    std::shared_ptr<aws::CredentialsProvider> credentials, const Clock* clock) {
  if (opts.region.empty()) opts.region = "us-east-1";
  if (opts.part_size < store::kMinPartSize) {
    return Status::InvalidArgument("remote S3: part_size must be at least 5 MiB");
  }
  if (opts.multipart_threshold < opts.part_size) opts.multipart_threshold = opts.part_size;
  if (opts.endpoint.empty()) {
    opts.endpoint = "https://s3." + opts.region + ".amazonaws.com";
    if (opts.addressing == RemoteS3Options::Addressing::kAuto) {
      opts.addressing = RemoteS3Options::Addressing::kVirtual;
    }
  }
  if (opts.addressing == RemoteS3Options::Addressing::kAuto) {
    opts.addressing = RemoteS3Options::Addressing::kPath;
  }
  while (!opts.endpoint.empty() && opts.endpoint.back() == '/') opts.endpoint.pop_back();
  aws::UrlParts parts;
  if (!aws::ParseUrl(opts.endpoint, &parts) || parts.path != "/" || !parts.query.empty()) {
    return Status::InvalidArgument("remote S3: endpoint must be http(s)://host[:port], got '" +
                                   opts.endpoint + "'");
  }
  if (!http) {
    aws::CurlHttpClientOptions co;
    co.verify_tls = opts.tls_verify;
    co.ca_file = opts.ca_file;
    http = std::make_shared<aws::CurlHttpClient>(co);
  }
  if (!credentials) {
    if (!opts.access_key_id.empty()) {
      if (opts.secret_access_key.empty()) {
        return Status::InvalidArgument("remote S3: access_key_id without secret_access_key");
      }
      credentials = std::make_shared<aws::StaticCredentialsProvider>(
          aws::Credentials{opts.access_key_id, opts.secret_access_key, opts.session_token});
    } else {
      credentials = aws::MakeDefaultCredentialsChain(opts.profile);
    }
  }
  return std::unique_ptr<RemoteS3Sink>(
      new RemoteS3Sink(std::move(opts), std::move(http), std::move(credentials), clock));
}

RemoteS3Sink::RemoteS3Sink(RemoteS3Options opts, std::shared_ptr<aws::HttpClient> http,
                           std::shared_ptr<aws::CredentialsProvider> credentials,
                           const Clock* clock)
    : opts_(std::move(opts)),
      endpoint_(opts_.endpoint),
      http_(std::move(http)),
      base_credentials_(std::move(credentials)),
      clock_(clock) {}

RemoteS3Sink::~RemoteS3Sink() = default;

Result<aws::Credentials> RemoteS3Sink::CredentialsFor(const store::ObjectMeta& meta) {
  aws::CredentialsProvider* p = base_credentials_.get();
  std::shared_ptr<aws::CredentialsProvider> assumed;
  if (opts_.assume_role && !meta.role_arn.empty()) {
    std::lock_guard lk(mu_);
    auto it = assumed_.find(meta.role_arn);
    if (it == assumed_.end()) {
      AssumeRoleOptions ao;
      ao.role_arn = meta.role_arn;
      ao.sts_endpoint = opts_.sts_endpoint;
      ao.region = opts_.region;
      it = assumed_
               .emplace(meta.role_arn, std::make_shared<AssumeRoleCredentialsProvider>(
                                           ao, base_credentials_, http_, clock_))
               .first;
    }
    assumed = it->second;
    p = assumed.get();
  }
  auto c = p->GetCredentials();
  if (c.ok()) return c;
  // AssumeRole errors carry their code already; a missing or broken key is AccessDenied.
  if (store::HasFirehoseErrorCode(c.status())) return c.status();
  return store::SinkError(store::kS3AccessDenied, "no credentials for " + endpoint_ + " (" +
                                                      p->Name() + "): " + c.status().message());
}

Result<aws::HttpResponse> RemoteS3Sink::Send(Call call, const aws::Credentials& creds,
                                             std::chrono::milliseconds timeout) {
  S3RequestContext ctx{call.operation, call.bucket, call.key, endpoint_};
  aws::UrlParts base;
  aws::ParseUrl(endpoint_, &base);  // checked at Create
  std::string host = base.HostHeader();
  std::string path;
  if (opts_.addressing == RemoteS3Options::Addressing::kVirtual) {
    host = call.bucket + "." + host;
    path = "/" + aws::UriEncode(call.key, true);
  } else {
    path = "/" + call.bucket;
    if (!call.key.empty()) path += "/" + aws::UriEncode(call.key, true);
  }
  aws::SignableRequest s;
  s.method = call.method;
  s.path = path;
  s.query = call.query;
  s.headers = std::move(call.headers);
  s.headers.emplace_back("Host", host);
  if (call.content_md5) s.headers.emplace_back("Content-MD5", ContentMd5(call.body));
  s.payload_hash = aws::Sha256Hex(call.body);
  aws::SigningOptions so{opts_.region, "s3"};
  so.add_content_sha256_header = true;
  auto signed_req = aws::Sign(&s, creds, so, clock_->NowMillis());
  if (!signed_req.ok()) {
    return store::SinkError(store::kS3AccessDenied,
                            call.operation + " s3://" + call.bucket + " at " + endpoint_ +
                                ": cannot sign: " + signed_req.status().message());
  }
  aws::HttpRequest req;
  req.method = call.method;
  req.url = base.scheme + "://" + host + path + (call.query.empty() ? "" : "?" + call.query);
  req.headers = std::move(s.headers);
  req.body = std::move(call.body);
  req.max_response_bytes = 4u << 20;
  auto resp = http_->Send(req, timeout);
  if (!resp.ok()) return S3TransportError(ctx, resp.status());
  if (resp->status / 100 != 2) return S3ResponseError(ctx, *resp);
  return resp;
}

Result<std::unique_ptr<store::ObjectWriter>> RemoteS3Sink::BeginPut(std::string_view bucket,
                                                                    std::string_view key,
                                                                    const store::ObjectMeta& meta) {
  if (auto err = store::ValidateKey(key)) return Status::InvalidArgument(*err);
  auto creds = CredentialsFor(meta);
  if (!creds.ok()) return creds.status();
  return std::unique_ptr<store::ObjectWriter>(new RemoteWriter(
      this, std::string(bucket), std::string(key), meta, std::move(creds).value()));
}

Status RemoteS3Sink::CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) {
  auto creds = CredentialsFor(meta);
  if (!creds.ok()) return creds.status();
  std::string b(bucket);
  auto list = Send({"ListObjectsV2", "GET", b, "", "list-type=2&max-keys=1", {}, "", false},
                   *creds, kControlTimeout);
  if (!list.ok()) return list.status();
  std::string key = std::string(store::kProbeKeyPrefix) + RandomHex(8);
  store::ObjectMeta pm = meta;
  pm.content_type = "text/plain";
  pm.content_encoding.clear();
  pm.user_meta.clear();
  auto put = Send({"PutObject", "PUT", b, key, "", ObjectHeaders(pm), "hydrant access probe\n", true},
                  *creds, kControlTimeout);
  if (!put.ok()) return put.status();
  auto del = Send({"DeleteObject", "DELETE", b, key, "", {}, "", false}, *creds, kControlTimeout);
  if (!del.ok()) return del.status();
  return Status::Ok();
}

}  // namespace hydrant::remote
