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

std::string BigEndian(uint64_t v, int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
  return out;
}

const std::array<uint64_t, 256>& Crc64NvmeTable() {
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
  return table;
}

class EvpDigest final : public RunningDigest {
 public:
  explicit EvpDigest(const EVP_MD* md) : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, md, nullptr); }
  ~EvpDigest() override { EVP_MD_CTX_free(ctx_); }
  void Update(std::string_view data) override { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string Final() override {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, out, &len);
    return std::string(reinterpret_cast<char*>(out), len);
  }

 private:
  EVP_MD_CTX* ctx_;
};

class Crc32Digest final : public RunningDigest {
 public:
  void Update(std::string_view data) override {
    // zlib takes uInt lengths: feed in pieces.
    for (size_t off = 0; off < data.size(); off += 1u << 30) {
      size_t n = std::min<size_t>(data.size() - off, 1u << 30);
      crc_ = crc32(crc_, reinterpret_cast<const Bytef*>(data.data() + off), static_cast<uInt>(n));
    }
  }
  std::string Final() override { return BigEndian(crc_, 4); }

 private:
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

class Crc32cDigest final : public RunningDigest {
 public:
  void Update(std::string_view data) override { crc_ = crc32c::Extend(crc_, data.data(), data.size()); }
  std::string Final() override { return BigEndian(crc_, 4); }

 private:
  uint32_t crc_ = 0;
};

class Crc64NvmeDigest final : public RunningDigest {
 public:
  void Update(std::string_view data) override {
    const auto& table = Crc64NvmeTable();
    for (unsigned char c : data) crc_ = table[(crc_ ^ c) & 0xFF] ^ (crc_ >> 8);
  }
  std::string Final() override { return BigEndian(~crc_, 8); }

 private:
  uint64_t crc_ = ~0ull;
};

std::string AlgorithmDisplay(std::string_view algorithm) {
  if (algorithm == "crc64nvme") return "CRC64NVME";
  std::string out;
  for (char c : algorithm)
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

}  // namespace

std::unique_ptr<RunningDigest> RunningDigest::Make(std::string_view algorithm) {
  if (algorithm == "crc32") return std::make_unique<Crc32Digest>();
  if (algorithm == "crc32c") return std::make_unique<Crc32cDigest>();
  if (algorithm == "crc64nvme") return std::make_unique<Crc64NvmeDigest>();
  if (algorithm == "sha1") return std::make_unique<EvpDigest>(EVP_sha1());
  if (algorithm == "sha256") return std::make_unique<EvpDigest>(EVP_sha256());
  if (algorithm == "md5") return std::make_unique<EvpDigest>(EVP_md5());
  return nullptr;
}

std::optional<std::string> Checksum(std::string_view algorithm, std::string_view data) {
  if (algorithm == "md5") return std::nullopt;  // not an x-amz-checksum algorithm
  auto d = RunningDigest::Make(algorithm);
  if (!d) return std::nullopt;
  d->Update(data);
  return d->Final();
}

std::string Md5(std::string_view data) {
  auto d = RunningDigest::Make("md5");
  d->Update(data);
  return d->Final();
}

std::optional<DigestError> CheckContentMd5(std::string_view header, std::string_view data) {
  return CheckContentMd5Digest(header, Md5(data));
}

std::optional<DigestError> CheckContentMd5Digest(std::string_view header, const std::string& md5) {
  auto want = base64::Decode(TrimSpaces(header));
  if (!want || want->size() != 16) {
    return DigestError{"InvalidDigest", "The Content-MD5 you specified was invalid."};
  }
  if (*want != md5) {
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
  return CheckChecksumDigests(checksums,
                              [data](std::string_view alg) { return Checksum(alg, data); });
}

std::optional<DigestError> CheckChecksumDigests(
    const std::vector<std::pair<std::string, std::string>>& checksums,
    const std::function<std::optional<std::string>(std::string_view)>& digest) {
  for (const auto& [name, value] : checksums) {
    std::string alg = name.substr(strlen("x-amz-checksum-"));
    auto got = digest(alg);
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
