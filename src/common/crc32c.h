#pragma once
// CRC32C (Castagnoli), hardware-accelerated through ISA-L's crc32_iscsi.

#include <cstddef>
#include <cstdint>

namespace hydrant::crc32c {

// Extends `init` (the CRC of preceding bytes, 0 for none) with data[0..n).
uint32_t Extend(uint32_t init, const void* data, size_t n);
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// Masked form for CRCs stored next to the data they cover (as leveldb does):
// a CRC of a string that itself contains CRCs is then less likely to collide.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace hydrant::crc32c
