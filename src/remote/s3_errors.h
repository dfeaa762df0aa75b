#pragma once
// From a remote S3's answer (or a transport failure) to a Status carrying
// Firehose's error code (destinations/sink_errors.h). S3 error bodies are
// <Error><Code>...</Code><Message>...</Message>...</Error>; a response without a
// body (HEAD, some proxies) is judged by its HTTP status.

#include <string>
#include <string_view>

#include "aws/http_client.h"
#include "common/status.h"

namespace hydrant::remote {

struct S3ErrorBody {
  std::string code;     // S3's <Code>, "" when absent
  std::string message;  // S3's <Message>, "" when absent
};
// The decoded text of the first <name>...</name> element of `xml`; "" when absent.
// Enough for S3's and STS's flat answers (no attributes on the elements read).
std::string XmlElementText(std::string_view xml, std::string_view name);

// The first <Code> and <Message> of an S3 (or STS) XML error document. Entities
// (&amp; &lt; &gt; &quot; &apos;) are decoded.
S3ErrorBody ParseS3ErrorBody(std::string_view xml);

// Firehose's code for S3's error code `s3_code` (and `http_status` when the code
// is unknown or empty): AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
// InvalidToken, ExpiredToken → S3.AccessDenied; NoSuchBucket → S3.NoSuchBucket;
// KMS.NotFoundException → S3.KMS.NotFoundException; KMS.ThrottlingException,
// KMS.RequestLimitExceeded → S3.KMS.RequestLimitExceeded; AccountProblem,
// AllAccessDisabled, InvalidPayer, NotSignedUp, MethodNotAllowed → S3.<same>;
// an empty code with 403 → S3.AccessDenied, 405 → S3.MethodNotAllowed;
// anything else InternalError.
std::string_view FirehoseCodeForS3(std::string_view s3_code, int http_status);

// What a request was, for messages: "PutObject s3://bucket/key at http://host:port".
struct S3RequestContext {
  std::string_view operation;  // "PutObject", "UploadPart", ...
  std::string_view bucket;
  std::string_view key;  // "" when the request has none
  std::string_view endpoint;
};

// A non-2xx S3 answer (or a 200 whose body is an <Error>, as CompleteMultipartUpload
// may send): error code S3.AccessDenied, message "PutObject s3://b/k at http://h:p
// failed: HTTP 403 AccessDenied: Access Denied".
Status S3ResponseError(const S3RequestContext& ctx, const aws::HttpResponse& resp);
// A transport failure (refused, timeout, TLS): InternalError naming the endpoint.
Status S3TransportError(const S3RequestContext& ctx, const Status& transport);

}  // namespace hydrant::remote
