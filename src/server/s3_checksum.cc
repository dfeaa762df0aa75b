#include "server/s3_checksum.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "common/base64.h"
#include "common/crc32c.h"
#include "server/s3_strings.h"

namespace hydrant::server::s3 {
namespace {

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string BigEndian(uint64_t v, int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
  return out;
}

uint64_t Crc64Nvme(std::string_view data) {
  static const auto table = [] {
    std::array<uint64_t, 256> t{};
    constexpr uint64_t kPoly = 0x9a6c9329ac4bc9b5ull;  // reflected 0xad93d23594c93659
    for (uint64_t i = 0; i < 256; ++i) {
      uint64_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint64_t crc = ~0ull;
  for (unsigned char c : data) crc = table[(crc ^ c) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::string AlgorithmDisplay(std::string_view algorithm) {
  if (algorithm == "crc64nvme") return "CRC64NVME";
  std::string out;
  for (char c : algorithm)
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

}  // namespace

std::optional<std::string> Checksum(std::string_view algorithm, std::string_view data) {
  if (algorithm == "crc32") {
    uLong c = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), 0);
    // zlib takes uInt lengths: feed in pieces.
    for (size_t off = 0; off < data.size(); off += 1u << 30) {
      size_t n = std::min<size_t>(data.size() - off, 1u << 30);
      c = crc32(c, reinterpret_cast<const Bytef*>(data.data() + off), static_cast<uInt>(n));
    }
    return BigEndian(c, 4);
  }
  if (algorithm == "crc32c") return BigEndian(crc32c::Value(data.data(), data.size()), 4);
  if (algorithm == "crc64nvme") return BigEndian(Crc64Nvme(data), 8);
  if (algorithm == "sha1") return Digest(EVP_sha1(), data);
  if (algorithm == "sha256") return Digest(EVP_sha256(), data);
  return std::nullopt;
}

std::string Md5(std::string_view data) { return Digest(EVP_md5(), data); }

std::optional<DigestError> CheckContentMd5(std::string_view header, std::string_view data) {
  auto want = base64::Decode(TrimSpaces(header));
  if (!want || want->size() != 16) {
    return DigestError{"InvalidDigest", "The Content-MD5 you specified was invalid."};
  }
  if (*want != Md5(data)) {
    return DigestError{"BadDigest",
                       "The Content-MD5 you specified did not match what we received."};
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> ChecksumHeaders(const http::Request& req) {
  std::vector<std::pair<std::string, std::string>> checksums;
  for (const auto& [name, value] : req.headers) {
    std::string n = AsciiLower(name);
    if (std::string_view(n).starts_with("x-amz-checksum-") && n != "x-amz-checksum-algorithm" &&
        n != "x-amz-checksum-type") {
      checksums.emplace_back(n, std::string(TrimSpaces(value)));
    }
  }
  return checksums;
}

std::optional<DigestError> CheckChecksums(
    const std::vector<std::pair<std::string, std::string>>& checksums, std::string_view data) {
  for (const auto& [name, value] : checksums) {
    std::string alg = name.substr(strlen("x-amz-checksum-"));
    auto got = Checksum(alg, data);
    if (!got) {
      return DigestError{"InvalidRequest",
                         "The algorithm type you specified in " + name + " header is invalid."};
    }
    auto want = base64::Decode(value);
    if (!want || want->size() != got->size()) {
      return DigestError{"InvalidRequest", "Value for " + name + " header is invalid."};
    }
    if (*want != *got) {
      return DigestError{"BadDigest", "The " + AlgorithmDisplay(alg) +
                                          " you specified did not match the calculated checksum."};
    }
  }
  return std::nullopt;
}

}  // namespace hydrant::server::s3
