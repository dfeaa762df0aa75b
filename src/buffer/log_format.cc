#include "buffer/log_format.h"

#include <cstdio>

namespace hydrant::buffer::log_format {

namespace {

std::string NumberedFileName(uint64_t base_seq, std::string_view suffix) {
  char digits[kSegmentNameDigits + 1];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(base_seq));
  std::string name(digits, kSegmentNameDigits);
  name += suffix;
  return name;
}

std::optional<uint64_t> ParseNumberedFileName(std::string_view name, std::string_view suffix) {
  if (name.size() != kSegmentNameDigits + suffix.size()) return std::nullopt;
  if (name.substr(kSegmentNameDigits) != suffix) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 0; i < kSegmentNameDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, 10u, &v) ||
        __builtin_add_overflow(v, static_cast<uint64_t>(c - '0'), &v)) {
      return std::nullopt;
    }
  }
  return v;
}

}  // namespace

std::string SegmentFileName(uint64_t base_seq) { return NumberedFileName(base_seq, kSegmentSuffix); }

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  return ParseNumberedFileName(name, kSegmentSuffix);
}

std::string IndexFileName(uint64_t base_seq) { return NumberedFileName(base_seq, kIndexSuffix); }

std::optional<uint64_t> ParseIndexFileName(std::string_view name) {
  return ParseNumberedFileName(name, kIndexSuffix);
}

std::string DamagedFileName(uint64_t base_seq, uint64_t offset) {
  std::string name = NumberedFileName(base_seq, ".");
  name += std::to_string(offset);
  name += kDamagedSuffix;
  return name;
}

std::string RebuiltFileName(uint64_t base_seq) { return NumberedFileName(base_seq, kRebuiltSuffix); }

std::optional<uint64_t> ParseRebuiltFileName(std::string_view name) {
  return ParseNumberedFileName(name, kRebuiltSuffix);
}

std::string FreeFileName(uint64_t number) { return NumberedFileName(number, kFreeSuffix); }

std::optional<uint64_t> ParseFreeFileName(std::string_view name) {
  return ParseNumberedFileName(name, kFreeSuffix);
}

void EncodeSegmentHeader(uint64_t base_seq, char out[kSegmentHeaderSize]) {
  coding::EncodeFixed32(out + 4, kSegmentMagic);
  coding::EncodeFixed32(out + 8, kSegmentVersion);
  coding::EncodeFixed64(out + 12, base_seq);
  coding::EncodeFixed32(out, crc32c::Mask(crc32c::Value(out + 4, kSegmentHeaderSize - 4)));
}

std::string DecodeSegmentHeader(const char in[kSegmentHeaderSize], uint64_t* base_seq,
                                uint32_t* version) {
  if (crc32c::Unmask(coding::DecodeFixed32(in)) != crc32c::Value(in + 4, kSegmentHeaderSize - 4)) {
    return "segment header checksum mismatch";
  }
  if (coding::DecodeFixed32(in + 4) != kSegmentMagic) return "bad segment magic";
  const uint32_t v = coding::DecodeFixed32(in + 8);
  if (v < kOldestSegmentVersion || v > kSegmentVersion) {
    return "unsupported segment format version " + std::to_string(v);
  }
  *base_seq = coding::DecodeFixed64(in + 12);
  *version = v;
  return "";
}

uint32_t FrameSeed(uint32_t version, uint64_t base_seq) {
  if (version < 2) return 0;
  char b[8];
  coding::EncodeFixed64(b, base_seq);
  return crc32c::Value(b, sizeof(b));
}

std::string EncodeIndex(const SegmentIndex& index) {
  std::string out(kIndexHeaderSize + 8 * index.offsets.size(), '\0');
  char* p = out.data();
  coding::EncodeFixed32(p + 4, kIndexMagic);
  coding::EncodeFixed32(p + 8, kIndexVersion);
  coding::EncodeFixed32(p + 12, index.interval);
  coding::EncodeFixed64(p + 16, index.base);
  coding::EncodeFixed64(p + 24, index.count);
  coding::EncodeFixed64(p + 32, index.size);
  for (size_t i = 0; i < index.offsets.size(); ++i) {
    coding::EncodeFixed64(p + kIndexHeaderSize + 8 * i, index.offsets[i]);
  }
  coding::EncodeFixed32(p, crc32c::Mask(crc32c::Value(p + 4, out.size() - 4)));
  return out;
}

std::string DecodeIndex(std::string_view in, SegmentIndex* out) {
  if (in.size() < kIndexHeaderSize || (in.size() - kIndexHeaderSize) % 8 != 0) {
    return "index has " + std::to_string(in.size()) + " bytes";
  }
  const char* p = in.data();
  if (crc32c::Unmask(coding::DecodeFixed32(p)) != crc32c::Value(p + 4, in.size() - 4)) {
    return "index checksum mismatch";
  }
  if (coding::DecodeFixed32(p + 4) != kIndexMagic) return "bad index magic";
  if (coding::DecodeFixed32(p + 8) != kIndexVersion) {
    return "unsupported index version " + std::to_string(coding::DecodeFixed32(p + 8));
  }
  SegmentIndex idx;
  idx.interval = coding::DecodeFixed32(p + 12);
  idx.base = coding::DecodeFixed64(p + 16);
  idx.count = coding::DecodeFixed64(p + 24);
  idx.size = coding::DecodeFixed64(p + 32);
  const uint64_t entries = (in.size() - kIndexHeaderSize) / 8;
  if (idx.interval == 0 || entries != (idx.count + idx.interval - 1) / idx.interval) {
    return "index holds " + std::to_string(entries) + " offsets for " +
           std::to_string(idx.count) + " records";
  }
  idx.offsets.resize(entries);
  uint64_t prev = 0;
  for (uint64_t i = 0; i < entries; ++i) {
    uint64_t off = coding::DecodeFixed64(p + kIndexHeaderSize + 8 * i);
    const bool first_ok = i > 0 || off == kSegmentHeaderSize;
    if (!first_ok || (i > 0 && off <= prev) || off + kFrameHeaderSize > idx.size) {
      return "index offset " + std::to_string(i) + " is out of order or out of the segment";
    }
    idx.offsets[i] = prev = off;
  }
  if (idx.count == 0 && idx.size != kSegmentHeaderSize) return "empty index for a non-empty segment";
  *out = std::move(idx);
  return "";
}

namespace {

// The checkpoint and end files: one seq behind a checksum, a magic and a version.
void EncodeSeqFile(uint32_t magic, uint64_t seq, char out[kCheckpointSize]) {
  coding::EncodeFixed32(out + 4, magic);
  coding::EncodeFixed32(out + 8, kCheckpointVersion);
  coding::EncodeFixed64(out + 12, seq);
  coding::EncodeFixed32(out, crc32c::Mask(crc32c::Value(out + 4, kCheckpointSize - 4)));
}

std::string DecodeSeqFile(std::string_view what, uint32_t magic, std::string_view in,
                          uint64_t* seq) {
  const std::string w(what);
  if (in.size() != kCheckpointSize) {
    return w + " has " + std::to_string(in.size()) + " bytes, expected " +
           std::to_string(kCheckpointSize);
  }
  const char* p = in.data();
  if (crc32c::Unmask(coding::DecodeFixed32(p)) != crc32c::Value(p + 4, kCheckpointSize - 4)) {
    return w + " checksum mismatch";
  }
  if (coding::DecodeFixed32(p + 4) != magic) return "bad " + w + " magic";
  if (coding::DecodeFixed32(p + 8) != kCheckpointVersion) {
    return "unsupported " + w + " version " + std::to_string(coding::DecodeFixed32(p + 8));
  }
  *seq = coding::DecodeFixed64(p + 12);
  return "";
}

}  // namespace

void EncodeCheckpoint(uint64_t first_undelivered, char out[kCheckpointSize]) {
  EncodeSeqFile(kCheckpointMagic, first_undelivered, out);
}

std::string DecodeCheckpoint(std::string_view in, uint64_t* first_undelivered) {
  return DecodeSeqFile("checkpoint", kCheckpointMagic, in, first_undelivered);
}

void EncodeEnd(uint64_t next_seq, char out[kCheckpointSize]) {
  EncodeSeqFile(kEndMagic, next_seq, out);
}

std::string DecodeEnd(std::string_view in, uint64_t* next_seq) {
  return DecodeSeqFile("end file", kEndMagic, in, next_seq);
}

}  // namespace hydrant::buffer::log_format
