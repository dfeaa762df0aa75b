#include "destinations/md5_stream.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace hydrant::store {
namespace {

std::string OneShotMd5(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Bytes(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// Fed in pieces of `piece` bytes: the digest is the one of the whole, whether the
// stream stayed inline or went to the helper thread part way.
void ExpectSameDigest(size_t total, size_t piece, bool threaded) {
  const std::string data = Bytes(total);
  Md5Stream md5;
  for (size_t at = 0; at < total; at += piece) {
    md5.Add(std::string_view(data).substr(at, piece));
  }
  EXPECT_EQ(md5.threaded(), threaded) << total << " in pieces of " << piece;
  EXPECT_EQ(md5.Finish(), OneShotMd5(data)) << total << " in pieces of " << piece;
}

TEST(Md5Stream, SmallStreamsAreHashedInline) {
  ExpectSameDigest(0, 1, false);
  ExpectSameDigest(11, 3, false);
  ExpectSameDigest(Md5Stream::kInlineBytes, 256 * 1024, false);
}

TEST(Md5Stream, LargeStreamsGoToTheHelperInOrder) {
  ExpectSameDigest(Md5Stream::kInlineBytes + 1, 256 * 1024, true);  // the last byte crosses
  ExpectSameDigest(20 << 20, 1 << 20, true);
  ExpectSameDigest((20 << 20) + 7, 4099, true);  // many small blocks: the queue bound holds
  ExpectSameDigest(9 << 20, 9 << 20, true);      // one block larger than the queue bound
}

TEST(Md5Stream, DestroyedWithoutFinishDoesNotWait) {
  const std::string data = Bytes(8 << 20);
  Md5Stream md5;
  md5.Add(data);
  md5.Add(data);
  ASSERT_TRUE(md5.threaded());
  // ~Md5Stream abandons what is queued (an object that failed to write).
}

}  // namespace
}  // namespace hydrant::store
