#pragma once
// The aws-chunked content encoding: how SigV4 streaming uploads (signed or
// unsigned, with optional trailing headers such as x-amz-checksum-crc32) frame
// their body:
//   hex-size[;chunk-signature=...]\r\n bytes \r\n ... 0[;...]\r\n [name:value\r\n]* \r\n
// With a PayloadCheck of a signed stream (STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// [-TRAILER], auth/authenticator.h) every chunk's signature is verified as its
// last byte passes, chained from the seed signature, and the trailer's
// (x-amz-trailer-signature) at the end; a missing or wrong one fails the body
// (signature_failed()). Bytes of a chunk reach the output before its signature
// is checked: the caller keeps what it writes invisible until the whole body
// verified. Pure functions.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <memory>

#include "auth/authenticator.h"
#include "common/status.h"
#include "server/http_types.h"
#include "server/s3_checksum.h"

namespace hydrant::server {

struct AwsChunkedBody {
  std::string data;
  std::vector<std::pair<std::string, std::string>> trailers;  // names lower-cased
};
// InvalidArgument when the framing is broken or truncated, or (with `check`) a
// signature is wrong; *bad_signature (if given) tells the latter apart.
Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body,
                                        const auth::PayloadCheck* check = nullptr,
                                        bool* bad_signature = nullptr);

// Decodes an aws-chunked body fed in pieces of any size: the chunks' bytes go
// to `out` as they are decoded, so memory does not grow with the body (only a
// chunk header or trailer line is held, at most kMaxLineBytes).
class AwsChunkedDecoder {
 public:
  using Output = std::function<Status(std::string_view)>;
  static constexpr size_t kMaxLineBytes = 4096;

  AwsChunkedDecoder();
  ~AwsChunkedDecoder();
  // Verify chunk signatures against `check` (a kChunkSigned* check, which must
  // outlive the decoder). Call before the first Feed.
  void VerifySignatures(const auth::PayloadCheck& check);
  // InvalidArgument when the framing is broken or a signature fails; out's failure as it is.
  Status Feed(std::string_view in, const Output& out);
  // After the last piece: InvalidArgument when the body ended early.
  Status Finish();
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }
  // True once a chunk or trailer signature was missing or wrong.
  bool signature_failed() const { return signature_failed_; }

 private:
  Status EndChunk();
  Status BadSignature(std::string what);
  enum class State { kSize, kData, kDataEnd, kTrailers, kDone };
  Status SizeLine(std::string_view line);
  Status TrailerLine(std::string_view line);
  State state_ = State::kSize;
  std::string line_;     // the line being read (chunk header, trailer, or the CRLF after data)
  uint64_t left_ = 0;    // bytes left in the current chunk
  std::vector<std::pair<std::string, std::string>> trailers_;  // names lower-cased
  // Signed streams: the chain, the current chunk's digest and signature, the
  // trailer lines as signed ("name:value\n") and the trailer's signature.
  std::unique_ptr<auth::ChunkSignatureChain> chain_;
  std::unique_ptr<s3::RunningDigest> chunk_digest_;
  std::string chunk_signature_;
  std::string signed_trailers_;
  std::string trailer_signature_;
  bool signature_failed_ = false;
};

// True when the request's body is aws-chunked: its x-amz-content-sha256 is
// STREAMING-... or its Content-Encoding names aws-chunked.
bool IsAwsChunked(const http::Request& req);

// A Content-Encoding header without the "aws-chunked" coding, which describes
// the upload and not the object ("aws-chunked, gzip" is stored as "gzip").
std::string StoredContentEncoding(std::string_view header);

}  // namespace hydrant::server
