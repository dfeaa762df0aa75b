#pragma once
// The integrity checks of S3 uploads: Content-MD5 and the flexible checksums
// (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256), sent as headers
// or, in aws-chunked bodies, as trailers. Pure functions: the callers turn a
// DigestError into the S3 error reply (status 400).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http_types.h"

namespace hydrant::server::s3 {

// The raw MD5 digest (16 bytes) of data.
std::string Md5(std::string_view data);

// The raw digest for an x-amz-checksum-<algorithm> (algorithm lower-case, as
// "crc32"), or nullopt for an unknown algorithm. CRCs are big-endian.
std::optional<std::string> Checksum(std::string_view algorithm, std::string_view data);

// A digest computed over bytes fed in pieces: "md5" or a checksum algorithm
// as Checksum() takes them.
class RunningDigest {
 public:
  // Null for an unknown algorithm.
  static std::unique_ptr<RunningDigest> Make(std::string_view algorithm);
  virtual ~RunningDigest() = default;
  virtual void Update(std::string_view data) = 0;
  // The raw digest of everything fed (once).
  virtual std::string Final() = 0;
};

// Why a request's digests are refused: S3's error code and message.
struct DigestError {
  std::string code;
  std::string message;
};

// Checks a Content-MD5 header (base64 of the 16-byte MD5) against data.
std::optional<DigestError> CheckContentMd5(std::string_view header, std::string_view data);

// The same checks against digests computed beforehand: `md5` is the raw MD5;
// `digest(algorithm)` the raw digest, nullopt for an algorithm not computed
// (refused as an unknown one).
std::optional<DigestError> CheckContentMd5Digest(std::string_view header, const std::string& md5);
std::optional<DigestError> CheckChecksumDigests(
    const std::vector<std::pair<std::string, std::string>>& checksums,
    const std::function<std::optional<std::string>(std::string_view)>& digest);

// The request's x-amz-checksum-<algorithm> headers (not -algorithm and -type,
// which name rather than carry one): names lower-cased, values trimmed.
std::vector<std::pair<std::string, std::string>> ChecksumHeaders(const http::Request& req);

// Checks each (x-amz-checksum-<algorithm>, base64 value) against data, in order.
std::optional<DigestError> CheckChecksums(
    const std::vector<std::pair<std::string, std::string>>& checksums, std::string_view data);

}  // namespace hydrant::server::s3
