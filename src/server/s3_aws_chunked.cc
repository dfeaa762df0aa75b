#include "server/s3_aws_chunked.h"

#include <algorithm>
#include <cstdint>

#include "common/strings.h"
#include "server/s3_strings.h"

namespace hydrant::server {


Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body) {
  AwsChunkedBody out;
  AwsChunkedDecoder decoder;
  Status st = decoder.Feed(body, [&](std::string_view bytes) {
    out.data.append(bytes);
    return Status::Ok();
  });
  if (st.ok()) st = decoder.Finish();
  if (!st.ok()) return st;
  out.trailers = decoder.trailers();
  return out;
}

Status AwsChunkedDecoder::SizeLine(std::string_view header) {
  std::string_view size_hex = TrimSpaces(header.substr(0, header.find(';')));
  if (size_hex.empty() || size_hex.size() > 15) {
    return Status::InvalidArgument("bad chunk size '" + std::string(size_hex) + "'");
  }
  uint64_t size = 0;
  for (char ch : size_hex) {
    int v = HexDigitValue(ch);
    if (v < 0) return Status::InvalidArgument("bad chunk size '" + std::string(size_hex) + "'");
    size = size * 16 + static_cast<uint64_t>(v);
  }
  left_ = size;
  state_ = size == 0 ? State::kTrailers : State::kData;
  return Status::Ok();
}

Status AwsChunkedDecoder::TrailerLine(std::string_view line) {
  if (line.empty()) {
    state_ = State::kDone;
    return Status::Ok();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument("bad trailer line");
  std::string name = AsciiLower(TrimSpaces(line.substr(0, colon)));
  if (name != "x-amz-trailer-signature") {
    trailers_.emplace_back(std::move(name), std::string(TrimSpaces(line.substr(colon + 1))));
  }
  return Status::Ok();
}

Status AwsChunkedDecoder::Feed(std::string_view in, const Output& out) {
  while (!in.empty()) {
    switch (state_) {
      case State::kDone:
        return Status::Ok();  // anything after the final empty line is ignored
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size()));
        if (Status st = out(in.substr(0, n)); !st.ok()) return st;
        in.remove_prefix(n);
        left_ -= n;
        if (left_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {
        size_t n = std::min<size_t>(2 - line_.size(), in.size());
        line_.append(in.substr(0, n));
        in.remove_prefix(n);
        if (line_.size() < 2) break;
        if (line_ != "\r\n") return Status::InvalidArgument("chunk not followed by CRLF");
        line_.clear();
        state_ = State::kSize;
        break;
      }
      case State::kSize:
      case State::kTrailers: {
        // A line ends at CRLF; the CR may have come at the end of the last piece.
        size_t lf = in.find('\n');
        size_t take = lf == std::string_view::npos ? in.size() : lf + 1;
        line_.append(in.substr(0, take));
        in.remove_prefix(take);
        size_t eol = line_.find("\r\n");
        if (eol == std::string::npos) {
          if (line_.size() > kMaxLineBytes) return Status::InvalidArgument("chunk header too long");
          break;
        }
        // Bytes after the CRLF (a bare LF inside the line) go back to the input.
        std::string line = line_.substr(0, eol);
        std::string rest = line_.substr(eol + 2);
        line_.clear();
        Status st = state_ == State::kSize ? SizeLine(line) : TrailerLine(line);
        if (!st.ok()) return st;
        if (!rest.empty()) {
          if (Status more = Feed(rest, out); !more.ok()) return more;
        }
        break;
      }
    }
  }
  return Status::Ok();
}

Status AwsChunkedDecoder::Finish() {
  switch (state_) {
    case State::kSize:
      return Status::InvalidArgument("truncated chunk header");
    case State::kData:
    case State::kDataEnd:
      return Status::InvalidArgument("truncated chunk");
    case State::kTrailers: {
      // Some clients end without the final CRLF; that is accepted.
      std::string line = std::move(line_);
      line_.clear();
      if (Status st = TrailerLine(line); !st.ok()) return st;
      state_ = State::kDone;
      return Status::Ok();
    }
    case State::kDone:
      return Status::Ok();
  }
  return Status::Ok();
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
