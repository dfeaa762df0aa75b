// Object compression, the whole-buffer decoders of the five Firehose
// CompressionFormats (for tests, tools and the Decompression processor): they
// accept what the encoders write and what other producers of each format write
// (docs/formats-codecs.md).

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <snappy.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "codecs/codec.h"
#include "codecs/formats.h"
#include "common/coding.h"
#include "common/crc32c.h"

namespace hydrant::codecs {
namespace {

// ---------------------------------------------------------------------------
// Decoders.

Status Corrupt(std::string_view format, std::string_view what) {
  return Status::Corruption("codecs: " + std::string(format) + ": " + std::string(what));
}

Result<std::string> DecodeGzip(std::string_view in) {
  if (in.empty()) return Corrupt("gzip", "empty input");
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Internal("codecs: inflateInit2");
  std::string out;
  std::unique_ptr<char[]> buf(new char[kOutBufferSize]);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  size_t remaining = in.size();
  Status st;
  bool member_done = false;
  for (;;) {
    if (zs.avail_in == 0 && remaining > 0) {
      size_t n = std::min<size_t>(remaining, size_t{1} << 30);
      zs.avail_in = static_cast<uInt>(n);
      remaining -= n;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buf.get());
    zs.avail_out = static_cast<uInt>(kOutBufferSize);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf.get(), kOutBufferSize - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && remaining == 0) {
        member_done = true;
        break;
      }
      // RFC 1952 allows several members; their contents concatenate.
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && remaining == 0) {
      st = Corrupt("gzip", "truncated stream");
    } else {
      st = Corrupt("gzip", zs.msg != nullptr ? zs.msg : "inflate error " + std::to_string(rc));
    }
    break;
  }
  inflateEnd(&zs);
  if (!st.ok()) return st;
  if (!member_done) return Corrupt("gzip", "truncated stream");
  return out;
}

Result<std::string> DecodeZip(std::string_view in) {
  constexpr size_t kEndSize = 22;
  constexpr size_t kCentralSize = 46;
  constexpr size_t kLocalSize = 30;
  if (in.size() < kEndSize) return Corrupt("zip", "too short for an end record");
  // The end record sits at the end, followed only by its comment.
  size_t end = std::string_view::npos;
  size_t lowest = in.size() >= kEndSize + 0xffff ? in.size() - kEndSize - 0xffff : 0;
  for (size_t pos = in.size() - kEndSize + 1; pos-- > lowest;) {
    const char* p = in.data() + pos;
    if (coding::DecodeFixed32(p) == kZipEndSig && pos + kEndSize + coding::DecodeFixed16(p + 20) == in.size()) {
      end = pos;
      break;
    }
  }
  if (end == std::string_view::npos) return Corrupt("zip", "no end of central directory record");
  const char* e = in.data() + end;
  const uint16_t entries = coding::DecodeFixed16(e + 10);
  const uint32_t central_offset = coding::DecodeFixed32(e + 16);
  if (entries == 0xffff || central_offset == 0xffffffffu) {
    return Corrupt("zip", "ZIP64 archives are not supported");
  }
  if (entries != 1)
    return Corrupt("zip", "expected exactly one entry, found " + std::to_string(entries));
  if (central_offset > end || end - central_offset < kCentralSize) {
    return Corrupt("zip", "central directory out of range");
  }
  const char* c = in.data() + central_offset;
  if (coding::DecodeFixed32(c) != kZipCentralSig) return Corrupt("zip", "bad central directory signature");
  const uint16_t flags = coding::DecodeFixed16(c + 8);
  const uint16_t method = coding::DecodeFixed16(c + 10);
  const uint32_t crc = coding::DecodeFixed32(c + 16);
  const uint32_t compressed_size = coding::DecodeFixed32(c + 20);
  const uint32_t uncompressed_size = coding::DecodeFixed32(c + 24);
  const uint32_t local_offset = coding::DecodeFixed32(c + 42);
  if (flags & 1) return Corrupt("zip", "encrypted entries are not supported");
  if (compressed_size == 0xffffffffu || uncompressed_size == 0xffffffffu ||
      local_offset == 0xffffffffu) {
    return Corrupt("zip", "ZIP64 entries are not supported");
  }
  if (local_offset > central_offset || central_offset - local_offset < kLocalSize) {
    return Corrupt("zip", "local header out of range");
  }
  const char* l = in.data() + local_offset;
  if (coding::DecodeFixed32(l) != kZipLocalSig) return Corrupt("zip", "bad local header signature");
  const uint64_t data_offset =
      uint64_t{local_offset} + kLocalSize + coding::DecodeFixed16(l + 26) + coding::DecodeFixed16(l + 28);
  if (data_offset + compressed_size > central_offset)
    return Corrupt("zip", "entry data out of range");
  std::string_view data = in.substr(data_offset, compressed_size);

  std::string out;
  if (method == kZipMethodStored) {
    if (compressed_size != uncompressed_size) return Corrupt("zip", "stored entry size mismatch");
    out.assign(data);
  } else if (method == kZipMethodDeflate) {
    out.resize(uncompressed_size);
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    if (d == nullptr) return Status::Internal("codecs: libdeflate_alloc_decompressor");
    size_t in_used = 0;
    // With no actual-size out-parameter, anything but exactly
    // uncompressed_size bytes of output is an error.
    libdeflate_result rc = libdeflate_deflate_decompress_ex(d, data.data(), data.size(), out.data(),
                                                            out.size(), &in_used, nullptr);
    libdeflate_free_decompressor(d);
    if (rc != LIBDEFLATE_SUCCESS) return Corrupt("zip", "bad deflate data or size mismatch");
    if (in_used != data.size()) return Corrupt("zip", "compressed size mismatch");
  } else {
    return Corrupt("zip", "unsupported compression method " + std::to_string(method));
  }
  if (libdeflate_crc32(0, out.data(), out.size()) != crc) return Corrupt("zip", "CRC-32 mismatch");
  return out;
}

// Decompresses one raw snappy block, at most `max_size` bytes long.
Status UncompressSnappyBlock(std::string_view format, std::string_view block, size_t max_size,
                             std::string* out) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(block.data(), block.size(), &n)) {
    return Corrupt(format, "bad snappy block header");
  }
  if (n > max_size) return Corrupt(format, "snappy block larger than its frame allows");
  const size_t old = out->size();
  out->resize(old + n);
  if (!snappy::RawUncompress(block.data(), block.size(), out->data() + old)) {
    out->resize(old);
    return Corrupt(format, "bad snappy block data");
  }
  return Status::Ok();
}

Result<std::string> DecodeSnappyFramed(std::string_view in) {
  std::string out;
  bool seen_id = false;
  while (!in.empty()) {
    if (in.size() < 4) return Corrupt("snappy", "truncated chunk header");
    const uint8_t type = static_cast<uint8_t>(in[0]);
    const size_t len = coding::DecodeFixed32(in.data()) >> 8;
    if (in.size() - 4 < len) return Corrupt("snappy", "truncated chunk");
    std::string_view body = in.substr(4, len);
    in.remove_prefix(4 + len);
    if (type == kFrameStreamId) {
      if (body != kFrameStreamIdChunk.substr(4)) return Corrupt("snappy", "bad stream identifier");
      seen_id = true;
      continue;
    }
    if (!seen_id) return Corrupt("snappy", "missing stream identifier");
    if (type == kFrameCompressed || type == kFrameUncompressed) {
      if (body.size() < 4) return Corrupt("snappy", "chunk too short for its checksum");
      const uint32_t expected = crc32c::Unmask(coding::DecodeFixed32(body.data()));
      body.remove_prefix(4);
      const size_t start = out.size();
      if (type == kFrameCompressed) {
        HYDRANT_RETURN_IF_ERROR(UncompressSnappyBlock("snappy", body, kFrameMaxChunk, &out));
      } else {
        if (body.size() > kFrameMaxChunk) return Corrupt("snappy", "uncompressed chunk too large");
        out.append(body);
      }
      if (crc32c::Value(out.data() + start, out.size() - start) != expected) {
        return Corrupt("snappy", "CRC-32C mismatch");
      }
    } else if (type == kFramePadding || type >= 0x80) {
      continue;  // padding and reserved skippable chunks
    } else {
      return Corrupt("snappy", "reserved unskippable chunk type " + std::to_string(type));
    }
  }
  if (!seen_id) return Corrupt("snappy", "missing stream identifier");
  return out;
}

// snappy-java's SnappyOutputStream format (magic, version, compatible version,
// then [u32 BE length][raw snappy] blocks). Only decoded: reportedly what AWS
// writes for "Snappy", so objects from real Firehose can be read back.
constexpr std::string_view kXerialMagic("\x82SNAPPY\x00", 8);
constexpr size_t kXerialHeaderSize = 16;

Result<std::string> DecodeXerialSnappy(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.substr(0, kXerialMagic.size()) == kXerialMagic) {  // concatenated streams
      if (in.size() < kXerialHeaderSize) return Corrupt("snappy-java", "truncated header");
      in.remove_prefix(kXerialHeaderSize);
      continue;
    }
    if (in.size() < 4) return Corrupt("snappy-java", "truncated block length");
    const size_t len = coding::DecodeBigEndian32(in.data());
    if (in.size() - 4 < len) return Corrupt("snappy-java", "truncated block");
    HYDRANT_RETURN_IF_ERROR(UncompressSnappyBlock("snappy-java", in.substr(4, len),
                                                  std::numeric_limits<uint32_t>::max(), &out));
    in.remove_prefix(4 + len);
  }
  return out;
}

Result<std::string> DecodeSnappy(std::string_view in) {
  if (in.substr(0, kXerialMagic.size()) == kXerialMagic) return DecodeXerialSnappy(in);
  return DecodeSnappyFramed(in);
}

Result<std::string> DecodeHadoopSnappy(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.size() < 4) return Corrupt("hadoop-snappy", "truncated block length");
    const size_t block_size = coding::DecodeBigEndian32(in.data());
    in.remove_prefix(4);
    // Subblocks follow until they add up to the block's uncompressed size.
    size_t produced = 0;
    while (produced < block_size) {
      if (in.size() < 4) return Corrupt("hadoop-snappy", "truncated subblock length");
      const size_t len = coding::DecodeBigEndian32(in.data());
      if (in.size() - 4 < len) return Corrupt("hadoop-snappy", "truncated subblock");
      const size_t before = out.size();
      HYDRANT_RETURN_IF_ERROR(
          UncompressSnappyBlock("hadoop-snappy", in.substr(4, len), block_size - produced, &out));
      produced += out.size() - before;
      in.remove_prefix(4 + len);
    }
  }
  return out;
}

}  // namespace

Result<std::string> Decompress(Compression c, std::string_view in) {
  switch (c) {
    case Compression::kUncompressed:
      return std::string(in);
    case Compression::kGzip:
      return DecodeGzip(in);
    case Compression::kZip:
      return DecodeZip(in);
    case Compression::kSnappy:
      return DecodeSnappy(in);
    case Compression::kHadoopSnappy:
      return DecodeHadoopSnappy(in);
  }
  return Status::InvalidArgument("codecs: unknown compression");
}

}  // namespace hydrant::codecs
