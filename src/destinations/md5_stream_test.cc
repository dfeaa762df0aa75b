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
  EXPECT_LE(md5.peak_queued_bytes(), Md5Stream::kMaxQueuedBytes);
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

// An S3 PUT hands its whole body to one Write: it is queued in pieces, never copied
// whole, and the queue stays within its bound.
TEST(Md5Stream, OneLargeAddIsQueuedInPieces) {
  const std::string data = Bytes(24 << 20);
  Md5Stream md5;
  md5.Add(std::string_view(data).substr(0, Md5Stream::kInlineBytes));
  md5.Add(std::string_view(data).substr(Md5Stream::kInlineBytes));
  ASSERT_TRUE(md5.threaded());
  EXPECT_GT(md5.peak_queued_bytes(), 0u);
  EXPECT_LE(md5.peak_queued_bytes(), Md5Stream::kMaxQueuedBytes);
  EXPECT_EQ(md5.Finish(), OneShotMd5(data));
}

// An object that failed to write: ~Md5Stream stops the helper with pieces still
// queued (the test fails by hanging or crashing if it does not).
TEST(Md5Stream, AbandonedStreamStopsItsHelper) {
  const std::string data = Bytes(8 << 20);
  Md5Stream md5;
  md5.Add(data);
  md5.Add(data);
  ASSERT_TRUE(md5.threaded());
}

}  // namespace
}  // namespace hydrant::store
