// Multipart uploads: create, upload parts, complete, abort, and the listings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "server/s3_api_test_util.h"

namespace hydrant::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class S3MultipartTest : public S3ApiTest {
 protected:
  std::string Create(const std::string& target,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto r = Call("POST", target + "?uploads", std::move(headers));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_THAT(r.body, HasSubstr("<InitiateMultipartUploadResult xmlns="));
    return Tag1(r.body, "UploadId");
  }
  std::string Part(const std::string& target, const std::string& id, int n,
                   const std::string& body) {
    auto r = Call("PUT", target + "?partNumber=" + std::to_string(n) + "&uploadId=" + id, {}, body);
    EXPECT_EQ(r.status, 200) << r.body;
    return HeaderOf(r, "ETag");
  }
  static std::string CompleteXml(const std::vector<std::pair<int, std::string>>& parts) {
    std::string x = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    for (const auto& [n, e] : parts) {
      x += "<Part><ETag>" + e + "</ETag><PartNumber>" + std::to_string(n) + "</PartNumber></Part>";
    }
    return x + "</CompleteMultipartUpload>";
  }
};

TEST_F(S3MultipartTest, CreateUploadCompleteGet) {
  MakeBucket("bkt");
  auto r = Call(
      "POST", "/bkt/dir/a%20b?uploads",
      {{"Content-Type", "text/plain"}, {"x-amz-meta-Color", "blue"}, {"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Tag1(r.body, "Bucket"), "bkt");
  EXPECT_EQ(Tag1(r.body, "Key"), "dir/a b");
  std::string id = Tag1(r.body, "UploadId");
  ASSERT_EQ(id.size(), 32u);

  std::string p1(store::kMinPartSize, 'A'), p2 = "tail bytes";
  // Part 1 arrives aws-chunked with a CRC32 trailer, as SDKs send parts.
  std::string chunked = "400000\r\n" + p1.substr(0, 0x400000) + "\r\n" + "100000\r\n" +
                        p1.substr(0x400000) + "\r\n0\r\n\r\n";
  auto up1 = Call("PUT", "/bkt/dir/a%20b?partNumber=1&uploadId=" + id,
                  {{"Content-Encoding", "aws-chunked"},
                   {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
                   {"x-amz-decoded-content-length", std::to_string(p1.size())}},
                  chunked);
  ASSERT_EQ(up1.status, 200) << up1.body;
  std::string e1 = HeaderOf(up1, "ETag");
  std::string e2 = Part("/bkt/dir/a%20b", id, 2, p2);
  // The part ETags are the MD5s of the decoded bytes (checked against an object
  // put with the same bytes).
  Put("bkt", "same-as-part1", p1);
  EXPECT_EQ(e1, HeaderOf(Call("HEAD", "/bkt/same-as-part1"), "ETag"));
  ExpectError(Call("GET", "/bkt/dir/a%20b"), 404, "NoSuchKey");  // not visible yet

  auto lp = Call("GET", "/bkt/dir/a%20b?uploadId=" + id);
  ASSERT_EQ(lp.status, 200) << lp.body;
  EXPECT_THAT(lp.body, HasSubstr("<ListPartsResult xmlns="));
  EXPECT_THAT(TagValues(lp.body, "PartNumber"), ElementsAre("1", "2"));
  EXPECT_THAT(TagValues(lp.body, "Size"), ElementsAre(std::to_string(p1.size()), "10"));
  EXPECT_EQ(Tag1(lp.body, "IsTruncated"), "false");

  auto c = Call("POST", "/bkt/dir/a%20b?uploadId=" + id, {{"Host", "127.0.0.1:4573"}},
                CompleteXml({{1, e1}, {2, e2}}));
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_THAT(c.body, HasSubstr("<CompleteMultipartUploadResult xmlns="));
  EXPECT_EQ(Tag1(c.body, "Location"), "http://127.0.0.1:4573/bkt/dir/a%20b");
  EXPECT_EQ(Tag1(c.body, "Key"), "dir/a b");
  std::string etag = Tag1(c.body, "ETag");
  EXPECT_TRUE(std::regex_match(etag, std::regex("&quot;[0-9a-f]{32}-2&quot;"))) << etag;

  auto g = Call("GET", "/bkt/dir/a%20b");
  ASSERT_EQ(g.status, 200);
  EXPECT_TRUE(BodyOf(g) == p1 + p2);
  EXPECT_EQ(HeaderOf(g, "Content-Type"), "text/plain");
  EXPECT_EQ(HeaderOf(g, "Content-Encoding"), "gzip");
  EXPECT_EQ(HeaderOf(g, "x-amz-meta-color"), "blue");
  EXPECT_EQ("&quot;" + HeaderOf(g, "ETag").substr(1, 34) + "&quot;", etag);
  // GetObject of one part of a multipart object: that part's bytes.
  g = Call("GET", "/bkt/dir/a%20b?partNumber=2");
  EXPECT_EQ(g.status, 206);
  EXPECT_EQ(BodyOf(g), p2);
  EXPECT_EQ(HeaderOf(g, "x-amz-mp-parts-count"), "2");
  EXPECT_EQ(HeaderOf(g, "Content-Range"), "bytes " + std::to_string(p1.size()) + "-" +
                                              std::to_string(p1.size() + p2.size() - 1) + "/" +
                                              std::to_string(p1.size() + p2.size()));
  ExpectError(Call("GET", "/bkt/dir/a%20b?partNumber=3"), 416, "InvalidPartNumber");
  ExpectError(Call("GET", "/bkt/dir/a%20b?partNumber=0"), 400, "InvalidArgument");
  // The upload is gone.
  ExpectError(Call("GET", "/bkt/dir/a%20b?uploadId=" + id), 404, "NoSuchUpload");
  auto list = Call("GET", "/bkt?uploads");
  EXPECT_EQ(list.status, 200);
  EXPECT_TRUE(TagValues(list.body, "Upload").empty());
}

TEST_F(S3MultipartTest, Errors) {
  MakeBucket("bkt");
  std::string id = Create("/bkt/k");
  std::string e1 = Part("/bkt/k", id, 1, "small part");
  std::string e2 = Part("/bkt/k", id, 2, "last");
  auto complete = [&](const std::string& body) {
    return Call("POST", "/bkt/k?uploadId=" + id, {}, body);
  };
  ExpectError(complete(CompleteXml({{2, e2}, {1, e1}})), 400, "InvalidPartOrder");
  ExpectError(complete(CompleteXml({{1, e2}, {2, e2}})), 400, "InvalidPart");
  ExpectError(complete(CompleteXml({{1, e1}, {3, e2}})), 400, "InvalidPart");
  ExpectError(complete(CompleteXml({{1, e1}, {2, e2}})), 400, "EntityTooSmall");
  ExpectError(complete(CompleteXml({})), 400, "MalformedXML");
  ExpectError(complete("not xml"), 400, "MalformedXML");
  ExpectError(complete("<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag>"
                       "</Part></CompleteMultipartUpload>"),
              400, "MalformedXML");
  ExpectError(Call("PUT", "/bkt/k?partNumber=0&uploadId=" + id, {}, "x"), 400, "InvalidArgument");
  ExpectError(Call("PUT", "/bkt/k?partNumber=10001&uploadId=" + id, {}, "x"), 400,
              "InvalidArgument");
  ExpectError(Call("PUT", "/bkt/k?uploadId=" + id, {}, "x"), 400, "InvalidArgument");
  ExpectError(Call("PUT", "/bkt/k?partNumber=1&uploadId=" + id,
                   {{"Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="}}, "x"),
              400, "BadDigest");
  auto nsu = Call("PUT", "/bkt/k?partNumber=1&uploadId=nope", {}, "x");
  ExpectError(nsu, 404, "NoSuchUpload");
  EXPECT_EQ(Tag1(nsu.body, "UploadId"), "nope");
  ExpectError(Call("PUT", "/bkt/other?partNumber=1&uploadId=" + id, {}, "x"), 404, "NoSuchUpload");
  ExpectError(Call("GET", "/bkt/k?uploadId=" + std::string(32, 'a')), 404, "NoSuchUpload");
  ExpectError(Call("DELETE", "/bkt/k?uploadId=%2E%2E%2F%2E%2E"), 404, "NoSuchUpload");
  ExpectError(Call("POST", "/nobucket/k?uploads"), 404, "NoSuchBucket");
  ExpectError(Call("PUT", "/nobucket/k?partNumber=1&uploadId=" + id, {}, "x"), 404, "NoSuchBucket");
  ExpectError(Call("GET", "/nobucket?uploads"), 404, "NoSuchBucket");
  EXPECT_EQ(Call("HEAD", "/bkt/k?uploadId=" + id).status, 405);
  ExpectError(Call("PUT", "/bkt?uploads"), 405, "MethodNotAllowed");
  ExpectError(Call("GET", "/bkt/k?max-parts=x&uploadId=" + id), 400, "InvalidArgument");
  // Nothing above changed the upload: the last part alone completes it.
  auto ok = complete(CompleteXml({{2, e2}}));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(BodyOf(Call("GET", "/bkt/k")), "last");
  ExpectError(complete(CompleteXml({{2, e2}})), 404, "NoSuchUpload");
}

TEST_F(S3MultipartTest, AbortAndListUploads) {
  MakeBucket("bkt");
  std::string a = Create("/bkt/logs/a");
  std::string b1 = Create("/bkt/b");
  std::string b2 = Create("/bkt/b");
  std::string c = Create("/bkt/c+d");
  Part("/bkt/b", b1, 1, "data");
  auto r = Call("GET", "/bkt?uploads");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("<ListMultipartUploadsResult xmlns="));
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("b", "b", "c+d", "logs/a"));
  EXPECT_THAT(TagValues(r.body, "UploadId"), ElementsAre(b1, b2, c, a));
  EXPECT_EQ(Tag1(r.body, "IsTruncated"), "false");
  EXPECT_EQ(Tag1(r.body, "StorageClass"), "STANDARD");
  r = Call("GET", "/bkt?uploads&delimiter=/&encoding-type=url");
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("b", "b", "c%2Bd"));
  EXPECT_THAT(TagValues(r.body, "Prefix"), ElementsAre("", "logs/"));
  r = Call("GET", "/bkt?uploads&max-uploads=2");
  EXPECT_EQ(Tag1(r.body, "IsTruncated"), "true");
  EXPECT_EQ(Tag1(r.body, "NextKeyMarker"), "b");
  EXPECT_EQ(Tag1(r.body, "NextUploadIdMarker"), b2);
  r = Call("GET", "/bkt?uploads&key-marker=b&upload-id-marker=" + b1);
  EXPECT_THAT(TagValues(r.body, "UploadId"), ElementsAre(b2, c, a));
  r = Call("GET", "/bkt?uploads&prefix=logs/");
  EXPECT_THAT(TagValues(r.body, "UploadId"), ElementsAre(a));

  // Abort: 204, then the upload is unknown and its files are gone.
  EXPECT_EQ(Call("DELETE", "/bkt/b?uploadId=" + b1).status, 204);
  ExpectError(Call("DELETE", "/bkt/b?uploadId=" + b1), 404, "NoSuchUpload");
  ExpectError(Call("PUT", "/bkt/b?partNumber=2&uploadId=" + b1, {}, "x"), 404, "NoSuchUpload");
  EXPECT_FALSE(fs::exists(dir_.Sub("s3/.uploads/" + b1)));
  ExpectError(Call("GET", "/bkt/b"), 404, "NoSuchKey");
  r = Call("GET", "/bkt?uploads");
  EXPECT_THAT(TagValues(r.body, "UploadId"), ElementsAre(b2, c, a));

  // Uploads alone do not keep a bucket: as S3, deleting it discards them.
  EXPECT_EQ(Call("DELETE", "/bkt").status, 204);
  EXPECT_TRUE(fs::is_empty(dir_.Sub("s3/.uploads")));
  MakeBucket("bkt");
  EXPECT_TRUE(TagValues(Call("GET", "/bkt?uploads").body, "Upload").empty());
  ExpectError(Call("PUT", "/bkt/c+d?partNumber=1&uploadId=" + c, {}, "x"), 404, "NoSuchUpload");
}

TEST_F(S3MultipartTest, ListPartsPagination) {
  MakeBucket("bkt");
  std::string id = Create("/bkt/k");
  for (int n : {4, 2, 8, 6}) Part("/bkt/k", id, n, std::string(n, 'x'));
  Part("/bkt/k", id, 2, "replaced");
  auto r = Call("GET", "/bkt/k?uploadId=" + id + "&max-parts=3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(TagValues(r.body, "PartNumber"), ElementsAre("2", "4", "6"));
  EXPECT_THAT(TagValues(r.body, "Size"), ElementsAre("8", "4", "6"));
  EXPECT_EQ(Tag1(r.body, "IsTruncated"), "true");
  EXPECT_EQ(Tag1(r.body, "NextPartNumberMarker"), "6");
  EXPECT_EQ(Tag1(r.body, "MaxParts"), "3");
  r = Call("GET", "/bkt/k?uploadId=" + id + "&max-parts=3&part-number-marker=6");
  EXPECT_THAT(TagValues(r.body, "PartNumber"), ElementsAre("8"));
  EXPECT_EQ(Tag1(r.body, "IsTruncated"), "false");
  EXPECT_EQ(Tag1(r.body, "PartNumberMarker"), "6");
}

}  // namespace
}  // namespace hydrant::server
