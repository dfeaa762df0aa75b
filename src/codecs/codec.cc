// Object compression: streaming encoders and whole-buffer decoders for the
// five Firehose CompressionFormats. Byte layouts and the choices AWS leaves
// open are written down in docs/formats-codecs.md; keep the two in step.
//
// Memory: every encoder holds at most one input chunk (<= 218422 bytes for
// Hadoop-Snappy, 64 KiB for Snappy, igzip's level buffer for GZIP/ZIP) plus one output
// buffer of kOutBufferSize, whatever the object's size. Output reaches the sink
// in writes of about kOutBufferSize.

#include "codecs/codec.h"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <snappy.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "common/crc32c.h"

namespace hydrant::codecs {
namespace {

// ---------------------------------------------------------------------------
// Byte helpers.

void PutLe16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v & 0xff));
  s->push_back(static_cast<char>(v >> 8));
}
void PutLe32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void EncodeLe32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void EncodeBe32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
}
uint16_t DecodeLe16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}
uint32_t DecodeLe32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint32_t DecodeBe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// ---------------------------------------------------------------------------
// Output buffering shared by all encoders.

constexpr size_t kOutBufferSize = 1 << 20;

// Collects output and hands it to the sink in ~kOutBufferSize writes.
// Producers either Append() bytes or write in place at Tail() and Commit().
class OutBuffer {
 public:
  explicit OutBuffer(ByteSink* sink) : sink_(sink), buf_(new char[kOutBufferSize]) {}

  char* Tail() { return buf_.get() + used_; }
  size_t Room() const { return kOutBufferSize - used_; }
  void Commit(size_t n) { used_ += n; }

  // Makes at least `n` (<= kOutBufferSize) bytes of room, flushing if needed.
  Status Reserve(size_t n) {
    if (Room() < n) return Flush();
    return Status::Ok();
  }

  Status Append(std::string_view bytes) {
    while (!bytes.empty()) {
      if (Room() == 0) HYDRANT_RETURN_IF_ERROR(Flush());
      size_t n = std::min(Room(), bytes.size());
      std::memcpy(Tail(), bytes.data(), n);
      Commit(n);
      bytes.remove_prefix(n);
    }
    return Status::Ok();
  }

  // Large pass-through data skips the copy once the buffer is drained.
  Status AppendLarge(std::string_view bytes) {
    if (bytes.size() < kOutBufferSize) return Append(bytes);
    HYDRANT_RETURN_IF_ERROR(Flush());
    return sink_->Write(bytes);
  }

  Status Flush() {
    if (used_ == 0) return Status::Ok();
    Status st = sink_->Write(std::string_view(buf_.get(), used_));
    used_ = 0;
    return st;
  }

 private:
  ByteSink* sink_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;
};

// Enforces the Append*/Finish protocol and makes the first error sticky: once
// the sink or the compressor fails, the object is lost and every later call
// reports the same error.
class EncoderBase : public Encoder {
 public:
  explicit EncoderBase(ByteSink* sink) : out_(sink) {}

  Status Append(std::string_view data) final {
    if (!status_.ok()) return status_;
    if (finished_) return status_ = Status::Internal("codecs: Append after Finish");
    if (data.empty()) return Status::Ok();
    return status_ = DoAppend(data);
  }

  Status Finish() final {
    if (!status_.ok()) return status_;
    if (finished_) return status_ = Status::Internal("codecs: Finish called twice");
    finished_ = true;
    status_ = DoFinish();
    if (status_.ok()) status_ = out_.Flush();
    return status_;
  }

 protected:
  virtual Status DoAppend(std::string_view data) = 0;
  virtual Status DoFinish() = 0;

  OutBuffer out_;

 private:
  Status status_;
  bool finished_ = false;
};

// ---------------------------------------------------------------------------
// UNCOMPRESSED: the bytes as appended, coalesced into large writes.

class PlainEncoder final : public EncoderBase {
 public:
  using EncoderBase::EncoderBase;

 private:
  Status DoAppend(std::string_view data) override { return out_.AppendLarge(data); }
  Status DoFinish() override { return Status::Ok(); }
};

// ---------------------------------------------------------------------------
// Deflate (GZIP and ZIP) through ISA-L's streaming igzip.
//
// igzip at level 1 compresses JSON-like records about 15x faster than zlib at
// level 6 (900 vs 60 MB/s on one core) for objects about 18% larger
// (bench/micro_bench.cc, BENCHMARKS.md); zlib's level 6 held end-to-end GZIP
// delivery to zlib's own speed. The output
// is a standard deflate stream, which every inflater (zlib, gzip, Java) reads.

constexpr uint32_t kIgzipLevel = 1;
constexpr size_t kIgzipLevelBufSize = ISAL_DEF_LVL1_DEFAULT;

// An igzip deflate stream writing straight into an OutBuffer. For GZIP the
// caller writes the 10-byte header and igzip adds the trailer (CRC-32, ISIZE).
class Deflater {
 public:
  explicit Deflater(bool gzip_trailer) : level_buf_(new uint8_t[kIgzipLevelBufSize]) {
    isal_deflate_init(&zs_);
    zs_.level = kIgzipLevel;
    zs_.level_buf = level_buf_.get();
    zs_.level_buf_size = kIgzipLevelBufSize;
    zs_.gzip_flag = gzip_trailer ? IGZIP_GZIP_NO_HDR : IGZIP_DEFLATE;
    zs_.flush = NO_FLUSH;
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  Status Write(std::string_view data, OutBuffer* out) {
    while (!data.empty()) {
      // avail_in is 32-bit; feed at most 1 GiB per round.
      size_t n = std::min<size_t>(data.size(), size_t{1} << 30);
      zs_.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(data.data()));
      zs_.avail_in = static_cast<uint32_t>(n);
      HYDRANT_RETURN_IF_ERROR(Run(/*finish=*/false, out));
      data.remove_prefix(n);
    }
    return Status::Ok();
  }

  Status Finish(OutBuffer* out) {
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    return Run(/*finish=*/true, out);
  }

  uint64_t total_out() const { return zs_.total_out; }

 private:
  Status Run(bool finish, OutBuffer* out) {
    zs_.end_of_stream = finish ? 1 : 0;
    for (;;) {
      if (out->Room() == 0) HYDRANT_RETURN_IF_ERROR(out->Flush());
      size_t room = out->Room();
      zs_.next_out = reinterpret_cast<uint8_t*>(out->Tail());
      zs_.avail_out = static_cast<uint32_t>(room);
      int rc = isal_deflate(&zs_);
      out->Commit(room - zs_.avail_out);
      if (rc != COMP_OK) return Status::Internal("codecs: isal_deflate failed: " + std::to_string(rc));
      if (finish) {
        if (zs_.internal_state.state == ZSTATE_END) return Status::Ok();
      } else if (zs_.avail_in == 0 && zs_.avail_out != 0) {
        return Status::Ok();  // everything absorbed, with output room to spare
      }
    }
  }

  isal_zstream zs_{};
  std::unique_ptr<uint8_t[]> level_buf_;
};

// GZIP: one gzip member. Header: no name, MTIME 0, XFL 4 (fastest), OS 3 (Unix).
class GzipEncoder final : public EncoderBase {
 public:
  explicit GzipEncoder(ByteSink* sink) : EncoderBase(sink), deflater_(true) {}

 private:
  Status Header() {
    if (header_written_) return Status::Ok();
    header_written_ = true;
    static constexpr char kHeader[10] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 4, 3};
    return out_.Append(std::string_view(kHeader, sizeof kHeader));
  }
  Status DoAppend(std::string_view data) override {
    HYDRANT_RETURN_IF_ERROR(Header());
    return deflater_.Write(data, &out_);
  }
  Status DoFinish() override {
    HYDRANT_RETURN_IF_ERROR(Header());
    return deflater_.Finish(&out_);
  }

  bool header_written_ = false;

  Deflater deflater_;
};

// ZIP: a local header with general-purpose bit 3 (sizes follow the data), the
// raw deflate stream, a data descriptor, one central-directory entry and the
// end-of-central-directory record. No ZIP64: objects are capped below 4 GiB.
constexpr uint32_t kZipLocalSig = 0x04034b50;
constexpr uint32_t kZipDescriptorSig = 0x08074b50;
constexpr uint32_t kZipCentralSig = 0x02014b50;
constexpr uint32_t kZipEndSig = 0x06054b50;
constexpr uint16_t kZipVersionNeeded = 20;             // 2.0: deflate, descriptor
constexpr uint16_t kZipVersionMadeBy = (3 << 8) | 20;  // Unix, 2.0
constexpr uint16_t kZipFlagDescriptor = 1 << 3;
constexpr uint16_t kZipFlagUtf8 = 1 << 11;
constexpr uint16_t kZipMethodStored = 0;
constexpr uint16_t kZipMethodDeflate = 8;
constexpr uint16_t kZipDosTime = 0;                        // 00:00:00
constexpr uint16_t kZipDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
constexpr uint32_t kZipExternalAttrs = 0100644u << 16;     // regular file, rw-r--r--
constexpr uint64_t kZipMaxSize = 0xfffffffeu;              // 0xffffffff means "see ZIP64"

class ZipEncoder final : public EncoderBase {
 public:
  ZipEncoder(ByteSink* sink, std::string_view entry_name)
      : EncoderBase(sink), name_(entry_name), deflater_(false) {
    flags_ = kZipFlagDescriptor;
    for (unsigned char c : name_) {
      if (c >= 0x80) flags_ |= kZipFlagUtf8;
    }
  }

 private:
  Status DoAppend(std::string_view data) override {
    HYDRANT_RETURN_IF_ERROR(StartIfNeeded());
    if (data.size() > kZipMaxSize - uncompressed_size_) {
      return Status::ResourceExhausted("codecs: ZIP entry would exceed 4 GiB (ZIP64 unsupported)");
    }
    crc_ = libdeflate_crc32(crc_, data.data(), data.size());
    uncompressed_size_ += data.size();
    return deflater_.Write(data, &out_);
  }

  Status DoFinish() override {
    HYDRANT_RETURN_IF_ERROR(StartIfNeeded());
    HYDRANT_RETURN_IF_ERROR(deflater_.Finish(&out_));
    const uint64_t compressed = deflater_.total_out();
    const uint64_t local_size = 30 + name_.size() + compressed + 16;
    if (compressed > kZipMaxSize || local_size > kZipMaxSize) {
      return Status::ResourceExhausted(
          "codecs: ZIP archive would exceed 4 GiB (ZIP64 unsupported)");
    }
    std::string tail;
    PutLe32(&tail, kZipDescriptorSig);
    PutLe32(&tail, crc_);
    PutLe32(&tail, static_cast<uint32_t>(compressed));
    PutLe32(&tail, static_cast<uint32_t>(uncompressed_size_));

    const size_t central_start = tail.size();
    PutLe32(&tail, kZipCentralSig);
    PutLe16(&tail, kZipVersionMadeBy);
    PutLe16(&tail, kZipVersionNeeded);
    PutLe16(&tail, flags_);
    PutLe16(&tail, kZipMethodDeflate);
    PutLe16(&tail, kZipDosTime);
    PutLe16(&tail, kZipDosDate);
    PutLe32(&tail, crc_);
    PutLe32(&tail, static_cast<uint32_t>(compressed));
    PutLe32(&tail, static_cast<uint32_t>(uncompressed_size_));
    PutLe16(&tail, static_cast<uint16_t>(name_.size()));
    PutLe16(&tail, 0);  // extra field length
    PutLe16(&tail, 0);  // comment length
    PutLe16(&tail, 0);  // disk number start
    PutLe16(&tail, 0);  // internal attributes
    PutLe32(&tail, kZipExternalAttrs);
    PutLe32(&tail, 0);  // offset of the local header
    tail.append(name_);
    const size_t central_size = tail.size() - central_start;

    PutLe32(&tail, kZipEndSig);
    PutLe16(&tail, 0);  // this disk
    PutLe16(&tail, 0);  // disk with the central directory
    PutLe16(&tail, 1);  // entries on this disk
    PutLe16(&tail, 1);  // entries in total
    PutLe32(&tail, static_cast<uint32_t>(central_size));
    PutLe32(&tail, static_cast<uint32_t>(local_size));  // central directory offset
    PutLe16(&tail, 0);                                  // archive comment length
    return out_.Append(tail);
  }

  Status StartIfNeeded() {
    if (started_) return Status::Ok();
    started_ = true;
    if (name_.empty() || name_.size() > 0xffff) {
      return Status::InvalidArgument("codecs: ZIP entry name must be 1..65535 bytes");
    }
    std::string header;
    PutLe32(&header, kZipLocalSig);
    PutLe16(&header, kZipVersionNeeded);
    PutLe16(&header, flags_);
    PutLe16(&header, kZipMethodDeflate);
    PutLe16(&header, kZipDosTime);
    PutLe16(&header, kZipDosDate);
    PutLe32(&header, 0);  // CRC-32, in the data descriptor
    PutLe32(&header, 0);  // compressed size, ditto
    PutLe32(&header, 0);  // uncompressed size, ditto
    PutLe16(&header, static_cast<uint16_t>(name_.size()));
    PutLe16(&header, 0);  // extra field length
    header.append(name_);
    return out_.Append(header);
  }

  std::string name_;
  uint16_t flags_ = 0;
  Deflater deflater_;
  bool started_ = false;
  uint32_t crc_ = 0;
  uint64_t uncompressed_size_ = 0;
};

// ---------------------------------------------------------------------------
// Snappy family: input is cut into fixed-size chunks, each compressed alone.

// Buffers input into chunks of exactly `chunk_size` bytes (the last may be
// shorter). Large appends are chunked in place without copying.
class ChunkingEncoder : public EncoderBase {
 public:
  ChunkingEncoder(ByteSink* sink, size_t chunk_size)
      : EncoderBase(sink),
        chunk_size_(chunk_size),
        scratch_(new char[snappy::MaxCompressedLength(chunk_size)]) {
    pending_.reserve(chunk_size);
  }

 protected:
  virtual Status EmitChunk(std::string_view chunk) = 0;
  // Called after the last chunk; `any_chunk` tells whether one was emitted.
  virtual Status EmitEnd(bool any_chunk) { return Status::Ok(); }

  // Raw-snappy compresses `chunk` into scratch space valid until the next call.
  std::string_view CompressChunk(std::string_view chunk) {
    size_t n = 0;
    snappy::RawCompress(chunk.data(), chunk.size(), scratch_.get(), &n);
    return std::string_view(scratch_.get(), n);
  }

 private:
  Status DoAppend(std::string_view data) override {
    if (!pending_.empty()) {
      size_t n = std::min(chunk_size_ - pending_.size(), data.size());
      pending_.append(data.substr(0, n));
      data.remove_prefix(n);
      if (pending_.size() < chunk_size_) return Status::Ok();
      HYDRANT_RETURN_IF_ERROR(Emit(pending_));
      pending_.clear();
    }
    while (data.size() >= chunk_size_) {
      HYDRANT_RETURN_IF_ERROR(Emit(data.substr(0, chunk_size_)));
      data.remove_prefix(chunk_size_);
    }
    pending_.append(data);
    return Status::Ok();
  }

  Status DoFinish() override {
    if (!pending_.empty()) HYDRANT_RETURN_IF_ERROR(Emit(pending_));
    pending_.clear();
    return EmitEnd(any_chunk_);
  }

  Status Emit(std::string_view chunk) {
    any_chunk_ = true;
    return EmitChunk(chunk);
  }

  size_t chunk_size_;
  std::unique_ptr<char[]> scratch_;
  std::string pending_;
  bool any_chunk_ = false;
};

// Snappy framing format (github.com/google/snappy framing_format.txt).
constexpr uint8_t kFrameCompressed = 0x00;
constexpr uint8_t kFrameUncompressed = 0x01;
constexpr uint8_t kFramePadding = 0xfe;
constexpr uint8_t kFrameStreamId = 0xff;
constexpr size_t kFrameMaxChunk = 65536;  // uncompressed bytes per chunk
constexpr std::string_view kFrameStreamIdChunk("\xff\x06\x00\x00sNaPpY", 10);

class SnappyFramedEncoder final : public ChunkingEncoder {
 public:
  explicit SnappyFramedEncoder(ByteSink* sink) : ChunkingEncoder(sink, kFrameMaxChunk) {}

 private:
  Status EmitChunk(std::string_view chunk) override {
    HYDRANT_RETURN_IF_ERROR(StartIfNeeded());
    const uint32_t masked_crc = crc32c::Mask(crc32c::Value(chunk.data(), chunk.size()));
    std::string_view compressed = CompressChunk(chunk);
    // As the reference encoders do: store chunks that snappy shrinks by less
    // than 1/8, which decode faster and cost at most 1/8 more.
    const bool store = compressed.size() > chunk.size() - chunk.size() / 8;
    std::string_view body = store ? chunk : compressed;
    HYDRANT_RETURN_IF_ERROR(out_.Reserve(8 + body.size()));
    char* p = out_.Tail();
    EncodeLe32(p, static_cast<uint32_t>(4 + body.size()) << 8 |
                      (store ? kFrameUncompressed : kFrameCompressed));
    EncodeLe32(p + 4, masked_crc);
    std::memcpy(p + 8, body.data(), body.size());
    out_.Commit(8 + body.size());
    return Status::Ok();
  }

  Status EmitEnd(bool) override { return StartIfNeeded(); }

  Status StartIfNeeded() {
    if (started_) return Status::Ok();
    started_ = true;
    return out_.Append(kFrameStreamIdChunk);
  }

  bool started_ = false;
};

// Hadoop BlockCompressorStream with SnappyCodec's defaults: buffer 256 KiB,
// overhead 256 KiB / 6 + 32, so at most 218422 input bytes per block. Readers
// (Hadoop's SnappyDecompressor) need each compressed block to fit their
// 256 KiB buffer, which this limit guarantees even for incompressible data.
constexpr size_t kHadoopBufferSize = 256 * 1024;
constexpr size_t kHadoopMaxInput = kHadoopBufferSize - (kHadoopBufferSize / 6 + 32);

class HadoopSnappyEncoder final : public ChunkingEncoder {
 public:
  explicit HadoopSnappyEncoder(ByteSink* sink) : ChunkingEncoder(sink, kHadoopMaxInput) {}

 private:
  Status EmitChunk(std::string_view chunk) override {
    std::string_view compressed = CompressChunk(chunk);
    HYDRANT_RETURN_IF_ERROR(out_.Reserve(8 + compressed.size()));
    char* p = out_.Tail();
    EncodeBe32(p, static_cast<uint32_t>(chunk.size()));
    EncodeBe32(p + 4, static_cast<uint32_t>(compressed.size()));
    std::memcpy(p + 8, compressed.data(), compressed.size());
    out_.Commit(8 + compressed.size());
    return Status::Ok();
  }

  // Hadoop writes one zero length word for an empty stream (its reader treats
  // a zero block length as end of file).
  Status EmitEnd(bool any_chunk) override {
    if (any_chunk) return Status::Ok();
    return out_.Append(std::string_view("\0\0\0\0", 4));
  }
};

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
    if (DecodeLe32(p) == kZipEndSig && pos + kEndSize + DecodeLe16(p + 20) == in.size()) {
      end = pos;
      break;
    }
  }
  if (end == std::string_view::npos) return Corrupt("zip", "no end of central directory record");
  const char* e = in.data() + end;
  const uint16_t entries = DecodeLe16(e + 10);
  const uint32_t central_offset = DecodeLe32(e + 16);
  if (entries == 0xffff || central_offset == 0xffffffffu) {
    return Corrupt("zip", "ZIP64 archives are not supported");
  }
  if (entries != 1)
    return Corrupt("zip", "expected exactly one entry, found " + std::to_string(entries));
  if (central_offset > end || end - central_offset < kCentralSize) {
    return Corrupt("zip", "central directory out of range");
  }
  const char* c = in.data() + central_offset;
  if (DecodeLe32(c) != kZipCentralSig) return Corrupt("zip", "bad central directory signature");
  const uint16_t flags = DecodeLe16(c + 8);
  const uint16_t method = DecodeLe16(c + 10);
  const uint32_t crc = DecodeLe32(c + 16);
  const uint32_t compressed_size = DecodeLe32(c + 20);
  const uint32_t uncompressed_size = DecodeLe32(c + 24);
  const uint32_t local_offset = DecodeLe32(c + 42);
  if (flags & 1) return Corrupt("zip", "encrypted entries are not supported");
  if (compressed_size == 0xffffffffu || uncompressed_size == 0xffffffffu ||
      local_offset == 0xffffffffu) {
    return Corrupt("zip", "ZIP64 entries are not supported");
  }
  if (local_offset > central_offset || central_offset - local_offset < kLocalSize) {
    return Corrupt("zip", "local header out of range");
  }
  const char* l = in.data() + local_offset;
  if (DecodeLe32(l) != kZipLocalSig) return Corrupt("zip", "bad local header signature");
  const uint64_t data_offset =
      uint64_t{local_offset} + kLocalSize + DecodeLe16(l + 26) + DecodeLe16(l + 28);
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
    const size_t len = DecodeLe32(in.data()) >> 8;
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
      const uint32_t expected = crc32c::Unmask(DecodeLe32(body.data()));
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
    const size_t len = DecodeBe32(in.data());
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
    const size_t block_size = DecodeBe32(in.data());
    in.remove_prefix(4);
    // Subblocks follow until they add up to the block's uncompressed size.
    size_t produced = 0;
    while (produced < block_size) {
      if (in.size() < 4) return Corrupt("hadoop-snappy", "truncated subblock length");
      const size_t len = DecodeBe32(in.data());
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

std::optional<Compression> ParseCompression(std::string_view name) {
  if (name == "UNCOMPRESSED") return Compression::kUncompressed;
  if (name == "GZIP") return Compression::kGzip;
  if (name == "ZIP") return Compression::kZip;
  if (name == "Snappy") return Compression::kSnappy;
  if (name == "HADOOP_SNAPPY") return Compression::kHadoopSnappy;
  return std::nullopt;
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kUncompressed:
      return "UNCOMPRESSED";
    case Compression::kGzip:
      return "GZIP";
    case Compression::kZip:
      return "ZIP";
    case Compression::kSnappy:
      return "Snappy";
    case Compression::kHadoopSnappy:
      return "HADOOP_SNAPPY";
  }
  return "UNCOMPRESSED";
}

std::string_view DefaultExtension(Compression c) {
  switch (c) {
    case Compression::kUncompressed:
      return "";
    case Compression::kGzip:
      return ".gz";
    case Compression::kZip:
      return ".zip";
    case Compression::kSnappy:
      return ".snappy";
    // AWS's object-name page tables ".hsnappy"; delivered objects were
    // observed with ".snappy" (docs/formats-codecs.md).
    case Compression::kHadoopSnappy:
      return ".snappy";
  }
  return "";
}

std::string_view ContentEncoding(Compression c) {
  switch (c) {
    case Compression::kUncompressed:
      return "";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZip:
      return "zip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kHadoopSnappy:
      return "hadoop-snappy";
  }
  return "";
}

std::unique_ptr<Encoder> MakeEncoder(Compression c, ByteSink* sink, std::string_view entry_name) {
  switch (c) {
    case Compression::kUncompressed:
      return std::make_unique<PlainEncoder>(sink);
    case Compression::kGzip:
      return std::make_unique<GzipEncoder>(sink);
    case Compression::kZip:
      return std::make_unique<ZipEncoder>(sink, entry_name);
    case Compression::kSnappy:
      return std::make_unique<SnappyFramedEncoder>(sink);
    case Compression::kHadoopSnappy:
      return std::make_unique<HadoopSnappyEncoder>(sink);
  }
  return std::make_unique<PlainEncoder>(sink);
}

Status Compress(Compression c, std::string_view in, std::string* out, std::string_view entry_name) {
  out->clear();
  StringSink sink(out);
  std::unique_ptr<Encoder> encoder = MakeEncoder(c, &sink, entry_name);
  HYDRANT_RETURN_IF_ERROR(encoder->Append(in));
  return encoder->Finish();
}

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
