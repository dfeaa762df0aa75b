#include "server/s3_aws_chunked.h"

#include <algorithm>
#include <cstdint>

#include "common/digest.h"
#include "common/strings.h"
#include "server/s3_strings.h"

namespace hydrant::server {


Result<AwsChunkedBody> DecodeAwsChunked(std::string_view body, const auth::PayloadCheck* check,
                                        bool* bad_signature) {
  AwsChunkedBody out;
  AwsChunkedDecoder decoder;
  if (check != nullptr) decoder.VerifySignatures(*check);
  Status st = decoder.Feed(body, [&](std::string_view bytes) {
    out.data.append(bytes);
    return Status::Ok();
  });
  if (st.ok()) st = decoder.Finish();
  if (bad_signature != nullptr) *bad_signature = decoder.signature_failed();
  if (!st.ok()) return st;
  out.trailers = decoder.trailers();
  return out;
}

AwsChunkedDecoder::AwsChunkedDecoder() = default;
AwsChunkedDecoder::~AwsChunkedDecoder() = default;

void AwsChunkedDecoder::VerifySignatures(const auth::PayloadCheck& check) {
  chain_ = std::make_unique<auth::ChunkSignatureChain>(check);
  chunk_digest_ = s3::RunningDigest::Make("sha256");
}

Status AwsChunkedDecoder::BadSignature(std::string what) {
  signature_failed_ = true;
  return Status::InvalidArgument(std::move(what));
}

// The chunk that just ended (its bytes all hashed) against its signature.
Status AwsChunkedDecoder::EndChunk() {
  if (!chain_) return Status::Ok();
  std::string digest = HexEncode(chunk_digest_->Final());
  chunk_digest_ = s3::RunningDigest::Make("sha256");
  if (chunk_signature_.empty()) return BadSignature("a chunk has no chunk-signature");
  if (!chain_->Next(digest, chunk_signature_)) return BadSignature("a chunk signature is wrong");
  chunk_signature_.clear();
  return Status::Ok();
}

Status AwsChunkedDecoder::SizeLine(std::string_view header) {
  if (chain_) {
    // "size;chunk-signature=hex" (extensions other than the signature ignored).
    chunk_signature_.clear();
    size_t pos = header.find(';');
    while (pos != std::string_view::npos) {
      size_t next = header.find(';', pos + 1);
      std::string_view ext =
          TrimSpaces(header.substr(pos + 1, next == header.npos ? header.npos : next - pos - 1));
      if (ext.starts_with("chunk-signature=")) chunk_signature_ = std::string(ext.substr(16));
      pos = next;
    }
  }
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
  if (size == 0) return EndChunk();  // the final, empty chunk is signed too
  return Status::Ok();
}

Status AwsChunkedDecoder::TrailerLine(std::string_view line) {
  if (line.empty()) {
    state_ = State::kDone;
    if (chain_ && chain_->expects_trailer()) {
      if (trailer_signature_.empty()) return BadSignature("the trailer has no signature");
      std::string digest = Sha256Hex(signed_trailers_);
      if (!chain_->Trailer(digest, trailer_signature_)) {
        return BadSignature("the trailer signature is wrong");
      }
    }
    return Status::Ok();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument("bad trailer line");
  std::string name = AsciiLower(TrimSpaces(line.substr(0, colon)));
  std::string value(TrimSpaces(line.substr(colon + 1)));
  if (name == "x-amz-trailer-signature") {
    trailer_signature_ = std::move(value);
  } else {
    if (chain_) signed_trailers_ += name + ":" + value + "\n";
    trailers_.emplace_back(std::move(name), std::move(value));
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
        if (chunk_digest_) chunk_digest_->Update(in.substr(0, n));
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
        if (Status st = EndChunk(); !st.ok()) return st;
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
        // Too long whether the line arrived whole or in pieces: its known length
        // (a CR at the end may start the CRLF) against the limit.
        const size_t known =
            eol != std::string::npos ? eol : line_.size() - (line_.ends_with('\r') ? 1 : 0);
        if (known > kMaxLineBytes) return Status::InvalidArgument("chunk header too long");
        if (eol == std::string::npos) break;
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
      if (!line.empty()) {
        if (Status st = TrailerLine(line); !st.ok()) return st;
      }
      return TrailerLine("");  // the end of the trailers (checks their signature)
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
