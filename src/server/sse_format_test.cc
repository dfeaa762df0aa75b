// The SSE object format (server/sse_format.h): sizes, round trips, ranged reads
// across chunk and segment boundaries, and damage: a flipped, dropped or moved
// byte is an error, never wrong data.
#include "server/sse_format.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "common/base64.h"
#include "common/unique_fd.h"
#include "kms/crypto.h"
#include "testing/temp_dir.h"

namespace hydrant::server::sse {
namespace {

std::string Plain(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& ch : s) ch = static_cast<char>(rng());
  return s;
}

std::string Seal(const std::string& key, const std::string& plain, size_t piece = 7000) {
  std::string out;
  StringSink sink(&out);
  ChunkEncryptor enc(key, &sink);
  for (size_t at = 0; at < plain.size(); at += piece) {
    EXPECT_TRUE(enc.Write(std::string_view(plain).substr(at, piece)).ok());
  }
  EXPECT_TRUE(enc.Finish().ok());
  return out;
}

class SseFormatTest : public ::testing::Test {
 protected:
  // The stored bytes as a file, as the store keeps them.
  UniqueFd File(const std::string& bytes) {
    const std::string path = dir_.path() + "/obj" + std::to_string(n_++);
    int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    return UniqueFd(fd);
  }
  testing::TempDir dir_;
  int n_ = 0;
  const std::string key_ = kms::RandomBytes(kDataKeyBytes);
};

TEST_F(SseFormatTest, SizesRoundTrip) {
  for (uint64_t p : {uint64_t{0}, uint64_t{1}, uint64_t{kChunkBytes - 1}, uint64_t{kChunkBytes},
                     uint64_t{kChunkBytes + 1}, uint64_t{3 * kChunkBytes}, uint64_t{5ull << 30}}) {
    EXPECT_EQ(PlainSize(CipherSize(p)), p) << p;
  }
  EXPECT_EQ(CipherSize(0), kChunkOverhead);  // one empty chunk
  EXPECT_EQ(CipherSize(kChunkBytes), kChunkBytes + kChunkOverhead);
  EXPECT_EQ(CipherSize(kChunkBytes + 1), kChunkBytes + 1 + 2 * kChunkOverhead);
  EXPECT_FALSE(PlainSize(0));
  EXPECT_FALSE(PlainSize(kChunkOverhead - 1));
  EXPECT_FALSE(
      PlainSize(kChunkBytes + kChunkOverhead + 5));  // a last chunk shorter than its overhead
  // A full chunk followed by an empty one: ChunkEncryptor never writes it (found
  // by fuzz/sse_format_fuzz.cc, which checks that the two sizes are inverse).
  EXPECT_FALSE(PlainSize(kChunkBytes + 2 * kChunkOverhead));
  EXPECT_FALSE(PlainSize(3 * (kChunkBytes + kChunkOverhead) + kChunkOverhead));
  for (uint64_t c : {UINT64_MAX, UINT64_MAX - kChunkBytes, UINT64_MAX - kChunkOverhead}) {
    if (auto p = PlainSize(c)) EXPECT_EQ(CipherSize(*p), c) << c;
  }
}

TEST_F(SseFormatTest, StoredBytesAreNotThePlaintext) {
  std::string plain(200000, 'A');
  std::string sealed = Seal(key_, plain);
  EXPECT_EQ(sealed.size(), CipherSize(plain.size()));
  EXPECT_EQ(sealed.find(std::string(32, 'A')), std::string::npos);
}

TEST_F(SseFormatTest, WholeAndRangedReads) {
  for (size_t n : {size_t{0}, size_t{1}, kChunkBytes, kChunkBytes + 1, 3 * kChunkBytes + 17}) {
    const std::string plain = Plain(n, static_cast<uint32_t>(n));
    const std::string sealed = Seal(key_, plain);
    UniqueFd fd = File(sealed);
    auto all = ReadPlain(fd.get(), key_, {sealed.size()}, 0, n);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    EXPECT_EQ(*all, plain);
    std::mt19937 rng(7);
    for (int i = 0; i < 40 && n > 0; ++i) {
      uint64_t first = rng() % n;
      uint64_t len = 1 + rng() % (n - first);
      auto part = ReadPlain(fd.get(), key_, {sealed.size()}, first, len);
      ASSERT_TRUE(part.ok());
      EXPECT_EQ(*part, plain.substr(first, len)) << n << " " << first << " " << len;
    }
  }
}

TEST_F(SseFormatTest, SegmentsOfAMultipartObject) {
  const std::string a = Plain(kChunkBytes + 5, 1), b = Plain(10, 2), c = Plain(2 * kChunkBytes, 3);
  const std::string sa = Seal(key_, a), sb = Seal(key_, b), sc = Seal(key_, c);
  UniqueFd fd = File(sa + sb + sc);
  const std::vector<uint64_t> segs = {sa.size(), sb.size(), sc.size()};
  EXPECT_EQ(PlainTotal(0, segs), a.size() + b.size() + c.size());
  const std::string all = a + b + c;
  auto whole = ReadPlain(fd.get(), key_, segs, 0, all.size());
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(*whole, all);
  // A range across all three segments.
  auto mid = ReadPlain(fd.get(), key_, segs, a.size() - 3, 20);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(*mid, all.substr(a.size() - 3, 20));
}

TEST_F(SseFormatTest, EveryFlippedByteIsDetected) {
  const std::string plain = Plain(300, 9);
  const std::string sealed = Seal(key_, plain);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= 0x01;
    UniqueFd fd = File(bad);
    auto r = ReadPlain(fd.get(), key_, {bad.size()}, 0, plain.size());
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
}

TEST_F(SseFormatTest, DamageAcrossChunks) {
  const std::string plain = Plain(2 * kChunkBytes + 100, 4);
  const std::string sealed = Seal(key_, plain);
  const size_t full = kChunkBytes + kChunkOverhead;
  // A flipped byte in the second chunk fails a range inside it, not one in the first.
  std::string bad = sealed;
  bad[full + 40] ^= 0x80;
  UniqueFd fd = File(bad);
  EXPECT_TRUE(ReadPlain(fd.get(), key_, {bad.size()}, 0, 100).ok());
  EXPECT_EQ(ReadPlain(fd.get(), key_, {bad.size()}, kChunkBytes + 1, 10).status().code(),
            StatusCode::kCorruption);
  // Chunks swapped: each is authentic, but not at that index.
  std::string swapped =
      sealed.substr(full, full) + sealed.substr(0, full) + sealed.substr(2 * full);
  UniqueFd fd2 = File(swapped);
  EXPECT_FALSE(ReadPlain(fd2.get(), key_, {swapped.size()}, 0, 10).ok());
  // The last chunk dropped: the new last chunk is not marked last.
  std::string cut = sealed.substr(0, 2 * full);
  UniqueFd fd3 = File(cut);
  EXPECT_FALSE(ReadPlain(fd3.get(), key_, {cut.size()}, 0, 2 * kChunkBytes).ok());
  // A file shorter than its recorded size.
  UniqueFd fd4 = File(sealed.substr(0, sealed.size() - 1));
  EXPECT_FALSE(ReadPlain(fd4.get(), key_, {sealed.size()}, 0, plain.size()).ok());
  // Another key.
  UniqueFd fd5 = File(sealed);
  EXPECT_FALSE(ReadPlain(fd5.get(), kms::RandomBytes(kDataKeyBytes), {sealed.size()}, 0, 1).ok());
}

// Found by fuzz/sse_format_fuzz.cc: sizes from a damaged metadata row claim
// tens of gigabytes of a small file, and a range asks for everything (2^64 - 1
// bytes): the read fails as Corruption instead of reserving the claimed size.
TEST_F(SseFormatTest, ClaimedSizesBeyondTheFileAreCorruptionNotAnAllocation) {
  const std::string sealed = Seal(key_, Plain(100, 9));
  UniqueFd fd = File(sealed);
  auto got = ReadPlain(fd.get(), key_, {CipherSize(40ull << 30), CipherSize(1 << 20)}, 0,
                       UINT64_MAX);
  EXPECT_EQ(got.status().code(), StatusCode::kCorruption) << got.status().ToString();
  // A range running past 2^64 ends there: the whole object from `first` on.
  auto tail = ReadPlain(fd.get(), key_, {sealed.size()}, 60, UINT64_MAX);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(*tail, Plain(100, 9).substr(60));
}

TEST(SseRecordTest, EncodeDecode) {
  Record r{kAwsKms, "arn:aws:kms:us-east-1:123456789012:key/abc", std::string("\0\1blob", 6),
           base64::Encode(R"({"team":"a"})")};
  auto back = DecodeRecord(EncodeRecord(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->algorithm, r.algorithm);
  EXPECT_EQ(back->key_arn, r.key_arn);
  EXPECT_EQ(back->wrapped_key, r.wrapped_key);
  EXPECT_EQ(back->context_b64, r.context_b64);
  r.context_b64.clear();
  EXPECT_EQ(DecodeRecord(EncodeRecord(r))->context_b64, "");
  EXPECT_FALSE(DecodeRecord("sse1 AES256 arn"));
  EXPECT_FALSE(DecodeRecord("sse2 AES256 arn AAAA -"));
  EXPECT_FALSE(DecodeRecord("sse1 DES arn AAAA -"));
}

TEST(SseRecordTest, WrapContextBindsTheObject) {
  auto ctx = WrapContext("b", "k/1", "");
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->at("aws:s3:arn"), "arn:aws:s3:::b/k/1");
  auto with = WrapContext("b", "k", base64::Encode(R"({"team":"a"})"));
  ASSERT_TRUE(with);
  EXPECT_EQ(with->size(), 2u);
  EXPECT_EQ(with->at("team"), "a");
  EXPECT_FALSE(WrapContext("b", "k", base64::Encode("[1]")));
  EXPECT_FALSE(WrapContext("b", "k", base64::Encode(R"({"n":1})")));
  EXPECT_FALSE(WrapContext("b", "k", "%%%"));
  EXPECT_FALSE(WrapContext("b", "k", base64::Encode(R"({"aws:s3:arn":"arn:aws:s3:::b/other"})")));
}

}  // namespace
}  // namespace hydrant::server::sse
