// The exact bytes of every kind of XML reply the S3 API sends (boto3, the AWS
// CLI and the SDKs parse them; the other tests only look at single elements).
// Request ids, times and upload ids change from run to run and are replaced by
// placeholders; everything else must match byte for byte.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "server/s3_api_test_util.h"

namespace hydrant::server {
namespace {

class S3WireTest : public S3ApiTest {
 protected:
  // Sends the request and appends "METHOD target -> status\nbody\n" to the
  // transcript, with the run-dependent values replaced.
  http::Response Log(std::string method, std::string target,
                     std::vector<std::pair<std::string, std::string>> headers = {},
                     std::string body = "") {
    std::string line = method + " " + target;
    auto r = Call(std::move(method), std::move(target), std::move(headers), std::move(body));
    std::string b = std::regex_replace(r.body, std::regex("<RequestId>[0-9A-F]{16}</RequestId>"),
                                       "<RequestId>REQUEST-ID</RequestId>");
    b = std::regex_replace(b, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"), "TIME");
    b = std::regex_replace(b, std::regex("k{1025}"), "LONG-KEY");
    line = std::regex_replace(line, std::regex("k{1025}"), "LONG-KEY");
    if (!upload_id_.empty()) {
      b = std::regex_replace(b, std::regex(upload_id_), "UPLOAD-ID");
      line = std::regex_replace(line, std::regex(upload_id_), "UPLOAD-ID");
    }
    transcript_ += line + " -> " + std::to_string(r.status) + "\n" + b + "\n";
    return r;
  }

  std::string upload_id_;
  std::string transcript_;
};

// What the S3 API answered before its XML went through XmlWriter; one request
// per "METHOD target -> status" line, its body on the next (empty for HEAD).
constexpr char kWant[] = R"XML(GET / -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><Buckets></Buckets></ListAllMyBucketsResult>
PUT /bkt -> 409
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>BucketAlreadyOwnedByYou</Code><Message>Your previous request to create the named bucket succeeded and you already own it.</Message><BucketName>bkt</BucketName><Resource>/bkt</Resource><RequestId>REQUEST-ID</RequestId></Error>
GET /?prefix=b -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><Buckets><Bucket><Name>bkt</Name><CreationDate>TIME</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket></Buckets><Prefix>b</Prefix></ListAllMyBucketsResult>
GET /bkt?location -> 200
<?xml version="1.0" encoding="UTF-8"?>
<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>
GET /bkt?list-type=2&fetch-owner=true&max-keys=2 -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix></Prefix><NextContinuationToken>aHlkcmFudDE6Y3RsAQ14</NextContinuationToken><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><Contents><Key>a&amp;b&lt;c&gt;</Key><LastModified>TIME</LastModified><ETag>&quot;c4ca4238a0b923820dcc509a6f75849b&quot;</ETag><Size>1</Size><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>ctl&#x1;&#xD;x</Key><LastModified>TIME</LastModified><ETag>&quot;b6d767d2f8ed5d21a44b0e5886680cb9&quot;</ETag><Size>2</Size><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>
GET /bkt?list-type=2&start-after=b&continuation-token=aHlkcmFudDE6Y3RsAQ%3D%3D -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix></Prefix><ContinuationToken>aHlkcmFudDE6Y3RsAQ==</ContinuationToken><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><StartAfter>b</StartAfter><Contents><Key>ctl&#x1;&#xD;x</Key><LastModified>TIME</LastModified><ETag>&quot;b6d767d2f8ed5d21a44b0e5886680cb9&quot;</ETag><Size>2</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>dir/x y</Key><LastModified>TIME</LastModified><ETag>&quot;310dcbbf4cce62f762a2aaa148d556bd&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>dir/z</Key><LastModified>TIME</LastModified><ETag>&quot;dbc4d84bfcfe2284ba11beffb853a8c4&quot;</ETag><Size>4</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>
GET /bkt?list-type=2&encoding-type=url&delimiter=%2F&prefix= -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix></Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType><Contents><Key>a%26b%3Cc%3E</Key><LastModified>TIME</LastModified><ETag>&quot;c4ca4238a0b923820dcc509a6f75849b&quot;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>ctl%01%0Dx</Key><LastModified>TIME</LastModified><ETag>&quot;b6d767d2f8ed5d21a44b0e5886680cb9&quot;</ETag><Size>2</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes></ListBucketResult>
GET /bkt?max-keys=1&marker=a -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix></Prefix><Marker>a</Marker><NextMarker>a&amp;b&lt;c&gt;</NextMarker><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><Contents><Key>a&amp;b&lt;c&gt;</Key><LastModified>TIME</LastModified><ETag>&quot;c4ca4238a0b923820dcc509a6f75849b&quot;</ETag><Size>1</Size><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>
GET /bkt?delimiter=%2F&prefix=dir%2F&encoding-type=url -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>dir/</Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType><Contents><Key>dir/x%20y</Key><LastModified>TIME</LastModified><ETag>&quot;310dcbbf4cce62f762a2aaa148d556bd&quot;</ETag><Size>3</Size><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>dir/z</Key><LastModified>TIME</LastModified><ETag>&quot;dbc4d84bfcfe2284ba11beffb853a8c4&quot;</ETag><Size>4</Size><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>
GET /bkt?list-type=2&max-keys=x -> 400
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidArgument</Code><Message>Provided max-keys not an integer or within integer range</Message><ArgumentName>max-keys</ArgumentName><ArgumentValue>x</ArgumentValue><Resource>/bkt</Resource><RequestId>REQUEST-ID</RequestId></Error>
PUT /bkt/cp -> 200
<?xml version="1.0" encoding="UTF-8"?>
<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LastModified>TIME</LastModified><ETag>&quot;dbc4d84bfcfe2284ba11beffb853a8c4&quot;</ETag></CopyObjectResult>
POST /bkt?delete -> 200
<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>cp</Key></Deleted><Error><Key>LONG-KEY</Key><Code>KeyTooLongError</Code><Message>Your key is too long (the limit is 1024 bytes).</Message></Error><Error><Key>nul&#x0;</Key><Code>InvalidArgument</Code><Message>The object key must not contain NUL characters.</Message></Error></DeleteResult>
POST /bkt?delete -> 200
<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>
GET /bkt/missing -> 404
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>missing</Key><Resource>/bkt/missing</Resource><RequestId>REQUEST-ID</RequestId></Error>
HEAD /bkt/missing -> 404

GET /nobucket/k -> 404
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>nobucket</BucketName><Resource>/nobucket/k</Resource><RequestId>REQUEST-ID</RequestId></Error>
GET /bkt/dir/z -> 416
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><RangeRequested>bytes=9-</RangeRequested><ActualObjectSize>4</ActualObjectSize><Resource>/bkt/dir/z</Resource><RequestId>REQUEST-ID</RequestId></Error>
GET /bkt/dir/z -> 412
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition><Resource>/bkt/dir/z</Resource><RequestId>REQUEST-ID</RequestId></Error>
PUT /bkt/LONG-KEY -> 400
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>KeyTooLongError</Code><Message>Your key is too long</Message><MaxSizeAllowed>1024</MaxSizeAllowed><Size>1025</Size><Resource>/bkt/LONG-KEY</Resource><RequestId>REQUEST-ID</RequestId></Error>
DELETE / -> 405
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>MethodNotAllowed</Code><Message>The specified method is not allowed against this resource.</Message><Method>DELETE</Method><ResourceType>SERVICE</ResourceType><Resource>/</Resource><RequestId>REQUEST-ID</RequestId></Error>
GET /bkt?acl -> 501
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NotImplemented</Code><Message>A header or query you provided implies functionality that is not implemented: hydrant&apos;s embedded S3 does not support the ?acl subresource.</Message><Resource>/bkt</Resource><RequestId>REQUEST-ID</RequestId></Error>
DELETE /bkt -> 409
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>BucketNotEmpty</Code><Message>The bucket you tried to delete is not empty</Message><BucketName>bkt</BucketName><Resource>/bkt</Resource><RequestId>REQUEST-ID</RequestId></Error>
PUT /Bad_Bucket -> 400
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidBucketName</Code><Message>The specified bucket is not valid.</Message><BucketName>Bad_Bucket</BucketName><Resource>/Bad_Bucket</Resource><RequestId>REQUEST-ID</RequestId></Error>
POST /bkt/mp%20key?uploads -> 200
<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><Key>mp key</Key><UploadId>UPLOAD-ID</UploadId></InitiateMultipartUploadResult>
GET /bkt?uploads&encoding-type=url -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker><Prefix></Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType><Upload><Key>mp%20key</Key><UploadId>UPLOAD-ID</UploadId><Initiator><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Initiator><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><StorageClass>STANDARD</StorageClass><Initiated>TIME</Initiated></Upload></ListMultipartUploadsResult>
GET /bkt/mp%20key?uploadId=UPLOAD-ID&max-parts=1 -> 200
<?xml version="1.0" encoding="UTF-8"?>
<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><Key>mp key</Key><UploadId>UPLOAD-ID</UploadId><Initiator><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Initiator><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>hydrant</DisplayName></Owner><StorageClass>STANDARD</StorageClass><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1</MaxParts><IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber><LastModified>TIME</LastModified><ETag>&quot;79b281060d337b9b2b84ccf390adcf74&quot;</ETag><Size>5242880</Size></Part></ListPartsResult>
PUT /bkt/mp%20key?partNumber=0&uploadId=UPLOAD-ID -> 400
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidArgument</Code><Message>Part number must be an integer between 1 and 10000, inclusive</Message><ArgumentName>partNumber</ArgumentName><ArgumentValue>0</ArgumentValue><Resource>/bkt/mp key</Resource><RequestId>REQUEST-ID</RequestId></Error>
PUT /bkt/mp%20key?partNumber=1&uploadId=nope -> 404
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.</Message><UploadId>nope</UploadId><Resource>/bkt/mp key</Resource><RequestId>REQUEST-ID</RequestId></Error>
POST /bkt/mp%20key?uploadId=UPLOAD-ID -> 200
<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://localhost:4566/bkt/mp%20key</Location><Bucket>bkt</Bucket><Key>mp key</Key><ETag>&quot;e5a8c5272b26fc10581a21089559b006-2&quot;</ETag></CompleteMultipartUploadResult>
POST /bkt/mp%20key?uploadId=UPLOAD-ID -> 400
<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>MalformedXML</Code><Message>The XML you provided was not well-formed or did not validate against our published schema</Message><Resource>/bkt/mp key</Resource><RequestId>REQUEST-ID</RequestId></Error>
)XML";

TEST_F(S3WireTest, RepliesByteForByte) {
  Log("GET", "/");
  MakeBucket("bkt");
  MakeBucket("other");
  Log("PUT", "/bkt");
  Log("GET", "/?prefix=b");
  Log("GET", "/bkt?location");
  Put("bkt", "a%26b%3Cc%3E", "1");  // "a&b<c>"
  Put("bkt", "ctl%01%0Dx", "22");   // control characters
  Put("bkt", "dir/x%20y", "333");
  Put("bkt", "dir/z", "4444");
  Log("GET", "/bkt?list-type=2&fetch-owner=true&max-keys=2");
  Log("GET", "/bkt?list-type=2&start-after=b&continuation-token=aHlkcmFudDE6Y3RsAQ%3D%3D");
  Log("GET", "/bkt?list-type=2&encoding-type=url&delimiter=%2F&prefix=");
  Log("GET", "/bkt?max-keys=1&marker=a");
  Log("GET", "/bkt?delimiter=%2F&prefix=dir%2F&encoding-type=url");
  Log("GET", "/bkt?list-type=2&max-keys=x");
  Log("PUT", "/bkt/cp", {{"x-amz-copy-source", "/bkt/dir/z"}});
  Log("POST", "/bkt?delete", {},
      "<Delete><Object><Key>cp</Key></Object><Object><Key>" + std::string(1025, 'k') +
          "</Key></Object><Object><Key>nul&#0;</Key></Object></Delete>");
  Log("POST", "/bkt?delete", {},
      "<Delete><Quiet>true</Quiet><Object><Key>q</Key></Object></Delete>");
  Log("GET", "/bkt/missing");
  Log("HEAD", "/bkt/missing");
  Log("GET", "/nobucket/k");
  Log("GET", "/bkt/dir/z", {{"Range", "bytes=9-"}});
  Log("GET", "/bkt/dir/z", {{"If-Match", "\"x\""}});
  Log("PUT", "/bkt/" + std::string(1025, 'k'), {}, "x");
  Log("DELETE", "/");
  Log("GET", "/bkt?acl");
  Log("DELETE", "/bkt");
  Log("PUT", "/Bad_Bucket");

  auto created = Log("POST", "/bkt/mp%20key?uploads");
  upload_id_ = Tag1(created.body, "UploadId");
  ASSERT_EQ(upload_id_.size(), 32u) << created.body;
  transcript_ = std::regex_replace(transcript_, std::regex(upload_id_), "UPLOAD-ID");
  Call("PUT", "/bkt/mp%20key?partNumber=1&uploadId=" + upload_id_, {}, std::string(5 << 20, 'a'));
  Call("PUT", "/bkt/mp%20key?partNumber=2&uploadId=" + upload_id_, {}, "b");
  Log("GET", "/bkt?uploads&encoding-type=url");
  Log("GET", "/bkt/mp%20key?uploadId=" + upload_id_ + "&max-parts=1");
  Log("PUT", "/bkt/mp%20key?partNumber=0&uploadId=" + upload_id_, {}, "x");
  Log("PUT", "/bkt/mp%20key?partNumber=1&uploadId=nope", {}, "x");
  Log("POST", "/bkt/mp%20key?uploadId=" + upload_id_, {{"Host", "localhost:4566"}},
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
      "<ETag>\"79b281060d337b9b2b84ccf390adcf74\"</ETag></Part><Part><PartNumber>2</PartNumber>"
      "<ETag>&quot;92eb5ffee6ae2fec3ad71c777531578f&quot;</ETag></Part>"
      "</CompleteMultipartUpload>");
  Log("POST", "/bkt/mp%20key?uploadId=" + upload_id_, {}, "<nope/>");

  EXPECT_EQ(transcript_, kWant);
}

}  // namespace
}  // namespace hydrant::server
