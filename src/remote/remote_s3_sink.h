#pragma once
// RemoteS3Sink: delivery to a bucket on any S3-compatible service (AWS S3, MinIO,
// Ceph, moto, s3rver) over HTTP(S), as an ObjectSink.
//
// Objects up to `multipart_threshold` bytes are buffered in memory and sent with
// one PutObject (atomic on S3); larger ones become a multipart upload whose parts
// (`part_size` bytes, the last one smaller) are sent as the writer receives the
// bytes, so memory stays at about one part. A failed part or Complete aborts the
// upload, and so does destroying an uncommitted writer: no half object is ever
// visible, and a retry (the delivery loop retries the same key) overwrites.
// PutObject and UploadPart carry Content-MD5 and x-amz-content-sha256 (the
// payload's SHA-256, signed with SigV4). With ObjectMeta::sse_kms_key_id, objects
// are written with x-amz-server-side-encryption: aws:kms and the key id.
//
// Errors carry Firehose's error codes (destinations/sink_errors.h) and say which
// request, bucket, endpoint, HTTP status and S3 message. No retries here: the
// caller retries with backoff. Thread-safe; writers are used by one thread each,
// and the sink must outlive its writers (an abandoned writer aborts through it).
// docs/remote-s3.md.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "aws/http_client.h"
#include "common/clock.h"
#include "destinations/object_store.h"

namespace hydrant::remote {

// One remote S3 service, as configured ([s3] / [[s3.buckets]] in the config file).
struct RemoteS3Options {
  std::string endpoint;  // "http(s)://host[:port]"; "" = https://s3.REGION.amazonaws.com
  std::string region;  // "" = us-east-1 (hydrant serve passes its --region)
  enum class Addressing { kAuto, kPath, kVirtual };
  // kAuto: virtual-hosted for AWS (no endpoint given), path-style otherwise.
  Addressing addressing = Addressing::kAuto;
  bool tls_verify = true;
  std::string ca_file;  // "" = the system's CA bundle
  // Credentials: static keys when access_key_id is set; else the named profile of
  // ~/.aws/credentials / ~/.aws/config; else the default chain (environment, then
  // the default profile).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string profile;
  // Assume ObjectMeta::role_arn with STS (signed with the credentials above)
  // before writing. Off by default: local S3s have no STS.
  bool assume_role = false;
  std::string sts_endpoint;  // "" = https://sts.REGION.amazonaws.com
  uint64_t multipart_threshold = 8ull << 20;  // larger objects use multipart upload
  uint64_t part_size = 8ull << 20;            // at least 5 MiB (S3's minimum)
  std::chrono::milliseconds request_timeout{120000};
};

class RemoteS3Sink final : public store::ObjectSink {
 public:
  // `http` = nullptr: a CurlHttpClient with the TLS options; `credentials` =
  // nullptr: as the options say. `clock` (for signing) must outlive the sink.
  static Result<std::unique_ptr<RemoteS3Sink>> Create(
      RemoteS3Options opts, std::shared_ptr<aws::HttpClient> http = nullptr,
      std::shared_ptr<aws::CredentialsProvider> credentials = nullptr,
      const Clock* clock = &SystemClock::Get());
  ~RemoteS3Sink() override;

  Result<std::unique_ptr<store::ObjectWriter>> BeginPut(std::string_view bucket,
                                                        std::string_view key,
                                                        const store::ObjectMeta& meta) override;
  // ListObjectsV2 (max-keys 1), PutObject of a probe object, DeleteObject.
  Status CheckAccess(std::string_view bucket, const store::ObjectMeta& meta) override;

  const std::string& endpoint() const { return endpoint_; }

  // One signed request; exposed to the writer (and tests).
  struct Call {
    std::string operation;  // for messages
    std::string method;
    std::string bucket, key;
    std::string query;  // "" or "uploads", "partNumber=1&uploadId=..."
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool content_md5 = false;  // add Content-MD5 of the body
  };
  // A 2xx response, or the mapped error (S3ResponseError / S3TransportError).
  Result<aws::HttpResponse> Send(Call call, const aws::Credentials& creds,
                                 std::chrono::milliseconds timeout);
  Result<aws::Credentials> CredentialsFor(const store::ObjectMeta& meta);
  const RemoteS3Options& options() const { return opts_; }

 private:
  RemoteS3Sink(RemoteS3Options opts, std::shared_ptr<aws::HttpClient> http,
               std::shared_ptr<aws::CredentialsProvider> credentials, const Clock* clock);

  RemoteS3Options opts_;
  std::string endpoint_;  // without a trailing '/'
  std::shared_ptr<aws::HttpClient> http_;
  std::shared_ptr<aws::CredentialsProvider> base_credentials_;
  const Clock* clock_;
  std::mutex mu_;  // guards assumed_
  std::map<std::string, std::shared_ptr<aws::CredentialsProvider>, std::less<>> assumed_;
};

// Headers of an object's PutObject / CreateMultipartUpload: Content-Type,
// Content-Encoding, x-amz-meta-*, and the SSE-KMS pair when meta asks for it.
std::vector<std::pair<std::string, std::string>> ObjectHeaders(const store::ObjectMeta& meta);
// base64 of the body's MD5 (Content-MD5).
std::string ContentMd5(std::string_view body);

}  // namespace hydrant::remote
