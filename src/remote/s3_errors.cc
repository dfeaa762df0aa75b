#include "remote/s3_errors.h"

#include <utility>

#include "destinations/sink_errors.h"

namespace hydrant::remote {
namespace {

std::string DecodeXmlText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  for (size_t i = 0; i < s.size();) {
    bool matched = false;
    if (s[i] == '&') {
      for (const auto& [ent, ch] : kEntities) {
        if (s.substr(i, ent.size()) == ent) {
          out.push_back(ch);
          i += ent.size();
          matched = true;
          break;
        }
      }
    }
    if (!matched) out.push_back(s[i++]);
  }
  return out;
}

}  // namespace

std::string XmlElementText(std::string_view xml, std::string_view name) {
  std::string open = "<" + std::string(name) + ">";
  std::string close = "</" + std::string(name) + ">";
  size_t b = xml.find(open);
  if (b == std::string_view::npos) return "";
  b += open.size();
  size_t e = xml.find(close, b);
  if (e == std::string_view::npos) return "";
  return DecodeXmlText(xml.substr(b, e - b));
}

namespace {

std::string Describe(const S3RequestContext& ctx) {
  std::string s(ctx.operation);
  s += " s3://";
  s += ctx.bucket;
  if (!ctx.key.empty()) {
    s += "/";
    s += ctx.key;
  }
  s += " at ";
  s += ctx.endpoint;
  return s;
}

}  // namespace

S3ErrorBody ParseS3ErrorBody(std::string_view xml) {
  return {XmlElementText(xml, "Code"), XmlElementText(xml, "Message")};
}

std::string_view FirehoseCodeForS3(std::string_view c, int http_status) {
  using namespace store;
  if (c == "AccessDenied" || c == "InvalidAccessKeyId" || c == "SignatureDoesNotMatch" ||
      c == "InvalidToken" || c == "ExpiredToken" || c == "TokenRefreshRequired" ||
      c == "InvalidClientTokenId") {
    return kS3AccessDenied;
  }
  if (c == "NoSuchBucket") return kS3NoSuchBucket;
  if (c == "KMS.NotFoundException") return kS3KmsNotFound;
  if (c == "KMS.ThrottlingException" || c == "KMS.RequestLimitExceeded" ||
      c == "KMS.LimitExceededException") {
    return kS3KmsRequestLimitExceeded;
  }
  if (c == "AccountProblem") return kS3AccountProblem;
  if (c == "AllAccessDisabled") return kS3AllAccessDisabled;
  if (c == "InvalidPayer") return kS3InvalidPayer;
  if (c == "NotSignedUp") return kS3NotSignedUp;
  if (c == "MethodNotAllowed") return kS3MethodNotAllowed;
  if (c.empty()) {
    if (http_status == 403) return kS3AccessDenied;
    if (http_status == 405) return kS3MethodNotAllowed;
  }
  return kInternalError;
}

Status S3ResponseError(const S3RequestContext& ctx, const aws::HttpResponse& resp) {
  S3ErrorBody e = ParseS3ErrorBody(resp.body);
  std::string msg = Describe(ctx) + " failed: HTTP " + std::to_string(resp.status);
  if (!e.code.empty()) msg += " " + e.code;
  if (!e.message.empty()) msg += ": " + e.message;
  if (e.code.empty() && e.message.empty() && !resp.body.empty()) {
    msg += ": " + resp.body.substr(0, 200);
  }
  return store::SinkError(FirehoseCodeForS3(e.code, resp.status), msg);
}

Status S3TransportError(const S3RequestContext& ctx, const Status& transport) {
  return store::SinkError(store::kInternalError,
                          Describe(ctx) + " failed: cannot reach the endpoint: " +
                              transport.message());
}

}  // namespace hydrant::remote
