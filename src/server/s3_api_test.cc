#include "server/s3_api.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/base64.h"
#include "destinations/object_store.h"

namespace hydrant::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Every value of <tag>...</tag> in `xml`, in order (the replies are flat enough).
std::vector<std::string> TagValues(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string::npos) {
    size_t end = xml.find(close, pos);
    if (end == std::string::npos) break;
    out.push_back(xml.substr(pos + open.size(), end - pos - open.size()));
    pos = end;
  }
  return out;
}

std::string Tag1(const std::string& xml, const std::string& tag) {
  auto v = TagValues(xml, tag);
  return v.empty() ? "<absent>" : v[0];
}

std::string HeaderOf(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() == name.size() && strncasecmp(k.c_str(), name.data(), k.size()) == 0) return v;
  }
  return "<absent>";
}

// What a client would receive as the body: the file slice for GetObject.
std::string BodyOf(const http::Response& r) {
  if (!r.file) return r.body;
  std::string out(r.file_length, '\0');
  ssize_t n = ::pread(r.file.get(), out.data(), out.size(), static_cast<off_t>(r.file_offset));
  if (n != static_cast<ssize_t>(out.size())) return "<short read>";
  return out;
}

class S3ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "hydrant-s3api-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = store::ObjectStore::Open(dir_ + "/s3");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    api_ = std::make_unique<S3Api>(store_.get(), "us-east-1");
  }
  void TearDown() override {
    api_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  http::Response Call(std::string method, std::string target,
                      std::vector<std::pair<std::string, std::string>> headers = {},
                      std::string body = "") {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.headers = std::move(headers);
    req.body = std::move(body);
    http::Response resp;
    api_->Handle(req, &resp);
    return resp;
  }

  // Asserts an S3 error reply with this status and code.
  void ExpectError(const http::Response& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_THAT(r.body, HasSubstr("<?xml"));
    EXPECT_EQ(Tag1(r.body, "Code"), code) << r.body;
    EXPECT_FALSE(Tag1(r.body, "Message").empty());
    EXPECT_EQ(Tag1(r.body, "RequestId"), HeaderOf(r, "x-amz-request-id"));
    EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/xml");
    EXPECT_FALSE(r.file);
  }

  void MakeBucket(const std::string& b) { ASSERT_EQ(Call("PUT", "/" + b).status, 200); }
  void Put(const std::string& b, const std::string& target_key, const std::string& body,
           std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto r = Call("PUT", "/" + b + "/" + target_key, std::move(headers), body);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::string dir_;
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<S3Api> api_;
};

// A GET answered just before an overwrite still sends the version it described
// (before, the listener reopened the data file by name: 500 or the wrong bytes).
TEST_F(S3ApiTest, GetAnsweredBeforeAnOverwriteSendsTheVersionItDescribes) {
  MakeBucket("bkt");
  Put("bkt", "k", "hello world");
  auto get = Call("GET", "/bkt/k");
  ASSERT_EQ(get.status, 200);
  Put("bkt", "k", "a much longer second version");
  ASSERT_EQ(Call("DELETE", "/bkt/k").status, 204);
  EXPECT_EQ(BodyOf(get), "hello world");
  EXPECT_EQ(HeaderOf(get, "ETag"), "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");  // md5("hello world")
  // A range of it, too.
  Put("bkt", "k", "0123456789");
  auto range = Call("GET", "/bkt/k", {{"Range", "bytes=2-4"}});
  ASSERT_EQ(range.status, 206);
  Put("bkt", "k", "abcdefghij");
  EXPECT_EQ(BodyOf(range), "234");
}

TEST_F(S3ApiTest, ListBuckets) {
  auto r = Call("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(
      r.body,
      HasSubstr("<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
  EXPECT_TRUE(TagValues(r.body, "Bucket").empty());
  EXPECT_NE(HeaderOf(r, "x-amz-request-id"), "<absent>");
  MakeBucket("zeta");
  MakeBucket("alpha");
  r = Call("GET", "/");
  EXPECT_THAT(TagValues(r.body, "Name"), ElementsAre("alpha", "zeta"));
  EXPECT_TRUE(std::regex_match(Tag1(r.body, "CreationDate"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << r.body;
  EXPECT_EQ(Tag1(r.body, "DisplayName"), "hydrant");
  // Request ids differ between requests.
  EXPECT_NE(HeaderOf(r, "x-amz-request-id"), HeaderOf(Call("GET", "/"), "x-amz-request-id"));
  ExpectError(Call("DELETE", "/"), 405, "MethodNotAllowed");
}

TEST_F(S3ApiTest, CreateBucket) {
  auto r = Call("PUT", "/my-bucket");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Location"), "/my-bucket");
  EXPECT_TRUE(store_->BucketExists("my-bucket"));
  ExpectError(Call("PUT", "/my-bucket"), 409, "BucketAlreadyOwnedByYou");
  auto bad = Call("PUT", "/Bad_Bucket");
  ExpectError(bad, 400, "InvalidBucketName");
  EXPECT_EQ(Tag1(bad.body, "BucketName"), "Bad_Bucket");
  ExpectError(Call("PUT", "/ab"), 400, "InvalidBucketName");
  EXPECT_EQ(Call("PUT", "/with-config", {},
                 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")
                .status,
            200);
  EXPECT_TRUE(store_->BucketExists("with-config"));
  ExpectError(Call("PUT", "/garbage-body", {}, "hello"), 400, "MalformedXML");
  EXPECT_FALSE(store_->BucketExists("garbage-body"));
  // A trailing slash still names the bucket.
  EXPECT_EQ(Call("PUT", "/slash-bucket/").status, 200);
  EXPECT_TRUE(store_->BucketExists("slash-bucket"));
}

TEST_F(S3ApiTest, HeadBucketAndLocation) {
  MakeBucket("bkt");
  auto r = Call("HEAD", "/bkt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "x-amz-bucket-region"), "us-east-1");
  EXPECT_TRUE(r.body.empty());
  r = Call("HEAD", "/nope-bucket");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.empty());

  r = Call("GET", "/bkt?location");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body,
              HasSubstr("<LocationConstraint "
                        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></LocationConstraint>"));
  ExpectError(Call("GET", "/nope-bucket?location"), 404, "NoSuchBucket");

  S3Api eu(store_.get(), "eu-west-1");
  http::Request req;
  req.method = "GET";
  req.target = "/bkt?location=";
  http::Response resp;
  eu.Handle(req, &resp);
  EXPECT_THAT(resp.body, HasSubstr("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/"
                                   "2006-03-01/\">eu-west-1</LocationConstraint>"));
}

TEST_F(S3ApiTest, DeleteBucket) {
  MakeBucket("bkt");
  Put("bkt", "k", "v");
  auto r = Call("DELETE", "/bkt");
  ExpectError(r, 409, "BucketNotEmpty");
  EXPECT_EQ(Tag1(r.body, "Resource"), "/bkt");
  EXPECT_EQ(Call("DELETE", "/bkt/k").status, 204);
  EXPECT_EQ(Call("DELETE", "/bkt").status, 204);
  EXPECT_FALSE(store_->BucketExists("bkt"));
  auto missing = Call("DELETE", "/bkt");
  ExpectError(missing, 404, "NoSuchBucket");
  EXPECT_EQ(Tag1(missing.body, "BucketName"), "bkt");
}

TEST_F(S3ApiTest, PutGetHeadObject) {
  MakeBucket("bkt");
  auto put = Call("PUT", "/bkt/dir/hello%20world.txt",
                  {{"Content-Type", "text/plain"},
                   {"Content-Encoding", "gzip"},
                   {"X-Amz-Meta-Color", "blue"},
                   {"x-amz-meta-empty", ""}},
                  "hello world");
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(HeaderOf(put, "ETag"), "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");  // md5("hello world")

  auto get = Call("GET", "/bkt/dir/hello%20world.txt");
  EXPECT_EQ(get.status, 200);
  ASSERT_TRUE(get.file);
  EXPECT_EQ(get.file_offset, 0u);
  EXPECT_EQ(get.file_length, 11u);
  EXPECT_EQ(BodyOf(get), "hello world");
  EXPECT_EQ(HeaderOf(get, "ETag"), "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
  EXPECT_EQ(HeaderOf(get, "Content-Type"), "text/plain");
  EXPECT_EQ(HeaderOf(get, "Content-Encoding"), "gzip");
  EXPECT_EQ(HeaderOf(get, "x-amz-meta-color"), "blue");
  EXPECT_EQ(HeaderOf(get, "x-amz-meta-empty"), "");
  EXPECT_EQ(HeaderOf(get, "Accept-Ranges"), "bytes");
  EXPECT_TRUE(std::regex_match(
      HeaderOf(get, "Last-Modified"),
      std::regex(
          R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT)")))
      << HeaderOf(get, "Last-Modified");

  auto head = Call("HEAD", "/bkt/dir/hello%20world.txt");
  EXPECT_EQ(head.status, 200);
  EXPECT_FALSE(head.file);
  EXPECT_TRUE(head.body.empty());
  ASSERT_TRUE(head.content_length_override.has_value());
  EXPECT_EQ(*head.content_length_override, 11u);
  EXPECT_EQ(HeaderOf(head, "ETag"), HeaderOf(get, "ETag"));

  // Without Content-Type S3 stores binary/octet-stream; the key's '/' and '//' survive.
  Put("bkt", "a//b/", "x");
  auto g2 = Call("GET", "/bkt/a//b/");
  EXPECT_EQ(HeaderOf(g2, "Content-Type"), "binary/octet-stream");
  EXPECT_EQ(HeaderOf(g2, "Content-Encoding"), "<absent>");
  EXPECT_EQ(BodyOf(g2), "x");
  // An encoded slash is the same key.
  EXPECT_EQ(BodyOf(Call("GET", "/bkt/a%2F%2Fb%2F")), "x");

  // Empty object: 200, no file, no body.
  Put("bkt", "empty", "");
  auto ge = Call("GET", "/bkt/empty");
  EXPECT_EQ(ge.status, 200);
  EXPECT_FALSE(ge.file);
  EXPECT_EQ(HeaderOf(ge, "ETag"), "\"d41d8cd98f00b204e9800998ecf8427e\"");

  // response-* query parameters override headers.
  auto ov = Call("GET",
                 "/bkt/dir/hello%20world.txt?response-content-type=application%2Fjson&"
                 "response-content-disposition=attachment");
  EXPECT_EQ(HeaderOf(ov, "Content-Type"), "application/json");
  EXPECT_EQ(HeaderOf(ov, "Content-Disposition"), "attachment");
  // SDKs add x-id=...; it is ignored.
  EXPECT_EQ(Call("GET", "/bkt/empty?x-id=GetObject").status, 200);
}

TEST_F(S3ApiTest, Overwrite) {
  MakeBucket("bkt");
  Put("bkt", "k", "first", {{"x-amz-meta-v", "1"}});
  Put("bkt", "k", "second!", {});
  auto g = Call("GET", "/bkt/k");
  EXPECT_EQ(BodyOf(g), "second!");
  EXPECT_EQ(HeaderOf(g, "x-amz-meta-v"), "<absent>");
}

TEST_F(S3ApiTest, Ranges) {
  MakeBucket("bkt");
  Put("bkt", "digits", "0123456789");
  struct Case {
    const char* range;
    int status;
    const char* body;
    const char* content_range;
  };
  for (const Case& c : std::vector<Case>{
           {"bytes=2-5", 206, "2345", "bytes 2-5/10"},
           {"bytes=7-", 206, "789", "bytes 7-9/10"},
           {"bytes=-3", 206, "789", "bytes 7-9/10"},
           {"bytes=-20", 206, "0123456789", "bytes 0-9/10"},
           {"bytes=5-100", 206, "56789", "bytes 5-9/10"},
           {"bytes=0-0", 206, "0", "bytes 0-0/10"},
           {"bytes=9-9", 206, "9", "bytes 9-9/10"},
           {"bytes=0-9", 206, "0123456789", "bytes 0-9/10"},
           {"bytes=x-y", 200, "0123456789", "<absent>"},     // malformed: ignored
           {"items=1-2", 200, "0123456789", "<absent>"},     // other unit: ignored
           {"bytes=5-2", 200, "0123456789", "<absent>"},     // last < first: ignored
           {"bytes=0-1,3-4", 200, "0123456789", "<absent>"}  // multiple ranges: whole object
       }) {
    auto r = Call("GET", "/bkt/digits", {{"Range", c.range}});
    EXPECT_EQ(r.status, c.status) << c.range;
    EXPECT_EQ(BodyOf(r), c.body) << c.range;
    EXPECT_EQ(HeaderOf(r, "Content-Range"), c.content_range) << c.range;
  }
  for (const char* bad : {"bytes=10-", "bytes=10-20", "bytes=-0", "bytes=100-200"}) {
    auto r = Call("GET", "/bkt/digits", {{"Range", bad}});
    ExpectError(r, 416, "InvalidRange");
    EXPECT_EQ(HeaderOf(r, "Content-Range"), "bytes */10") << bad;
    EXPECT_EQ(Tag1(r.body, "ActualObjectSize"), "10");
  }
  auto head = Call("HEAD", "/bkt/digits", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(head.status, 206);
  EXPECT_EQ(*head.content_length_override, 4u);
  EXPECT_EQ(HeaderOf(head, "Content-Range"), "bytes 2-5/10");
  // partNumber=1 is the whole (single-part) object.
  auto part = Call("GET", "/bkt/digits?partNumber=1");
  EXPECT_EQ(part.status, 200);
  EXPECT_EQ(BodyOf(part), "0123456789");
  ExpectError(Call("GET", "/bkt/digits?partNumber=2"), 416, "InvalidPartNumber");
  // A range on an empty object cannot be satisfied.
  Put("bkt", "empty", "");
  ExpectError(Call("GET", "/bkt/empty", {{"Range", "bytes=0-"}}), 416, "InvalidRange");
}

TEST_F(S3ApiTest, ConditionalGet) {
  MakeBucket("bkt");
  Put("bkt", "k", "data");
  auto g = Call("GET", "/bkt/k");
  std::string etag = HeaderOf(g, "ETag");
  std::string lm = HeaderOf(g, "Last-Modified");
  auto r = Call("GET", "/bkt/k", {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_FALSE(r.file);
  EXPECT_EQ(HeaderOf(r, "ETag"), etag);
  EXPECT_EQ(Call("GET", "/bkt/k", {{"If-None-Match", "\"other\", " + etag}}).status, 304);
  EXPECT_EQ(Call("GET", "/bkt/k", {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(Call("GET", "/bkt/k", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(Call("GET", "/bkt/k", {{"If-Match", etag}}).status, 200);
  ExpectError(Call("GET", "/bkt/k", {{"If-Match", "\"other\""}}), 412, "PreconditionFailed");
  EXPECT_EQ(Call("GET", "/bkt/k", {{"If-Modified-Since", lm}}).status, 304);
  EXPECT_EQ(Call("GET", "/bkt/k", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).status,
            200);
  EXPECT_EQ(Call("GET", "/bkt/k", {{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}}).status,
            304);
  ExpectError(Call("GET", "/bkt/k", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}),
              412, "PreconditionFailed");
  EXPECT_EQ(Call("GET", "/bkt/k", {{"If-Unmodified-Since", lm}}).status, 200);
  // If-None-Match wins over If-Modified-Since (RFC 9110).
  EXPECT_EQ(
      Call("GET", "/bkt/k",
           {{"If-None-Match", "\"other\""}, {"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}})
          .status,
      200);
}

TEST_F(S3ApiTest, ObjectErrors) {
  MakeBucket("bkt");
  auto r = Call("GET", "/bkt/missing/key");
  ExpectError(r, 404, "NoSuchKey");
  EXPECT_EQ(Tag1(r.body, "Key"), "missing/key");
  EXPECT_EQ(Tag1(r.body, "Resource"), "/bkt/missing/key");
  r = Call("HEAD", "/bkt/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.empty());
  ExpectError(Call("GET", "/nobucket/k"), 404, "NoSuchBucket");
  ExpectError(Call("PUT", "/nobucket/k", {}, "x"), 404, "NoSuchBucket");
  ExpectError(Call("DELETE", "/nobucket/k"), 404, "NoSuchBucket");
  ExpectError(Call("GET", "/nobucket"), 404, "NoSuchBucket");
  ExpectError(Call("GET", "/nobucket?list-type=2"), 404, "NoSuchBucket");

  ExpectError(Call("PUT", "/bkt/" + std::string(1025, 'k'), {}, "x"), 400, "KeyTooLongError");
  EXPECT_EQ(Call("PUT", "/bkt/" + std::string(1024, 'k'), {}, "x").status, 200);
  ExpectError(Call("PUT", "/bkt/nul%00key", {}, "x"), 400, "InvalidArgument");
  ExpectError(Call("PUT", "/bkt/bad%ZZescape", {}, "x"), 400, "InvalidURI");
  ExpectError(Call("POST", "/bkt/k", {}, "x"), 405, "MethodNotAllowed");
  ExpectError(Call("PATCH", "/bkt"), 405, "MethodNotAllowed");

  auto unsupported = Call("GET", "/bkt?versioning");
  ExpectError(unsupported, 501, "NotImplemented");
  EXPECT_THAT(Tag1(unsupported.body, "Message"), HasSubstr("versioning"));
  ExpectError(Call("PUT", "/bkt/k?partNumber=1&uploadId=abc", {{"x-amz-copy-source", "/bkt/x"}}),
              501, "NotImplemented");  // UploadPartCopy
  ExpectError(Call("PUT", "/bkt/k?tagging", {}, "<Tagging/>"), 501, "NotImplemented");
  EXPECT_EQ(store_->HeadObject("bkt", "k").status().code(), StatusCode::kNotFound);

  // DeleteObject answers 204 whether or not the key existed.
  EXPECT_EQ(Call("DELETE", "/bkt/never-existed").status, 204);
  Put("bkt", "k", "v");
  EXPECT_EQ(Call("DELETE", "/bkt/k").status, 204);
  ExpectError(Call("GET", "/bkt/k"), 404, "NoSuchKey");
}

TEST_F(S3ApiTest, ContentMd5) {
  MakeBucket("bkt");
  std::string good =
      base64::Encode(*base64::Decode("XrY7u+Ae7tCTyyK7j1rNww=="));  // md5("hello world")
  EXPECT_EQ(Call("PUT", "/bkt/ok", {{"Content-MD5", good}}, "hello world").status, 200);
  ExpectError(Call("PUT", "/bkt/bad", {{"Content-MD5", good}}, "hello worle"), 400, "BadDigest");
  ExpectError(Call("PUT", "/bkt/bad", {{"Content-MD5", "not base64!"}}, "x"), 400, "InvalidDigest");
  ExpectError(Call("PUT", "/bkt/bad", {{"Content-MD5", "AAAA"}}, "x"), 400, "InvalidDigest");
  EXPECT_EQ(store_->HeadObject("bkt", "bad").status().code(), StatusCode::kNotFound);
  // A flexible checksum in a header (what boto3 sends over plain HTTP).
  auto r = Call("PUT", "/bkt/crc", {{"x-amz-checksum-crc32", "y/Q5Jg=="}}, "123456789");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "x-amz-checksum-crc32"), "y/Q5Jg==");
  ExpectError(Call("PUT", "/bkt/crc2", {{"x-amz-checksum-crc32", "y/Q5Jg=="}}, "123456780"), 400,
              "BadDigest");
  EXPECT_EQ(store_->HeadObject("bkt", "crc2").status().code(), StatusCode::kNotFound);
}

// Reference values for "123456789" from the CRC catalogue and sha256sum.
TEST_F(S3ApiTest, ChecksumAlgorithms) {
  MakeBucket("bkt");
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"x-amz-checksum-crc32", "y/Q5Jg=="},
           {"x-amz-checksum-crc32c", "4waSgw=="},
           {"x-amz-checksum-crc64nvme", "rosUhgp5mIg="},
           {"x-amz-checksum-sha256", "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
           {"x-amz-checksum-sha1", "98O8HYCOBHMq32eZZczDTKeuNEE="}}) {
    EXPECT_EQ(Call("PUT", "/bkt/k", {{name, value}}, "123456789").status, 200) << name;
    ExpectError(Call("PUT", "/bkt/k", {{name, value}}, "12345678"), 400, "BadDigest");
  }
}

TEST_F(S3ApiTest, AwsChunkedUnsignedWithTrailer) {
  MakeBucket("bkt");
  // "123456789" in chunks of 5 and 4, then a CRC32 trailer, as SDKs send it.
  std::string body =
      "5\r\n12345\r\n"
      "4\r\n6789\r\n"
      "0\r\n"
      "x-amz-checksum-crc32:y/Q5Jg==\r\n"
      "\r\n";
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Encoding", "aws-chunked"},
      {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
      {"x-amz-decoded-content-length", "9"},
      {"x-amz-trailer", "x-amz-checksum-crc32"},
      {"Content-Type", "text/plain"}};
  auto r = Call("PUT", "/bkt/chunked", headers, body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HeaderOf(r, "x-amz-checksum-crc32"), "y/Q5Jg==");
  auto g = Call("GET", "/bkt/chunked");
  EXPECT_EQ(BodyOf(g), "123456789");
  EXPECT_EQ(HeaderOf(g, "Content-Length"), "<absent>");    // the listener's job
  EXPECT_EQ(HeaderOf(g, "Content-Encoding"), "<absent>");  // aws-chunked is not stored
  EXPECT_EQ(HeaderOf(g, "ETag"), "\"25f9e794323b453885f5181f1b624d0b\"");  // md5("123456789")

  // A wrong trailer checksum is refused and nothing is stored.
  std::string bad = body;
  bad.replace(bad.find("y/Q5Jg=="), 8, "AAAAAA==");
  ExpectError(Call("PUT", "/bkt/bad", headers, bad), 400, "BadDigest");
  EXPECT_EQ(store_->HeadObject("bkt", "bad").status().code(), StatusCode::kNotFound);
  // x-amz-decoded-content-length must match.
  auto wrong_len = headers;
  wrong_len[2].second = "10";
  ExpectError(Call("PUT", "/bkt/bad", wrong_len, body), 400, "IncompleteBody");
  // Truncated framing.
  ExpectError(Call("PUT", "/bkt/bad", headers, "5\r\n123"), 400, "IncompleteBody");
  ExpectError(Call("PUT", "/bkt/bad", headers, "zz\r\n"), 400, "IncompleteBody");
  EXPECT_EQ(store_->HeadObject("bkt", "bad").status().code(), StatusCode::kNotFound);

  // Another content coding next to aws-chunked is kept.
  auto gz = headers;
  gz[0].second = "aws-chunked, gzip";
  ASSERT_EQ(Call("PUT", "/bkt/gz", gz, body).status, 200);
  EXPECT_EQ(HeaderOf(Call("GET", "/bkt/gz"), "Content-Encoding"), "gzip");
}

TEST_F(S3ApiTest, AwsChunkedSigned) {
  MakeBucket("bkt");
  std::string sig(64, 'a');
  std::string payload(70000, 'q');
  payload[12345] = 'Z';
  std::string body = "10000;chunk-signature=" + sig + "\r\n" + payload.substr(0, 65536) + "\r\n" +
                     "1170;chunk-signature=" + sig + "\r\n" + payload.substr(65536) + "\r\n" +
                     "0;chunk-signature=" + sig + "\r\n\r\n";
  auto r = Call("PUT", "/bkt/signed",
                {{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                 {"Content-Encoding", "aws-chunked"},
                 {"x-amz-decoded-content-length", "70000"}},
                body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(Call("GET", "/bkt/signed")), payload);
  // Detected from x-amz-content-sha256 alone (no Content-Encoding).
  r = Call("PUT", "/bkt/signed2", {{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}},
           body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(Call("GET", "/bkt/signed2")), payload);
}

TEST(DecodeAwsChunked, Framing) {
  auto r = DecodeAwsChunked(
      "3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:abc=\r\nx-amz-trailer-signature:ff\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, "abc");
  ASSERT_EQ(r->trailers.size(), 1u);
  EXPECT_EQ(r->trailers[0].first, "x-amz-checksum-crc32c");
  EXPECT_EQ(r->trailers[0].second, "abc=");
  // Lower- and upper-case hex sizes; a missing final CRLF is tolerated.
  r = DecodeAwsChunked("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, "0123456789abcdefghij");
  EXPECT_FALSE(DecodeAwsChunked("").ok());
  EXPECT_FALSE(DecodeAwsChunked("3\r\nabcd\r\n0\r\n\r\n").ok());  // chunk longer than declared
  EXPECT_FALSE(DecodeAwsChunked("ffffffffffffffff\r\nabc").ok());
  EXPECT_FALSE(DecodeAwsChunked("3\r\nabc\r\n").ok());  // no terminating chunk
}

TEST_F(S3ApiTest, ListObjectsV2) {
  MakeBucket("bkt");
  for (const char* k : {"a", "b/1", "b/2", "b/c/3", "d", "e/4", "f"}) Put("bkt", k, k);
  auto r = Call("GET", "/bkt?list-type=2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body,
              HasSubstr("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("a", "b/1", "b/2", "b/c/3", "d", "e/4", "f"));
  EXPECT_EQ(Tag1(r.body, "KeyCount"), "7");
  EXPECT_EQ(Tag1(r.body, "MaxKeys"), "1000");
  EXPECT_EQ(Tag1(r.body, "IsTruncated"), "false");
  EXPECT_EQ(Tag1(r.body, "Name"), "bkt");
  EXPECT_EQ(TagValues(r.body, "ETag")[0],
            "&quot;0cc175b9c0f1b6a831c399e269772661&quot;");  // md5("a")
  EXPECT_EQ(TagValues(r.body, "Size")[1], "3");
  EXPECT_EQ(TagValues(r.body, "StorageClass").size(), 7u);
  EXPECT_TRUE(TagValues(r.body, "Owner").empty());  // only with fetch-owner
  EXPECT_EQ(Tag1(r.body, "NextContinuationToken"), "<absent>");

  r = Call("GET", "/bkt?list-type=2&delimiter=%2F&prefix=b%2F");
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("b/1", "b/2"));
  EXPECT_THAT(TagValues(r.body, "Prefix"), ElementsAre("b/", "b/c/"));  // request's, then common
  EXPECT_EQ(Tag1(r.body, "Delimiter"), "/");
  EXPECT_EQ(Tag1(r.body, "KeyCount"), "3");

  // Pagination with continuation tokens, delimiter at the top level.
  std::vector<std::string> keys, prefixes;
  std::string token;
  int pages = 0;
  while (true) {
    std::string target = "/bkt?list-type=2&delimiter=/&max-keys=2&fetch-owner=true";
    if (!token.empty()) target += "&continuation-token=" + http::PercentEncode(token, false);
    r = Call("GET", target);
    ASSERT_EQ(r.status, 200) << r.body;
    ++pages;
    EXPECT_EQ(TagValues(r.body, "Owner").size(), TagValues(r.body, "Key").size());
    for (auto& k : TagValues(r.body, "Key")) keys.push_back(k);
    for (auto& k : TagValues(r.body, "CommonPrefixes")) prefixes.push_back(Tag1(k, "Prefix"));
    if (!token.empty()) {
      EXPECT_EQ(Tag1(r.body, "ContinuationToken"), token);
    }
    if (Tag1(r.body, "IsTruncated") != "true") break;
    token = Tag1(r.body, "NextContinuationToken");
    ASSERT_NE(token, "<absent>");
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(keys, ElementsAre("a", "d", "f"));
  EXPECT_THAT(prefixes, ElementsAre("b/", "e/"));

  r = Call("GET", "/bkt?list-type=2&start-after=b%2F2");
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("b/c/3", "d", "e/4", "f"));
  EXPECT_EQ(Tag1(r.body, "StartAfter"), "b/2");
  r = Call("GET", "/bkt?list-type=2&max-keys=0");
  EXPECT_TRUE(TagValues(r.body, "Key").empty());
  r = Call("GET", "/bkt?list-type=2&max-keys=5000");
  EXPECT_EQ(Tag1(r.body, "MaxKeys"), "1000");

  ExpectError(Call("GET", "/bkt?list-type=2&max-keys=abc"), 400, "InvalidArgument");
  ExpectError(Call("GET", "/bkt?list-type=2&max-keys=-1"), 400, "InvalidArgument");
  ExpectError(Call("GET", "/bkt?list-type=2&continuation-token=garbage"), 400, "InvalidArgument");
  ExpectError(Call("GET", "/bkt?list-type=2&encoding-type=base64"), 400, "InvalidArgument");
  ExpectError(Call("GET", "/bkt?list-type=3"), 400, "InvalidArgument");
}

TEST_F(S3ApiTest, ListEncodingTypeUrl) {
  MakeBucket("bkt");
  Put("bkt", "a%20b%2Bc/%C3%BC.txt", "x");  // key "a b+c/ü.txt"
  Put("bkt", "x%26y%3Cz%3E", "x");          // key "x&y<z>"
  Put("bkt", "ctl%01char", "x");            // a control character
  auto r = Call("GET", "/bkt?list-type=2&encoding-type=url");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Tag1(r.body, "EncodingType"), "url");
  EXPECT_THAT(TagValues(r.body, "Key"),
              ElementsAre("a%20b%2Bc/%C3%BC.txt", "ctl%01char", "x%26y%3Cz%3E"));
  // Without encoding-type the XML escapes them instead.
  r = Call("GET", "/bkt?list-type=2");
  EXPECT_THAT(TagValues(r.body, "Key"),
              ElementsAre("a b+c/\xc3\xbc.txt", "ctl&#x1;char", "x&amp;y&lt;z&gt;"));
  // Prefix, delimiter and common prefixes are encoded too.
  r = Call("GET", "/bkt?list-type=2&encoding-type=url&prefix=a%20&delimiter=%2F");
  EXPECT_THAT(TagValues(r.body, "Prefix"), ElementsAre("a%20", "a%20b%2Bc/"));
  // V1 as well.
  r = Call("GET", "/bkt?encoding-type=url&prefix=x");
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("x%26y%3Cz%3E"));
}

TEST_F(S3ApiTest, ListObjectsV1) {
  MakeBucket("bkt");
  for (const char* k : {"a", "b/1", "b/2", "c"}) Put("bkt", k, k);
  auto r = Call("GET", "/bkt?max-keys=2");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("a", "b/1"));
  EXPECT_EQ(Tag1(r.body, "IsTruncated"), "true");
  EXPECT_EQ(Tag1(r.body, "NextMarker"), "b/1");
  EXPECT_EQ(Tag1(r.body, "Marker"), "");
  EXPECT_EQ(TagValues(r.body, "Owner").size(), 2u);
  r = Call("GET", "/bkt?max-keys=2&marker=b%2F1");
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("b/2", "c"));
  EXPECT_EQ(Tag1(r.body, "IsTruncated"), "false");
  EXPECT_EQ(Tag1(r.body, "Marker"), "b/1");
  EXPECT_EQ(Tag1(r.body, "NextMarker"), "<absent>");
  r = Call("GET", "/bkt?delimiter=/");
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("a", "c"));
  EXPECT_THAT(TagValues(r.body, "CommonPrefixes"), ElementsAre("<Prefix>b/</Prefix>"));
}

TEST_F(S3ApiTest, DeleteObjects) {
  MakeBucket("bkt");
  Put("bkt", "one", "1");
  Put("bkt", "a%26b", "2");  // "a&b"
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Object><Key>one</Key></Object><Object><Key>a&amp;b</Key></Object>"
      "<Object><Key>never</Key></Object></Delete>";
  auto r = Call("POST", "/bkt?delete", {}, body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("<DeleteResult"));
  EXPECT_THAT(TagValues(r.body, "Key"), ElementsAre("one", "a&amp;b", "never"));
  EXPECT_TRUE(store_->List("bkt", {})->objects.empty());

  Put("bkt", "q", "1");
  r = Call("POST", "/bkt?delete", {},
           "<Delete><Quiet>true</Quiet><Object><Key>q</Key></Object></Delete>");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(TagValues(r.body, "Deleted").empty());
  EXPECT_EQ(store_->HeadObject("bkt", "q").status().code(), StatusCode::kNotFound);
  ExpectError(Call("POST", "/bkt?delete", {}, "<nope/>"), 400, "MalformedXML");
  ExpectError(Call("POST", "/bkt?delete", {{"Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww=="}},
                   "<Delete><Object><Key>q</Key></Object></Delete>"),
              400, "BadDigest");
  ExpectError(Call("POST", "/none-here?delete", {}, body), 404, "NoSuchBucket");
}

TEST_F(S3ApiTest, CopyObject) {
  MakeBucket("src");
  MakeBucket("dst");
  Put("src", "dir/orig%20name", "payload", {{"Content-Type", "text/csv"}, {"x-amz-meta-a", "1"}});
  auto r = Call("PUT", "/dst/copy", {{"x-amz-copy-source", "/src/dir/orig%20name"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("<CopyObjectResult"));
  EXPECT_EQ(Tag1(r.body, "ETag"),
            "&quot;321c3cf486ed509164edec1e1981fec8&quot;");  // md5("payload")
  auto g = Call("GET", "/dst/copy");
  EXPECT_EQ(BodyOf(g), "payload");
  EXPECT_EQ(HeaderOf(g, "Content-Type"), "text/csv");
  EXPECT_EQ(HeaderOf(g, "x-amz-meta-a"), "1");
  r = Call("PUT", "/dst/replaced",
           {{"x-amz-copy-source", "src/dir/orig%20name"},
            {"x-amz-metadata-directive", "REPLACE"},
            {"Content-Type", "text/plain"}});
  ASSERT_EQ(r.status, 200);
  g = Call("GET", "/dst/replaced");
  EXPECT_EQ(HeaderOf(g, "Content-Type"), "text/plain");
  EXPECT_EQ(HeaderOf(g, "x-amz-meta-a"), "<absent>");
  ExpectError(Call("PUT", "/dst/x", {{"x-amz-copy-source", "/src/missing"}}), 404, "NoSuchKey");
  ExpectError(Call("PUT", "/dst/x", {{"x-amz-copy-source", "/nobucket/k"}}), 404, "NoSuchBucket");
  ExpectError(Call("PUT", "/src/dir/orig%20name", {{"x-amz-copy-source", "/src/dir/orig%20name"}}),
              400, "InvalidRequest");
}

// --- multipart uploads -------------------------------------------------------------------

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
  EXPECT_FALSE(fs::exists(dir_ + "/s3/.uploads/" + b1));
  ExpectError(Call("GET", "/bkt/b"), 404, "NoSuchKey");
  r = Call("GET", "/bkt?uploads");
  EXPECT_THAT(TagValues(r.body, "UploadId"), ElementsAre(b2, c, a));

  // Uploads alone do not keep a bucket: as S3, deleting it discards them.
  EXPECT_EQ(Call("DELETE", "/bkt").status, 204);
  EXPECT_TRUE(fs::is_empty(dir_ + "/s3/.uploads"));
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

// --- botocore as an independent client ---------------------------------------------------
// boto3 serialises real requests and parses the replies; a before-send hook hands
// each request to this process over a pipe instead of a socket. The endpoint is
// https:// so botocore uses aws-chunked uploads with a CRC32 trailer, as it does
// against AWS.

constexpr char kBotoScript[] = R"PY(
import io, sys, zlib, base64
from urllib.parse import urlsplit
import boto3
from botocore.config import Config
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.exceptions import ClientError

inp = sys.stdin.buffer
out = sys.stdout.buffer
seen = []

class Raw:
    def __init__(self, b): self._b = io.BytesIO(b)
    def stream(self, amt=65536, decode_content=False):
        while True:
            c = self._b.read(amt)
            if not c: return
            yield c
    def read(self, amt=None, **kw): return self._b.read() if amt is None else self._b.read(amt)
    def close(self): pass

def send(request, **kw):
    u = urlsplit(request.url)
    target = u.path + ('?' + u.query if u.query else '')
    body = request.body
    if body is None: data = b''
    elif isinstance(body, (bytes, bytearray)): data = bytes(body)
    elif isinstance(body, str): data = body.encode()
    else: data = body.read()
    hdrs = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()]
    seen.append((request.method, dict((k.lower(), v) for k, v in hdrs)))
    msg = "%s\n%s\n%d\n" % (request.method, target, len(hdrs)) + "".join("%s\t%s\n" % kv for kv in hdrs) + "%d\n" % len(data)
    out.write(msg.encode('utf-8') + data)
    out.flush()
    status = int(inp.readline())
    headers = HeadersDict()
    for _ in range(int(inp.readline())):
        k, v = inp.readline().decode('utf-8').rstrip('\n').split('\t', 1)
        headers[k] = v
    body = inp.read(int(inp.readline()))
    return AWSResponse(request.url, status, headers, Raw(body))

s3 = boto3.client('s3', endpoint_url='https://s3.hydrant.test', region_name='us-east-1',
                  aws_access_key_id='test', aws_secret_access_key='test',
                  config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3.meta.events.register('before-send.s3', send)

def code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']
    raise AssertionError('no error from %s' % fn)

B = 'boto-bucket'
s3.create_bucket(Bucket=B)
assert code(s3.create_bucket, Bucket=B) == ('BucketAlreadyOwnedByYou', 409)
assert code(s3.create_bucket, Bucket='Bad_Name') == ('InvalidBucketName', 400)
s3.head_bucket(Bucket=B)
assert code(s3.head_bucket, Bucket='missing-bucket') == ('404', 404)
assert s3.get_bucket_location(Bucket=B)['LocationConstraint'] is None
assert [b['Name'] for b in s3.list_buckets()['Buckets']] == [B]

keys = ['a b+c/\u00fc.txt', 'dir/one', 'dir/two', 'dir/sub/three', 'top', 'x&y<z>',
        "quote'\"", 'sp ace/', 'pct%20literal', 'plus+', '\u65e5\u672c/\u8a9e']
for k in keys:
    s3.put_object(Bucket=B, Key=k, Body=k.encode() * 3, Metadata={'origin': 'boto'},
                  ContentType='text/plain')
big = bytes(range(256)) * 5000
s3.put_object(Bucket=B, Key='big', Body=io.BytesIO(big))
puts = [h for m, h in seen if m == 'PUT' and 'x-amz-decoded-content-length' in h]
assert puts and all(h.get('x-amz-content-sha256', '').startswith('STREAMING-') for h in puts), seen[-1]

r = s3.get_object(Bucket=B, Key=keys[0])
assert r['Body'].read() == keys[0].encode() * 3
assert r['Metadata'] == {'origin': 'boto'}, r['Metadata']
assert r['ContentType'] == 'text/plain'
assert r['ETag'] == '"%s"' % __import__('hashlib').md5(keys[0].encode() * 3).hexdigest()
assert s3.get_object(Bucket=B, Key='big')['Body'].read() == big
r = s3.get_object(Bucket=B, Key='big', Range='bytes=1000-1999')
assert r['ContentRange'] == 'bytes 1000-1999/%d' % len(big), r['ContentRange']
assert r['Body'].read() == big[1000:2000]
assert code(s3.get_object, Bucket=B, Key='big', Range='bytes=9999999-') == ('InvalidRange', 416)
h = s3.head_object(Bucket=B, Key='big')
assert h['ContentLength'] == len(big), h
assert code(s3.head_object, Bucket=B, Key='nope') == ('404', 404)
assert code(s3.get_object, Bucket=B, Key='nope') == ('NoSuchKey', 404)
assert code(s3.get_object, Bucket='missing-bucket', Key='nope') == ('NoSuchBucket', 404)
assert code(s3.delete_bucket, Bucket=B) == ('BucketNotEmpty', 409)

# Multipart uploads, by hand and through s3transfer.
import hashlib
from boto3.s3.transfer import TransferConfig
MiB = 1024 * 1024
parts = [bytes([i]) * (5 * MiB) + b'x' * i for i in (1, 2)] + [b'the tail']
mp = s3.create_multipart_upload(Bucket=B, Key='mp/obj', ContentType='text/x-mp', Metadata={'m': '1'})
uid = mp['UploadId']
etags = []
for i, p in enumerate(parts):
    r = s3.upload_part(Bucket=B, Key='mp/obj', UploadId=uid, PartNumber=i + 1, Body=p)
    assert r['ETag'] == '"%s"' % hashlib.md5(p).hexdigest(), r
    etags.append(r['ETag'])
chunked = [h for m, h in seen[-3:] if 'x-amz-decoded-content-length' in h]
assert len(chunked) == 3, seen[-1]   # the parts came aws-chunked
lp = s3.list_parts(Bucket=B, Key='mp/obj', UploadId=uid, MaxParts=2)
assert [p['PartNumber'] for p in lp['Parts']] == [1, 2] and lp['IsTruncated'], lp
assert lp['NextPartNumberMarker'] == 2
lp = s3.list_parts(Bucket=B, Key='mp/obj', UploadId=uid, PartNumberMarker=2)
assert [(p['PartNumber'], p['Size'], p['ETag']) for p in lp['Parts']] == [(3, len(parts[2]), etags[2])], lp
ups = s3.list_multipart_uploads(Bucket=B)
assert [(u['Key'], u['UploadId']) for u in ups['Uploads']] == [('mp/obj', uid)], ups
assert code(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 2, 'ETag': etags[1]}, {'PartNumber': 1, 'ETag': etags[0]}]}) == ('InvalidPartOrder', 400)
assert code(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': etags[1]}]}) == ('InvalidPart', 400)
assert code(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 3, 'ETag': etags[2]}, {'PartNumber': 4, 'ETag': etags[2]}]}) == ('InvalidPart', 400)
r = s3.complete_multipart_upload(Bucket=B, Key='mp/obj', UploadId=uid,
                                 MultipartUpload={'Parts': [{'PartNumber': i + 1, 'ETag': e} for i, e in enumerate(etags)]})
want_etag = '"%s-3"' % hashlib.md5(b''.join(hashlib.md5(p).digest() for p in parts)).hexdigest()
assert r['ETag'] == want_etag, (r['ETag'], want_etag)
assert r['Key'] == 'mp/obj' and r['Bucket'] == B
g = s3.get_object(Bucket=B, Key='mp/obj')
assert g['Body'].read() == b''.join(parts)
assert g['ETag'] == want_etag and g['ContentType'] == 'text/x-mp' and g['Metadata'] == {'m': '1'}, g
g = s3.get_object(Bucket=B, Key='mp/obj', PartNumber=2)
assert g['Body'].read() == parts[1] and g['PartsCount'] == 3, g
assert code(s3.get_object, Bucket=B, Key='mp/obj', PartNumber=4) == ('InvalidPartNumber', 416)
assert code(s3.upload_part, Bucket=B, Key='mp/obj', UploadId=uid, PartNumber=1, Body=b'x') == ('NoSuchUpload', 404)
assert s3.list_multipart_uploads(Bucket=B).get('Uploads', []) == []
small = s3.create_multipart_upload(Bucket=B, Key='small')['UploadId']
e1 = s3.upload_part(Bucket=B, Key='small', UploadId=small, PartNumber=1, Body=b'a' * 100)['ETag']
e2 = s3.upload_part(Bucket=B, Key='small', UploadId=small, PartNumber=2, Body=b'b')['ETag']
assert code(s3.complete_multipart_upload, Bucket=B, Key='small', UploadId=small,
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1}, {'PartNumber': 2, 'ETag': e2}]}) == ('EntityTooSmall', 400)
s3.abort_multipart_upload(Bucket=B, Key='small', UploadId=small)
assert code(s3.abort_multipart_upload, Bucket=B, Key='small', UploadId=small) == ('NoSuchUpload', 404)
assert code(s3.list_parts, Bucket=B, Key='small', UploadId=small) == ('NoSuchUpload', 404)
assert code(s3.head_object, Bucket=B, Key='small') == ('404', 404)
cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, use_threads=False)
blob = hashlib.sha256(b'seed').digest() * (11 * MiB // 32 + 7)
s3.upload_fileobj(io.BytesIO(blob), B, 'transfer', Config=cfg)
assert s3.head_object(Bucket=B, Key='transfer')['ETag'].endswith('-3"')
out_buf = io.BytesIO()
s3.download_fileobj(B, 'transfer', out_buf, Config=cfg)
assert out_buf.getvalue() == blob
for k in ('mp/obj', 'transfer'):
    s3.delete_object(Bucket=B, Key=k)

want = sorted(keys + ['big'], key=lambda k: k.encode())
got = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket=B, PaginationConfig={'PageSize': 3}) for o in p.get('Contents', [])]
assert got == want, (got, want)
got = [o['Key'] for p in s3.get_paginator('list_objects').paginate(Bucket=B, PaginationConfig={'PageSize': 4}) for o in p.get('Contents', [])]
assert got == want, (got, want)
r = s3.list_objects_v2(Bucket=B, Delimiter='/', Prefix='dir/')
assert [o['Key'] for o in r['Contents']] == ['dir/one', 'dir/two'], r
assert [p['Prefix'] for p in r['CommonPrefixes']] == ['dir/sub/'], r
assert r['KeyCount'] == 3 and r['Prefix'] == 'dir/' and r['Delimiter'] == '/'
r = s3.list_objects_v2(Bucket=B, Delimiter='/')
assert [p['Prefix'] for p in r['CommonPrefixes']] == ['a b+c/', 'dir/', 'sp ace/', '\u65e5\u672c/'], r['CommonPrefixes']
r = s3.list_objects_v2(Bucket=B, StartAfter='top', FetchOwner=True)
assert [o['Key'] for o in r['Contents']] == ['x&y<z>', '\u65e5\u672c/\u8a9e'], r
assert r['Contents'][0]['Owner']['DisplayName'] == 'hydrant'
assert r['Contents'][0]['Size'] == len('x&y<z>') * 3
assert r['Contents'][0]['LastModified'].year >= 2024

c = s3.copy_object(Bucket=B, Key='copied', CopySource={'Bucket': B, 'Key': keys[0]})
assert c['CopyObjectResult']['ETag'] == s3.head_object(Bucket=B, Key=keys[0])['ETag']

r = s3.delete_objects(Bucket=B, Delete={'Objects': [{'Key': k} for k in want + ['copied']]})
assert sorted(d['Key'] for d in r['Deleted']) == sorted(want + ['copied']), r
assert s3.list_objects_v2(Bucket=B)['KeyCount'] == 0
s3.delete_object(Bucket=B, Key='already-gone')
s3.delete_bucket(Bucket=B)
assert s3.list_buckets()['Buckets'] == []
sys.stderr.write('boto3 scenario passed (%d requests)\n' % len(seen))
)PY";

bool HaveBoto3() { return std::system("python3 -c 'import boto3' >/dev/null 2>&1") == 0; }

bool ReadLine(FILE* f, std::string* line) {
  line->clear();
  int ch;
  while ((ch = fgetc(f)) != EOF) {
    if (ch == '\n') return true;
    line->push_back(static_cast<char>(ch));
  }
  return false;
}

TEST_F(S3ApiTest, Boto3RoundTrips) {
  if (!HaveBoto3()) GTEST_SKIP() << "python3 with boto3 is not installed";
  std::string script = dir_ + "/scenario.py";
  std::ofstream(script) << kBotoScript;
  int to_py[2], from_py[2];
  ASSERT_EQ(::pipe(to_py), 0);
  ASSERT_EQ(::pipe(from_py), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(to_py[0], 0);
    ::dup2(from_py[1], 1);
    ::close(to_py[1]);
    ::close(from_py[0]);
    ::setenv("AWS_CONFIG_FILE", "/dev/null", 1);
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    ::execlp("python3", "python3", script.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(to_py[0]);
  ::close(from_py[1]);
  FILE* in = ::fdopen(from_py[0], "r");
  FILE* out = ::fdopen(to_py[1], "w");
  int requests = 0;
  std::string line;
  while (ReadLine(in, &line)) {
    http::Request req;
    req.method = line;
    ReadLine(in, &req.target);
    ReadLine(in, &line);
    int n = std::stoi(line);
    for (int i = 0; i < n; ++i) {
      ReadLine(in, &line);
      size_t tab = line.find('\t');
      req.headers.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
    ReadLine(in, &line);
    req.body.resize(std::stoul(line));
    ASSERT_EQ(fread(req.body.data(), 1, req.body.size(), in), req.body.size());
    http::Response resp;
    api_->Handle(req, &resp);
    ++requests;
    // Do what the listener does: file slices become the body, HEAD has none.
    std::string body = req.method == "HEAD" ? "" : BodyOf(resp);
    uint64_t length = resp.content_length_override ? *resp.content_length_override : body.size();
    resp.headers.emplace_back("Content-Length", std::to_string(length));
    std::string msg =
        std::to_string(resp.status) + "\n" + std::to_string(resp.headers.size()) + "\n";
    for (const auto& [k, v] : resp.headers) msg += k + "\t" + v + "\n";
    msg += std::to_string(body.size()) + "\n";
    msg += body;
    fwrite(msg.data(), 1, msg.size(), out);
    fflush(out);
  }
  fclose(out);
  fclose(in);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the boto3 scenario failed (see its traceback above)";
  EXPECT_GT(requests, 30);
}

}  // namespace
}  // namespace hydrant::server
