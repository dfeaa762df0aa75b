// Object operations: PutObject, GetObject and HeadObject (ranges, conditions),
// CopyObject, DeleteObject, and the errors a request on an object can get.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "server/s3_api_test_util.h"

namespace hydrant::server {
namespace {

using ::testing::HasSubstr;

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

}  // namespace
}  // namespace hydrant::server
