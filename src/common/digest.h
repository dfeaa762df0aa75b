#pragma once
// SHA-256 through OpenSSL, one copy for every module (request signing, the object
// store's key hashes, log stream names).

#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace hydrant {

// The 32-byte digest.
std::string Sha256(std::string_view data);
// Its 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

// SHA-256 of bytes given in pieces (a request body hashed as it arrives).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(std::string_view data);
  // The digest of everything given since the last Finish, in lower-case hex; the
  // stream then starts over.
  std::string FinishHex();

 private:
  ::evp_md_ctx_st* ctx_;
};

}  // namespace hydrant
