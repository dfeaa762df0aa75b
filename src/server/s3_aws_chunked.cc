#include "server/s3_aws_chunked.h"

#include <cstdint>

#include "server/s3_strings.h"

namespace hydrant::server {


Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body) {
  AwsChunkedBody out;
  size_t pos = 0;
  while (true) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string_view::npos) return Status::InvalidArgument("truncated chunk header");
    std::string_view header = body.substr(pos, eol - pos);
    pos = eol + 2;
    std::string_view size_hex = TrimSpaces(header.substr(0, header.find(';')));
    if (size_hex.empty() || size_hex.size() > 15) {
      return Status::InvalidArgument("bad chunk size '" + std::string(size_hex) + "'");
    }
    uint64_t size = 0;
    for (char ch : size_hex) {
      int v;
      if (ch >= '0' && ch <= '9')
        v = ch - '0';
      else if (ch >= 'a' && ch <= 'f')
        v = ch - 'a' + 10;
      else if (ch >= 'A' && ch <= 'F')
        v = ch - 'A' + 10;
      else
        return Status::InvalidArgument("bad chunk size '" + std::string(size_hex) + "'");
      size = size * 16 + static_cast<uint64_t>(v);
    }
    if (size == 0) break;
    if (size > body.size() - pos || body.size() - pos - size < 2) {
      return Status::InvalidArgument("truncated chunk");
    }
    out.data.append(body.substr(pos, size));
    pos += size;
    if (body.substr(pos, 2) != "\r\n") return Status::InvalidArgument("chunk not followed by CRLF");
    pos += 2;
  }
  // Trailing headers, then an empty line. Some clients end without the final
  // CRLF; that is accepted.
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    std::string_view line = body.substr(pos, eol == std::string_view::npos ? body.npos : eol - pos);
    pos = eol == std::string_view::npos ? body.size() : eol + 2;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Status::InvalidArgument("bad trailer line");
    std::string name = AsciiLower(TrimSpaces(line.substr(0, colon)));
    if (name == "x-amz-trailer-signature") continue;
    out.trailers.emplace_back(std::move(name), std::string(TrimSpaces(line.substr(colon + 1))));
  }
  return out;
}

bool IsAwsChunked(const http::Request& req) {
  if (std::string_view(req.Header("x-amz-content-sha256")).starts_with("STREAMING-")) return true;
  std::string_view enc = req.Header("Content-Encoding");
  return AsciiLower(enc).find("aws-chunked") != std::string::npos;
}

std::string StoredContentEncoding(std::string_view header) {
  std::string out;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view item =
        TrimSpaces(header.substr(pos, comma == std::string_view::npos ? header.npos : comma - pos));
    if (!item.empty() && !EqualsIgnoreCase(item, "aws-chunked")) {
      if (!out.empty()) out += ",";
      out += item;
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace hydrant::server
