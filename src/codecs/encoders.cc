// Object compression, the streaming encoders of the five Firehose
// CompressionFormats. Byte layouts and the choices AWS leaves open are written
// down in docs/formats-codecs.md; keep the two in step.
//
// Memory: every encoder holds at most one input chunk (<= 218422 bytes for
// Hadoop-Snappy, 64 KiB for Snappy, igzip's level buffer for GZIP/ZIP) plus one output
// buffer of kOutBufferSize, whatever the object's size. Output reaches the sink
// in writes of about kOutBufferSize.

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <snappy.h>

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
// Output buffering shared by all encoders.


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
// igzip at level 1 compresses JSON-like records many times faster than zlib at
// level 6 for slightly larger objects (the figures: BENCHMARKS.md, from
// bench/micro_bench.cc); zlib's level 6 held end-to-end GZIP delivery to zlib's own
// speed. The output
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
    coding::PutFixed32(&tail, kZipDescriptorSig);
    coding::PutFixed32(&tail, crc_);
    coding::PutFixed32(&tail, static_cast<uint32_t>(compressed));
    coding::PutFixed32(&tail, static_cast<uint32_t>(uncompressed_size_));

    const size_t central_start = tail.size();
    coding::PutFixed32(&tail, kZipCentralSig);
    coding::PutFixed16(&tail, kZipVersionMadeBy);
    coding::PutFixed16(&tail, kZipVersionNeeded);
    coding::PutFixed16(&tail, flags_);
    coding::PutFixed16(&tail, kZipMethodDeflate);
    coding::PutFixed16(&tail, kZipDosTime);
    coding::PutFixed16(&tail, kZipDosDate);
    coding::PutFixed32(&tail, crc_);
    coding::PutFixed32(&tail, static_cast<uint32_t>(compressed));
    coding::PutFixed32(&tail, static_cast<uint32_t>(uncompressed_size_));
    coding::PutFixed16(&tail, static_cast<uint16_t>(name_.size()));
    coding::PutFixed16(&tail, 0);  // extra field length
    coding::PutFixed16(&tail, 0);  // comment length
    coding::PutFixed16(&tail, 0);  // disk number start
    coding::PutFixed16(&tail, 0);  // internal attributes
    coding::PutFixed32(&tail, kZipExternalAttrs);
    coding::PutFixed32(&tail, 0);  // offset of the local header
    tail.append(name_);
    const size_t central_size = tail.size() - central_start;

    coding::PutFixed32(&tail, kZipEndSig);
    coding::PutFixed16(&tail, 0);  // this disk
    coding::PutFixed16(&tail, 0);  // disk with the central directory
    coding::PutFixed16(&tail, 1);  // entries on this disk
    coding::PutFixed16(&tail, 1);  // entries in total
    coding::PutFixed32(&tail, static_cast<uint32_t>(central_size));
    coding::PutFixed32(&tail, static_cast<uint32_t>(local_size));  // central directory offset
    coding::PutFixed16(&tail, 0);                                  // archive comment length
    return out_.Append(tail);
  }

  Status StartIfNeeded() {
    if (started_) return Status::Ok();
    started_ = true;
    if (name_.empty() || name_.size() > 0xffff) {
      return Status::InvalidArgument("codecs: ZIP entry name must be 1..65535 bytes");
    }
    std::string header;
    coding::PutFixed32(&header, kZipLocalSig);
    coding::PutFixed16(&header, kZipVersionNeeded);
    coding::PutFixed16(&header, flags_);
    coding::PutFixed16(&header, kZipMethodDeflate);
    coding::PutFixed16(&header, kZipDosTime);
    coding::PutFixed16(&header, kZipDosDate);
    coding::PutFixed32(&header, 0);  // CRC-32, in the data descriptor
    coding::PutFixed32(&header, 0);  // compressed size, ditto
    coding::PutFixed32(&header, 0);  // uncompressed size, ditto
    coding::PutFixed16(&header, static_cast<uint16_t>(name_.size()));
    coding::PutFixed16(&header, 0);  // extra field length
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
    coding::EncodeFixed32(p, static_cast<uint32_t>(4 + body.size()) << 8 |
                      (store ? kFrameUncompressed : kFrameCompressed));
    coding::EncodeFixed32(p + 4, masked_crc);
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


class HadoopSnappyEncoder final : public ChunkingEncoder {
 public:
  explicit HadoopSnappyEncoder(ByteSink* sink) : ChunkingEncoder(sink, kHadoopMaxInput) {}

 private:
  Status EmitChunk(std::string_view chunk) override {
    std::string_view compressed = CompressChunk(chunk);
    HYDRANT_RETURN_IF_ERROR(out_.Reserve(8 + compressed.size()));
    char* p = out_.Tail();
    coding::EncodeBigEndian32(p, static_cast<uint32_t>(chunk.size()));
    coding::EncodeBigEndian32(p + 4, static_cast<uint32_t>(compressed.size()));
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

}  // namespace

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

}  // namespace hydrant::codecs
