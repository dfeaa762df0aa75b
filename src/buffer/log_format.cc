#include "buffer/log_format.h"

#include <cstdio>

namespace hydrant::buffer::log_format {

std::string SegmentFileName(uint64_t base_seq) {
  char name[kSegmentNameDigits + 8];
  std::snprintf(name, sizeof(name), "%020llu.log", static_cast<unsigned long long>(base_seq));
  return name;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentNameDigits + kSegmentSuffix.size()) return std::nullopt;
  if (name.substr(kSegmentNameDigits) != kSegmentSuffix) return std::nullopt;
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

void EncodeSegmentHeader(uint64_t base_seq, char out[kSegmentHeaderSize]) {
  PutFixed32(out + 4, kSegmentMagic);
  PutFixed32(out + 8, kVersion);
  PutFixed64(out + 12, base_seq);
  PutFixed32(out, crc32c::Mask(crc32c::Value(out + 4, kSegmentHeaderSize - 4)));
}

std::string DecodeSegmentHeader(const char in[kSegmentHeaderSize], uint64_t* base_seq) {
  if (crc32c::Unmask(GetFixed32(in)) != crc32c::Value(in + 4, kSegmentHeaderSize - 4)) {
    return "segment header checksum mismatch";
  }
  if (GetFixed32(in + 4) != kSegmentMagic) return "bad segment magic";
  if (GetFixed32(in + 8) != kVersion) {
    return "unsupported segment format version " + std::to_string(GetFixed32(in + 8));
  }
  *base_seq = GetFixed64(in + 12);
  return "";
}

void EncodeCheckpoint(uint64_t first_undelivered, char out[kCheckpointSize]) {
  PutFixed32(out + 4, kCheckpointMagic);
  PutFixed32(out + 8, kVersion);
  PutFixed64(out + 12, first_undelivered);
  PutFixed32(out, crc32c::Mask(crc32c::Value(out + 4, kCheckpointSize - 4)));
}

std::string DecodeCheckpoint(std::string_view in, uint64_t* first_undelivered) {
  if (in.size() != kCheckpointSize) {
    return "checkpoint has " + std::to_string(in.size()) + " bytes, expected " +
           std::to_string(kCheckpointSize);
  }
  const char* p = in.data();
  if (crc32c::Unmask(GetFixed32(p)) != crc32c::Value(p + 4, kCheckpointSize - 4)) {
    return "checkpoint checksum mismatch";
  }
  if (GetFixed32(p + 4) != kCheckpointMagic) return "bad checkpoint magic";
  if (GetFixed32(p + 8) != kVersion) {
    return "unsupported checkpoint version " + std::to_string(GetFixed32(p + 8));
  }
  *first_undelivered = GetFixed64(p + 12);
  return "";
}

}  // namespace hydrant::buffer::log_format
