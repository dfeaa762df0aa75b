#pragma once
// Object compression as Firehose does it (CompressionFormat): the encoders that
// turn a batch's concatenated records into the bytes of one S3 object.
// Every output is a standard format that independent tools decode:
//   GZIP          one gzip member (RFC 1952)                      -> gzip -d, zlib
//   ZIP           a zip archive holding one deflated entry       -> unzip
//   Snappy        the Snappy framing format (stream id "sNaPpY")  -> python-snappy stream_decompress
//   HADOOP_SNAPPY Hadoop's BlockCompressorStream framing           -> python-snappy hadoop_stream_decompress
// See docs/formats-codecs.md for the byte layouts and the choices AWS leaves open.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/byte_sink.h"
#include "common/status.h"

namespace hydrant::codecs {

enum class Compression { kUncompressed, kGzip, kZip, kSnappy, kHadoopSnappy };

// Exact AWS names (case-sensitive): "UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY".
std::optional<Compression> ParseCompression(std::string_view name);
std::string_view CompressionName(Compression c);
// Extension Firehose appends to object names: "", ".gz", ".zip", ".snappy", ...
std::string_view DefaultExtension(Compression c);
// Content-Encoding header of delivered objects ("" for none).
std::string_view ContentEncoding(Compression c);

// Streams one object's bytes through a compressor into a sink.
// Append() any number of times, then Finish() exactly once. Not thread-safe.
class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Finish() = 0;
};

// `sink` must outlive the encoder. `entry_name` names the single entry of a ZIP
// archive (ignored by the other formats).
std::unique_ptr<Encoder> MakeEncoder(Compression c, ByteSink* sink, std::string_view entry_name = "data");

// One-shot helper: compress `in` into *out.
Status Compress(Compression c, std::string_view in, std::string* out, std::string_view entry_name = "data");

// Decoders, used by tests and tools (and by the Decompression processor later):
// each returns the original bytes or a Corruption status.
Result<std::string> Decompress(Compression c, std::string_view in);

}  // namespace hydrant::codecs
