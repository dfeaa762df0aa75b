// Object compression: the names of the five Firehose CompressionFormats, their
// extensions and Content-Encodings, and one-shot compression. The encoders are in
// encoders.cc, the decoders in decoders.cc; docs/formats-codecs.md has the byte
// layouts.

#include "codecs/codec.h"

namespace hydrant::codecs {

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

Status Compress(Compression c, std::string_view in, std::string* out, std::string_view entry_name) {
  out->clear();
  StringSink sink(out);
  std::unique_ptr<Encoder> encoder = MakeEncoder(c, &sink, entry_name);
  HYDRANT_RETURN_IF_ERROR(encoder->Append(in));
  return encoder->Finish();
}

}  // namespace hydrant::codecs
