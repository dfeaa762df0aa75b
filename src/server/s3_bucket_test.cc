// Service and bucket operations: ListBuckets, CreateBucket, HeadBucket,
// GetBucketLocation, DeleteBucket, ListObjects (V1 and V2), DeleteObjects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "server/s3_api_test_util.h"

namespace hydrant::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace hydrant::server
