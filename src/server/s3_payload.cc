#include "server/s3_payload.h"

#include "server/s3_checksum.h"
#include "server/s3_strings.h"

namespace hydrant::server::s3 {

store::ObjectMeta MetaFromRequest(const http::Request& req) {
  store::ObjectMeta meta;
  std::string_view ct = TrimSpaces(req.Header("Content-Type"));
  // S3's default when a client sends none.
  meta.content_type = ct.empty() ? "binary/octet-stream" : std::string(ct);
  meta.content_encoding = StoredContentEncoding(req.Header("Content-Encoding"));
  for (const auto& [name, value] : req.headers) {
    if (name.size() > 11 && EqualsIgnoreCase(std::string_view(name).substr(0, 11), "x-amz-meta-")) {
      meta.user_meta[AsciiLower(std::string_view(name).substr(11))] = std::string(TrimSpaces(value));
    }
  }
  return meta;
}

bool ReadPayload(Context& c, Payload* p) {
  std::string_view& data = p->data;
  AwsChunkedBody& decoded = p->decoded;
  auto& checksums = p->checksums;
  data = c.req.body;
  checksums = ChecksumHeaders(c.req);
  if (IsAwsChunked(c.req)) {
    auto d = DecodeAwsChunked(c.req.body);
    if (!d.ok()) {
      Error(c, 400, "IncompleteBody",
            "The request body is not valid aws-chunked encoding: " + d.status().message());
      return false;
    }
    decoded = std::move(d).value();
    data = decoded.data;
    for (const auto& [n, v] : decoded.trailers) {
      if (std::string_view(n).starts_with("x-amz-checksum-")) checksums.emplace_back(n, v);
    }
    std::string_view dcl = TrimSpaces(c.req.Header("x-amz-decoded-content-length"));
    if (!dcl.empty() && dcl != std::to_string(data.size())) {
      Error(c, 400, "IncompleteBody",
            "You did not provide the number of bytes specified by the "
            "x-amz-decoded-content-length HTTP header");
      return false;
    }
  }
  if (c.req.HasHeader("Content-MD5")) {
    if (auto err = CheckContentMd5(c.req.Header("Content-MD5"), data)) {
      Error(c, 400, err->code, err->message);
      return false;
    }
  }
  if (auto err = CheckChecksums(checksums, data)) {
    Error(c, 400, err->code, err->message);
    return false;
  }
  return true;
}

}  // namespace hydrant::server::s3
