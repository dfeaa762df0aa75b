// Uploads whose body is streamed (Request::body_reader): the aws-chunked
// decoder and the digests fed in pieces, a body cut midway, and a full disk.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

#include "common/base64.h"
#include "server/s3_api_test_util.h"
#include "server/s3_aws_chunked.h"
#include "server/s3_checksum.h"

namespace hydrant::server {
namespace {

// A body that arrives `piece` bytes at a time and, when `cut_after` is set,
// breaks off after that many bytes (a client gone midway).
class PieceReader final : public http::BodyReader {
 public:
  PieceReader(std::string data, size_t piece, size_t cut_after = std::string::npos)
      : data_(std::move(data)), piece_(piece), cut_after_(cut_after) {}
  Result<size_t> Read(char* dst, size_t n) override {
    if (pos_ >= cut_after_) return Status::IoError("connection reset");
    size_t take = std::min({n, piece_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, take, dst);
    pos_ += take;
    return take;
  }
  uint64_t length() const override { return data_.size(); }

 private:
  std::string data_;
  size_t piece_, cut_after_, pos_ = 0;
};

// S3ApiTest's calls with a streamed body, and a bucket to put into.
class S3StreamTest : public S3ApiTest {
 protected:
  void SetUp() override {
    S3ApiTest::SetUp();
    MakeBucket("bkt");
  }
  http::Response Call(std::string method, std::string target,
                      std::shared_ptr<http::BodyReader> reader = nullptr,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    return S3ApiTest::Call(std::move(method), std::move(target), std::move(headers), "",
                           std::move(reader));
  }
  static std::string Code(const http::Response& r) { return Tag1(r.body, "Code"); }
};

TEST_F(S3StreamTest, AStreamedUploadArrivesInPiecesAndIsChecked) {
  std::string data(3 << 20, 'x');
  for (size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<char>(i);
  const std::string md5_b64 = base64::Encode(s3::Md5(data));
  auto r = Call("PUT", "/bkt/k", std::make_shared<PieceReader>(data, 4093),
                {{"Content-MD5", md5_b64}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto head = store_->HeadObject("bkt", "k");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, data.size());
  // The same upload, one byte changed: BadDigest, and the object is unchanged.
  std::string other = data;
  other[100] ^= 1;
  r = Call("PUT", "/bkt/k2", std::make_shared<PieceReader>(other, 65536),
           {{"Content-MD5", md5_b64}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "BadDigest");
  EXPECT_FALSE(store_->HeadObject("bkt", "k2").ok());
}

TEST_F(S3StreamTest, ABodyCutMidwayLeavesNothing) {
  auto r = Call("PUT", "/bkt/cut", std::make_shared<PieceReader>(std::string(1 << 20, 'a'), 1000,
                                                                  300000));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "IncompleteBody");
  EXPECT_FALSE(store_->HeadObject("bkt", "cut").ok());
  // A part too.
  auto up = store_->CreateMultipartUpload("bkt", "mp", {});
  ASSERT_TRUE(up.ok());
  r = Call("PUT", "/bkt/mp?partNumber=1&uploadId=" + up->upload_id,
           std::make_shared<PieceReader>(std::string(1 << 20, 'a'), 1000, 300000));
  EXPECT_EQ(Code(r), "IncompleteBody");
  auto parts = store_->ListParts("bkt", "mp", up->upload_id, {});
  ASSERT_TRUE(parts.ok());
  EXPECT_TRUE(parts->parts.empty());
}

TEST_F(S3StreamTest, AFullDiskIsInsufficientStorage) {
  env_.LimitSpace(1 << 20);
  auto r = Call("PUT", "/bkt/big", std::make_shared<PieceReader>(std::string(4 << 20, 'a'), 65536));
  EXPECT_EQ(r.status, 507) << r.body;
  EXPECT_EQ(Code(r), "InsufficientStorage");
  EXPECT_FALSE(store_->HeadObject("bkt", "big").ok());
  env_.Clear(FaultEnv::Op::kPwrite);
  env_.FailAlways(FaultEnv::Op::kPwrite, EDQUOT);
  r = Call("PUT", "/bkt/big", std::make_shared<PieceReader>(std::string(4 << 20, 'a'), 65536));
  EXPECT_EQ(Code(r), "InsufficientStorage");
  env_.Clear(FaultEnv::Op::kPwrite);
  r = Call("PUT", "/bkt/big", std::make_shared<PieceReader>(std::string(4 << 20, 'a'), 65536));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(AwsChunkedDecoder, PiecesOfAnySizeDecodeAsTheWhole) {
  const std::string bodies[] = {
      "3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:abc=\r\nx-amz-trailer-signature:ff\r\n\r\n",
      "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n",
      "3;chunk-signature=00ff\r\nabc\r\n0;chunk-signature=11\r\n\r\n",
      "",
      "3\r\nabcd\r\n0\r\n\r\n",
      "ffffffffffffffff\r\nabc",
      "3\r\nabc\r\n",
      "3\r\nab",
  };
  for (const auto& body : bodies) {
    auto whole = DecodeAwsChunked(body);
    for (size_t piece : {size_t{1}, size_t{2}, size_t{5}}) {
      AwsChunkedDecoder d;
      std::string data;
      Status st;
      for (size_t i = 0; i < body.size() && st.ok(); i += piece) {
        st = d.Feed(std::string_view(body).substr(i, piece), [&](std::string_view b) {
          data.append(b);
          return Status::Ok();
        });
      }
      if (st.ok()) st = d.Finish();
      ASSERT_EQ(st.ok(), whole.ok()) << body << " piece " << piece << ": " << st.ToString();
      if (!st.ok()) continue;
      EXPECT_EQ(data, whole->data);
      EXPECT_EQ(d.trailers(), whole->trailers);
    }
  }
}

TEST(RunningDigest, PiecesGiveTheWholeDigest) {
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  for (const char* alg : {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"}) {
    auto d = s3::RunningDigest::Make(alg);
    ASSERT_TRUE(d);
    for (size_t i = 0; i < data.size(); i += 777) d->Update(std::string_view(data).substr(i, 777));
    EXPECT_EQ(d->Final(), *s3::Checksum(alg, data)) << alg;
  }
  EXPECT_FALSE(s3::RunningDigest::Make("crc16"));
}

}  // namespace
}  // namespace hydrant::server
