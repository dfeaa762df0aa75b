// Fuzz target: the aws-chunked decoder (server/s3_aws_chunked.h) with chunk
// signatures checked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD and ...-TRAILER).
// Input parts (fuzz_util.h SplitParts): a body as sent, the bytes of an object,
// and a flags byte (bit 0: the trailer form; the rest: the piece size).
//
// Checks: any body decodes or fails without crashing, in pieces of any size
// with the same verdict, output and signature verdict as in one piece; an
// object framed and signed as the AWS documentation says decodes to itself in
// both forms; changing one byte of its data, or of a signature, makes the
// signature check fail.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/authenticator.h"
#include "aws/sigv4.h"
#include "common/digest.h"
#include "fuzz/fuzz_util.h"
#include "server/s3_aws_chunked.h"

namespace aws = hydrant::aws;
namespace auth = hydrant::auth;
using hydrant::Status;
using hydrant::server::AwsChunkedDecoder;

namespace {

// A signed stream's check: a key of the fuzzer's own, any seed.
auth::PayloadCheck Check(bool trailer) {
  const std::string scope = aws::CredentialScope("20260101", "eu-west-1", "s3");
  return {.kind = trailer ? auth::PayloadCheck::Kind::kChunkSignedTrailer
                          : auth::PayloadCheck::Kind::kChunkSigned,
          .sha256_hex = "",
          .signing_key = aws::DeriveSigningKey("fuzz-secret", "20260101", "eu-west-1", "s3"),
          .amz_date = "20260101T000000Z",
          .scope = scope,
          .seed_signature = hydrant::Sha256Hex(scope)};
}

struct Decoded {
  bool ok = false;
  bool bad_signature = false;
  std::string data;
};

Decoded Decode(std::string_view body, const auth::PayloadCheck& check, size_t piece) {
  AwsChunkedDecoder d;
  d.VerifySignatures(check);
  Decoded out;
  Status st;
  for (size_t i = 0; i < body.size() && st.ok(); i += piece) {
    st = d.Feed(body.substr(i, piece), [&](std::string_view b) {
      out.data.append(b);
      return Status::Ok();
    });
  }
  if (st.ok()) st = d.Finish();
  out.ok = st.ok();
  out.bad_signature = d.signature_failed();
  return out;
}

// `data` framed in chunks of `chunk` bytes, each signed, as a client sends it.
std::string Frame(std::string_view data, size_t chunk, const auth::PayloadCheck& c, bool trailer) {
  std::string body, prev = c.seed_signature;
  size_t pos = 0;
  while (true) {
    std::string_view piece = data.substr(pos, chunk);
    pos += piece.size();
    prev = aws::ChunkSignature(c.signing_key, c.amz_date, c.scope, prev, hydrant::Sha256Hex(piece));
    char size[32];
    std::snprintf(size, sizeof(size), "%zx", piece.size());
    body += std::string(size) + ";chunk-signature=" + prev + "\r\n";
    body += piece;
    if (piece.empty()) break;
    body += "\r\n";
  }
  if (trailer) {
    const std::string line = "x-amz-checksum-crc32:AAAAAA==";
    body += line + "\r\n";
    body += "x-amz-trailer-signature:" +
            aws::TrailerSignature(c.signing_key, c.amz_date, c.scope, prev,
                                  hydrant::Sha256Hex(line + "\n")) +
            "\r\n";
  }
  body += "\r\n";
  return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = hydrant::fuzz::SplitParts(hydrant::fuzz::AsView(data, size), 3);
  const uint8_t flags = parts[2].empty() ? 0 : static_cast<uint8_t>(parts[2][0]);
  const bool trailer = flags & 1;
  const size_t piece = 1 + (flags >> 1);
  const auth::PayloadCheck check = Check(trailer);

  // Any body: the same verdict whole and in pieces.
  Decoded whole = Decode(parts[0], check, parts[0].size() + 1);
  Decoded pieces = Decode(parts[0], check, piece);
  FUZZ_CHECK(whole.ok == pieces.ok, "pieces change the verdict");
  FUZZ_CHECK(whole.bad_signature == pieces.bad_signature, "pieces change the signature verdict");
  if (whole.ok) FUZZ_CHECK(whole.data == pieces.data, "pieces change the output");
  FUZZ_CHECK(!whole.ok || !whole.bad_signature, "accepted with a bad signature");

  // A well-signed body of the object decodes to it; any change fails.
  std::string_view object = parts[1].substr(0, 16384);
  const size_t chunk = 1 + (piece * 37) % 9000;
  std::string body = Frame(object, chunk, check, trailer);
  Decoded good = Decode(body, check, piece);
  FUZZ_CHECK(good.ok && !good.bad_signature, "a well-signed body is refused");
  FUZZ_CHECK(good.data == object, "a well-signed body decodes to other bytes");
  if (!object.empty()) {
    std::string changed = body;
    size_t at = changed.find("\r\n") + 2 + (flags % object.size()) % std::min(chunk, object.size());
    changed[at] = static_cast<char>(changed[at] ^ 0x01);
    Decoded bad = Decode(changed, check, piece);
    FUZZ_CHECK(!bad.ok && bad.bad_signature, "a changed data byte is not caught");
  }
  std::string resigned = body;
  size_t sig = resigned.rfind("chunk-signature=") + 16;
  resigned[sig] = resigned[sig] == '0' ? '1' : '0';
  FUZZ_CHECK(!Decode(resigned, check, piece).ok, "a changed final signature is not caught");
  return 0;
}
