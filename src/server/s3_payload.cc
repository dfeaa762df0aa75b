#include "server/s3_payload.h"

#include <memory>
#include <optional>
#include <string_view>

#include "auth/authenticator.h"
#include "common/strings.h"
#include "server/s3_aws_chunked.h"
#include "server/s3_checksum.h"
#include "server/s3_strings.h"

namespace hydrant::server::s3 {

store::ObjectMeta MetaFromRequest(const http::Request& req) {
  store::ObjectMeta meta;
  std::string_view ct = TrimSpaces(req.Header("Content-Type"));
  // S3's default when a client sends none.
  meta.content_type = ct.empty() ? "binary/octet-stream" : std::string(ct);
  meta.content_encoding = StoredContentEncoding(req.Header("Content-Encoding"));
  for (const auto& [name, value] : req.headers) {
    if (name.size() > 11 && EqualsIgnoreCase(std::string_view(name).substr(0, 11), "x-amz-meta-")) {
      meta.user_meta[AsciiLower(std::string_view(name).substr(11))] = std::string(TrimSpaces(value));
    }
  }
  return meta;
}

namespace {

constexpr size_t kReadBytes = 1 << 20;

// The digests an upload is checked against, computed as its bytes pass: MD5
// when Content-MD5 is sent, and each algorithm a checksum header, the
// x-amz-trailer header or x-amz-sdk-checksum-algorithm names.
class Digests {
 public:
  explicit Digests(const http::Request& req) {
    if (req.HasHeader("Content-MD5")) Add("md5");
    for (const auto& [name, value] : ChecksumHeaders(req)) Add(name.substr(15));
    for (std::string_view h : {req.Header("x-amz-trailer"), req.Header("x-amz-checksum-algorithm"),
                               req.Header("x-amz-sdk-checksum-algorithm")}) {
      std::string v = AsciiLower(TrimSpaces(h));
      Add(std::string_view(v).starts_with("x-amz-checksum-") ? v.substr(15) : v);
    }
  }
  void Update(std::string_view data) {
    for (auto& [alg, d] : running_) d->Update(data);
  }
  void Finish() {
    for (auto& [alg, d] : running_) done_.emplace_back(alg, d->Final());
    running_.clear();
  }
  std::optional<std::string> Get(std::string_view alg) const {
    for (const auto& [a, v] : done_) {
      if (a == alg) return v;
    }
    return std::nullopt;
  }

 private:
  void Add(std::string alg) {
    if (alg.empty()) return;
    for (const auto& [a, d] : running_) {
      if (a == alg) return;
    }
    if (auto d = RunningDigest::Make(alg)) running_.emplace_back(std::move(alg), std::move(d));
  }
  std::vector<std::pair<std::string, std::unique_ptr<RunningDigest>>> running_;
  std::vector<std::pair<std::string, std::string>> done_;
};

// A write into the store failed: the disk may be full (S3 has no code for it;
// see StoreError).
bool WriteFailed(Context& c, const Status& st) {
  StoreError(c, st);
  return false;
}

}  // namespace

bool StreamPayload(Context& c, ByteSink* sink,
                   std::vector<std::pair<std::string, std::string>>* checksums) {
  *checksums = ChecksumHeaders(c.req);
  Digests digests(c.req);
  const bool chunked = IsAwsChunked(c.req);
  AwsChunkedDecoder decoder;
  // What authentication left to check: the body's SHA-256 (x-amz-content-sha256
  // of a streamed upload) or the chunks' signatures.
  const auth::PayloadCheck* check = c.req.payload_check.get();
  std::unique_ptr<RunningDigest> body_sha256;
  if (check != nullptr && check->kind == auth::PayloadCheck::Kind::kSha256) {
    body_sha256 = RunningDigest::Make("sha256");
  } else if (check != nullptr && chunked) {
    decoder.VerifySignatures(*check);
  }
  auto bad_chunk_signature = [&] {
    Error(c, 403, "SignatureDoesNotMatch",
          "The request signature we calculated does not match the signature you provided. "
          "Check your key and signing method.");
    return false;
  };
  uint64_t decoded_bytes = 0;
  Status write_error;
  auto deliver = [&](std::string_view bytes) {
    digests.Update(bytes);
    decoded_bytes += bytes.size();
    Status st = sink->Write(bytes);
    if (!st.ok()) write_error = st;
    return st;
  };
  auto feed = [&](std::string_view piece) -> bool {
    if (body_sha256) body_sha256->Update(piece);
    Status st = chunked ? decoder.Feed(piece, deliver) : deliver(piece);
    if (st.ok()) return true;
    if (!write_error.ok()) return WriteFailed(c, write_error);
    if (decoder.signature_failed()) return bad_chunk_signature();
    Error(c, 400, "IncompleteBody",
          "The request body is not valid aws-chunked encoding: " + st.message());
    return false;
  };
  if (c.req.body_reader) {
    std::string buf(kReadBytes, '\0');
    while (true) {
      auto n = c.req.body_reader->Read(buf.data(), buf.size());
      if (!n.ok()) {
        Error(c, 400, "IncompleteBody",
              "You did not provide the number of bytes specified by the Content-Length HTTP "
              "header");
        return false;
      }
      if (*n == 0) break;
      if (!feed(std::string_view(buf.data(), *n))) return false;
    }
  } else if (!feed(c.req.body)) {
    return false;
  }
  if (body_sha256) {
    std::string computed = HexEncode(body_sha256->Final());
    if (computed != check->sha256_hex) {
      Error(c, 400, "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            {{"ClientComputedContentSHA256", check->sha256_hex},
             {"S3ComputedContentSHA256", computed}});
      return false;
    }
  }
  if (chunked) {
    if (Status st = decoder.Finish(); !st.ok()) {
      if (decoder.signature_failed()) return bad_chunk_signature();
      Error(c, 400, "IncompleteBody",
            "The request body is not valid aws-chunked encoding: " + st.message());
      return false;
    }
    for (const auto& [n, v] : decoder.trailers()) {
      if (std::string_view(n).starts_with("x-amz-checksum-")) checksums->emplace_back(n, v);
    }
    std::string_view dcl = TrimSpaces(c.req.Header("x-amz-decoded-content-length"));
    if (!dcl.empty() && dcl != std::to_string(decoded_bytes)) {
      Error(c, 400, "IncompleteBody",
            "You did not provide the number of bytes specified by the "
            "x-amz-decoded-content-length HTTP header");
      return false;
    }
  }
  digests.Finish();
  if (c.req.HasHeader("Content-MD5")) {
    if (auto err = CheckContentMd5Digest(c.req.Header("Content-MD5"), *digests.Get("md5"))) {
      Error(c, 400, err->code, err->message);
      return false;
    }
  }
  if (auto err = CheckChecksumDigests(
          *checksums, [&](std::string_view alg) { return digests.Get(alg); })) {
    Error(c, 400, err->code, err->message);
    return false;
  }
  return true;
}

}  // namespace hydrant::server::s3
