#pragma once
// The byte layouts hydrant's codecs write and read, fixed in one place as
// src/buffer/log_format.h fixes the log's (docs/formats-codecs.md restates them).
// Shared by encoders.cc and decoders.cc; not for other modules.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hydrant::codecs {

// Encoders hand output to their sink in writes of about this size; decoders
// inflate through a buffer of it.
inline constexpr size_t kOutBufferSize = 1 << 20;

// ZIP: a local header with general-purpose bit 3 (sizes follow the data), the
// raw deflate stream, a data descriptor, one central-directory entry and the
// end-of-central-directory record. No ZIP64: objects are capped below 4 GiB.
inline constexpr uint32_t kZipLocalSig = 0x04034b50;
inline constexpr uint32_t kZipDescriptorSig = 0x08074b50;
inline constexpr uint32_t kZipCentralSig = 0x02014b50;
inline constexpr uint32_t kZipEndSig = 0x06054b50;
inline constexpr uint16_t kZipVersionNeeded = 20;             // 2.0: deflate, descriptor
inline constexpr uint16_t kZipVersionMadeBy = (3 << 8) | 20;  // Unix, 2.0
inline constexpr uint16_t kZipFlagDescriptor = 1 << 3;
inline constexpr uint16_t kZipFlagUtf8 = 1 << 11;
inline constexpr uint16_t kZipMethodStored = 0;
inline constexpr uint16_t kZipMethodDeflate = 8;
inline constexpr uint16_t kZipDosTime = 0;                        // 00:00:00
inline constexpr uint16_t kZipDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
inline constexpr uint32_t kZipExternalAttrs = 0100644u << 16;     // regular file, rw-r--r--
inline constexpr uint64_t kZipMaxSize = 0xfffffffeu;              // 0xffffffff means "see ZIP64"

// Snappy framing format (github.com/google/snappy framing_format.txt).
inline constexpr uint8_t kFrameCompressed = 0x00;
inline constexpr uint8_t kFrameUncompressed = 0x01;
inline constexpr uint8_t kFramePadding = 0xfe;
inline constexpr uint8_t kFrameStreamId = 0xff;
inline constexpr size_t kFrameMaxChunk = 65536;  // uncompressed bytes per chunk
inline constexpr std::string_view kFrameStreamIdChunk("\xff\x06\x00\x00sNaPpY", 10);

// Hadoop BlockCompressorStream with SnappyCodec's defaults: buffer 256 KiB,
// overhead 256 KiB / 6 + 32, so at most 218422 input bytes per block. Readers
// (Hadoop's SnappyDecompressor) need each compressed block to fit their
// 256 KiB buffer, which this limit guarantees even for incompressible data.
inline constexpr size_t kHadoopBufferSize = 256 * 1024;
inline constexpr size_t kHadoopMaxInput = kHadoopBufferSize - (kHadoopBufferSize / 6 + 32);

}  // namespace hydrant::codecs
